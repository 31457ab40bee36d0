/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared test helpers (see helper.h).  Built once per mode: natively and
 * with mingw-w64 against our DLL use kernel32_tp's introspection;
 * KERNEL32_TP_TEST_REFERENCE builds run against the system's thread pool,
 * or against kernel32_tp.dll when it serves kernel32 (wine-dropin), which
 * they find out at run time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(__MINGW32__)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "helper.h"

DWORD helper_timeout_ms(void)
{
    const char *mult = getenv("KERNEL32_TP_TEST_TIMEOUT_MULT");
    long m = mult ? atol(mult) : 1;

    return TP_TEST_TIMEOUT_MS * (DWORD)(m > 0 ? m : 1);
}

BOOL spin_until_set(volatile LONG *flag)
{
    DWORD start = GetTickCount();

    while (!InterlockedCompareExchange(flag, 0, 0) && GetTickCount() - start < helper_timeout_ms())
        YieldProcessor();
    return InterlockedCompareExchange(flag, 0, 0) != 0;
}

void probe_check(struct probe *p, int ok, const char *expr, const char *file, int line)
{
    if (ok)
        return;
    if (InterlockedCompareExchange(&p->failed, 1, 0) == 0) {
        p->expr = expr;
        p->file = file;
        p->line = line;
    }
}

void probe_hit(struct probe *p)
{
    InterlockedIncrement(&p->hits);
}

LONG probe_hits(struct probe *p)
{
    return InterlockedCompareExchange(&p->hits, 0, 0);
}

void probe_assert_clean_at(struct probe *p, const char *file, int line)
{
    if (InterlockedCompareExchange(&p->failed, 0, 0))
        fail_msg("%s:%d: a callback's check failed at %s:%d: %s", file, line,
                 p->file, p->line, p->expr);
}

void probe_assert_hits_at(struct probe *p, LONG n, const char *file, int line)
{
    LONG hits = probe_hits(p);

    if (hits != n)
        fail_msg("%s:%d: the probe was hit %ld times, not %ld", file, line, (long)hits, (long)n);
    probe_assert_clean_at(p, file, line);
}

void gate_init(struct gate *g)
{
    g->sem = semaphore_new();
}

void gate_open(struct gate *g, LONG count)
{
    assert_true(ReleaseSemaphore(g->sem, count, NULL));
}

/* Twice the test thread's bound: a test whose own bounded wait gave up (a
 * known difference) can still open the gate for callbacks that wait here. */
BOOL gate_pass(struct gate *g)
{
    return WaitForSingleObject(g->sem, 2 * helper_timeout_ms()) == WAIT_OBJECT_0;
}

void gate_destroy(struct gate *g)
{
    CloseHandle(g->sem);
}

void helper_wait_at(HANDLE h, const char *file, int line)
{
    DWORD ret = WaitForSingleObject(h, helper_timeout_ms());

    if (ret != WAIT_OBJECT_0)
        fail_msg("%s:%d: wait returned %lu (error %lu)", file, line,
                 (unsigned long)ret, (unsigned long)GetLastError());
}

void helper_wait_not_at(HANDLE h, DWORD ms, const char *file, int line)
{
    DWORD ret = WaitForSingleObject(h, ms);

    if (ret != WAIT_TIMEOUT)
        fail_msg("%s:%d: expected a timeout, wait returned %lu", file, line,
                 (unsigned long)ret);
}

BOOL helper_wait_count(volatile LONG *value, LONG target)
{
    DWORD start = GetTickCount();

    while (InterlockedCompareExchange(value, 0, 0) < target) {
        if (GetTickCount() - start > helper_timeout_ms())
            return FALSE;
        Sleep(1);
    }
    return TRUE;
}

int helper_setup_pool(void **state)
{
    struct helper_pool *hp = calloc(1, sizeof(*hp));

    if (!hp)
        return -1;
    hp->param = *state;          /* cmocka's initial state: PARAM_TEST's param */
    hp->pool = CreateThreadpool(NULL);
    if (!hp->pool) {
        free(hp);
        return -1;
    }
    InitializeThreadpoolEnvironment(&hp->env);
    SetThreadpoolCallbackPool(&hp->env, hp->pool);
    *state = hp;
    return 0;
}

int helper_teardown_pool(void **state)
{
    struct helper_pool *hp = *state;
    LONG live;

    if (!hp)
        return 0;
    CloseThreadpool(hp->pool);
    DestroyThreadpoolEnvironment(&hp->env);
    free(hp);
    *state = NULL;
    /* Objects are freed after their last callback returns: allow a moment. */
    live = helper_live_objects();
    if (live > 0) {
        DWORD start = GetTickCount();
        while ((live = helper_live_objects()) > 0 && GetTickCount() - start < helper_timeout_ms())
            Sleep(1);
    }
    if (live > 0) {
        fprintf(stderr, "teardown: %ld thread-pool objects leaked\n", (long)live);
        return -1;
    }
    return 0;
}

PTP_CALLBACK_ENVIRON helper_env(void **state)
{
    return &((struct helper_pool *)*state)->env;
}

ULONG_PTR helper_param(void **state)
{
    return (ULONG_PTR)((struct helper_pool *)*state)->param;
}

#if defined(__MINGW32__)
#define TP_TEST_STATUS_THREADPOOL_HANDLE_EXCEPTION ((DWORD)0xC000070A)
#define TP_TEST_STATUS_INVALID_PARAMETER_3 ((ULONG_PTR)0xC00000F1)

static volatile DWORD refusal_thread;
static volatile LONG refusal_hits;
static volatile ULONG_PTR refusal_info0;

static LONG CALLBACK refusal_handler(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *record = info->ExceptionRecord;

    if (record->ExceptionCode == TP_TEST_STATUS_THREADPOOL_HANDLE_EXCEPTION
        && GetCurrentThreadId() == refusal_thread) {
        refusal_info0 = record->NumberParameters ? record->ExceptionInformation[0] : 0;
        InterlockedIncrement(&refusal_hits);
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

BOOL helper_refused(void (*call)(void *arg), void *arg)
{
    void *handler = AddVectoredExceptionHandler(1, refusal_handler);

    assert_non_null(handler);
    refusal_hits = 0;
    refusal_info0 = 0;
    refusal_thread = GetCurrentThreadId();
    call(arg);
    refusal_thread = 0;
    RemoveVectoredExceptionHandler(handler);
    return refusal_hits == 1 && refusal_info0 == TP_TEST_STATUS_INVALID_PARAMETER_3;
}
#else
BOOL helper_refused(void (*call)(void *arg), void *arg)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);

        if (null_fd >= 0)
            dup2(null_fd, 2);
        call(arg);
        _exit(0);       /* not refused */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef __SANITIZE_THREAD__
    /* A forked child starts its own service threads (it starts fresh:
     * docs/reliability.md), and TSan's runtime ends a child of a
     * multi-threaded fork() that starts a thread, with exit code 66, maybe
     * before the refusal: the other modes check it. */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 66) {
        printf("note: ThreadSanitizer ended the forked child before the refusal\n");
        return TRUE;
    }
#endif
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}
#endif

void assert_in_time_at(const char *what, LONGLONG start_us, LONGLONG at_us, LONGLONG due_ms,
                       LONGLONG slack_ms, const char *file, int line)
{
    LONGLONG elapsed_us = at_us - start_us;

    if (elapsed_us < (due_ms - slack_ms) * 1000)
        fail_msg("%s:%d: %s early: after %lld us, due after %lld ms", file, line, what,
                 (long long)elapsed_us, (long long)due_ms);
    if (elapsed_us > (due_ms + LATE_BOUND_MS) * 1000)
        fail_msg("%s:%d: %s too late: after %lld us, due after %lld ms", file, line, what,
                 (long long)elapsed_us, (long long)due_ms);
}

void cb_record_init(struct cb_record *r)
{
    memset(r, 0, sizeof(*r));         /* PROBE_INIT is all zeros */
    r->done_sem = semaphore_new();
}

void cb_record_destroy(struct cb_record *r)
{
    CloseHandle(r->done_sem);
    if (r->started_event)
        CloseHandle(r->started_event);
}

void cb_record_enter(struct cb_record *r)
{
    if (r->started_event)
        SetEvent(r->started_event);
    if (r->gate)
        PROBE_CHECK(&r->probe, gate_pass(r->gate));
}

void assert_signal_unclaimed_at(struct cb_record *r, HANDLE event, const char *file, int line)
{
    DWORD ret;

    if (!SetEvent(event))
        fail_msg("%s:%d: SetEvent failed (error %lu)", file, line, (unsigned long)GetLastError());
    helper_wait_not_at(r->done_sem, QUIET_MS, file, line);
    ret = WaitForSingleObject(event, 0);
    if (ret != WAIT_OBJECT_0)
        fail_msg("%s:%d: the signal was taken: the event's wait returned %lu", file, line,
                 (unsigned long)ret);
}

void cb_state_init(struct cb_state *s)
{
    memset(s, 0, sizeof(*s));         /* PROBE_INIT is all zeros */
    gate_init(&s->gate);
    s->started = event_new(FALSE, FALSE);
}

void cb_state_destroy(struct cb_state *s)
{
    gate_destroy(&s->gate);
    CloseHandle(s->started);
}

void cb_state_enter(struct cb_state *s)
{
    InterlockedIncrement(&s->started_count);
    SetEvent(s->started);
    if (s->block)
        PROBE_CHECK(&s->probe, gate_pass(&s->gate));
    probe_hit(&s->probe);
}

void CALLBACK cb_state_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct cb_state *s = ctx;

    (void)inst;
    (void)work;
    cb_state_enter(s);
    InterlockedIncrement(&s->done);
}

void action_objects_init(struct action_objects *o)
{
    o->event = event_new(TRUE, FALSE);
    o->sem = semaphore_new();
    o->mutex = mutex_new();
    InitializeCriticalSection(&o->cs);
}

void action_objects_destroy(struct action_objects *o)
{
    CloseHandle(o->event);
    CloseHandle(o->sem);
    CloseHandle(o->mutex);
    DeleteCriticalSection(&o->cs);
}

static void CALLBACK occupant_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct occupant *o = ctx;

    (void)inst;
    (void)work;
    SetEvent(o->started);
    gate_pass(&o->gate);
}

void occupy_pool(void **state, struct occupant *o)
{
    struct helper_pool *hp = *state;

    SetThreadpoolThreadMaximum(hp->pool, 1);
    gate_init(&o->gate);
    o->started = event_new(FALSE, FALSE);
    o->work = CreateThreadpoolWork(occupant_work_cb, o, &hp->env);
    assert_non_null(o->work);
    SubmitThreadpoolWork(o->work);
    helper_wait(o->started);
}

void occupant_release(struct occupant *o)
{
    gate_open(&o->gate, 1);
    WaitForThreadpoolWorkCallbacks(o->work, FALSE);
    CloseThreadpoolWork(o->work);
    gate_destroy(&o->gate);
    CloseHandle(o->started);
}

#ifdef KERNEL32_TP_TEST_REFERENCE
/*
 * A reference build links kernel32 only, yet may run on kernel32_tp: under
 * kernel32_tp-wine (the wine-dropin mode) kernel32's thread-pool names are
 * forwarded to kernel32_tp.dll.  Which one serves this run is decided once,
 * before any test: kernel32_tp when the module behind kernel32's
 * CreateThreadpoolWork also exports kernel32_tp's introspection.
 */
static struct {
    int is_tp;
    int ntdll_is_tp;
    LONG (WINAPI *live_objects)(void);
    LONGLONG (WINAPI *callbacks_run)(void);
    DWORD (WINAPI *pool_threads)(PTP_POOL pool);
} serving;

static void serving_report(void)
{
    printf("kernel32_tp: kernel32's thread pool was kernel32_tp.dll: %lld callbacks run on it\n",
           (long long)serving.callbacks_run());
    fflush(stdout);
}

/* Whether the module behind FUNC of DLL is kernel32_tp.dll (exports its
 * introspection); the introspection's address into *live when asked. */
static HMODULE serving_module(const WCHAR *dll, const char *func)
{
    HMODULE mod = GetModuleHandleW(dll), module = NULL;
    FARPROC proc = mod ? GetProcAddress(mod, func) : NULL;

    if (!proc || !GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                     GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                                     (LPCWSTR)(void *)proc, &module))
        return NULL;
    return module;
}

/* Whether module exports kernel32_tp's introspection (kept in serving). */
static int serving_introspection(HMODULE module)
{
    if (!module)
        return 0;
    serving.live_objects = (LONG (WINAPI *)(void))(void *)
        GetProcAddress(module, "tp_debug_live_objects");
    serving.callbacks_run = (LONGLONG (WINAPI *)(void))(void *)
        GetProcAddress(module, "tp_debug_callbacks_run");
    serving.pool_threads = (DWORD (WINAPI *)(PTP_POOL))(void *)
        GetProcAddress(module, "tp_debug_pool_threads");
    return serving.live_objects && serving.callbacks_run && serving.pool_threads;
}

/* KERNEL32_TP_TEST_EXPECT=kernel32_tp (set by the wine-dropin mode): a run
 * on any other pool stops at once, rather than pass as the reference. */
__attribute__((constructor)) static void serving_setup(void)
{
    HMODULE module = serving_module(L"kernel32.dll", "CreateThreadpoolWork");
    HMODULE ntdll_module = serving_module(L"ntdll.dll", "TpAllocWork");
    const char *expect = getenv("KERNEL32_TP_TEST_EXPECT");

    if (serving_introspection(module)) {
        serving.is_tp = 1;
        serving.ntdll_is_tp = ntdll_module == module;
    } else {
        /* Under the launcher (wine-inject) the export tables answer with
         * jumps that lie outside any module: kernel32_tp.dll is then found
         * loaded, and ntdll's names are its when they are not ntdll's own. */
        module = GetModuleHandleW(L"kernel32_tp.dll");
        if (serving_introspection(module)) {
            serving.is_tp = 1;
            serving.ntdll_is_tp = ntdll_module != GetModuleHandleW(L"ntdll.dll");
        }
    }
    if (expect && strcmp(expect, "kernel32_tp") == 0 && !serving.is_tp) {
        fprintf(stderr, "helper: KERNEL32_TP_TEST_EXPECT=kernel32_tp, but kernel32's "
                "CreateThreadpoolWork is not served by kernel32_tp.dll\n");
        exit(3);
    }
    if (serving.is_tp)
        atexit(serving_report);
}

int helper_is_kernel32_tp(void)
{
    return serving.is_tp;
}

int helper_ntdll_matches(void)
{
    return !serving.is_tp || serving.ntdll_is_tp;
}

LONG helper_live_objects(void)
{
    return serving.is_tp ? serving.live_objects() : -1;
}

DWORD helper_pool_threads(PTP_POOL pool)
{
    return serving.is_tp ? serving.pool_threads(pool) : 0;
}

LONGLONG helper_callbacks_run(void)
{
    return serving.is_tp ? serving.callbacks_run() : 0;
}
#else
int helper_is_kernel32_tp(void)
{
    return 1;
}

/* Linked to kernel32_tp, which serves the ntdll names too. */
int helper_ntdll_matches(void)
{
    return 1;
}

LONG helper_live_objects(void)
{
    return tp_debug_live_objects();
}

DWORD helper_pool_threads(PTP_POOL pool)
{
    return tp_debug_pool_threads(pool);
}
#endif

unsigned helper_mode(void)
{
#ifdef KERNEL32_TP_TEST_REFERENCE
    /* On kernel32_tp, the launcher also serves ntdll's names; the override
     * pair does not. */
    if (!helper_is_kernel32_tp())
        return MODE_WINE_REF;
    return helper_ntdll_matches() ? MODE_WINE_INJECT : MODE_WINE_DROPIN;
#elif defined(__MINGW32__)
    return MODE_WINE_TP;
#else
    return MODE_LINUX;
#endif
}

/* "[wine-ref]", "[linux wine-tp ...]": the modes a mark names, for its line. */
static const char *modes_text(unsigned modes, char *buf, size_t size)
{
    static const struct { unsigned mode; const char *name; } names[] = {
        { MODE_LINUX, "linux" }, { MODE_WINE_TP, "wine-tp" }, { MODE_WINE_DROPIN, "wine-dropin" },
        { MODE_WINE_INJECT, "wine-inject" }, { MODE_WINE_REF, "wine-ref" },
    };
    size_t i, len = 0;

    buf[0] = 0;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (modes & names[i].mode)
            len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
                                    len ? " " : "", names[i].name);
    return buf;
}

struct todo todo_begin(unsigned modes, const char *why, const char *file, int line)
{
    struct todo t;

    memset(&t, 0, sizeof(t));
    t.why = why;
    t.file = file;
    t.line = line;
    t.modes = modes;
    t.applies = (modes & helper_mode()) != 0;
    t.open = 1;
    return t;
}

void todo_check(struct todo *t, int ok, const char *expr, const char *file, int line)
{
    t->checks++;
    if (ok)
        return;
    if (!t->applies)
        fail_msg("%s:%d: check failed: %s (its mark at line %d applies to other modes)",
                 file, line, expr, t->line);
    t->failed++;
}

void todo_check_eq(struct todo *t, uintmax_t a, uintmax_t b, const char *expr_a,
                   const char *expr_b, const char *file, int line)
{
    t->checks++;
    if (a == b)
        return;
    if (!t->applies)
        fail_msg("%s:%d: check failed: %s == %s: %#llx != %#llx (its mark at line %d applies "
                 "to other modes)", file, line, expr_a, expr_b, (unsigned long long)a,
                 (unsigned long long)b, t->line);
    t->failed++;
}

/* The end of a mark's block: a known difference, or one that is gone. */
void todo_end(struct todo *t)
{
    char modes[80];

    t->open = 0;
    if (!t->checks)
        fail_msg("%s:%d: the mark \"%s\" ran no check", t->file, t->line, t->why);
    if (!t->applies)
        return;
    modes_text(t->modes, modes, sizeof(modes));
    if (!t->failed) {
        printf("todo passes: %s:%d: [%s] %s\n", t->file, t->line, modes, t->why);
        fflush(stdout);
        fail_msg("%s:%d: the known difference is gone: its checks pass here; remove the "
                 "mark [%s] \"%s\"", t->file, t->line, modes, t->why);
    }
    printf("todo: %s:%d: [%s] %s\n", t->file, t->line, modes, t->why);
    fflush(stdout);
}

int helper_not_run(unsigned modes, const char *why, const char *file, int line)
{
    char buf[80];

    if (!(modes & helper_mode()))
        return 0;
    printf("todo: %s:%d: [%s] not run: %s\n", file, line, modes_text(modes, buf, sizeof(buf)),
           why);
    fflush(stdout);
    return 1;
}

int helper_todo(int applies, const char *why, const char *file, int line)
{
    return applies && helper_not_run(helper_mode(), why, file, line);
}

LONGLONG now_us(void)
{
    LARGE_INTEGER count, freq;

    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    /* Whole seconds and the rest apart: no overflow, no rounding. */
    return count.QuadPart / freq.QuadPart * 1000000 +
           count.QuadPart % freq.QuadPart * 1000000 / freq.QuadPart;
}

HANDLE start_thread(LPTHREAD_START_ROUTINE fn, void *arg)
{
    HANDLE thread = CreateThread(NULL, 0, fn, arg, 0, NULL);

    assert_non_null(thread);
    return thread;
}

DWORD thread_exit_code(HANDLE thread)
{
    DWORD code = 0xdeadbeef;

    helper_wait(thread);
    assert_true(GetExitCodeThread(thread, &code));
    return code;
}

DWORD run_thread(LPTHREAD_START_ROUTINE fn, void *arg)
{
    HANDLE thread = start_thread(fn, arg);
    DWORD code = thread_exit_code(thread);

    CloseHandle(thread);
    return code;
}

static DWORD WINAPI try_enter_thread(void *arg)
{
    CRITICAL_SECTION *cs = arg;

    if (!TryEnterCriticalSection(cs))
        return FALSE;
    LeaveCriticalSection(cs);
    return TRUE;
}

BOOL other_thread_enters(CRITICAL_SECTION *cs)
{
    return run_thread(try_enter_thread, cs) == TRUE;
}

FILETIME relative_ms(LONGLONG ms)
{
    ULONGLONG value = (ULONGLONG)(-ms * 10000);
    FILETIME ft;

    ft.dwLowDateTime = (DWORD)value;
    ft.dwHighDateTime = (DWORD)(value >> 32);
    return ft;
}

FILETIME absolute_in_ms(LONGLONG ms)
{
    ULARGE_INTEGER value;
    FILETIME ft;

    GetSystemTimeAsFileTime(&ft);
    value.u.LowPart = ft.dwLowDateTime;
    value.u.HighPart = ft.dwHighDateTime;
    value.QuadPart += (ULONGLONG)(ms * 10000);
    ft.dwLowDateTime = value.u.LowPart;
    ft.dwHighDateTime = value.u.HighPart;
    return ft;
}

HANDLE event_new(BOOL manual, BOOL initial)
{
    HANDLE event = CreateEventW(NULL, manual, initial, NULL);

    assert_non_null(event);
    return event;
}

PTP_POOL pool_with_env(TP_CALLBACK_ENVIRON *env)
{
    PTP_POOL pool = CreateThreadpool(NULL);

    assert_non_null(pool);
    InitializeThreadpoolEnvironment(env);
    SetThreadpoolCallbackPool(env, pool);
    return pool;
}

void submit_times(PTP_WORK work, LONG n)
{
    LONG i;

    for (i = 0; i < n; i++)
        SubmitThreadpoolWork(work);
}

LONG helper_cpus(void)
{
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return info.dwNumberOfProcessors < 2 ? 2 : (LONG)info.dwNumberOfProcessors;
}

void CALLBACK count_runs_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)work;
    InterlockedIncrement((volatile LONG *)ctx);
}

void CALLBACK count_timer_runs_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    (void)timer;
    count_runs_cb(inst, ctx, NULL);
}

HANDLE semaphore_new(void)
{
    HANDLE sem = CreateSemaphoreW(NULL, 0, 0x7fffffff, NULL);

    assert_non_null(sem);
    return sem;
}

HANDLE mutex_new(void)
{
    HANDLE mutex = CreateMutexW(NULL, FALSE, NULL);

    assert_non_null(mutex);
    return mutex;
}

LONG count_of(volatile LONG *value)
{
    return InterlockedCompareExchange(value, 0, 0);
}

void unique_pipe_name(char *name, size_t size, const char *owner)
{
    static volatile LONG serial;

    snprintf(name, size, "\\\\.\\pipe\\kernel32_tp_%s_%lu_%ld", owner,
             (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&serial));
}

int wide_equals(const WCHAR *wide, const char *ascii)
{
    while (*ascii && *wide == (WCHAR)(unsigned char)*ascii) {
        wide++;
        ascii++;
    }
    return *wide == (WCHAR)(unsigned char)*ascii;
}

#if defined(__MINGW32__)
FARPROC tp_proc(const char *module, const char *name)
{
    HMODULE mod = GetModuleHandleA(module);

    return mod ? GetProcAddress(mod, name) : NULL;
}
#endif

#if !defined(__MINGW32__)
extern char **environ;

/* The programs without a child leave helper_child_main undefined (NULL). */
#pragma weak helper_child_main

/* glibc hands a program's constructors its arguments. */
__attribute__((constructor)) static void helper_child_start(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], HELPER_CHILD_ARG) && helper_child_main)
        exit(helper_child_main());
}

size_t helper_run_self_stderr(const char *var, const char *value, char *out, size_t size)
{
    char *argv[] = { (char *)"self", (char *)HELPER_CHILD_ARG, NULL };
    posix_spawn_file_actions_t actions;
    int fds[2], status = 0;
    size_t len = 0;
    ssize_t n;
    pid_t pid;

    if (value)
        assert_int_equal(setenv(var, value, 1), 0);
    else
        assert_int_equal(unsetenv(var), 0);
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&actions, fds[1], 2), 0);
    assert_int_equal(posix_spawn_file_actions_addclose(&actions, fds[0]), 0);
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    unsetenv(var);
    close(fds[1]);
    while (len < size - 1
           && ((n = read(fds[0], out + len, size - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    out[len] = 0;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return len;
}
#endif

#ifdef __MINGW32__
BOOL helper_create_process(char *cmd, BOOL inherit, STARTUPINFOA *si, PROCESS_INFORMATION *pi)
{
    int attempt;

    for (attempt = 1; attempt <= 3; attempt++) {
        if (CreateProcessA(NULL, cmd, NULL, NULL, inherit, 0, NULL, NULL, si, pi))
            return TRUE;
        printf("helper: CreateProcessA failed (error %lu), attempt %d of 3\n",
               (unsigned long)GetLastError(), attempt);
        Sleep(100 * attempt);
    }
    return FALSE;
}
#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fault sweep (docs/reliability.md): a scenario of thread-pool calls is
 * run once to count the allocations and thread creations it makes, then
 * once for every k up to that count with the k-th failing.  For every k:
 * a Create* (or TrySubmit*, SetThreadpoolThreadMinimum...) that fails
 * returns NULL/FALSE with ERROR_NOT_ENOUGH_MEMORY or ERROR_OUTOFMEMORY;
 * every post (SubmitThreadpoolWork, SetThreadpoolTimer, StartThreadpoolIo
 * ...) of an object that was created still has its callback run; nothing
 * deadlocks (every wait is bounded; make check's timeout bounds the rest);
 * objects created before the sweep keep working; the library's live
 * objects return to where they were, and ASan's leak check (linux-asan)
 * finds nothing at exit.  And when no thread at all can be created, queued
 * callbacks still run on the workers that exist.
 *
 * The hook is the test's own: the test binary links the static library
 * with -Wl,--wrap=malloc,calloc,realloc,os_thread_start
 * (tests/test_faults.mk), so the library's calls of these land in the
 * __wrap_ functions below and nothing of it is in the library or its
 * exports.  Only calls made on the scenario's thread count (a worker or a
 * service thread allocating meanwhile does not shift k), except in the
 * no-thread test, which fails every thread creation.  Natively only: the
 * DLL's allocations are msvcrt's inside the DLL, which no link of the test
 * reaches (see docs/reliability.md).
 */
#include "helper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <execinfo.h>

/* ---- the hook ------------------------------------------------------------------- */

enum fault_kind { FAULT_ALLOC, FAULT_THREAD };
static const char *const fault_names[] = { "allocation", "thread creation" };

static struct {
    LONG seen[2];               /* (scenario thread) calls counted so far */
    LONG fail_at[2];            /* (scenario thread) 1-based, 0: none */
    LONG failed[2];             /* (scenario thread) faults injected */
    volatile LONG no_threads;   /* every thread creation fails, on any thread */
} fault;
static _Thread_local int fault_counting;

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
DWORD __real_os_thread_start(void (*fn)(void *arg), void *arg, SIZE_T stack_size);

static int fault_hit(enum fault_kind kind)
{
    if (kind == FAULT_THREAD && InterlockedCompareExchange(&fault.no_threads, 0, 0))
        return 1;
    if (!fault_counting)
        return 0;
    if (++fault.seen[kind] != fault.fail_at[kind])
        return 0;
    fault.failed[kind]++;
    /* KERNEL32_TP_FAULTS_TRACE=1: where each fault is injected. */
    if (getenv("KERNEL32_TP_FAULTS_TRACE")) {
        void *frames[12];
        int n = backtrace(frames, 12);

        fprintf(stderr, "fault: %s %ld fails here:\n", fault_names[kind], (long)fault.seen[kind]);
        backtrace_symbols_fd(frames, n, 2);
    }
    return 1;
}

void *__wrap_malloc(size_t size)
{
    return fault_hit(FAULT_ALLOC) ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    return fault_hit(FAULT_ALLOC) ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
    return fault_hit(FAULT_ALLOC) ? NULL : __real_realloc(ptr, size);
}

DWORD __wrap_os_thread_start(void (*fn)(void *arg), void *arg, SIZE_T stack_size)
{
    return fault_hit(FAULT_THREAD) ? ERROR_NOT_ENOUGH_MEMORY
                                   : __real_os_thread_start(fn, arg, stack_size);
}

/* ---- what a scenario checks ---------------------------------------------------- */

struct sweep {
    PTP_CALLBACK_ENVIRON env;   /* the test's private pool */
    volatile LONG ran;          /* callbacks of the current run */
    LONG expected;              /* callbacks the run's successful posts made due */
    LONG refused;               /* calls that failed (and reported it well) */
    DWORD bad_error;            /* a failure's last error when it was not a memory one */
    const char *bad_call;
};

/* A call failed: it must say so with a memory error. */
static void refused(struct sweep *s, const char *call)
{
    DWORD err = GetLastError();

    s->refused++;
    if (err != ERROR_NOT_ENOUGH_MEMORY && err != ERROR_OUTOFMEMORY && !s->bad_call) {
        s->bad_call = call;
        s->bad_error = err;
    }
}

static void CALLBACK count_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    (void)inst;
    InterlockedIncrement(&((struct sweep *)ctx)->ran);
}

static void CALLBACK count_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                   TP_WAIT_RESULT result)
{
    (void)inst;
    (void)wait;
    (void)result;
    InterlockedIncrement(&((struct sweep *)ctx)->ran);
}

static void CALLBACK count_io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID ov, ULONG result,
                                 ULONG_PTR bytes, PTP_IO io)
{
    (void)inst;
    (void)ov;
    (void)result;
    (void)bytes;
    (void)io;
    InterlockedIncrement(&((struct sweep *)ctx)->ran);
}

static void CALLBACK count_legacy_cb(PVOID ctx, BOOLEAN fired)
{
    (void)fired;
    InterlockedIncrement(&((struct sweep *)ctx)->ran);
}

static DWORD WINAPI count_user_item_cb(PVOID ctx)
{
    InterlockedIncrement(&((struct sweep *)ctx)->ran);
    return 0;
}

/* ---- the scenarios ------------------------------------------------------------- */

/* Work: created, posted three times, drained, closed. */
static void scenario_work(struct sweep *s)
{
    PTP_WORK work = CreateThreadpoolWork(count_runs_cb, (PVOID)&s->ran, s->env);

    if (!work) {
        refused(s, "CreateThreadpoolWork");
        return;
    }
    submit_times(work, 3);
    s->expected += 3;
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
}

/* Simple callbacks, on the private pool and on the default one. */
static void scenario_simple(struct sweep *s)
{
    if (TrySubmitThreadpoolCallback(count_simple_cb, s, s->env))
        s->expected++;
    else
        refused(s, "TrySubmitThreadpoolCallback");
    if (TrySubmitThreadpoolCallback(count_simple_cb, s, NULL))
        s->expected++;
    else
        refused(s, "TrySubmitThreadpoolCallback (default pool)");
}

/* A timer set to fire at once, and one set ahead then cancelled. */
static void scenario_timer(struct sweep *s)
{
    PTP_TIMER timer = CreateThreadpoolTimer(count_timer_runs_cb, (PVOID)&s->ran, s->env), later;
    FILETIME now = { 0, 0 }, ahead;
    LARGE_INTEGER due;

    if (!timer) {
        refused(s, "CreateThreadpoolTimer");
        return;
    }
    SetThreadpoolTimer(timer, &now, 0, 0);
    s->expected++;
    later = CreateThreadpoolTimer(count_timer_runs_cb, (PVOID)&s->ran, s->env);
    if (later) {
        due.QuadPart = -10000000;   /* 1 s: cancelled long before */
        ahead.dwLowDateTime = due.u.LowPart;
        ahead.dwHighDateTime = (DWORD)due.u.HighPart;
        SetThreadpoolTimer(later, &ahead, 0, 0);
        SetThreadpoolTimer(later, NULL, 0, 0);
        WaitForThreadpoolTimerCallbacks(later, TRUE);
        CloseThreadpoolTimer(later);
    } else {
        refused(s, "CreateThreadpoolTimer (second)");
    }
    /* The callback runs even if the test closes the timer first. */
    CloseThreadpoolTimer(timer);
}

/* A wait on an event that is then set. */
static void scenario_wait(struct sweep *s)
{
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, NULL);
    PTP_WAIT wait;

    if (!event) {
        refused(s, "CreateEventW");
        return;
    }
    wait = CreateThreadpoolWait(count_wait_cb, s, s->env);
    if (!wait) {
        refused(s, "CreateThreadpoolWait");
        CloseHandle(event);
        return;
    }
    SetThreadpoolWait(wait, event, NULL);
    s->expected++;
    SetEvent(event);
    if (!helper_wait_count(&s->ran, s->expected))
        fail_msg("the wait's callback never ran");
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    CloseThreadpoolWait(wait);
    CloseHandle(event);
}

/* I/O: a read on a named pipe's overlapped end, completed by a write. */
static void scenario_io(struct sweep *s)
{
    char name[96];
    HANDLE server, client;
    OVERLAPPED ov;
    BYTE buf[8], data[8] = "faults!";
    DWORD written;
    PTP_IO io;

    unique_pipe_name(name, sizeof(name), "test_faults");
    server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                              PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    if (server == INVALID_HANDLE_VALUE) {
        refused(s, "CreateNamedPipeA");
        return;
    }
    client = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        refused(s, "CreateFileA (pipe client)");
        CloseHandle(server);
        return;
    }
    /* The client connected at its CreateFile: ConnectNamedPipe says so.
     * Here the Linux emulation takes the client's connection, which needs
     * memory; left to the first ReadFile it would fail silently
     * (docs/reliability.md, the fault sweep's findings). */
    memset(&ov, 0, sizeof(ov));
    if (ConnectNamedPipe(server, &ov) || GetLastError() != ERROR_PIPE_CONNECTED) {
        refused(s, "ConnectNamedPipe");
        CloseHandle(client);
        CloseHandle(server);
        return;
    }
    io = CreateThreadpoolIo(server, count_io_cb, s, s->env);
    if (!io) {
        refused(s, "CreateThreadpoolIo");
    } else {
        memset(&ov, 0, sizeof(ov));
        StartThreadpoolIo(io);
        if (ReadFile(server, buf, sizeof(buf), NULL, &ov) || GetLastError() == ERROR_IO_PENDING) {
            s->expected++;
            if (!WriteFile(client, data, sizeof(data), &written, NULL))
                fail_msg("the pipe's client cannot write: %lu", (unsigned long)GetLastError());
            if (!helper_wait_count(&s->ran, s->expected))
                fail_msg("the I/O callback never ran");
        } else {
            CancelThreadpoolIo(io);
            refused(s, "ReadFile (overlapped)");
        }
        WaitForThreadpoolIoCallbacks(io, FALSE);
        CloseThreadpoolIo(io);
    }
    CloseHandle(client);
    CloseHandle(server);
}

/* A pool of its own with a minimum of two workers, a post, the close. */
static void scenario_pool(struct sweep *s)
{
    TP_CALLBACK_ENVIRON env;
    PTP_POOL pool = CreateThreadpool(NULL);
    PTP_WORK work;

    if (!pool) {
        refused(s, "CreateThreadpool");
        return;
    }
    SetThreadpoolThreadMaximum(pool, 4);
    if (!SetThreadpoolThreadMinimum(pool, 2))
        refused(s, "SetThreadpoolThreadMinimum");
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, pool);
    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&s->ran, &env);
    if (work) {
        SubmitThreadpoolWork(work);
        SubmitThreadpoolWork(work);
        s->expected += 2;
        WaitForThreadpoolWorkCallbacks(work, FALSE);
        CloseThreadpoolWork(work);
    } else {
        refused(s, "CreateThreadpoolWork (own pool)");
    }
    DestroyThreadpoolEnvironment(&env);
    CloseThreadpool(pool);
}

static void CALLBACK group_cancel_cb(PVOID obj_ctx, PVOID cleanup_ctx)
{
    (void)obj_ctx;
    (void)cleanup_ctx;
}

/* A cleanup group with a work and a timer, released without cancel. */
static void scenario_group(struct sweep *s)
{
    TP_CALLBACK_ENVIRON env = *s->env;
    PTP_CLEANUP_GROUP group = CreateThreadpoolCleanupGroup();
    PTP_WORK work;
    PTP_TIMER timer;
    FILETIME now = { 0, 0 };

    if (!group) {
        refused(s, "CreateThreadpoolCleanupGroup");
        return;
    }
    SetThreadpoolCallbackCleanupGroup(&env, group, group_cancel_cb);
    if ((work = CreateThreadpoolWork(count_runs_cb, (PVOID)&s->ran, &env))) {
        SubmitThreadpoolWork(work);
        s->expected++;
    } else {
        refused(s, "CreateThreadpoolWork (member)");
    }
    if ((timer = CreateThreadpoolTimer(count_timer_runs_cb, (PVOID)&s->ran, &env))) {
        SetThreadpoolTimer(timer, &now, 0, 0);
        s->expected++;
    } else {
        refused(s, "CreateThreadpoolTimer (member)");
    }
    CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    CloseThreadpoolCleanupGroup(group);
}

/* The legacy calls: a queued work item, a timer-queue timer, a registered wait. */
static void scenario_legacy(struct sweep *s)
{
    HANDLE timer = NULL, wait = NULL, event;

    if (QueueUserWorkItem(count_user_item_cb, s, WT_EXECUTEDEFAULT))
        s->expected++;
    else
        refused(s, "QueueUserWorkItem");
    if (CreateTimerQueueTimer(&timer, NULL, count_legacy_cb, s, 0, 0, WT_EXECUTEONLYONCE)) {
        s->expected++;
    } else {
        refused(s, "CreateTimerQueueTimer");
        timer = NULL;
    }
    if ((event = CreateEventW(NULL, TRUE, TRUE, NULL))) {
        if (RegisterWaitForSingleObject(&wait, event, count_legacy_cb, s, INFINITE,
                                        WT_EXECUTEONLYONCE)) {
            s->expected++;
        } else {
            refused(s, "RegisterWaitForSingleObject");
            wait = NULL;
        }
    } else {
        refused(s, "CreateEventW");
    }
    if (!helper_wait_count(&s->ran, s->expected))
        fail_msg("a legacy callback never ran: %ld of %ld", (long)s->ran, (long)s->expected);
    if (timer && !DeleteTimerQueueTimer(NULL, timer, INVALID_HANDLE_VALUE))
        fail_msg("DeleteTimerQueueTimer: %lu", (unsigned long)GetLastError());
    if (wait && !UnregisterWaitEx(wait, INVALID_HANDLE_VALUE))
        fail_msg("UnregisterWaitEx: %lu", (unsigned long)GetLastError());
    if (event)
        CloseHandle(event);
}

/* ---- the sweep ------------------------------------------------------------------ */

/* Objects made before the sweep, which must keep working through it. */
struct survivors {
    PTP_WORK work;
    PTP_TIMER timer;
    volatile LONG ran;
};

static void survivors_check(struct survivors *v, const char *scenario, const char *kind, LONG k)
{
    FILETIME now = { 0, 0 };
    LONG before = v->ran;

    SubmitThreadpoolWork(v->work);
    SetThreadpoolTimer(v->timer, &now, 0, 0);
    if (!helper_wait_count(&v->ran, before + 2))
        fail_msg("%s, %s %ld failed: objects made before stopped working", scenario, kind,
                 (long)k);
    WaitForThreadpoolWorkCallbacks(v->work, FALSE);
    WaitForThreadpoolTimerCallbacks(v->timer, FALSE);
}

/* Runs one scenario with the k-th call of kind failing (k = 0: none) and
 * checks the books.  Returns how many calls of kind it made. */
static LONG sweep_run(void (*scenario)(struct sweep *), const char *name, PTP_POOL pool,
                      PTP_CALLBACK_ENVIRON env, enum fault_kind kind, LONG k, LONG *injected)
{
    DWORD start = GetTickCount();
    struct sweep s;
    LONG seen;

    /* Each run starts with no worker (they retire after SWEEP_IDLE_MS), so
     * that its posts start threads, and the same ones in every run. */
    while (helper_pool_threads(pool) > 0 && GetTickCount() - start < helper_timeout_ms())
        Sleep(1);
    memset(&s, 0, sizeof(s));
    s.env = env;
    memset(&fault, 0, sizeof(fault));
    fault.fail_at[kind] = k;
    fault_counting = 1;
    scenario(&s);
    fault_counting = 0;
    seen = fault.seen[kind];
    *injected = fault.failed[kind];
    if (s.bad_call)
        fail_msg("%s, %s %ld failed: %s failed with error %lu, not a memory error", name,
                 fault_names[kind], (long)k, s.bad_call, (unsigned long)s.bad_error);
    /* Every post of an object that was made still runs its callback. */
    if (!helper_wait_count(&s.ran, s.expected))
        fail_msg("%s, %s %ld failed: %ld of %ld callbacks ran", name, fault_names[kind], (long)k,
                 (long)s.ran, (long)s.expected);
    if (s.ran != s.expected)
        fail_msg("%s, %s %ld failed: %ld callbacks ran, %ld were due", name, fault_names[kind],
                 (long)k, (long)s.ran, (long)s.expected);
    if (k && *injected && !s.refused && kind == FAULT_ALLOC)
        printf("note: %s, allocation %ld failed and no call reported it (a retry or a cache)\n",
               name, (long)k);
    return seen;
}

/* Waits (bounded) for the library's live objects to come back to n. */
static void live_objects_back_to(LONG n, const char *name, const char *kind, LONG k)
{
    DWORD start = GetTickCount();

    while (helper_live_objects() > n && GetTickCount() - start < helper_timeout_ms())
        Sleep(1);
    if (helper_live_objects() != n)
        fail_msg("%s, %s %ld failed: %ld live objects, %ld before", name, kind, (long)k,
                 (long)helper_live_objects(), (long)n);
}

static void sweep_scenario(void **state, void (*scenario)(struct sweep *), const char *name)
{
    struct helper_pool *hp = *state;
    struct survivors v;
    LONG live, n, k, injected, faults;
    enum fault_kind kind;

    memset(&v, 0, sizeof(v));
    v.work = CreateThreadpoolWork(count_runs_cb, (PVOID)&v.ran, helper_env(state));
    v.timer = CreateThreadpoolTimer(count_timer_runs_cb, (PVOID)&v.ran, helper_env(state));
    assert_non_null(v.work);
    assert_non_null(v.timer);
    live = helper_live_objects();
    for (kind = FAULT_ALLOC; kind <= FAULT_THREAD; kind++) {
        /* The count: the scenario as it runs without faults. */
        n = sweep_run(scenario, name, hp->pool, helper_env(state), kind, 0, &injected);
        live_objects_back_to(live, name, fault_names[kind], 0);
        faults = 0;
        for (k = 1; k <= n; k++) {
            sweep_run(scenario, name, hp->pool, helper_env(state), kind, k, &injected);
            faults += injected;
            live_objects_back_to(live, name, fault_names[kind], k);
            survivors_check(&v, name, fault_names[kind], k);
        }
        printf("sweep: %s: %ld %s(s) counted, %ld of them reached and failed in turn\n", name,
               (long)n, fault_names[kind], (long)faults);
    }
    WaitForThreadpoolWorkCallbacks(v.work, FALSE);
    CloseThreadpoolWork(v.work);
    CloseThreadpoolTimer(v.timer);
}

#define SWEEP_TEST(name) \
    static void faults_sweep_##name##_fails_cleanly(void **state) \
    { \
        sweep_scenario(state, scenario_##name, #name); \
    }
SWEEP_TEST(work)
SWEEP_TEST(simple)
SWEEP_TEST(timer)
SWEEP_TEST(wait)
SWEEP_TEST(io)
SWEEP_TEST(pool)
SWEEP_TEST(group)
SWEEP_TEST(legacy)

/* ---- no thread can be created ----------------------------------------------------- */

/* A pool with one worker: with every thread creation failing, 200 posts
 * (which would start more workers) all run on that worker. */
static void faults_no_thread_queued_run_on_existing_worker(void **state)
{
    struct helper_pool *hp = *state;
    volatile LONG ran = 0;
    PTP_WORK work;

    SetThreadpoolThreadMaximum(hp->pool, 8);
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 1));
    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, &hp->env);
    assert_non_null(work);
    InterlockedExchange(&fault.no_threads, 1);
    submit_times(work, 200);
    assert_true(helper_wait_count(&ran, 200));
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    InterlockedExchange(&fault.no_threads, 0);
    assert_int_equal(ran, 200);
    assert_int_equal(helper_pool_threads(hp->pool), 1);
    CloseThreadpoolWork(work);
}

/* A pool with no worker yet: its posts wait while no thread can be
 * created, and all run once one can (the post did not fail). */
static void faults_no_thread_then_queued_run_later(void **state)
{
    struct helper_pool *hp = *state;
    volatile LONG ran = 0;
    PTP_WORK work;

    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, &hp->env);
    assert_non_null(work);
    assert_int_equal(helper_pool_threads(hp->pool), 0);
    InterlockedExchange(&fault.no_threads, 1);
    submit_times(work, 20);
    /* Time is not under test: nothing can run meanwhile, whatever the wait. */
    Sleep(50);
    assert_int_equal(ran, 0);
    InterlockedExchange(&fault.no_threads, 0);
    assert_true(helper_wait_count(&ran, 20));
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(ran, 20);
    CloseThreadpoolWork(work);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

/* Idle workers retire after this long here (KERNEL32_TP_IDLE_TIMEOUT_MS). */
#define SWEEP_IDLE_MS 20

int main(void)
{
    static char idle_timeout[64];
    const struct CMUnitTest tests[] = {
        POOL_TEST(faults_sweep_work_fails_cleanly),
        POOL_TEST(faults_sweep_simple_fails_cleanly),
        POOL_TEST(faults_sweep_timer_fails_cleanly),
        POOL_TEST(faults_sweep_wait_fails_cleanly),
        POOL_TEST(faults_sweep_io_fails_cleanly),
        POOL_TEST(faults_sweep_pool_fails_cleanly),
        POOL_TEST(faults_sweep_group_fails_cleanly),
        POOL_TEST(faults_sweep_legacy_fails_cleanly),
        POOL_TEST(faults_no_thread_queued_run_on_existing_worker),
        POOL_TEST(faults_no_thread_then_queued_run_later),
    };

    snprintf(idle_timeout, sizeof(idle_timeout), "KERNEL32_TP_IDLE_TIMEOUT_MS=%d", SWEEP_IDLE_MS);
    putenv(idle_timeout);
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}

#else

int main(void)
{
    printf("test_faults: the fault hook is linked into the native tests only\n");
    return 0;
}

#endif

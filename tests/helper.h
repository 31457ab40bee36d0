/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared test helpers.  Tests are ordinary Windows programs: the same
 * sources build natively against kernel32_tp and with mingw-w64 against our
 * DLL or the system's kernel32 (the reference).
 *
 * Rules (see docs/conformance.md): callbacks never call cmocka's assert_*; they
 * record through a probe and the test thread asserts.  Order with gates and
 * events, never with Sleep.
 */
#ifndef KERNEL32_TP_TEST_HELPER_H
#define KERNEL32_TP_TEST_HELPER_H

#include <windows.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#if !defined(__MINGW32__)
/* Wine's headers need _WIN32 on Linux; cmocka must not take it for ILP32. */
#define _UINTPTR_T_DEFINED
#endif
#include <cmocka.h>

#include "kernel32_tp.h"

/* Bounded waits: TP_TEST_TIMEOUT_MS x KERNEL32_TP_TEST_TIMEOUT_MULT. */
#define TP_TEST_TIMEOUT_MS 10000
DWORD helper_timeout_ms(void);

/* Spins (no wait the pool could see) until *flag is set, or times out;
 * TRUE when it was set. */
BOOL spin_until_set(volatile LONG *flag);

/* Where time itself is under test (timers, wait timeouts): how early a
 * callback may seem to be, measured on another clock; an upper bound that
 * holds on a loaded machine; how long a callback that must not come is
 * waited for. */
#define CLOCK_SLACK_MS 3
#define LATE_BOUND_MS 3000
#define QUIET_MS 200

/* A probe: callbacks count hits and record the first failed check. */
struct probe {
    volatile LONG hits;
    volatile LONG failed;
    const char *file;
    int line;
    const char *expr;
};
#define PROBE_INIT { 0, 0, NULL, 0, NULL }
#define PROBE_CHECK(p, e) probe_check((p), !!(e), #e, __FILE__, __LINE__)
void probe_check(struct probe *p, int ok, const char *expr, const char *file, int line);
void probe_hit(struct probe *p);
LONG probe_hits(struct probe *p);
void probe_assert_clean_at(struct probe *p, const char *file, int line);
#define probe_assert_clean(p) probe_assert_clean_at((p), __FILE__, __LINE__)
/* The same, and that the probe was hit exactly n times. */
void probe_assert_hits_at(struct probe *p, LONG n, const char *file, int line);
#define probe_assert_hits(p, n) probe_assert_hits_at((p), (n), __FILE__, __LINE__)

/* A gate: a semaphore a callback waits on until the test opens it. */
struct gate {
    HANDLE sem;
};
void gate_init(struct gate *g);
void gate_open(struct gate *g, LONG count);
BOOL gate_pass(struct gate *g);   /* from callbacks: FALSE on timeout */
void gate_destroy(struct gate *g);

/* Waits for h with the bounded timeout and asserts it was signalled. */
#define helper_wait(h) helper_wait_at((h), __FILE__, __LINE__)
void helper_wait_at(HANDLE h, const char *file, int line);
/* Asserts that h stays unsignalled for ms milliseconds. */
#define helper_wait_not(h, ms) helper_wait_not_at((h), (ms), __FILE__, __LINE__)
void helper_wait_not_at(HANDLE h, DWORD ms, const char *file, int line);

/* Spins (yielding) until *value reaches at least target; FALSE on timeout. */
BOOL helper_wait_count(volatile LONG *value, LONG target);

/*
 * A private pool and a V3 environment naming it, for one test:
 * use helper_setup_pool/helper_teardown_pool as setup/teardown and
 * helper_env(state) in the test.  Teardown closes the pool and checks that
 * no thread-pool object leaked (kernel32_tp only).
 */
struct helper_pool {
    PTP_POOL pool;
    TP_CALLBACK_ENVIRON env;
    void *param;                 /* PARAM_TEST's */
};
int helper_setup_pool(void **state);
int helper_teardown_pool(void **state);
PTP_CALLBACK_ENVIRON helper_env(void **state);

/*
 * Table-driven tests: a test named NAME that runs FN on a private pool (as
 * above) with PARAM, a pointer-sized value (flags, or the address of a
 * static row), which FN reads back with helper_param(state).
 */
#define PARAM_TEST(name, fn, param) \
    { #name, (fn), helper_setup_pool, helper_teardown_pool, (void *)(ULONG_PTR)(param) }
ULONG_PTR helper_param(void **state);

/*
 * The only thread of a one-thread pool (helper_setup_pool's), held by a work
 * item at a gate from occupy_pool() to occupant_release(): what is
 * submitted in between queues behind it.
 */
struct occupant {
    struct gate gate;
    HANDLE started;
    PTP_WORK work;
};
void occupy_pool(void **state, struct occupant *o);
void occupant_release(struct occupant *o);

/*
 * Whether call(arg) is refused the way Windows refuses a handle the pool
 * must not wait on (a mutex): STATUS_THREADPOOL_HANDLE_EXCEPTION with
 * STATUS_INVALID_PARAMETER_3, raised once on the calling thread and caught
 * here, after which the call returns.  Natively there are no exceptions and
 * kernel32_tp stops the process (SIGABRT): call runs in a child process.
 */
BOOL helper_refused(void (*call)(void *arg), void *arg);

#ifdef __MINGW32__
/* CreateProcessA(NULL, cmd, NULL, NULL, inherit, 0, NULL, NULL, si, pi),
 * tried up to three times, each failure's error printed: under Wine,
 * starting a process fails now and then on a loaded machine, and the
 * system's CreateProcess is not what these tests check. */
BOOL helper_create_process(char *cmd, BOOL inherit, STARTUPINFOA *si, PROCESS_INFORMATION *pi);
#endif

/* Implementation under test: 1 for kernel32_tp, 0 for the reference.  A
 * reference build finds out at run time (it is kernel32_tp under
 * kernel32_tp-wine). */
int helper_is_kernel32_tp(void);

/*
 * The mode a test binary runs in (docs/conformance.md), found at start-up:
 * natively (linux, also under ASan/TSan), linked to our DLL (wine-tp), or a
 * reference build on Wine's pool (wine-ref) or on ours reached through the
 * override pair (wine-dropin) or the launcher (wine-inject).
 */
#define MODE_LINUX        0x01u
#define MODE_WINE_TP      0x02u
#define MODE_WINE_DROPIN  0x04u
#define MODE_WINE_INJECT  0x08u
#define MODE_WINE_REF     0x10u
/* Every mode that runs kernel32_tp; the one that runs the reference. */
#define MODES_TP (MODE_LINUX | MODE_WINE_TP | MODE_WINE_DROPIN | MODE_WINE_INJECT)
#define MODES_REF MODE_WINE_REF
unsigned helper_mode(void);

/*
 * Known differences that speak up.  A mark names the modes where its checks
 * are known to fail, and why; its block runs in every mode:
 *
 *     TODO_REF("Wine accepts any environment version") {
 *         CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
 *     }
 *
 * Inside the block, CHECK(e) and CHECK_EQ(a, b) are the checks (cmocka's
 * assert_* would stop the test).  In a mode the mark names, a failed check is
 * the known difference: it prints "todo: FILE:LINE: [modes] why", which the
 * summary counts and lists, and the test goes on; a block whose checks all
 * pass fails the test ("the known difference is gone: remove the mark"), so a
 * difference that disappears is noticed.  In any other mode a failed check
 * fails the test at once, like assert_true.  TODO_TP names every kernel32_tp
 * mode, TODO_REF the reference (wine-ref), TODO_ON(MODE_... | ..., why) any
 * set.  A block must run at least one check and must not leave early
 * (return, break, goto).
 *
 * NOT_RUN_ON(modes, why) statement: for a check that cannot run where the
 * mark applies because it would crash or hang the process there.  The
 * statement is skipped in those modes only, with a "todo:" line that says
 * "not run"; everywhere else it runs.
 */
struct todo {
    const char *why, *file;
    int line;
    unsigned modes;
    int applies, open, checks, failed;
};
struct todo todo_begin(unsigned modes, const char *why, const char *file, int line);
void todo_end(struct todo *t);
void todo_check(struct todo *t, int ok, const char *expr, const char *file, int line);
void todo_check_eq(struct todo *t, uintmax_t a, uintmax_t b, const char *expr_a,
                   const char *expr_b, const char *file, int line);
int helper_not_run(unsigned modes, const char *why, const char *file, int line);
/* The same with a condition instead of modes, for tests written before
 * marks named their modes; its line names the mode it ran in. */
int helper_todo(int applies, const char *why, const char *file, int line);
#define TODO_ON(modes, why) \
    for (struct todo todo_ = todo_begin((modes), (why), __FILE__, __LINE__); todo_.open; \
         todo_end(&todo_))
#define TODO_TP(why) TODO_ON(MODES_TP, (why))
#define TODO_REF(why) TODO_ON(MODES_REF, (why))
#define CHECK(e) todo_check(&todo_, !!(e), #e, __FILE__, __LINE__)
#define CHECK_EQ(a, b) \
    todo_check_eq(&todo_, (uintmax_t)(a), (uintmax_t)(b), #a, #b, __FILE__, __LINE__)
#define NOT_RUN_ON(modes, why) \
    if (helper_not_run((modes), (why), __FILE__, __LINE__)) {} else

/*
 * What a callback that may hold its thread records, for work items, legacy
 * items and ntdll's callbacks alike.  cb_state_enter() is such a callback's
 * common part: it counts the start, sets started, passes the gate if block
 * is set, and hits the probe; the callback's last statement adds one to done.
 */
struct cb_state {
    struct probe probe;
    struct gate gate;
    BOOL block;                  /* wait at the gate */
    HANDLE started;              /* auto-reset, set by every start */
    volatile LONG started_count;
    volatile LONG done;          /* each callback's last statement adds one */
};
void cb_state_init(struct cb_state *s);      /* zeroed, gate and event made */
void cb_state_destroy(struct cb_state *s);
void cb_state_enter(struct cb_state *s);
/* A work callback that is only that (ctx: the cb_state). */
void CALLBACK cb_state_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work);

/*
 * What the callbacks of one timer or wait record in common: the probe, a
 * semaphore released once per callback (last), and on entry an optional
 * event to set and an optional gate to pass (cb_record_enter()).
 */
struct cb_record {
    struct probe probe;
    HANDLE done_sem;             /* released once per callback, last */
    struct gate *gate;           /* if set, every callback passes it first */
    HANDLE started_event;        /* if set, set by every callback on entry */
};
void cb_record_init(struct cb_record *r);    /* zeroed, done_sem made */
void cb_record_destroy(struct cb_record *r); /* closes done_sem and started_event */
void cb_record_enter(struct cb_record *r);
/* Sets event and asserts that no callback takes its signal: none comes
 * within QUIET_MS, and the event stays signalled. */
#define assert_signal_unclaimed(r, event) \
    assert_signal_unclaimed_at((r), (event), __FILE__, __LINE__)
void assert_signal_unclaimed_at(struct cb_record *r, HANDLE event, const char *file, int line);

/*
 * What the completion actions of a callback act on (SetEventWhenCallback-
 * Returns and its siblings, ntdll's TpCallback*OnCompletion): a manual-reset
 * event, a semaphore, a mutex no thread owns and a critical section.
 */
struct action_objects {
    HANDLE event;
    HANDLE sem;
    HANDLE mutex;
    CRITICAL_SECTION cs;
};
void action_objects_init(struct action_objects *o);      /* asserted made */
void action_objects_destroy(struct action_objects *o);

/* The variadic form of a function under test that takes a va_list: defines
 * NAME, whose last named parameter is fmt, as CALL with ap after fmt. */
#define VA_WRAPPER(type, name, params, call) static type name params \
    { type ret_; va_list ap; va_start(ap, fmt); ret_ = call; va_end(ap); return ret_; }

/* Asserts start_us + due_ms - slack_ms <= at_us <= start_us + due_ms +
 * LATE_BOUND_MS; a failure says what ("fired", "timed out") came when. */
#define assert_in_time(what, start_us, at_us, due_ms, slack_ms) \
    assert_in_time_at((what), (start_us), (at_us), (due_ms), (slack_ms), __FILE__, __LINE__)
void assert_in_time_at(const char *what, LONGLONG start_us, LONGLONG at_us, LONGLONG due_ms,
                       LONGLONG slack_ms, const char *file, int line);

/* Microseconds on the monotonic clock (QueryPerformanceCounter). */
LONGLONG now_us(void);
/* FILETIME due times and timeouts: negative = relative, in 100 ns; positive
 * = absolute, on the system clock. */
FILETIME relative_ms(LONGLONG ms);
FILETIME absolute_in_ms(LONGLONG ms);
/* Asserts that call returns NULL and sets the last error to err (which is
 * scrubbed first, so that a stale value cannot pass). */
#define assert_null_error(call, err) do { \
        SetLastError(0xdeadbeef); \
        assert_null(call); \
        assert_int_equal(GetLastError(), (err)); \
    } while (0)
/* Starts a thread running fn(arg), asserting that it started. */
HANDLE start_thread(LPTHREAD_START_ROUTINE fn, void *arg);
/* Waits for thread to end: its exit code, asserted readable. */
DWORD thread_exit_code(HANDLE thread);
/* Runs fn(arg) on a new thread to its end: its exit code. */
DWORD run_thread(LPTHREAD_START_ROUTINE fn, void *arg);
/* Whether another thread can enter cs now (TryEnterCriticalSection, left
 * at once). */
BOOL other_thread_enters(CRITICAL_SECTION *cs);
/* An event; a semaphore with no count and no useful limit: asserted made. */
HANDLE event_new(BOOL manual, BOOL initial);
HANDLE semaphore_new(void);
/* A mutex that no thread owns: asserted made. */
HANDLE mutex_new(void);
/* A pool of its own (asserted made) and env initialized to name it; the
 * test closes both. */
PTP_POOL pool_with_env(TP_CALLBACK_ENVIRON *env);
/* Submits work n times. */
void submit_times(PTP_WORK work, LONG n);
/* The CPUs a pool's concurrency counts on: the machine's, at least two. */
LONG helper_cpus(void);
/* A work callback that only counts its runs: ctx is a volatile LONG. */
void CALLBACK count_runs_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work);
/* The same for a timer. */
void CALLBACK count_timer_runs_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer);
/* A counter that callbacks update, read with a full barrier. */
LONG count_of(volatile LONG *value);
/* A pipe name that no pipe had yet: \\.\pipe\kernel32_tp_OWNER_PID_SERIAL. */
void unique_pipe_name(char *name, size_t size, const char *owner);
/* Whether a wide string holds exactly the ASCII string. */
int wide_equals(const WCHAR *wide, const char *ascii);

/*
 * Names a Windows build looks up at run time, so that it still loads where
 * they are missing (Wine 8 has no SetThreadpoolTimerEx, TpSetTimerEx...):
 * LOOKUP(type, KERNEL32_NAME or NTDLL_NAME, Name), NULL when missing.  The
 * ntdll names come from the DLL that provides them (ntdll, or our DLL).
 * Natively every name is linked.
 */
#if defined(__MINGW32__)
FARPROC tp_proc(const char *module, const char *name);
#ifdef KERNEL32_TP_TEST_REFERENCE
#define KERNEL32_NAME "kernel32.dll"
#define NTDLL_NAME "ntdll.dll"
#else
#define KERNEL32_NAME "kernel32_tp.dll"
#define NTDLL_NAME "kernel32_tp.dll"
#endif
#define LOOKUP(type, module, name) ((type)(void *)tp_proc(module, #name))
#else
#define LOOKUP(type, module, name) ((type)name)
#endif

/*
 * Whether ntdll's Tp* names are served by the implementation that serves
 * kernel32's.  Always so, except under kernel32_tp-wine's override pair
 * (wine-dropin), which serves kernel32 and kernelbase but never ntdll: a
 * test that hands kernel32's objects (a pool in helper_env) to ntdll's
 * names starts with SKIP_UNLESS_NTDLL_MATCHES(), a known difference of
 * wine-dropin (and a failure anywhere else), after which the test skips.
 */
int helper_ntdll_matches(void);
#define SKIP_UNLESS_NTDLL_MATCHES() do { \
        TODO_ON(MODE_WINE_DROPIN, "ntdll's Tp* names stay Wine's under the override pair") \
            CHECK(helper_ntdll_matches()); \
        if (!helper_ntdll_matches()) \
            skip(); \
    } while (0)

/* Number of live thread-pool objects in kernel32_tp; -1 on the reference. */
LONG helper_live_objects(void);
/* Worker threads of a pool in kernel32_tp; 0 on the reference. */
DWORD helper_pool_threads(PTP_POOL pool);
#ifdef KERNEL32_TP_TEST_REFERENCE
/* Linked to kernel32 only: kernel32_tp's introspection, looked up at run
 * time when kernel32_tp.dll serves kernel32 (wine-dropin); 0 otherwise. */
LONGLONG helper_callbacks_run(void);
#define tp_debug_callbacks_run() helper_callbacks_run()
#endif

/*
 * A test program that runs itself as a child process defines
 * helper_child_main(), the child's work: 0 when it went as it should.
 * Natively, a program started as "program HELPER_CHILD_ARG" runs it in
 * place of its tests (from helper.c, before main) and exits with its
 * result; programs without a child do not define it.
 */
#define HELPER_CHILD_ARG "child"
int helper_child_main(void);

#if !defined(__MINGW32__)
/* Runs this test program again as its child ("/proc/self/exe
 * HELPER_CHILD_ARG") with the environment variable var set to value (NULL:
 * unset), collects its standard error into out (at most size - 1 bytes,
 * terminated) and fails unless it exits with 0.  Returns the length
 * collected.  Native only (posix_spawn). */
size_t helper_run_self_stderr(const char *var, const char *value, char *out, size_t size);
#endif

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32_tp's per-pool figures (tp_debug_pool_stats, include/kernel32_tp.h):
 * callbacks run, queue depth, threads created and retired, workers injected
 * for blocked callbacks, the timer lateness histogram, waits armed, and the
 * refusal of bad arguments.  An extension: Wine's own pool has no such call,
 * and the reference modes skip, saying so, where it is missing.
 */
#include <string.h>
#include "helper.h"

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

typedef BOOL (WINAPI *pool_stats_fn)(PTP_POOL pool, TP_DEBUG_POOL_STATS *stats);

/* The call, or NULL where the pool under test has none (wine-ref). */
static pool_stats_fn pool_stats_call(void)
{
#ifdef KERNEL32_TP_TEST_REFERENCE
    static const WCHAR *const modules[] = { L"kernel32.dll", L"kernel32_tp.dll" };
    FARPROC proc = NULL;
    HMODULE module;
    unsigned int i;

    for (i = 0; !proc && i < sizeof(modules) / sizeof(modules[0]); i++)
        if ((module = GetModuleHandleW(modules[i])))
            proc = GetProcAddress(module, "tp_debug_pool_stats");
    return (pool_stats_fn)(void *)proc;
#else
    return tp_debug_pool_stats;
#endif
}

/* The call, or a visible skip of the test when it does not exist. */
#define POOL_STATS_OR_SKIP(fn) do { \
        if (!((fn) = pool_stats_call())) { \
            helper_todo(1, "tp_debug_pool_stats is kernel32_tp's extension: this pool has none", \
                        __FILE__, __LINE__); \
            skip(); \
        } \
    } while (0)

static void read_stats(pool_stats_fn fn, PTP_POOL pool, TP_DEBUG_POOL_STATS *stats)
{
    memset(stats, 0xcc, sizeof(*stats));
    stats->Size = sizeof(*stats);
    assert_true(fn(pool, stats));
    assert_int_equal(stats->Size, sizeof(*stats));
    assert_int_equal(stats->LatenessBuckets, TP_DEBUG_LATENESS_BUCKETS);
}

static LONGLONG lateness_total(const TP_DEBUG_POOL_STATS *stats)
{
    LONGLONG total = 0;
    unsigned int i;

    for (i = 0; i < TP_DEBUG_LATENESS_BUCKETS; i++) {
        assert_true(stats->TimerLateness[i] >= 0);
        total += stats->TimerLateness[i];
    }
    return total;
}

/* ---- callbacks run, queue depth, threads ----------------------------------------- */

/* N posts of a fresh pool are exactly N callbacks run, counted by the time
 * the wait for them returns. */
static void stats_counts_callbacks_run(void **state)
{
    struct helper_pool *hp = *state;
    TP_DEBUG_POOL_STATS stats;
    volatile LONG ran = 0;
    pool_stats_fn fn;
    PTP_WORK work;

    POOL_STATS_OR_SKIP(fn);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.CallbacksRun, 0);
    assert_int_equal(stats.QueueDepth, 0);
    assert_int_equal(stats.QueueDepthMax, 0);
    assert_int_equal(stats.WaitsArmed, 0);
    assert_int_equal(lateness_total(&stats), 0);

    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, &hp->env);
    assert_non_null(work);
    submit_times(work, 1000);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(ran, 1000);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.CallbacksRun, 1000);
    assert_int_equal(stats.QueueDepth, 0);
    assert_true(stats.QueueDepthMax >= 1 && stats.QueueDepthMax <= 1000);
    assert_true(stats.ThreadsCreated >= 1);
    assert_true(stats.ThreadsRetired >= 0 && stats.ThreadsRetired <= stats.ThreadsCreated);
    /* Threads counts workers still starting, too. */
    assert_true(stats.ThreadsCreated - stats.ThreadsRetired <= (LONGLONG)stats.Threads);

    submit_times(work, 500);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.CallbacksRun, 1500);
    CloseThreadpoolWork(work);
}

/* Work queued behind a callback that holds the only thread is seen in the
 * queue depth, now and at its highest. */
static void stats_queue_depth_seen(void **state)
{
    struct helper_pool *hp = *state;
    TP_DEBUG_POOL_STATS stats;
    volatile LONG ran = 0;
    struct occupant o;
    pool_stats_fn fn;
    PTP_WORK work;

    POOL_STATS_OR_SKIP(fn);
    occupy_pool(state, &o);
    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, &hp->env);
    assert_non_null(work);
    submit_times(work, 10);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.QueueDepth, 10);
    assert_int_equal(stats.QueueDepthMax, 10);
    occupant_release(&o);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.QueueDepth, 0);
    assert_int_equal(stats.QueueDepthMax, 10);
    CloseThreadpoolWork(work);
}

/* A one-thread pool's worker may run one object's posts back to back (the
 * object is alone in the queue); a cancelling wait that comes while one of
 * them runs still drops all the others. */
struct cancel_run {
    volatile LONG runs;
    HANDLE all_posted;
    HANDLE third_started;
    pool_stats_fn fn;
    PTP_POOL pool;
};

static VOID CALLBACK cancel_run_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct cancel_run *r = ctx;
    TP_DEBUG_POOL_STATS stats;
    LONG run;
    int i;

    (void)inst;
    (void)work;
    /* The first waits until all posts are queued: the third then finds
     * the others queued, whatever the threads' speeds. */
    if ((run = InterlockedIncrement(&r->runs)) == 1)
        WaitForSingleObject(r->all_posted, 10000);
    if (run != 3)
        return;
    SetEvent(r->third_started);
    /* Returns once the cancel emptied the queue (or after 10 s: the test
     * then fails on the count). */
    for (i = 0; i < 10000; i++) {
        memset(&stats, 0, sizeof(stats));
        stats.Size = sizeof(stats);
        if (r->fn(r->pool, &stats) && stats.QueueDepth == 0)
            break;
        Sleep(1);
    }
}

static void stats_cancel_drops_posts_run_in_a_row(void **state)
{
    struct helper_pool *hp = *state;
    struct cancel_run r = { 0 };
    PTP_WORK work;
    int i;

    POOL_STATS_OR_SKIP(r.fn);
    r.pool = hp->pool;
    r.all_posted = CreateEventW(NULL, TRUE, FALSE, NULL);
    r.third_started = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(r.all_posted);
    assert_non_null(r.third_started);
    SetThreadpoolThreadMaximum(hp->pool, 1);
    work = CreateThreadpoolWork(cancel_run_cb, &r, &hp->env);
    assert_non_null(work);
    for (i = 0; i < 50; i++)
        SubmitThreadpoolWork(work);
    SetEvent(r.all_posted);
    helper_wait(r.third_started);
    WaitForThreadpoolWorkCallbacks(work, TRUE);
    assert_int_equal(r.runs, 3);
    /* Nothing of the 50 is left: one more post runs once. */
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(r.runs, 4);
    CloseThreadpoolWork(work);
    CloseHandle(r.all_posted);
    CloseHandle(r.third_started);
}

/* ---- injection for blocked callbacks ------------------------------------------- */

struct blocked {
    HANDLE release;              /* manual-reset: the blocked callbacks go on */
    volatile LONG started;
    volatile LONG others;        /* the plain callbacks queued behind them */
};

static void CALLBACK blocked_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct blocked *b = ctx;

    (void)inst;
    (void)work;
    InterlockedIncrement(&b->started);
    WaitForSingleObject(b->release, helper_timeout_ms());
}

static void CALLBACK other_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)work;
    InterlockedIncrement(&((struct blocked *)ctx)->others);
}

/*
 * More blocked callbacks than the CPUs, and plain work queued behind them:
 * all of them run, which takes workers beyond one per CPU, and each such
 * worker is counted as an injection for blocking (by whichever path added
 * it: the handle wait, or the stall monitor).
 */
static void stats_blocked_callbacks_inject(void **state)
{
    struct helper_pool *hp = *state;
    TP_DEBUG_POOL_STATS stats;
    struct blocked b = { 0 };
    PTP_WORK blocker, other;
    LONG cpus = helper_cpus(), count = cpus + 2;
    pool_stats_fn fn;

    POOL_STATS_OR_SKIP(fn);
    SetThreadpoolThreadMaximum(hp->pool, (DWORD)count + 2);
    b.release = event_new(TRUE, FALSE);
    blocker = CreateThreadpoolWork(blocked_cb, &b, &hp->env);
    other = CreateThreadpoolWork(other_cb, &b, &hp->env);
    assert_non_null(blocker);
    assert_non_null(other);
    submit_times(blocker, count);
    assert_true(helper_wait_count(&b.started, count));
    SubmitThreadpoolWork(other);
    assert_true(helper_wait_count(&b.others, 1));

    read_stats(fn, hp->pool, &stats);
    assert_true(stats.Threads >= (DWORD)count + 1);
    assert_true(stats.InjectedBlocked + stats.InjectedMayRunLong + stats.InjectedStall
                >= count + 1 - cpus);
    assert_int_equal(stats.CallbacksRun, 1);

    SetEvent(b.release);
    WaitForThreadpoolWorkCallbacks(blocker, FALSE);
    WaitForThreadpoolWorkCallbacks(other, FALSE);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.CallbacksRun, count + 1);
    CloseThreadpoolWork(blocker);
    CloseThreadpoolWork(other);
    CloseHandle(b.release);
}

static void CALLBACK long_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct blocked *b = ctx;

    (void)work;
    InterlockedExchange(&b->others, CallbackMayRunLong(inst) ? 1 : 2);
    InterlockedIncrement(&b->started);
    WaitForSingleObject(b->release, helper_timeout_ms());
}

/* CallbackMayRunLong with no idle worker to spare adds one, and says so. */
static void stats_may_run_long_injects(void **state)
{
    struct helper_pool *hp = *state;
    TP_DEBUG_POOL_STATS stats;
    struct blocked b = { 0 };
    pool_stats_fn fn;
    PTP_WORK work;

    POOL_STATS_OR_SKIP(fn);
    b.release = event_new(TRUE, FALSE);
    work = CreateThreadpoolWork(long_cb, &b, &hp->env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    assert_true(helper_wait_count(&b.started, 1));
    assert_int_equal(b.others, 1);
    read_stats(fn, hp->pool, &stats);
    assert_true(stats.InjectedMayRunLong >= 1);
    SetEvent(b.release);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    CloseHandle(b.release);
}

/* ---- timers and waits -------------------------------------------------------- */

static void CALLBACK timer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    (void)inst;
    (void)timer;
    SetEvent(ctx);
}

/* A one-shot timer that fires is counted once in the lateness histogram. */
static void stats_timer_lateness_counted(void **state)
{
    struct helper_pool *hp = *state;
    TP_DEBUG_POOL_STATS stats;
    FILETIME due = relative_ms(20);
    pool_stats_fn fn;
    PTP_TIMER timer;
    HANDLE fired;

    POOL_STATS_OR_SKIP(fn);
    fired = event_new(FALSE, FALSE);
    timer = CreateThreadpoolTimer(timer_cb, fired, &hp->env);
    assert_non_null(timer);
    SetThreadpoolTimer(timer, &due, 0, 0);
    helper_wait(fired);
    WaitForThreadpoolTimerCallbacks(timer, FALSE);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(lateness_total(&stats), 1);
    assert_int_equal(stats.CallbacksRun, 1);
    CloseThreadpoolTimer(timer);
    CloseHandle(fired);
}

static void CALLBACK wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                             TP_WAIT_RESULT result)
{
    (void)inst;
    (void)wait;
    (void)result;
    InterlockedIncrement((volatile LONG *)ctx);
}

/* Waits armed rises with each SetThreadpoolWait and falls when one fires
 * or is disarmed. */
static void stats_waits_armed_up_and_down(void **state)
{
    struct helper_pool *hp = *state;
    TP_DEBUG_POOL_STATS stats;
    volatile LONG fired = 0;
    HANDLE event1, event2;
    PTP_WAIT wait1, wait2;
    pool_stats_fn fn;

    POOL_STATS_OR_SKIP(fn);
    event1 = CreateEventW(NULL, FALSE, FALSE, NULL);
    event2 = CreateEventW(NULL, FALSE, FALSE, NULL);
    wait1 = CreateThreadpoolWait(wait_cb, (PVOID)&fired, &hp->env);
    wait2 = CreateThreadpoolWait(wait_cb, (PVOID)&fired, &hp->env);
    assert_non_null(wait1);
    assert_non_null(wait2);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 0);

    SetThreadpoolWait(wait1, event1, NULL);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 1);
    SetThreadpoolWait(wait2, event2, NULL);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 2);
    /* Armed again: still one wait. */
    SetThreadpoolWait(wait2, event2, NULL);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 2);

    SetEvent(event1);
    assert_true(helper_wait_count(&fired, 1));
    WaitForThreadpoolWaitCallbacks(wait1, FALSE);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 1);

    SetThreadpoolWait(wait2, NULL, NULL);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 0);
    assert_int_equal(fired, 1);

    /* Closed while armed: no longer armed. */
    SetThreadpoolWait(wait1, event1, NULL);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 1);
    CloseThreadpoolWait(wait1);
    CloseThreadpoolWait(wait2);
    read_stats(fn, hp->pool, &stats);
    assert_int_equal(stats.WaitsArmed, 0);
    CloseHandle(event1);
    CloseHandle(event2);
}

/* ---- arguments ------------------------------------------------------------------ */

static void stats_bad_arguments_refused(void **state)
{
    struct {
        TP_DEBUG_POOL_STATS stats;
        unsigned char more[16];  /* a later version's fields */
    } grown;
    TP_DEBUG_POOL_STATS stats;
    static LONG not_a_pool[64];
    pool_stats_fn fn;
    PTP_POOL closed;
    unsigned int i;

    (void)state;
    POOL_STATS_OR_SKIP(fn);
    SetLastError(0);
    assert_false(fn(NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    memset(&stats, 0, sizeof(stats));
    SetLastError(0);
    assert_false(fn(NULL, &stats));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    stats.Size = TP_DEBUG_POOL_STATS_SIZE_V1 - 1;
    SetLastError(0);
    assert_false(fn(NULL, &stats));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    stats.Size = sizeof(stats);
    SetLastError(0);
    assert_false(fn((PTP_POOL)not_a_pool, &stats));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    closed = CreateThreadpool(NULL);
    assert_non_null(closed);
    assert_true(fn(closed, &stats));
    CloseThreadpool(closed);

    /* NULL is the default pool. */
    read_stats(fn, NULL, &stats);
    assert_true(stats.CallbacksRun >= 0);

    /* A larger caller gets this version's fields and zeroes past them. */
    memset(&grown, 0xcc, sizeof(grown));
    grown.stats.Size = sizeof(grown);
    assert_true(fn(NULL, &grown.stats));
    assert_int_equal(grown.stats.Size, sizeof(TP_DEBUG_POOL_STATS));
    for (i = 0; i < sizeof(grown.more); i++)
        assert_int_equal(grown.more[i], 0);
}

/* ---- KERNEL32_TP_STATS=1: the report at exit ------------------------------------ */

/* The child: a pool that ran 3 callbacks and is still open at exit.  A
 * failed assertion ends it with a code that is not 0 (no test is running). */
int helper_child_main(void)
{
    volatile LONG ran = 0;
    TP_CALLBACK_ENVIRON env;
    PTP_WORK work;

    pool_with_env(&env);                /* never closed */
    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, &env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    SubmitThreadpoolWork(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    return ran == 3 ? 0 : 1;
}

#ifdef __linux__
/* Runs the child with KERNEL32_TP_STATS=value (NULL: unset) and returns
 * its standard error (static). */
static const char *stats_run_child(const char *value)
{
    static char out[1 << 16];

    helper_run_self_stderr("KERNEL32_TP_STATS", value, out, sizeof(out));
    return out;
}
#endif

/* KERNEL32_TP_STATS=1 prints each live pool's figures at exit, once; unset
 * or 0, nothing. */
static void stats_printed_at_exit(void **state)
{
    (void)state;
#ifdef __linux__
    const char *out;

    out = stats_run_child("1");
    assert_non_null(strstr(out, "kernel32_tp: stats: pools alive at exit\n"));
    assert_null(strstr(strstr(out, "pools alive at exit") + 1, "pools alive at exit"));
    assert_non_null(strstr(out, ": callbacks 3, queue 0 "));
    assert_non_null(strstr(out, "timer lateness (us: count): none"));
    out = stats_run_child("0");
    assert_null(strstr(out, "kernel32_tp: stats:"));
    out = stats_run_child(NULL);
    assert_null(strstr(out, "kernel32_tp: stats:"));
#else
    NOT_RUN_ON(helper_mode(), "the child process with its standard error in a pipe is "
               "the native build's (posix_spawn)") {}
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(stats_counts_callbacks_run),
        POOL_TEST(stats_queue_depth_seen),
        POOL_TEST(stats_cancel_drops_posts_run_in_a_row),
        POOL_TEST(stats_blocked_callbacks_inject),
        POOL_TEST(stats_may_run_long_injects),
        POOL_TEST(stats_timer_lateness_counted),
        POOL_TEST(stats_waits_armed_up_and_down),
        cmocka_unit_test(stats_bad_arguments_refused),
        cmocka_unit_test(stats_printed_at_exit),
    };

    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}

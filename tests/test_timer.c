/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thread-pool timers: CreateThreadpoolTimer, SetThreadpoolTimer(Ex),
 * IsThreadpoolTimerSet, WaitForThreadpoolTimerCallbacks, CloseThreadpoolTimer
 * and their ntdll names (TpAllocTimer, TpSetTimer(Ex), TpIsTimerSet,
 * TpWaitForTimer, TpReleaseTimer).
 *
 * Time itself is under test here, so some tests measure it: a callback
 * records when it started (QueryPerformanceCounter) and the test thread
 * checks that no callback came before its due time (less CLOCK_SLACK_MS, the
 * granularity of the clocks involved) and that it came within a generous
 * bound.  Coalescing is checked only as far as Windows promises it (never
 * early), plus kernel32_tp's own promise that overlapping windows fire
 * together.
 */
#include <string.h>

#include "helper.h"

#if !defined(__MINGW32__)
#include <winternl.h>
BOOL WINAPI TpSetTimerEx(TP_TIMER *timer, LARGE_INTEGER *due, LONG period_ms, LONG window_ms);
#endif

/* The system time (GetSystemTimeAsFileTime) may lag by a tick on Windows. */
#define SYSTEM_CLOCK_SLACK_MS 20

/* ---- clocks and the functions that may be missing --------------------------- */

typedef BOOL (WINAPI *set_timer_ex_fn)(PTP_TIMER, PFILETIME, DWORD, DWORD);
typedef NTSTATUS (WINAPI *tp_alloc_timer_fn)(TP_TIMER **, PTP_TIMER_CALLBACK, PVOID,
                                             TP_CALLBACK_ENVIRON *);
typedef void (WINAPI *tp_set_timer_fn)(TP_TIMER *, LARGE_INTEGER *, LONG, LONG);
typedef BOOL (WINAPI *tp_set_timer_ex_fn)(TP_TIMER *, LARGE_INTEGER *, LONG, LONG);
typedef BOOL (WINAPI *tp_is_timer_set_fn)(TP_TIMER *);
typedef void (WINAPI *tp_wait_for_timer_fn)(TP_TIMER *, BOOL);
typedef void (WINAPI *tp_release_timer_fn)(TP_TIMER *);

/* Wine 8 has no SetThreadpoolTimerEx and no TpSetTimerEx (see LOOKUP). */
static set_timer_ex_fn get_set_timer_ex(void)
{
    return LOOKUP(set_timer_ex_fn, KERNEL32_NAME, SetThreadpoolTimerEx);
}

/* ---- callback state ------------------------------------------------------------ */

#define MAX_FIRES 64

/* Records every callback of one timer: when it started, in order. */
struct ticker {
    struct cb_record rec;
    PTP_TIMER timer;             /* the object the callback must be handed */
    volatile LONG fires;
    LONGLONG fire_us[MAX_FIRES];
};

static void ticker_init(struct ticker *t)
{
    memset(t, 0, sizeof(*t));
    cb_record_init(&t->rec);
}

static void ticker_destroy(struct ticker *t)
{
    cb_record_destroy(&t->rec);
}

/* The end of most tests: no callback's check failed; the timer and the
 * ticker go. */
static void ticker_finish_at(struct ticker *t, const char *file, int line)
{
    probe_assert_clean_at(&t->rec.probe, file, line);
    CloseThreadpoolTimer(t->timer);
    ticker_destroy(t);
}
#define ticker_finish(t) ticker_finish_at((t), __FILE__, __LINE__)

static void CALLBACK ticker_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct ticker *t = ctx;
    LONGLONG at = now_us();
    LONG n = InterlockedIncrement(&t->fires) - 1;

    PROBE_CHECK(&t->rec.probe, inst != NULL);
    PROBE_CHECK(&t->rec.probe, t->timer == NULL || timer == t->timer);
    if (n < MAX_FIRES)
        t->fire_us[n] = at;
    cb_record_enter(&t->rec);
    probe_hit(&t->rec.probe);
    ReleaseSemaphore(t->rec.done_sem, 1, NULL);
}

static PTP_TIMER ticker_create(struct ticker *t, PTP_CALLBACK_ENVIRON env)
{
    t->timer = CreateThreadpoolTimer(ticker_cb, t, env);
    assert_non_null(t->timer);
    return t->timer;
}

static LONG fires_now(struct ticker *t)
{
    return InterlockedCompareExchange(&t->fires, 0, 0);
}

/* Asserts that a callback came in time (helper.h). */
#define assert_fired_in_time(start_us, at_us, due_ms, slack_ms) \
    assert_in_time("fired", (start_us), (at_us), (due_ms), (slack_ms))

/* ---- due times ------------------------------------------------------------------ */

static void timer_relative_due_never_early(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(100);
    LONGLONG start;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    start = now_us();
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    helper_wait(t.rec.done_sem);
    assert_fired_in_time(start, t.fire_us[0], 100, CLOCK_SLACK_MS);
    /* A one-shot timer fires once. */
    helper_wait_not(t.rec.done_sem, 150);
    assert_int_equal(fires_now(&t), 1);
    ticker_finish(&t);
}

static void timer_zero_due_fires_at_once(void **state)
{
    struct ticker t;
    FILETIME due = { 0, 0 };
    LONGLONG start;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    start = now_us();
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    helper_wait(t.rec.done_sem);
    assert_fired_in_time(start, t.fire_us[0], 0, 0);
    helper_wait_not(t.rec.done_sem, 100);
    assert_int_equal(fires_now(&t), 1);
    ticker_finish(&t);
}

static void timer_absolute_due_never_early(void **state)
{
    struct ticker t;
    FILETIME due;
    LONGLONG start;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    start = now_us();
    due = absolute_in_ms(150);
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    helper_wait(t.rec.done_sem);
    assert_fired_in_time(start, t.fire_us[0], 150, SYSTEM_CLOCK_SLACK_MS);
    ticker_finish(&t);
}

static void timer_absolute_past_fires_at_once(void **state)
{
    struct ticker t;
    FILETIME due;
    LONGLONG start;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    start = now_us();
    due = absolute_in_ms(-1000);
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    helper_wait(t.rec.done_sem);
    assert_fired_in_time(start, t.fire_us[0], 0, 0);
    ticker_finish(&t);
}

/* Setting an armed timer again replaces its due time. */
static void timer_set_again_replaces_due(void **state)
{
    struct ticker t;
    FILETIME later = relative_ms(10000), sooner = relative_ms(50);
    LONGLONG start;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &later, 0, 0);
    start = now_us();
    SetThreadpoolTimer(t.timer, &sooner, 0, 0);
    helper_wait(t.rec.done_sem);
    assert_fired_in_time(start, t.fire_us[0], 50, CLOCK_SLACK_MS);
    helper_wait_not(t.rec.done_sem, 150);
    assert_int_equal(fires_now(&t), 1);
    ticker_finish(&t);
}

static void timer_set_null_cancels(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(100);

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    SetThreadpoolTimer(t.timer, NULL, 0, 0);
    helper_wait_not(t.rec.done_sem, 300);
    assert_int_equal(fires_now(&t), 0);
    CloseThreadpoolTimer(t.timer);
    ticker_destroy(&t);
}

/* ---- periods ------------------------------------------------------------------- */

#define PERIOD_MS 40
#define PERIODS 8

/* Each expiry is one period after the previous due time: the k-th callback
 * never comes before k periods, and all of them come in about PERIODS periods. */
static void timer_periodic_keeps_period(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(PERIOD_MS);
    LONGLONG start;
    LONG i, fires;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    start = now_us();
    SetThreadpoolTimer(t.timer, &due, PERIOD_MS, 0);
    for (i = 0; i < PERIODS; i++)
        helper_wait(t.rec.done_sem);
    SetThreadpoolTimer(t.timer, NULL, 0, 0);
    WaitForThreadpoolTimerCallbacks(t.timer, TRUE);
    fires = fires_now(&t);
    assert_true(fires >= PERIODS);
    for (i = 0; i < PERIODS; i++)
        assert_fired_in_time(start, t.fire_us[i], (LONGLONG)(i + 1) * PERIOD_MS, CLOCK_SLACK_MS);
    /* Disarmed: no more callbacks.  Those that came before the disarm,
     * beyond the PERIODS waited for, are taken first. */
    for (i = PERIODS; i < fires; i++)
        helper_wait(t.rec.done_sem);
    helper_wait_not(t.rec.done_sem, 3 * PERIOD_MS);
    assert_int_equal(fires_now(&t), fires);
    ticker_finish(&t);
}

/* A zero due time with a period: a callback now, then one every period. */
static void timer_zero_due_periodic_fires_now_then_periodically(void **state)
{
    struct ticker t;
    FILETIME due = { 0, 0 };
    LONGLONG start;
    LONG i;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    start = now_us();
    SetThreadpoolTimer(t.timer, &due, PERIOD_MS, 0);
    for (i = 0; i < 3; i++)
        helper_wait(t.rec.done_sem);
    SetThreadpoolTimer(t.timer, NULL, 0, 0);
    WaitForThreadpoolTimerCallbacks(t.timer, TRUE);
    assert_fired_in_time(start, t.fire_us[0], 0, 0);
    assert_fired_in_time(start, t.fire_us[1], PERIOD_MS, CLOCK_SLACK_MS);
    assert_fired_in_time(start, t.fire_us[2], 2 * PERIOD_MS, CLOCK_SLACK_MS);
    ticker_finish(&t);
}

/* ---- IsThreadpoolTimerSet and SetThreadpoolTimerEx ------------------------------ */

/* TRUE from a set with a due time until a set with NULL, even after a
 * one-shot timer fired. */
static void timer_isset_until_set_null(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(20), zero = { 0, 0 };

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    assert_false(IsThreadpoolTimerSet(t.timer));
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    assert_true(IsThreadpoolTimerSet(t.timer));
    helper_wait(t.rec.done_sem);
    WaitForThreadpoolTimerCallbacks(t.timer, FALSE);
    assert_true(IsThreadpoolTimerSet(t.timer));
    SetThreadpoolTimer(t.timer, &zero, 0, 0);
    assert_true(IsThreadpoolTimerSet(t.timer));
    helper_wait(t.rec.done_sem);
    assert_true(IsThreadpoolTimerSet(t.timer));
    SetThreadpoolTimer(t.timer, NULL, 0, 0);
    assert_false(IsThreadpoolTimerSet(t.timer));
    WaitForThreadpoolTimerCallbacks(t.timer, TRUE);
    ticker_finish(&t);
}

/* TRUE exactly when the call cancelled an expiry that had not come yet. */
static void timer_setex_reports_cancelled_expiry(void **state)
{
    set_timer_ex_fn set_ex = get_set_timer_ex();
    FILETIME later = relative_ms(10000), sooner = relative_ms(20), zero = { 0, 0 };
    struct ticker t;

    /* Wine 8's kernel32 lacks it, and the launcher redirects only names it exports. */
    TODO_ON(MODE_WINE_REF | MODE_WINE_INJECT, "SetThreadpoolTimerEx is missing (Wine 8)")
        CHECK(set_ex != NULL);
    if (!set_ex)
        return;
    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    assert_false(set_ex(t.timer, &later, 0, 0));      /* never set */
    assert_true(set_ex(t.timer, &later, 0, 0));       /* armed: replaced */
    assert_true(set_ex(t.timer, NULL, 0, 0));       /* armed: cancelled */
    assert_false(set_ex(t.timer, NULL, 0, 0));      /* nothing left to cancel */
    assert_false(IsThreadpoolTimerSet(t.timer));

    /* A one-shot timer that fired has nothing to cancel. */
    assert_false(set_ex(t.timer, &sooner, 0, 0));
    helper_wait(t.rec.done_sem);
    WaitForThreadpoolTimerCallbacks(t.timer, FALSE);
    assert_false(set_ex(t.timer, NULL, 0, 0));

    /* A zero due time queues the callback at once: nothing stays armed. */
    assert_false(set_ex(t.timer, &zero, 0, 0));
    helper_wait(t.rec.done_sem);
    assert_false(set_ex(t.timer, NULL, 0, 0));

    /* A periodic timer stays armed after it fired. */
    assert_false(set_ex(t.timer, &sooner, 20, 0));
    helper_wait(t.rec.done_sem);
    assert_true(set_ex(t.timer, NULL, 0, 0));
    WaitForThreadpoolTimerCallbacks(t.timer, TRUE);
    ticker_finish(&t);
}

/* ---- waits, close, groups, instances ------------------------------------------- */

/* WaitForThreadpoolTimerCallbacks does not wait for an armed timer. */
static void timer_wait_armed_returns_at_once(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(10000);
    LONGLONG start;

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    start = now_us();
    WaitForThreadpoolTimerCallbacks(t.timer, FALSE);
    assert_true(now_us() - start < 5000 * 1000);
    assert_int_equal(fires_now(&t), 0);
    /* Waiting did not disarm it. */
    assert_true(IsThreadpoolTimerSet(t.timer));
    CloseThreadpoolTimer(t.timer);
    ticker_destroy(&t);
}

/* With cancel, a queued callback that has not started is dropped; the timer
 * stays set. */
static void timer_wait_cancel_drops_queued_callback(void **state)
{
    struct occupant o;
    struct ticker t;
    FILETIME zero = { 0, 0 };

    occupy_pool(state, &o);
    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &zero, 0, 0);
    WaitForThreadpoolTimerCallbacks(t.timer, TRUE);
    occupant_release(&o);
    helper_wait_not(t.rec.done_sem, 200);
    assert_int_equal(fires_now(&t), 0);
    assert_true(IsThreadpoolTimerSet(t.timer));
    CloseThreadpoolTimer(t.timer);
    ticker_destroy(&t);
}

/* WaitForThreadpoolTimerCallbacks waits for a running callback. */
static void timer_wait_waits_for_running_callback(void **state)
{
    struct ticker t;
    struct gate gate;
    FILETIME zero = { 0, 0 };

    ticker_init(&t);
    gate_init(&gate);
    t.rec.gate = &gate;
    t.rec.started_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &zero, 0, 0);
    helper_wait(t.rec.started_event);
    gate_open(&gate, 1);
    WaitForThreadpoolTimerCallbacks(t.timer, FALSE);
    /* The callback's last step happened before the wait returned. */
    probe_assert_hits(&t.rec.probe, 1);
    CloseThreadpoolTimer(t.timer);
    gate_destroy(&gate);
    ticker_destroy(&t);
}

static void timer_close_armed_never_fires(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(50);

    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &due, 10, 0);
    CloseThreadpoolTimer(t.timer);
    helper_wait_not(t.rec.done_sem, 250);
    assert_int_equal(fires_now(&t), 0);
    ticker_destroy(&t);
}

/* Closing a timer lets its queued callback run, like work. */
static void timer_close_with_queued_callback_runs_it(void **state)
{
    struct occupant o;
    struct ticker t;
    FILETIME zero = { 0, 0 };

    occupy_pool(state, &o);
    ticker_init(&t);
    ticker_create(&t, helper_env(state));
    SetThreadpoolTimer(t.timer, &zero, 0, 0);
    CloseThreadpoolTimer(t.timer);
    occupant_release(&o);
    helper_wait(t.rec.done_sem);
    helper_wait_not(t.rec.done_sem, 100);
    assert_int_equal(fires_now(&t), 1);
    probe_assert_clean(&t.rec.probe);
    ticker_destroy(&t);
}

/* Closing from inside the timer's own callback disarms it. */
struct closer {
    struct ticker t;
    volatile LONG closed;
};

static void CALLBACK close_self_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct closer *c = ctx;

    (void)inst;
    /* A callback queued before the close still runs: only the first closes. */
    if (InterlockedCompareExchange(&c->closed, 1, 0) == 0)
        CloseThreadpoolTimer(timer);
    probe_hit(&c->t.rec.probe);
    ReleaseSemaphore(c->t.rec.done_sem, 1, NULL);
}

static void timer_close_in_own_callback_stops_it(void **state)
{
    struct closer c;
    FILETIME due = relative_ms(10);

    ticker_init(&c.t);
    c.closed = 0;
    c.t.timer = CreateThreadpoolTimer(close_self_cb, &c, helper_env(state));
    assert_non_null(c.t.timer);
    SetThreadpoolTimer(c.t.timer, &due, 50, 0);
    helper_wait(c.t.rec.done_sem);
    /* A callback queued before the close may still come (close_self_cb),
     * but no other: without the close, 300 ms would see about six more. */
    if (WaitForSingleObject(c.t.rec.done_sem, 300) == WAIT_OBJECT_0)
        helper_wait_not(c.t.rec.done_sem, 300);
    assert_true(probe_hits(&c.t.rec.probe) >= 1 && probe_hits(&c.t.rec.probe) <= 2);
    ticker_destroy(&c.t);
}

static void timer_group_close_members_disarms(void **state)
{
    TP_CALLBACK_ENVIRON env = *helper_env(state);
    PTP_CLEANUP_GROUP group = CreateThreadpoolCleanupGroup();
    struct ticker t;
    FILETIME due = relative_ms(10);
    LONG fires;

    assert_non_null(group);
    SetThreadpoolCallbackCleanupGroup(&env, group, NULL);
    ticker_init(&t);
    ticker_create(&t, &env);
    SetThreadpoolTimer(t.timer, &due, 10, 0);
    helper_wait(t.rec.done_sem);
    CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    fires = fires_now(&t);
    /* Time is under test: a disarmed 10 ms period would fire within 150 ms.
     * The semaphore may hold releases from before the close: count instead. */
    Sleep(150);
    assert_int_equal(fires_now(&t), fires);
    CloseThreadpoolCleanupGroup(group);
    probe_assert_clean(&t.rec.probe);
    ticker_destroy(&t);
}

/* A timer's callback instance takes completion actions like any other. */
static void CALLBACK set_event_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct ticker *t = ctx;

    (void)timer;
    SetEventWhenCallbackReturns(inst, t->rec.started_event);
    probe_hit(&t->rec.probe);
}

static void timer_callback_instance_sets_event_when_returns(void **state)
{
    struct ticker t;
    FILETIME due = relative_ms(10);

    ticker_init(&t);
    t.rec.started_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    t.timer = CreateThreadpoolTimer(set_event_cb, &t, helper_env(state));
    assert_non_null(t.timer);
    SetThreadpoolTimer(t.timer, &due, 0, 0);
    helper_wait(t.rec.started_event);
    assert_int_equal(probe_hits(&t.rec.probe), 1);
    CloseThreadpoolTimer(t.timer);
    ticker_destroy(&t);
}

/* ---- coalescing ---------------------------------------------------------------- */

/*
 * Two timers due at 200 and 220 ms, both allowed 300 ms late: neither may
 * fire early (Windows' promise).  kernel32_tp also promises to fire timers
 * whose windows overlap together: the first waits for the second's due
 * time.  (Both are set long before the first is due, even on a loaded
 * machine.)
 */
static void timer_window_overlap_fires_together(void **state)
{
    struct ticker a, b;
    FILETIME due_a = relative_ms(200), due_b = relative_ms(220);
    LONGLONG start, gap_us;

    ticker_init(&a);
    ticker_init(&b);
    ticker_create(&a, helper_env(state));
    ticker_create(&b, helper_env(state));
    start = now_us();
    SetThreadpoolTimer(a.timer, &due_a, 0, 300);
    SetThreadpoolTimer(b.timer, &due_b, 0, 300);
    helper_wait(a.rec.done_sem);
    helper_wait(b.rec.done_sem);
    assert_fired_in_time(start, a.fire_us[0], 200, CLOCK_SLACK_MS);
    assert_fired_in_time(start, b.fire_us[0], 220, CLOCK_SLACK_MS);
    if (helper_is_kernel32_tp()) {
        gap_us = a.fire_us[0] - b.fire_us[0];
        if (gap_us < 0)
            gap_us = -gap_us;
        assert_fired_in_time(start, a.fire_us[0], 220, CLOCK_SLACK_MS);
        assert_true(gap_us < 20 * 1000);
    }
    probe_assert_clean(&a.rec.probe);
    probe_assert_clean(&b.rec.probe);
    CloseThreadpoolTimer(a.timer);
    CloseThreadpoolTimer(b.timer);
    ticker_destroy(&a);
    ticker_destroy(&b);
}

/*
 * A fleet of timers sharing one callback: each records its fires, checks
 * that it is not early (and that it was due at all), and the one that makes
 * expected sets done_event.
 */
#define FLEET_MAX 200

struct fleet;

struct fleet_slot {
    struct fleet *f;
    LONG index;
};

struct fleet {
    struct probe probe;
    LONGLONG start_us;
    HANDLE done_event;
    volatile LONG fired;
    LONG expected;
    LONG due_ms[FLEET_MAX];      /* -1: must not fire */
    volatile LONG fires[FLEET_MAX];
    struct fleet_slot slots[FLEET_MAX];
    PTP_TIMER timers[FLEET_MAX];
};

static void CALLBACK fleet_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct fleet_slot *slot = ctx;
    struct fleet *f = slot->f;
    LONGLONG elapsed_us = now_us() - f->start_us;

    (void)inst;
    (void)timer;
    PROBE_CHECK(&f->probe, f->due_ms[slot->index] >= 0);
    PROBE_CHECK(&f->probe, elapsed_us >= (f->due_ms[slot->index] - CLOCK_SLACK_MS) * 1000);
    InterlockedIncrement(&f->fires[slot->index]);
    if (InterlockedIncrement(&f->fired) == f->expected)
        SetEvent(f->done_event);
}

/* n timers, none set yet, none due. */
static void fleet_init(struct fleet *f, LONG n, void **state)
{
    LONG i;

    memset(f, 0, sizeof(*f));         /* PROBE_INIT is all zeros */
    f->done_event = event_new(TRUE, FALSE);
    for (i = 0; i < n; i++) {
        f->slots[i].f = f;
        f->slots[i].index = i;
        f->due_ms[i] = -1;
        f->timers[i] = CreateThreadpoolTimer(fleet_cb, &f->slots[i], helper_env(state));
        assert_non_null(f->timers[i]);
    }
}

/* Closes the n timers: each due one fired once, the others never. */
static void fleet_finish(struct fleet *f, LONG n)
{
    LONG i;

    for (i = 0; i < n; i++) {
        WaitForThreadpoolTimerCallbacks(f->timers[i], FALSE);
        CloseThreadpoolTimer(f->timers[i]);
        assert_int_equal(f->fires[i], f->due_ms[i] >= 0 ? 1 : 0);
    }
    probe_assert_clean(&f->probe);
    CloseHandle(f->done_event);
}

/* Many timers at scattered due times with scattered windows: each fires
 * once, none early. */
#define MANY_TIMERS 200

static void timer_many_scattered_each_fires_once_never_early(void **state)
{
    static struct fleet m;
    FILETIME due;
    unsigned int seed = 12345;
    LONG i;

    fleet_init(&m, MANY_TIMERS, state);
    m.expected = MANY_TIMERS;
    m.start_us = now_us();
    for (i = 0; i < MANY_TIMERS; i++) {
        seed = seed * 1103515245u + 12345u;
        m.due_ms[i] = (LONG)((seed >> 8) % 300);
        due = relative_ms(m.due_ms[i]);
        SetThreadpoolTimer(m.timers[i], &due, 0,
                           (seed >> 20) % 3 ? 0 : (DWORD)(seed >> 24) % 50);
    }
    helper_wait(m.done_event);
    fleet_finish(&m, MANY_TIMERS);
}

/*
 * Timers armed, re-armed and disarmed in a random order (the heaps move
 * entries around), then armed a last time or disarmed: each fires once,
 * never before its last due time, or never when its last set was NULL.
 */
#define STORM_TIMERS 64
#define STORM_ROUNDS 6

static void timer_rearm_storm_honours_last_set(void **state)
{
    static struct fleet s;
    static DWORD windows[STORM_TIMERS];
    PTP_TIMER *timers = s.timers;
    unsigned int seed = 4242;
    FILETIME due;
    LONG i, round;

    fleet_init(&s, STORM_TIMERS, state);
    /* Far due times only: nothing fires during the storm. */
    for (round = 0; round < STORM_ROUNDS; round++) {
        for (i = 0; i < STORM_TIMERS; i++) {
            seed = seed * 1103515245u + 12345u;
            due = relative_ms(20000 + (LONG)((seed >> 8) % 20000));
            if ((seed >> 4) % 4 == 0)
                SetThreadpoolTimer(timers[i], NULL, 0, 0);
            else
                /* A third without a window: timers move between having
                 * one and not. */
                SetThreadpoolTimer(timers[i], &due, (seed >> 6) % 2 ? 1000 : 0,
                                   (seed >> 10) % 3 ? (DWORD)((seed >> 12) % 5000) : 0);
        }
    }
    /* The last sets are decided before any is made: a callback may run as
     * soon as its timer is set and must find expected complete. */
    for (i = 0; i < STORM_TIMERS; i++) {
        seed = seed * 1103515245u + 12345u;
        windows[i] = (seed >> 10) % 2 ? (DWORD)((seed >> 12) % 30) : 0;
        if ((seed >> 4) % 4 == 0)
            continue;
        s.due_ms[i] = (LONG)((seed >> 8) % 200);
        s.expected++;
    }
    s.start_us = now_us();
    for (i = 0; i < STORM_TIMERS; i++) {
        if (s.due_ms[i] < 0) {
            SetThreadpoolTimer(timers[i], NULL, 0, 0);
            continue;
        }
        due = relative_ms(s.due_ms[i]);
        SetThreadpoolTimer(timers[i], &due, 0, windows[i]);
    }
    assert_true(s.expected > 0);
    helper_wait(s.done_event);
    Sleep(200);     /* time for a wrong extra callback to show */
    fleet_finish(&s, STORM_TIMERS);
}

/*
 * SetThreadpoolTimer(NULL) then WaitForThreadpoolTimerCallbacks: no callback
 * runs after the wait returned, even when the timer expired just before the
 * cancel and its callback was still on its way to the pool.  Many timers
 * share one due time, so that the expiries come in one batch and the last
 * of them takes a while to be queued.  A callback of a sealed round counts
 * as late.  Regression: the soak (tests/soak/soak.c) found callbacks after
 * the wait; fixed by "timer service: a set waits for the expiry taken".
 */
#define SEAL_TIMERS 48
#define SEAL_ROUNDS 40

struct seal {
    volatile LONG sealed;
    volatile LONG late;
};

static void CALLBACK seal_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct seal *s = ctx;

    (void)inst;
    (void)timer;
    if (InterlockedCompareExchange(&s->sealed, 1, 1))
        InterlockedIncrement(&s->late);
}

static void timer_regress_cancel_then_wait_leaves_no_callback(void **state)
{
    static struct seal s;
    PTP_TIMER timers[SEAL_TIMERS];
    FILETIME due;
    DWORD start;
    LONG i, round;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < SEAL_TIMERS; i++) {
        timers[i] = CreateThreadpoolTimer(seal_cb, &s, helper_env(state));
        assert_non_null(timers[i]);
    }
    for (round = 0; round < SEAL_ROUNDS; round++) {
        InterlockedExchange(&s.sealed, 0);
        due = relative_ms(2);
        for (i = 0; i < SEAL_TIMERS; i++)
            SetThreadpoolTimer(timers[i], &due, 0, 0);
        /* Cancel around the due time: some expired, some not. */
        start = GetTickCount();
        while (GetTickCount() - start < 2 + (DWORD)(round % 3))
            ;
        for (i = SEAL_TIMERS - 1; i >= 0; i--)
            SetThreadpoolTimer(timers[i], NULL, 0, 0);
        for (i = 0; i < SEAL_TIMERS; i++)
            WaitForThreadpoolTimerCallbacks(timers[i], round % 2);
        InterlockedExchange(&s.sealed, 1);
        Sleep(5);   /* time for a late callback to show */
    }
    for (i = 0; i < SEAL_TIMERS; i++)
        CloseThreadpoolTimer(timers[i]);
    assert_int_equal(s.late, 0);
}

/* ---- the ntdll names --------------------------------------------------------- */

static void timer_ntdll_names_roundtrip(void **state)
{
    tp_alloc_timer_fn alloc = LOOKUP(tp_alloc_timer_fn, NTDLL_NAME, TpAllocTimer);
    tp_set_timer_fn set = LOOKUP(tp_set_timer_fn, NTDLL_NAME, TpSetTimer);
    tp_set_timer_ex_fn set_ex = LOOKUP(tp_set_timer_ex_fn, NTDLL_NAME, TpSetTimerEx);
    tp_is_timer_set_fn is_set = LOOKUP(tp_is_timer_set_fn, NTDLL_NAME, TpIsTimerSet);
    tp_wait_for_timer_fn wait = LOOKUP(tp_wait_for_timer_fn, NTDLL_NAME, TpWaitForTimer);
    tp_release_timer_fn release = LOOKUP(tp_release_timer_fn, NTDLL_NAME, TpReleaseTimer);
    LARGE_INTEGER due;
    struct ticker t;
    TP_TIMER *timer = NULL;

    SKIP_UNLESS_NTDLL_MATCHES();
    assert_non_null(alloc);
    assert_non_null(set);
    assert_non_null(is_set);
    assert_non_null(wait);
    assert_non_null(release);
    ticker_init(&t);
    assert_int_equal(alloc(&timer, ticker_cb, &t, helper_env(state)), 0);
    assert_non_null(timer);
    t.timer = timer;
    assert_false(is_set(timer));
    due.QuadPart = -20 * 10000;
    set(timer, &due, 0, 0);
    assert_true(is_set(timer));
    helper_wait(t.rec.done_sem);
    wait(timer, FALSE);
    TODO_ON(MODE_WINE_REF | MODE_WINE_INJECT, "TpSetTimerEx is missing (Wine 8)")
        CHECK(set_ex != NULL);
    if (set_ex) {
        due.QuadPart = -10000 * 10000;
        assert_false(set_ex(timer, &due, 0, 0));
        assert_true(set_ex(timer, NULL, 0, 0));
    }
    set(timer, NULL, 0, 0);
    assert_false(is_set(timer));
    wait(timer, TRUE);
    release(timer);
    probe_assert_clean(&t.rec.probe);
    ticker_destroy(&t);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(timer_relative_due_never_early),
        POOL_TEST(timer_zero_due_fires_at_once),
        POOL_TEST(timer_absolute_due_never_early),
        POOL_TEST(timer_absolute_past_fires_at_once),
        POOL_TEST(timer_set_again_replaces_due),
        POOL_TEST(timer_set_null_cancels),
        POOL_TEST(timer_periodic_keeps_period),
        POOL_TEST(timer_zero_due_periodic_fires_now_then_periodically),
        POOL_TEST(timer_isset_until_set_null),
        POOL_TEST(timer_setex_reports_cancelled_expiry),
        POOL_TEST(timer_wait_armed_returns_at_once),
        POOL_TEST(timer_wait_cancel_drops_queued_callback),
        POOL_TEST(timer_wait_waits_for_running_callback),
        POOL_TEST(timer_close_armed_never_fires),
        POOL_TEST(timer_close_with_queued_callback_runs_it),
        POOL_TEST(timer_close_in_own_callback_stops_it),
        POOL_TEST(timer_group_close_members_disarms),
        POOL_TEST(timer_callback_instance_sets_event_when_returns),
        POOL_TEST(timer_window_overlap_fires_together),
        POOL_TEST(timer_many_scattered_each_fires_once_never_early),
        POOL_TEST(timer_rearm_storm_honours_last_set),
        POOL_TEST(timer_regress_cancel_then_wait_leaves_no_callback),
        POOL_TEST(timer_ntdll_names_roundtrip),
    };

    return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}

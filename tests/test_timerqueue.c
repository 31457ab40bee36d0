/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy timer queues: CreateTimerQueue, CreateTimerQueueTimer (the
 * default queue, the WT_ flags), ChangeTimerQueueTimer,
 * DeleteTimerQueueTimer and DeleteTimerQueue(Ex) with their completion-event
 * rules, CancelTimerQueueTimer and SetTimerQueueTimer.
 *
 * Expectations are Windows' since Vista.  Wine's pool (the reference) keeps
 * some Windows 2000/XP answers and lacks SetTimerQueueTimer; those checks are
 * marked TODO_REF.  Callbacks only record; the test thread asserts.  Every
 * test ends with no thread-pool object left (helper_teardown_pool).
 */
#include <string.h>

#include "helper.h"

/* ---- callback state -------------------------------------------------------------- */

#define MAX_FIRES 64

struct qtick {
    struct probe probe;
    HANDLE queue;                /* for callbacks that act on their own timer */
    HANDLE timer;
    HANDLE seen_timer;           /* timer as the first callback found it on entry */
    HANDLE fired_sem;            /* released once per callback, at its end */
    HANDLE started_event;        /* set by every callback on entry */
    struct gate *gate;           /* if set, every callback passes it */
    DWORD sleep_ms;              /* if set, every callback sleeps this long */
    volatile LONG fires;
    volatile LONG inside;        /* callbacks running right now */
    volatile LONG finished;      /* callbacks that reached their end */
    LONGLONG fire_us[MAX_FIRES];
    /* What a callback that acts on its own timer got back. */
    enum { ACT_NONE, ACT_DELETE, ACT_DELETE_BLOCKING, ACT_CHANGE_STOP } act;
    HANDLE act_event;
    LONG act_after;              /* act in the callback of this number (1: the first) */
    volatile LONG act_ret;
    volatile LONG act_error;
};

static void qtick_init(struct qtick *q)
{
    memset(q, 0, sizeof(*q));         /* PROBE_INIT is all zeros */
    q->fired_sem = semaphore_new();
    q->started_event = event_new(FALSE, FALSE);
    q->act_after = 1;
    q->act_ret = -1;
}

static void qtick_destroy(struct qtick *q)
{
    CloseHandle(q->fired_sem);
    CloseHandle(q->started_event);
}

static void CALLBACK qtick_cb(PVOID ctx, BOOLEAN fired)
{
    struct qtick *q = ctx;
    LONGLONG at = now_us();
    LONG n = InterlockedIncrement(&q->fires);

    InterlockedIncrement(&q->inside);
    if (n == 1)
        q->seen_timer = *(HANDLE volatile *)&q->timer;
    PROBE_CHECK(&q->probe, fired);
    if (n <= MAX_FIRES)
        q->fire_us[n - 1] = at;
    SetEvent(q->started_event);
    if (q->gate)
        PROBE_CHECK(&q->probe, gate_pass(q->gate));
    if (q->sleep_ms)
        Sleep(q->sleep_ms);
    if (n == q->act_after && q->act != ACT_NONE) {
        SetLastError(0xdeadbeef);
        switch (q->act) {
        case ACT_DELETE:
            q->act_ret = DeleteTimerQueueTimer(q->queue, q->timer, q->act_event);
            break;
        case ACT_DELETE_BLOCKING:
            q->act_ret = DeleteTimerQueueTimer(q->queue, q->timer, INVALID_HANDLE_VALUE);
            break;
        case ACT_CHANGE_STOP:
            q->act_ret = ChangeTimerQueueTimer(q->queue, q->timer, 10000, 0);
            break;
        default:
            break;
        }
        q->act_error = (LONG)GetLastError();
    }
    probe_hit(&q->probe);
    InterlockedDecrement(&q->inside);
    InterlockedIncrement(&q->finished);
    ReleaseSemaphore(q->fired_sem, 1, NULL);
}

static LONG fires_now(struct qtick *q)
{
    return InterlockedCompareExchange(&q->fires, 0, 0);
}

static void assert_not_early(LONGLONG start_us, LONGLONG at_us, LONGLONG due_ms)
{
    LONGLONG elapsed_us = at_us - start_us;

    if (elapsed_us < (due_ms - CLOCK_SLACK_MS) * 1000)
        fail_msg("fired early: after %lld us, due after %lld ms", (long long)elapsed_us,
                 (long long)due_ms);
    if (elapsed_us > (due_ms + LATE_BOUND_MS) * 1000)
        fail_msg("fired too late: after %lld us, due after %lld ms", (long long)elapsed_us,
                 (long long)due_ms);
}

/* ---- creation and the flags ------------------------------------------------------ */

static void timerqueue_default_queue_fires_once_with_context(void **state)
{
    struct qtick q;
    HANDLE timer = NULL;
    LONGLONG start;

    (void)state;
    qtick_init(&q);
    start = now_us();
    assert_true(CreateTimerQueueTimer(&timer, NULL, qtick_cb, &q, 50, 0, 0));
    assert_non_null(timer);
    helper_wait(q.fired_sem);
    assert_not_early(start, q.fire_us[0], 50);
    helper_wait_not(q.fired_sem, 150);
    assert_int_equal(fires_now(&q), 1);
    assert_true(DeleteTimerQueueTimer(NULL, timer, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

static void timerqueue_once_only_flag_fires_once(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer = NULL;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 10, 0, WT_EXECUTEONLYONCE));
    helper_wait(q.fired_sem);
    helper_wait_not(q.fired_sem, 150);
    assert_int_equal(fires_now(&q), 1);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

/* Every WT_ flag that chooses where or how callbacks run still runs them. */
static void timerqueue_execution_flags_all_fire(void **state)
{
    static const ULONG flags[] = {
        WT_EXECUTEDEFAULT, WT_EXECUTEINTIMERTHREAD, WT_EXECUTELONGFUNCTION,
        WT_EXECUTEINPERSISTENTTHREAD, WT_EXECUTEINIOTHREAD,
    };
    struct qtick q[sizeof(flags) / sizeof(flags[0])];
    HANDLE queue = CreateTimerQueue(), timer[sizeof(flags) / sizeof(flags[0])];
    size_t i;

    (void)state;
    assert_non_null(queue);
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        qtick_init(&q[i]);
        assert_true(CreateTimerQueueTimer(&timer[i], queue, qtick_cb, &q[i], 10, 0, flags[i]));
    }
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        helper_wait(q[i].fired_sem);
        probe_assert_clean(&q[i].probe);
    }
    /* Each timer is deleted on its own, waiting for its callback, before the
     * queue goes.  Deleting the queue at once would be as valid, but Wine 8's
     * DeleteTimerQueueEx (the reference) never returns when two of its timers
     * are still between their callback's end and the pool's bookkeeping after
     * it: its walk of the queue's timers keeps moving both to the end of the
     * list, holding the queue's lock (seen once in about 30 runs). */
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        assert_true(DeleteTimerQueueTimer(queue, timer[i], INVALID_HANDLE_VALUE));
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        assert_int_equal(fires_now(&q[i]), 1);
        qtick_destroy(&q[i]);
    }
}

#define PERIOD_MS 25

static void timerqueue_periodic_keeps_period(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;
    LONGLONG start;
    LONG i, fires;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    start = now_us();
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, PERIOD_MS, PERIOD_MS, 0));
    for (i = 0; i < 5; i++)
        helper_wait(q.fired_sem);
    assert_true(DeleteTimerQueueTimer(queue, timer, INVALID_HANDLE_VALUE));
    fires = fires_now(&q);
    for (i = 0; i < 5; i++)
        assert_not_early(start, q.fire_us[i], (LONGLONG)(i + 1) * PERIOD_MS);
    /* Deleted and waited for: nothing runs any more. */
    assert_int_equal(InterlockedCompareExchange(&q.inside, 0, 0), 0);
    Sleep(3 * PERIOD_MS);
    assert_int_equal(fires_now(&q), fires);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

/* ---- ChangeTimerQueueTimer --------------------------------------------------------- */

static void timerqueue_change_moves_due_time(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;
    LONGLONG start;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 100000, 100000, 0));
    start = now_us();
    assert_true(ChangeTimerQueueTimer(queue, timer, 30, 0));
    helper_wait(q.fired_sem);
    assert_not_early(start, q.fire_us[0], 30);
    helper_wait_not(q.fired_sem, 150);
    assert_int_equal(fires_now(&q), 1);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

/* A one-shot timer that fired is not re-armed by a change; the call succeeds. */
static void timerqueue_change_fired_oneshot_is_ignored(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 0, 0, 0));
    helper_wait(q.fired_sem);
    assert_true(ChangeTimerQueueTimer(queue, timer, 10, 10));
    helper_wait_not(q.fired_sem, 200);
    assert_int_equal(fires_now(&q), 1);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

/* A periodic timer that changes itself into a far one-shot stops firing. */
static void timerqueue_change_in_callback_stops_periodic(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue();
    LONG fires;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    q.queue = queue;
    q.act = ACT_CHANGE_STOP;
    q.act_after = 3;
    /* The callback reads q.timer: it must be set before the first one runs. */
    assert_true(CreateTimerQueueTimer(&q.timer, queue, qtick_cb, &q, 100000, 15, 0));
    assert_true(ChangeTimerQueueTimer(queue, q.timer, 15, 15));
    while (fires_now(&q) < 3)
        helper_wait(q.fired_sem);
    assert_int_equal(q.act_ret, TRUE);
    fires = fires_now(&q);
    Sleep(200);
    /* At most one callback was already queued when the change came. */
    assert_true(fires_now(&q) <= fires + 1);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

/* The queue handle does not have to be the timer's (Windows accepts that). */
static void timerqueue_mixed_queue_handles_work(void **state)
{
    struct qtick a, b;
    HANDLE queue = CreateTimerQueue(), ta, tb;

    (void)state;
    assert_non_null(queue);
    qtick_init(&a);
    qtick_init(&b);
    assert_true(CreateTimerQueueTimer(&ta, queue, qtick_cb, &a, 100000, 100000, 0));
    assert_true(CreateTimerQueueTimer(&tb, NULL, qtick_cb, &b, 100000, 100000, 0));
    assert_true(ChangeTimerQueueTimer(NULL, ta, 200000, 200000));
    assert_true(ChangeTimerQueueTimer(queue, tb, 200000, 200000));
    assert_true(DeleteTimerQueueTimer(NULL, ta, INVALID_HANDLE_VALUE));
    assert_true(DeleteTimerQueueTimer(queue, tb, INVALID_HANDLE_VALUE));
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    assert_int_equal(fires_now(&a) + fires_now(&b), 0);
    qtick_destroy(&a);
    qtick_destroy(&b);
}

/* ---- DeleteTimerQueueTimer ---------------------------------------------------------- */

static void timerqueue_delete_armed_timer_never_fires(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 50, 10, 0));
    assert_true(DeleteTimerQueueTimer(queue, timer, INVALID_HANDLE_VALUE));
    helper_wait_not(q.fired_sem, 200);
    assert_int_equal(fires_now(&q), 0);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    qtick_destroy(&q);
}

/* No event, nothing outstanding: success (Windows since Vista). */
static void timerqueue_delete_idle_timer_no_event_succeeds(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;
    BOOL ret;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 100000, 0, 0));
    SetLastError(0xdeadbeef);
    ret = DeleteTimerQueueTimer(queue, timer, NULL);
    TODO_REF("Wine answers ERROR_IO_PENDING with no event, as Windows XP did")
        CHECK(ret);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    assert_int_equal(fires_now(&q), 0);
    qtick_destroy(&q);
}

/* No event, a callback running: FALSE with ERROR_IO_PENDING; it still ends. */
static void timerqueue_delete_running_no_event_reports_pending(void **state)
{
    struct qtick q;
    struct gate gate;
    HANDLE queue = CreateTimerQueue(), timer;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    gate_init(&gate);
    q.gate = &gate;
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 0, 0, 0));
    helper_wait(q.started_event);
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueTimer(queue, timer, NULL));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    gate_open(&gate, 1);
    helper_wait(q.fired_sem);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    assert_int_equal(fires_now(&q), 1);
    probe_assert_clean(&q.probe);
    gate_destroy(&gate);
    qtick_destroy(&q);
}

/* An event, nothing outstanding: TRUE, the last error untouched, the event set. */
static void timerqueue_delete_done_timer_event_set_at_once(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer, event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    assert_non_null(queue);
    assert_non_null(event);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 100000, 0, 0));
    SetLastError(0xdeadbeef);
    assert_true(DeleteTimerQueueTimer(queue, timer, event));
    assert_int_equal(GetLastError(), 0xdeadbeef);
    helper_wait(event);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    assert_int_equal(fires_now(&q), 0);
    CloseHandle(event);
    qtick_destroy(&q);
}

/* An event, a callback running: ERROR_IO_PENDING, the event set when it returns. */
static void timerqueue_delete_running_event_set_when_done(void **state)
{
    struct qtick q;
    struct gate gate;
    HANDLE queue = CreateTimerQueue(), timer, event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    assert_non_null(queue);
    assert_non_null(event);
    qtick_init(&q);
    gate_init(&gate);
    q.gate = &gate;
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 0, 0, 0));
    helper_wait(q.started_event);
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueTimer(queue, timer, event));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    helper_wait_not(event, 50);
    gate_open(&gate, 1);
    helper_wait(event);
    /* The event comes after the callback's very last step. */
    assert_int_equal(InterlockedCompareExchange(&q.finished, 0, 0), 1);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    gate_destroy(&gate);
    CloseHandle(event);
    qtick_destroy(&q);
}

/* From inside its own callback, with an event: ERROR_IO_PENDING (the callback
 * itself is outstanding), no deadlock, and the event set once it returned. */
static void timerqueue_delete_in_own_callback_event_completes(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    assert_non_null(queue);
    assert_non_null(event);
    qtick_init(&q);
    q.queue = queue;
    q.act = ACT_DELETE;
    q.act_event = event;
    assert_true(CreateTimerQueueTimer(&q.timer, queue, qtick_cb, &q, 100000, 10, 0));
    assert_true(ChangeTimerQueueTimer(queue, q.timer, 10, 10));
    helper_wait(event);
    assert_int_equal(q.act_ret, FALSE);
    assert_int_equal(q.act_error, ERROR_IO_PENDING);
    assert_int_equal(InterlockedCompareExchange(&q.finished, 0, 0), fires_now(&q));
    /* Deleted: at most a callback queued before the deletion still came. */
    Sleep(100);
    assert_true(fires_now(&q) <= 2);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    CloseHandle(event);
    qtick_destroy(&q);
}

/*
 * A blocking deletion from the timer's own callback: Windows documents it as
 * not allowed (it can deadlock; Wine's does).  kernel32_tp does not wait
 * for the callback that makes the call and reports ERROR_IO_PENDING.
 */
static void timerqueue_delete_blocking_in_own_callback_returns_pending(void **state)
{
    struct qtick q;
    HANDLE queue;

    (void)state;
    NOT_RUN_ON(MODES_REF, "Wine deadlocks here; Windows documents the call as not allowed") {
        queue = CreateTimerQueue();
        assert_non_null(queue);
        qtick_init(&q);
        q.queue = queue;
        q.act = ACT_DELETE_BLOCKING;
        assert_true(CreateTimerQueueTimer(&q.timer, queue, qtick_cb, &q, 100000, 10, 0));
        assert_true(ChangeTimerQueueTimer(queue, q.timer, 10, 10));
        helper_wait(q.fired_sem);
        assert_int_equal(q.act_ret, FALSE);
        assert_int_equal(q.act_error, ERROR_IO_PENDING);
        Sleep(100);
        assert_true(fires_now(&q) <= 2);
        assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
        probe_assert_clean(&q.probe);
        qtick_destroy(&q);
    }
}

/* INVALID_HANDLE_VALUE waits for the running callback to return. */
static void timerqueue_delete_blocking_waits_for_running_callback(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    q.sleep_ms = 100;
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 0, 0, 0));
    helper_wait(q.started_event);
    assert_true(DeleteTimerQueueTimer(queue, timer, INVALID_HANDLE_VALUE));
    assert_int_equal(InterlockedCompareExchange(&q.finished, 0, 0), 1);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    probe_assert_clean(&q.probe);
    qtick_destroy(&q);
}

static void timerqueue_delete_bad_arguments_fail(void **state)
{
    (void)state;
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueTimer(NULL, NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueEx(NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    NOT_RUN_ON(MODES_REF, "Wine crashes on a NULL timer or NULL output pointer") {
        SetLastError(0xdeadbeef);
        assert_false(ChangeTimerQueueTimer(NULL, NULL, 10, 10));
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
        SetLastError(0xdeadbeef);
        assert_false(CreateTimerQueueTimer(NULL, NULL, qtick_cb, NULL, 10, 0, 0));
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    }
}

/* ---- queues ------------------------------------------------------------------- */

static void timerqueue_delete_empty_queue_succeeds(void **state)
{
    HANDLE queue = CreateTimerQueue();
    BOOL ret;

    (void)state;
    assert_non_null(queue);
    SetLastError(0xdeadbeef);
    ret = DeleteTimerQueueEx(queue, NULL);
    TODO_REF("Wine answers ERROR_IO_PENDING, as Windows XP did")
        CHECK(ret);
    queue = CreateTimerQueue();
    assert_non_null(queue);
    ret = DeleteTimerQueue(queue);
    TODO_REF("Wine answers ERROR_IO_PENDING, as Windows XP did")
        CHECK(ret);
}

/* INVALID_HANDLE_VALUE: every timer deleted, every callback over, on return. */
static void timerqueue_delete_queue_blocking_waits_for_all(void **state)
{
    struct qtick q[3];
    HANDLE queue, timer;
    LONG fires[3];
    int i;

    (void)state;
    /* Wine 8's DeleteTimerQueueEx never returns when two timers' callbacks
     * are in flight, as q[0]'s and q[1]'s can be here (see
     * timerqueue_execution_flags_all_fire). */
    NOT_RUN_ON(MODES_REF, "Wine's blocking DeleteTimerQueueEx can hang with active timers") {
        queue = CreateTimerQueue();
        assert_non_null(queue);
        for (i = 0; i < 3; i++)
            qtick_init(&q[i]);
        q[0].sleep_ms = 100;                 /* running when the queue goes */
        assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q[0], 0, 0, 0));
        assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q[1], 5, 5, 0));
        assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q[2], 100000, 0, 0));
        helper_wait(q[0].started_event);
        helper_wait(q[1].fired_sem);
        assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
        for (i = 0; i < 3; i++) {
            assert_int_equal(InterlockedCompareExchange(&q[i].inside, 0, 0), 0);
            fires[i] = fires_now(&q[i]);
        }
        assert_int_equal(fires[0], 1);
        assert_int_equal(fires[2], 0);
        Sleep(50);
        for (i = 0; i < 3; i++) {
            assert_int_equal(fires_now(&q[i]), fires[i]);
            probe_assert_clean(&q[i].probe);
            qtick_destroy(&q[i]);
        }
    }
}

/* An event: the call returns at once and the event comes once all is over. */
static void timerqueue_delete_queue_event_set_when_done(void **state)
{
    struct qtick q;
    struct gate gate;
    HANDLE queue = CreateTimerQueue(), timer, event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    assert_non_null(queue);
    assert_non_null(event);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 100000, 0, 0));
    /* Nothing running: the event may come at once. */
    DeleteTimerQueueEx(queue, event);
    helper_wait(event);
    assert_int_equal(fires_now(&q), 0);

    /* On Wine the deletion would wait for the callback, which waits for the
     * gate the test opens after it: both stop until the gate times out. */
    NOT_RUN_ON(MODES_REF, "Wine waits for running callbacks even when given an event (a FIXME)") {
        ResetEvent(event);
        queue = CreateTimerQueue();
        assert_non_null(queue);
        gate_init(&gate);
        q.gate = &gate;
        assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 0, 0, 0));
        helper_wait(q.started_event);
        assert_true(DeleteTimerQueueEx(queue, event));
        helper_wait_not(event, 50);
        gate_open(&gate, 1);
        helper_wait(event);
        assert_int_equal(InterlockedCompareExchange(&q.finished, 0, 0), 1);
        gate_destroy(&gate);
    }
    probe_assert_clean(&q.probe);
    CloseHandle(event);
    qtick_destroy(&q);
}

/* ---- the Windows 2000 names ----------------------------------------------------- */

static void timerqueue_cancel_timer_queue_timer_deletes(void **state)
{
    struct qtick q;
    HANDLE queue = CreateTimerQueue(), timer;
    BOOL ret;

    (void)state;
    assert_non_null(queue);
    qtick_init(&q);
    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 50, 10, 0));
    ret = CancelTimerQueueTimer(queue, timer);
    TODO_REF("Wine answers ERROR_IO_PENDING with no event, as Windows XP did")
        CHECK(ret);
    helper_wait_not(q.fired_sem, 200);
    assert_int_equal(fires_now(&q), 0);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    qtick_destroy(&q);
}

static void timerqueue_set_timer_queue_timer_returns_timer(void **state)
{
    struct qtick q;
    HANDLE queue, timer;

    (void)state;
    /* Wine 8's stub raises an unhandled exception: the process would end. */
    NOT_RUN_ON(MODES_REF, "SetTimerQueueTimer is a stub in Wine 8") {
        queue = CreateTimerQueue();
        assert_non_null(queue);
        qtick_init(&q);
        timer = SetTimerQueueTimer(queue, qtick_cb, &q, 10, 0, TRUE);
        assert_non_null(timer);
        helper_wait(q.fired_sem);
        assert_true(DeleteTimerQueueTimer(queue, timer, INVALID_HANDLE_VALUE));
        timer = SetTimerQueueTimer(NULL, qtick_cb, &q, 10, 0, FALSE);
        assert_non_null(timer);
        helper_wait(q.fired_sem);
        assert_true(DeleteTimerQueueTimer(NULL, timer, INVALID_HANDLE_VALUE));
        assert_int_equal(fires_now(&q), 2);
        assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
        probe_assert_clean(&q.probe);
        qtick_destroy(&q);
    }
}

/* ---- handles ---------------------------------------------------------------------- */

/*
 * A timer due at once: its handle is in the creator's variable before the
 * callback runs, and the callback can delete the timer with it.  Wine
 * stores the handle after arming the timer, so a timer due at once may fire
 * first there: the reference does not run this.
 */
static void timerqueue_handle_stored_before_callback(void **state)
{
    HANDLE queue, event;
    struct qtick q;
    int i;

    (void)state;
    if (helper_not_run(MODES_REF, "Wine stores the timer handle after arming the timer",
                       __FILE__, __LINE__))
        return;
    queue = CreateTimerQueue();
    assert_non_null(queue);
    for (i = 0; i < 20; i++) {
        event = event_new(TRUE, FALSE);
        qtick_init(&q);
        q.queue = queue;
        q.timer = INVALID_HANDLE_VALUE;
        q.act = ACT_DELETE;
        q.act_event = event;
        assert_true(CreateTimerQueueTimer(&q.timer, queue, qtick_cb, &q, 0, 0, 0));
        helper_wait(event);
        assert_ptr_equal(q.seen_timer, q.timer);
        assert_int_equal(q.act_ret, FALSE);
        assert_int_equal(q.act_error, ERROR_IO_PENDING);
        probe_assert_clean(&q.probe);
        qtick_destroy(&q);
        CloseHandle(event);
    }
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
}

/*
 * Values that are no timer or queue: garbage, an address that is not one,
 * one already deleted.  kernel32_tp looks every handle up before using it;
 * Windows and Wine read through it, so the reference does not run this.
 */
static void timerqueue_garbage_handles_invalid_handle(void **state)
{
    HANDLE queue, timer = NULL, garbage = (HANDLE)(ULONG_PTR)0xdeadbee0;
    struct qtick q;

    (void)state;
    /* Under the launcher a handle our pool did not make goes to Wine's. */
    if (helper_not_run(MODE_WINE_REF | MODE_WINE_INJECT,
                       "Wine reads through whatever handle it is given", __FILE__, __LINE__))
        return;
    qtick_init(&q);
    queue = CreateTimerQueue();
    assert_non_null(queue);
    SetLastError(0xdeadbeef);
    assert_false(CreateTimerQueueTimer(&timer, garbage, qtick_cb, &q, 0, 0, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(ChangeTimerQueueTimer(queue, garbage, 10, 10));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueTimer(queue, &q, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueEx(garbage, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);

    assert_true(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 100000, 0, 0));
    assert_true(DeleteTimerQueueTimer(queue, timer, INVALID_HANDLE_VALUE));
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueTimer(queue, timer, INVALID_HANDLE_VALUE));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    assert_true(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    SetLastError(0xdeadbeef);
    assert_false(DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(CreateTimerQueueTimer(&timer, queue, qtick_cb, &q, 0, 0, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    assert_int_equal(fires_now(&q), 0);
    qtick_destroy(&q);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(timerqueue_default_queue_fires_once_with_context),
        POOL_TEST(timerqueue_once_only_flag_fires_once),
        POOL_TEST(timerqueue_execution_flags_all_fire),
        POOL_TEST(timerqueue_periodic_keeps_period),
        POOL_TEST(timerqueue_change_moves_due_time),
        POOL_TEST(timerqueue_change_fired_oneshot_is_ignored),
        POOL_TEST(timerqueue_change_in_callback_stops_periodic),
        POOL_TEST(timerqueue_mixed_queue_handles_work),
        POOL_TEST(timerqueue_delete_armed_timer_never_fires),
        POOL_TEST(timerqueue_delete_idle_timer_no_event_succeeds),
        POOL_TEST(timerqueue_delete_running_no_event_reports_pending),
        POOL_TEST(timerqueue_delete_done_timer_event_set_at_once),
        POOL_TEST(timerqueue_delete_running_event_set_when_done),
        POOL_TEST(timerqueue_delete_in_own_callback_event_completes),
        POOL_TEST(timerqueue_delete_blocking_in_own_callback_returns_pending),
        POOL_TEST(timerqueue_delete_blocking_waits_for_running_callback),
        POOL_TEST(timerqueue_delete_bad_arguments_fail),
        POOL_TEST(timerqueue_delete_empty_queue_succeeds),
        POOL_TEST(timerqueue_delete_queue_blocking_waits_for_all),
        POOL_TEST(timerqueue_delete_queue_event_set_when_done),
        POOL_TEST(timerqueue_cancel_timer_queue_timer_deletes),
        POOL_TEST(timerqueue_set_timer_queue_timer_returns_timer),
        POOL_TEST(timerqueue_handle_stored_before_callback),
        POOL_TEST(timerqueue_garbage_handles_invalid_handle),
    };

    return cmocka_run_group_tests_name("timerqueue", tests, NULL, NULL);
}

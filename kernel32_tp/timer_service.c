/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The timer service: the one thread of the process that expires timers.
 * Armed timers sit in heaps on the monotonic clock: every one in the latest
 * heap, keyed by due time + window length (the latest moment the timer may
 * fire), and the ones with a window also in the due heap, keyed by due time.
 * A timer without a window (the common case) has the same key in both, so
 * it is kept in the latest heap only: one heap operation per set and per
 * expiry instead of two.  The thread sleeps on an os_cond until the
 * planned moment, then queues one callback of every timer that is due
 * (tp_object_submit) and re-arms periodic timers from their previous due
 * time, so that periods do not drift; a timer with an expiry hook (a wait's
 * timeout, wait.c) has the hook called instead.  It never runs user code.
 *
 * Coalescing: a timer may fire anywhere in [due, due + window], never
 * before its due time.  The plan is the latest due time among the timers
 * due no later than the earliest "latest moment" of all armed timers: at
 * that moment every one of them is due and none is late, so timers whose
 * windows overlap fire together.
 *
 * Setting a timer never allocates: the heaps keep room for every timer
 * that exists (tp_timer_service_attach, at creation).  The thread starts
 * with the first timer and retires when no timer has existed for a while.
 *
 * Takes Q (the service lock).  Callbacks are queued (P) with Q dropped, a
 * batch at a time, so that setting timers does not wait behind the pool.
 */
#define TP_TRACE_CHANNEL TP_TRACE_TIMER
#include <string.h>

#include "tp_private.h"

/* How many heap entries the plan looks at before settling for the latest
 * moment allowed (which is correct too, only less punctual). */
#define TP_TIMER_PLAN_VISITS 64

/* Expired timers queued per drop of Q. */
#define TP_TIMER_FIRE_BATCH 64

static struct {
    struct os_lock lock;            /* Q */
    struct os_cond cond;            /* (Q) the service thread sleeps here */
    struct os_cond batch_cond;      /* (Q) detaches of a timer in the batch wait here */
    struct tp_heap latest;          /* (Q) armed timers by due_ns + window_ns */
    struct tp_heap due;             /* (Q) armed timers with a window, by due_ns */
    size_t timers;                  /* (Q) attached timers: the heaps have room for all */
    ULONGLONG plan_ns;              /* (Q) when the thread fires next; may be early, never late */
    ULONGLONG sleep_ns;             /* (Q) the deadline the thread sleeps until; 0 when awake */
    BOOL running;                   /* (Q) the thread exists */
    BOOL batch_waiters;             /* (Q) someone waits on batch_cond */
} service;
static struct os_once service_once = OS_ONCE_INIT;

static void service_init(void)
{
    os_lock_init(&service.lock, OS_LOCK_RANK_Q);
    os_cond_init(&service.cond);
    os_cond_init(&service.batch_cond);
    tp_heap_init(&service.due);
    tp_heap_init(&service.latest);
    service.plan_ns = TP_NEVER;
}

static void service_setup(void)
{
    os_once(&service_once, service_init);
}

static struct tp_timer *timer_from_due_node(struct tp_heap_node *node)
{
    return (struct tp_timer *)((char *)node - offsetof(struct tp_timer, due_node));
}

static struct tp_timer *timer_from_latest_node(struct tp_heap_node *node)
{
    return (struct tp_timer *)((char *)node - offsetof(struct tp_timer, latest_node));
}

/* Locking: Q. */
static BOOL timer_armed_locked(const struct tp_timer *timer)
{
    TP_ASSERT_LOCKED(&service.lock);
    return tp_heap_node_queued(&timer->latest_node);
}

/* Locking: Q. */
static void timer_arm_locked(struct tp_timer *timer, ULONGLONG due_ns)
{
    TP_ASSERT_LOCKED(&service.lock);
    timer->due_ns = due_ns;
    tp_heap_insert(&service.latest, &timer->latest_node, tp_deadline_add(due_ns, timer->window_ns));
    if (timer->window_ns)
        tp_heap_insert(&service.due, &timer->due_node, due_ns);
}

/* Locking: Q. */
static void timer_disarm_locked(struct tp_timer *timer)
{
    TP_ASSERT_LOCKED(&service.lock);
    tp_heap_remove(&service.latest, &timer->latest_node);
    if (tp_heap_node_queued(&timer->due_node))
        tp_heap_remove(&service.due, &timer->due_node);
}

/* The armed timer due first, or NULL.  It is the top of one of the heaps:
 * a timer with a window is due no later than its key in the latest heap.
 * Locking: Q. */
static struct tp_timer *service_first_due_locked(void)
{
    const struct tp_heap_entry *latest = tp_heap_top(&service.latest);
    const struct tp_heap_entry *due = tp_heap_top(&service.due);

    TP_ASSERT_LOCKED(&service.lock);
    if (due && (!latest || due->key <= latest->key))
        return timer_from_due_node(due->node);
    return latest ? timer_from_latest_node(latest->node) : NULL;
}

/*
 * When to fire next: the latest due time not after "upper", the earliest
 * moment by which some armed timer must fire (the top of the latest heap).
 * When that timer has no window, it is due at upper itself: the answer.
 * Otherwise walks only the part of the due heap at or before upper, and at
 * most TP_TIMER_PLAN_VISITS entries of it; past that, upper itself is the
 * answer (every timer due by then fires then, none of them late).  Timers
 * without a window that are due exactly at upper are not in the due heap:
 * missing them only means they fire at the next wake-up, at their due time.
 * Locking: Q.
 */
static ULONGLONG service_plan_locked(void)
{
    size_t stack[TP_TIMER_PLAN_VISITS], depth = 0, visits = 0, i, child, end;
    const struct tp_heap_entry *entries = service.due.entries;
    const struct tp_heap_entry *top = tp_heap_top(&service.latest);
    ULONGLONG upper, plan;

    TP_ASSERT_LOCKED(&service.lock);
    if (!top)
        return TP_NEVER;
    upper = top->key;
    if (!timer_from_latest_node(top->node)->window_ns)
        return upper;
    /* The top has a window, so it is in the due heap, whose top is no later. */
    plan = entries[0].key;
    if (plan >= upper)
        return upper;
    stack[depth++] = 0;
    while (depth) {
        i = stack[--depth];
        if (++visits > TP_TIMER_PLAN_VISITS)
            return upper;
        if (entries[i].key > plan)
            plan = entries[i].key;
        child = tp_heap_first_child(i);
        end = child + TP_HEAP_ARITY < service.due.count ? child + TP_HEAP_ARITY : service.due.count;
        for (; child < end; child++) {
            if (entries[child].key > upper)
                continue;
            if (depth == TP_TIMER_PLAN_VISITS)
                return upper;
            stack[depth++] = child;
        }
    }
    return plan;
}

/*
 * A timer was just armed: moves the plan if it must, and wakes the thread
 * when the plan is now earlier than what it sleeps for.  A plan that moves
 * later needs no wake-up: the thread rechecks the plan when it wakes.
 * Locking: Q.
 */
static void service_armed_locked(struct tp_timer *timer)
{
    ULONGLONG upper = tp_heap_top(&service.latest)->key;

    TP_ASSERT_LOCKED(&service.lock);
    if (tp_deadline_add(timer->due_ns, timer->window_ns) <= upper)
        service.plan_ns = service_plan_locked();     /* it bounds the plan now */
    else if (timer->due_ns <= upper && timer->due_ns > service.plan_ns)
        service.plan_ns = timer->due_ns;             /* it joins the next batch */
    if (service.plan_ns < service.sleep_ns)
        os_cond_signal(&service.cond);
}

/*
 * The next due time of a periodic timer: one period after the previous due
 * time, so that periods do not drift.  When the service fell more than a
 * period behind (a suspended machine), the missed expiries are skipped and
 * the phase is kept, instead of firing a burst.
 */
static ULONGLONG timer_next_due(ULONGLONG due_ns, ULONGLONG period_ns, ULONGLONG now_ns)
{
    ULONGLONG next = tp_deadline_add(due_ns, period_ns);

    if (next > now_ns || next == TP_NEVER)
        return next;
    return tp_deadline_add(next, tp_deadline_mul((now_ns - next) / period_ns + 1, period_ns));
}

/* One expiry of timer: a callback, or the expiry hook of a wait's timeout.
 * Without Q. */
static void timer_expire(struct tp_timer *timer)
{
    if (timer->expired)
        timer->expired(timer);
    else
        tp_object_submit(&timer->obj, 1);
}

/*
 * Takes up to TP_TIMER_FIRE_BATCH timers due by now_ns out of the heaps,
 * re-arms the periodic ones and marks them in_batch, so that none leaves
 * the service (and its object cannot be closed) until the batch was queued.
 * Returns how many; *more says whether others are due.
 * Locking: Q.
 */
static size_t service_collect_locked(ULONGLONG now_ns, struct tp_timer **batch, BOOL *more)
{
    struct tp_timer *timer;
    ULONGLONG latest_ns;
    size_t count = 0;

    TP_ASSERT_LOCKED(&service.lock);
    while ((timer = service_first_due_locked()) && timer->due_ns <= now_ns) {
        if (count == TP_TIMER_FIRE_BATCH) {
            *more = TRUE;
            return count;
        }
        timer_disarm_locked(timer);
        /* Lateness past the latest moment allowed: thread-pool timers only
         * (a wait's timeout is the wait's). */
        latest_ns = tp_deadline_add(timer->due_ns, timer->window_ns);
        if (!timer->expired)
            tp_stats_timer_late(timer->obj.pool, latest_ns < now_ns ? now_ns - latest_ns : 0);
        if (timer->period_ns)
            timer_arm_locked(timer, timer_next_due(timer->due_ns, timer->period_ns, now_ns));
        /* Re-armed after now_ns: a periodic timer is taken once per batch. */
        timer->in_batch = TRUE;
        batch[count++] = timer;
    }
    *more = FALSE;
    return count;
}

/*
 * Queues one callback of each timer of the batch, with Q dropped: pool
 * locks and worker starts do not hold up setters.  Enters and leaves with Q.
 * Locking: Q.
 */
static void service_fire_locked(struct tp_timer **batch, size_t count)
{
    size_t i;

    TP_ASSERT_LOCKED(&service.lock);
    os_lock_release(&service.lock);
    for (i = 0; i < count; i++)
        timer_expire(batch[i]);
    os_lock_acquire(&service.lock);
    for (i = 0; i < count; i++)
        batch[i]->in_batch = FALSE;
    if (service.batch_waiters) {
        service.batch_waiters = FALSE;
        os_cond_broadcast(&service.batch_cond);
    }
}

static void service_main(void *arg)
{
    struct tp_timer *batch[TP_TIMER_FIRE_BATCH];
    ULONGLONG now_ns;
    BOOL timed_out, more;
    size_t count;

    (void)arg;
    TRACE("timer service starts\n");
    os_lock_acquire(&service.lock);
    for (;;) {
        now_ns = os_clock_monotonic_ns();
        if (service.latest.count && service.plan_ns <= now_ns) {
            count = service_collect_locked(now_ns, batch, &more);
            /* Setters update the plan while Q is dropped: it must be right
             * before the drop, and now_ns keeps the rest of a big batch due. */
            service.plan_ns = more ? now_ns : service_plan_locked();
            service_fire_locked(batch, count);
            continue;
        }
        if (!service.timers) {
            /* No timer exists: retire unless one comes soon. */
            service.sleep_ns = TP_NEVER;
            timed_out = !os_cond_wait_until(&service.cond, &service.lock,
                                            now_ns + (ULONGLONG)tp_sched_idle_timeout_ms()
                                                     * 1000000ull);
            service.sleep_ns = 0;
            if (timed_out && !service.timers)
                break;
            continue;
        }
        service.sleep_ns = service.latest.count ? service.plan_ns : TP_NEVER;
        if (service.sleep_ns == TP_NEVER)
            os_cond_wait(&service.cond, &service.lock);
        else
            os_cond_wait_until(&service.cond, &service.lock, service.sleep_ns);
        service.sleep_ns = 0;
    }
    service.running = FALSE;
    os_lock_release(&service.lock);
    TRACE("timer service retires\n");
}

DWORD tp_timer_service_attach(struct tp_timer *timer)
{
    DWORD err = ERROR_SUCCESS;

    service_setup();
    tp_heap_node_init(&timer->due_node);
    tp_heap_node_init(&timer->latest_node);
    os_lock_acquire(&service.lock);
    if (tp_heap_reserve(&service.due, service.timers + 1)
        || tp_heap_reserve(&service.latest, service.timers + 1)) {
        err = ERROR_NOT_ENOUGH_MEMORY;
        goto done;
    }
    if (!service.running) {
        /* os_thread_start does not block: fine under Q. */
        if ((err = os_thread_start(service_main, NULL, 0)) != ERROR_SUCCESS)
            goto done;
        service.running = TRUE;
    }
    service.timers++;
    timer->attached = TRUE;
done:
    os_lock_release(&service.lock);
    return err;
}

/* The child of a fork() has no service thread, and Q may be held by a
 * thread it does not have: it starts with no timer (pool.c); the parent's
 * heaps are left behind. */
void tp_timer_service_fork_child(void)
{
    static const struct os_once fresh = OS_ONCE_INIT;

    memset(&service, 0, sizeof(service));
    service_once = fresh;
}

/* Waits until the service has queued the expiry of timer that it took
 * out of the heaps, if any: it does so with Q dropped (service_fire_locked).
 * At process exit the service thread is gone, in a batch or not.
 * Locking: Q. */
static void service_wait_batch_locked(struct tp_timer *timer)
{
    TP_ASSERT_LOCKED(&service.lock);
    while (timer->in_batch && !os_process_exiting()) {
        service.batch_waiters = TRUE;
        os_cond_wait(&service.batch_cond, &service.lock);
    }
}

void tp_timer_service_detach(struct tp_timer *timer)
{
    os_lock_acquire(&service.lock);
    /* The service may be queueing a callback of it right now, with Q
     * dropped: the object must not be closed (or freed) before that ends. */
    service_wait_batch_locked(timer);
    if (timer->attached) {
        if (timer_armed_locked(timer))
            timer_disarm_locked(timer);
        timer->attached = FALSE;
        service.timers--;
        tp_heap_shrink(&service.due, service.timers);
        tp_heap_shrink(&service.latest, service.timers);
        /* The plan may now be early: the thread wakes, finds nothing due
         * and plans again.  With no timer left it starts its idle count. */
        if (!service.timers)
            os_cond_signal(&service.cond);
    }
    os_lock_release(&service.lock);
}

BOOL tp_timer_service_set(struct tp_timer *timer, const LONGLONG *due_100ns, DWORD period_ms,
                          DWORD window_ms, BOOL only_if_armed)
{
    BOOL was_armed, fire_now = FALSE;
    ULONGLONG now_ns = 0, due_ns = 0;

    /* The clocks are read before Q: the lock is held for the heaps only. */
    if (due_100ns) {
        now_ns = os_clock_monotonic_ns();
        due_ns = tp_deadline_from_due(due_100ns, now_ns);
    }
    os_lock_acquire(&service.lock);
    if (!timer->attached)
        os_panic("thread-pool timer %p set after it was closed", (void *)timer);
    /* An expiry the service took before this call is queued before it
     * returns: SetThreadpoolTimer(NULL) then WaitForThreadpoolTimerCallbacks
     * must see its callback, or it would run after the wait returned (the
     * soak found this: tests/soak/soak.c, test_timer.c).  Not for a wait's
     * timeout: its setter holds W, which the expiry hook takes (W -> Q);
     * the hook itself checks the wait's arming under W. */
    if (!timer->expired)
        service_wait_batch_locked(timer);
    was_armed = timer_armed_locked(timer);
    if (only_if_armed && !was_armed)
        goto done;
    if (was_armed)
        timer_disarm_locked(timer);
    timer->set = due_100ns != NULL;
    if (!due_100ns)
        goto done;
    timer->period_ns = tp_ns_from_ms(period_ms);
    timer->window_ns = tp_ns_from_ms(window_ms);
    if (due_ns <= now_ns) {
        /* Due now: queued at once, and a periodic timer goes on from here. */
        fire_now = TRUE;
        if (!timer->period_ns)
            goto done;
        due_ns = tp_deadline_add(now_ns, timer->period_ns);
    }
    timer_arm_locked(timer, due_ns);
    service_armed_locked(timer);
done:
    os_lock_release(&service.lock);
    /* Setting and closing one timer at the same time is the caller's race;
     * otherwise the object is open until this returns. */
    if (fire_now)
        timer_expire(timer);
    return was_armed;
}

BOOL tp_timer_service_is_set(struct tp_timer *timer)
{
    BOOL set;

    os_lock_acquire(&service.lock);
    set = timer->set;
    os_lock_release(&service.lock);
    return set;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_WAIT: a callback object that queues one callback when the handle it
 * waits for is signalled, or when its timeout passes.  Its callbacks are
 * ordinary callback instances.  A wait is one-shot: a callback re-arms it
 * with SetThreadpoolWait if it wants more.
 *
 * The handle side is the platform's (os_wait_*, os.h): on Linux a signal
 * hands the object to the wait in the signalling thread, which queues the
 * callback at once; on win32 a thread waits for up to 63 armed waits.  The
 * timeout side is the timer service's: a wait begins with a struct
 * tp_timer, whose expiry calls wait_expired instead of queueing a callback.
 * Signal and timeout race; the platform decides: a timeout counts only if
 * os_wait_disarm stops the wait before it was satisfied, so a signal that
 * was taken is always delivered, and exactly one of the two is.
 *
 * All resources are taken by CreateThreadpoolWait (the platform's block,
 * room in the timer heaps): setting a wait never allocates and cannot fail.
 * A mutex, or a handle that is no waitable object, is refused as Windows
 * refuses it (os_wait_raise_refused).
 *
 * Each queued callback carries its result (WAIT_OBJECT_0 or WAIT_TIMEOUT)
 * in wait->result_bits, in order, so that a cancel drops the newest ones.
 *
 * Takes W around arming and disarming (inside it the platform's locks, Q
 * and P); the platform calls wait_fired with P free, which takes P.
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_WAIT
#include "tp_private.h"


static struct tp_wait *wait_from_object(struct tp_object *obj)
{
    TP_ASSERT(obj->type == TP_OBJECT_WAIT);
    return (struct tp_wait *)obj;
}

/* ---- results of queued callbacks ---------------------------------------------- */

/* Locking: P. */
static void wait_push_result_locked(struct tp_wait *wait, DWORD result)
{
    TP_ASSERT_LOCKED(&wait->timer.obj.pool->lock);
    if (wait->results < TP_WAIT_RESULT_BITS) {
        if (result == WAIT_TIMEOUT)
            wait->result_bits |= 1ull << wait->results;
    } else if (result == WAIT_TIMEOUT) {
        wait->extra_timeouts++;
    }
    wait->results++;
}

/*
 * The oldest result.  Past TP_WAIT_RESULT_BITS results only their kinds are
 * counted, not their order: one of them moves into the freed bit, a timeout
 * only when all of them are timeouts.
 * Locking: P.
 */
static DWORD wait_pop_result_locked(struct tp_wait *wait)
{
    DWORD result;

    TP_ASSERT_LOCKED(&wait->timer.obj.pool->lock);
    TP_ASSERT(wait->results > 0);
    result = (wait->result_bits & 1) ? WAIT_TIMEOUT : WAIT_OBJECT_0;
    wait->result_bits >>= 1;
    wait->results--;
    if (wait->results >= TP_WAIT_RESULT_BITS
        && wait->extra_timeouts == wait->results - TP_WAIT_RESULT_BITS + 1) {
        wait->extra_timeouts--;
        wait->result_bits |= 1ull << (TP_WAIT_RESULT_BITS - 1);
    }
    return result;
}

/* Forgets the count newest results.  Locking: P. */
static void wait_drop_results_locked(struct tp_wait *wait, LONG count)
{
    TP_ASSERT_LOCKED(&wait->timer.obj.pool->lock);
    TP_ASSERT(count <= wait->results);
    /* The uncounted ones first; which of them go does not matter. */
    for (; count > 0 && wait->results > TP_WAIT_RESULT_BITS; count--) {
        if (wait->extra_timeouts == wait->results - TP_WAIT_RESULT_BITS)
            wait->extra_timeouts--;
        wait->results--;
    }
    wait->results -= count;
    if (wait->results < TP_WAIT_RESULT_BITS)
        wait->result_bits &= (1ull << wait->results) - 1;
}

DWORD tp_wait_take_result(struct tp_object *obj)
{
    struct tp_wait *wait = wait_from_object(obj);
    DWORD result;

    os_lock_acquire(&obj->pool->lock);
    result = wait_pop_result_locked(wait);
    os_lock_release(&obj->pool->lock);
    return result;
}

/*
 * Queues one callback with its result.  Not tp_object_submit: the result
 * and the callback are queued together under P, so that a cancel between
 * them cannot part them.  Never on a closed wait: the shutdown hook disarms
 * everything before the object is marked closed.
 */
static void wait_queue(struct tp_wait *wait, DWORD result)
{
    struct tp_object *obj = &wait->timer.obj;
    struct tp_pool *pool = obj->pool;
    enum tp_dispatch action;

    os_lock_acquire(&pool->lock);
    TP_ASSERT(!obj->closed);
    wait_push_result_locked(wait, result);
    action = tp_object_queue_locked(obj, 1);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
}

/* ---- arming ------------------------------------------------------------------- */

/*
 * pool->waits_armed (tp_debug_pool_stats): each arm ends exactly once, by
 * the signal (wait_fired) or by an os_wait_disarm that stopped it first.
 */
static void wait_count_armed(struct tp_wait *wait, LONG delta)
{
    atomic_fetch_add_explicit(&wait->timer.obj.pool->waits_armed, delta, memory_order_relaxed);
}

/* The platform's call: the handle was signalled and taken for this wait. */
static void wait_fired(void *context)
{
    wait_count_armed(context, -1);
    wait_queue(context, WAIT_OBJECT_0);
}

/*
 * Ends whatever is armed: the timeout first, then the handle.  Returns
 * TRUE when an armed wait was stopped before it was satisfied.
 * Locking: W.
 */
static BOOL wait_disarm_locked(struct tp_wait *wait)
{
    BOOL cancelled = FALSE;

    TP_ASSERT_LOCKED(&wait->lock);
    if (wait->timing) {
        tp_timer_service_set(&wait->timer, NULL, 0, 0, FALSE);
        wait->timing = FALSE;
    }
    if (wait->armed) {
        if ((cancelled = os_wait_disarm(wait->block)))
            wait_count_armed(wait, -1);
        wait->armed = FALSE;
    }
    return cancelled;
}

/*
 * The timer service's expiry of wait->timer.  It may be stale: the wait
 * was disarmed (or armed again) while the expiry was on its way, so it
 * counts only while the wait is armed and its deadline has passed.
 */
static void wait_expired(struct tp_timer *timer)
{
    struct tp_wait *wait = (struct tp_wait *)timer;

    os_lock_acquire(&wait->lock);
    if (!wait->shut && wait->armed && wait->timing
        && os_clock_monotonic_ns() >= wait->deadline_ns) {
        wait->timing = FALSE;
        wait->armed = FALSE;
        /* Lost to a signal: the signal's callback is queued instead. */
        if (os_wait_disarm(wait->block)) {
            wait_count_armed(wait, -1);
            wait_queue(wait, WAIT_TIMEOUT);
        }
    }
    os_lock_release(&wait->lock);
}

DWORD tp_wait_set(struct tp_wait *wait, HANDLE handle, const LONGLONG *timeout_100ns,
                  BOOL *cancelled)
{
    ULONGLONG now_ns, deadline_ns;
    LONGLONG due_100ns;
    DWORD err = ERROR_SUCCESS;

    *cancelled = FALSE;
    os_lock_acquire(&wait->lock);
    if (wait->shut) {
        os_lock_release(&wait->lock);
        return ERROR_OPERATION_ABORTED;
    }
    *cancelled = wait_disarm_locked(wait);
    if (!handle)
        goto done;
    now_ns = os_clock_monotonic_ns();
    deadline_ns = tp_deadline_from_due(timeout_100ns, now_ns);
    /* May call wait_fired at once, when the object is signalled already:
     * counted first, so that the count never goes below zero. */
    wait_count_armed(wait, 1);
    if ((err = os_wait_arm(wait->block, handle)) != ERROR_SUCCESS) {
        wait_count_armed(wait, -1);
        goto done;
    }
    wait->armed = TRUE;
    if (deadline_ns == TP_NEVER)
        goto done;
    if (deadline_ns <= now_ns) {
        /* A zero (or past) timeout checks once: the signal, or WAIT_TIMEOUT. */
        wait->armed = FALSE;
        if (os_wait_disarm(wait->block)) {
            wait_count_armed(wait, -1);
            wait_queue(wait, WAIT_TIMEOUT);
        }
        goto done;
    }
    /* Relative to the service's own "now", which is later: never early.  A
     * relative due time is never "now", so the service never expires it
     * inside this call (whose expiry would take W). */
    wait->deadline_ns = deadline_ns;
    due_100ns = tp_due_until(deadline_ns, now_ns);
    wait->timing = TRUE;
    tp_timer_service_set(&wait->timer, &due_100ns, 0, 0, FALSE);
done:
    os_lock_release(&wait->lock);
    return err;
}

/* ---- object hooks ---------------------------------------------------------------- */

void tp_wait_shutdown(struct tp_object *obj)
{
    struct tp_wait *wait = wait_from_object(obj);

    os_lock_acquire(&wait->lock);
    wait->shut = TRUE;
    wait_disarm_locked(wait);
    os_lock_release(&wait->lock);
    /* Without W: an expiry on its way (in the service's batch) takes W, and
     * the detach waits for it. */
    tp_timer_service_detach(&wait->timer);
}

/* A cancel drops the obj->pending newest callbacks, and so their results. */
void tp_wait_cancel_locked(struct tp_object *obj)
{
    TP_ASSERT_LOCKED(&obj->pool->lock);
    wait_drop_results_locked(wait_from_object(obj), obj->pending);
}

void tp_wait_destroy(struct tp_object *obj)
{
    struct tp_wait *wait = wait_from_object(obj);

    os_wait_destroy(wait->block);
    os_lock_destroy(&wait->lock);
}

static const struct tp_object_ops wait_ops = {
    .shutdown = tp_wait_shutdown,
    .cancel_locked = tp_wait_cancel_locked,
    .destroy = tp_wait_destroy,
};

DWORD tp_wait_create(size_t size, tp_invoke_fn invoke, const struct tp_object_ops *ops,
                     void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                     struct tp_wait **out)
{
    struct tp_wait *wait;
    DWORD err;

    if (!callback)
        return ERROR_INVALID_PARAMETER;
    if (!(wait = calloc(1, size)))
        return ERROR_NOT_ENOUGH_MEMORY;
    os_lock_init(&wait->lock, OS_LOCK_RANK_W);
    if ((err = os_wait_create(wait_fired, wait, &wait->block)) != ERROR_SUCCESS)
        goto fail_block;
    /* Room in the timer heaps, so that a timeout never allocates.  Before
     * tp_object_init: after it a group close may call the shutdown hook. */
    wait->timer.expired = wait_expired;
    if ((err = tp_timer_service_attach(&wait->timer)) != ERROR_SUCCESS)
        goto fail_attach;
    wait->timer.obj.ops = ops;
    if ((err = tp_object_init(&wait->timer.obj, TP_OBJECT_WAIT, invoke, callback, userdata, env))
        != ERROR_SUCCESS)
        goto fail_init;
    *out = wait;
    return ERROR_SUCCESS;

fail_init:
    tp_timer_service_detach(&wait->timer);
fail_attach:
    os_wait_destroy(wait->block);
fail_block:
    os_lock_destroy(&wait->lock);
    free(wait);
    return err;
}

/* ---- TP_WAIT -------------------------------------------------------------------- */

static void wait_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    PTP_WAIT_CALLBACK callback = (PTP_WAIT_CALLBACK)obj->callback;
    DWORD result = tp_wait_take_result(obj);

    TRACE("wait callback %p(%p, %p, %p, %lu)\n", obj->callback, (void *)inst, obj->userdata,
          (void *)obj, (unsigned long)result);
    callback((PTP_CALLBACK_INSTANCE)inst, obj->userdata, (PTP_WAIT)obj, result);
    TRACE("wait callback %p returned\n", obj->callback);
}

/* The exports' constructor (tp_object_construct_fn). */
static DWORD wait_construct(void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                            struct tp_object **out)
{
    struct tp_wait *wait;
    DWORD err;

    if ((err = tp_wait_create(sizeof(*wait), wait_invoke, &wait_ops, callback, userdata, env,
                              &wait)) == ERROR_SUCCESS)
        *out = &wait->timer.obj;
    return err;
}

/*
 * Sets the wait for an export; a refused handle raises as on Windows.  A
 * wait whose group is closing it may still be set by its running callback
 * (nothing happens); a closed one may not.
 */
static BOOL wait_set(struct tp_wait *wait, HANDLE handle, const LONGLONG *timeout_100ns,
                     const char *func)
{
    struct tp_object *obj = &wait->timer.obj;
    BOOL cancelled, closed;
    DWORD err;

    err = tp_wait_set(wait, handle, timeout_100ns, &cancelled);
    if (err == ERROR_OPERATION_ABORTED) {
        os_lock_acquire(&obj->pool->lock);
        closed = obj->closed;
        os_lock_release(&obj->pool->lock);
        if (closed)
            os_panic("%s: thread-pool wait %p set after it was closed", func, (void *)wait);
    } else if (err != ERROR_SUCCESS) {
        os_wait_raise_refused(func, handle, err);
    }
    return cancelled;
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateThreadpoolWait   (kernel32_tp.@)
 */
PTP_WAIT WINAPI CreateThreadpoolWait(PTP_WAIT_CALLBACK callback, PVOID userdata,
                                     PTP_CALLBACK_ENVIRON env)
{
    return (PTP_WAIT)tp_object_create_export(__func__, TP_OBJECT_WAIT, wait_construct,
                                             (void *)callback, userdata, env);
}

/***********************************************************************
 *           TpAllocWait   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpAllocWait(TP_WAIT **out, PTP_WAIT_CALLBACK callback, PVOID userdata,
                            TP_CALLBACK_ENVIRON *env)
{
    return tp_object_alloc_export(__func__, TP_OBJECT_WAIT, wait_construct, out, (void *)callback,
                                  userdata, env);
}

/***********************************************************************
 *           SetThreadpoolWait   (kernel32_tp.@)
 *
 * A NULL handle stops waiting (the timeout is not read); a zero timeout
 * checks the handle once.  A mutex raises STATUS_THREADPOOL_HANDLE_EXCEPTION
 * (test_wait.c).
 */
VOID WINAPI SetThreadpoolWait(PTP_WAIT api, HANDLE handle, PFILETIME timeout)
{
    LONGLONG timeout_100ns;

    TRACE("%p %p %p\n", (void *)api, handle, (void *)timeout);
    TP_CHECK(api, TP_CHECK_WAIT, TP_CHECK_USE);
    wait_set(impl_from_TP_WAIT(api), handle,
             handle ? tp_due_from_filetime(timeout, &timeout_100ns) : NULL, __func__);
}

/***********************************************************************
 *           SetThreadpoolWaitEx   (kernel32_tp.@)
 *
 * TRUE when a wait set before had not been satisfied nor timed out yet, so
 * that this call cancelled it; FALSE when its callback is queued or ran.
 */
BOOL WINAPI SetThreadpoolWaitEx(PTP_WAIT api, HANDLE handle, PFILETIME timeout, PVOID reserved)
{
    LONGLONG timeout_100ns;

    TRACE("%p %p %p %p\n", (void *)api, handle, (void *)timeout, reserved);
    TP_CHECK(api, TP_CHECK_WAIT, TP_CHECK_USE);
    return wait_set(impl_from_TP_WAIT(api), handle,
                    handle ? tp_due_from_filetime(timeout, &timeout_100ns) : NULL, __func__);
}

/***********************************************************************
 *           TpSetWaitEx   (kernel32_tp.@)
 */
BOOL WINAPI TpSetWaitEx(TP_WAIT *api, HANDLE handle, LARGE_INTEGER *timeout, PVOID reserved)
{
    LONGLONG timeout_100ns;

    TRACE("%p %p %p %p\n", (void *)api, handle, (void *)timeout, reserved);
    TP_CHECK(api, TP_CHECK_WAIT, TP_CHECK_USE);
    return wait_set(impl_from_TP_WAIT(api), handle,
                    handle ? tp_due_from_large_integer(timeout, &timeout_100ns) : NULL,
                    __func__);
}

/***********************************************************************
 *           WaitForThreadpoolWaitCallbacks   (kernel32_tp.@)
 *
 * Waits for queued and running callbacks only: an armed wait stays armed.
 */
VOID WINAPI WaitForThreadpoolWaitCallbacks(PTP_WAIT api, BOOL cancel_pending)
{
    tp_object_drain_export(__func__, api, TP_OBJECT_WAIT, cancel_pending);
}

/***********************************************************************
 *           CloseThreadpoolWait   (kernel32_tp.@)
 *
 * Stops waiting; callbacks already queued still run.
 */
VOID WINAPI CloseThreadpoolWait(PTP_WAIT api)
{
    tp_object_close_export(__func__, api, TP_OBJECT_WAIT);
}

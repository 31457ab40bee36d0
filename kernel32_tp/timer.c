/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_TIMER: a callback object that the timer service (timer_service.c)
 * queues when its due time comes.  Its callbacks are ordinary callback
 * instances.  All resources are taken by CreateThreadpoolTimer: setting a
 * timer never allocates and cannot fail.  Closing a timer disarms it;
 * callbacks already queued still run, as with work objects.
 * Takes no lock of its own (the service takes Q, the object P).
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_TIMER
#include "tp_private.h"

static void timer_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    PTP_TIMER_CALLBACK callback = (PTP_TIMER_CALLBACK)obj->callback;

    TRACE("timer callback %p(%p, %p, %p)\n", obj->callback, (void *)inst, obj->userdata,
          (void *)obj);
    callback((PTP_CALLBACK_INSTANCE)inst, obj->userdata, (PTP_TIMER)obj);
    TRACE("timer callback %p returned\n", obj->callback);
}

void tp_timer_shutdown(struct tp_object *obj)
{
    tp_timer_service_detach((struct tp_timer *)obj);
}

static const struct tp_object_ops timer_ops = {
    .shutdown = tp_timer_shutdown,
};

DWORD tp_timer_create(size_t size, tp_invoke_fn invoke, const struct tp_object_ops *ops,
                      void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                      struct tp_timer **out)
{
    struct tp_timer *timer;
    DWORD err;

    if (!callback)
        return ERROR_INVALID_PARAMETER;
    if (!(timer = calloc(1, size)))
        return ERROR_NOT_ENOUGH_MEMORY;
    /* The service first: after tp_object_init the object is visible to its
     * cleanup group, whose close calls ops->shutdown. */
    if ((err = tp_timer_service_attach(timer)) != ERROR_SUCCESS)
        goto fail_attach;
    timer->obj.ops = ops;
    if ((err = tp_object_init(&timer->obj, TP_OBJECT_TIMER, invoke, callback, userdata, env))
        != ERROR_SUCCESS)
        goto fail_init;
    *out = timer;
    return ERROR_SUCCESS;

fail_init:
    tp_timer_service_detach(timer);
fail_attach:
    free(timer);
    return err;
}

/* Sets the timer; returns whether it was armed.  due_100ns: FILETIME rules. */
static BOOL timer_set(struct tp_timer *timer, const LONGLONG *due_100ns, DWORD period_ms,
                      DWORD window_ms)
{
    return tp_timer_service_set(timer, due_100ns, period_ms, window_ms, FALSE);
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateThreadpoolTimer   (kernel32_tp.@)
 */
PTP_TIMER WINAPI CreateThreadpoolTimer(PTP_TIMER_CALLBACK callback, PVOID userdata,
                                       PTP_CALLBACK_ENVIRON env)
{
    struct tp_timer *timer;
    DWORD err;

    TRACE("%p %p %p\n", (void *)callback, userdata, (void *)env);
    TP_CHECK_ENV(env);
    if ((err = tp_timer_create(sizeof(*timer), timer_invoke, &timer_ops, (void *)callback,
                               userdata, env, &timer)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return (PTP_TIMER)timer;
}

/***********************************************************************
 *           TpAllocTimer   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpAllocTimer(TP_TIMER **out, PTP_TIMER_CALLBACK callback, PVOID userdata,
                             TP_CALLBACK_ENVIRON *env)
{
    struct tp_timer *timer;
    DWORD err;

    TRACE("%p %p %p %p\n", (void *)out, (void *)callback, userdata, (void *)env);
    TP_CHECK_ENV(env);
    if (!out)
        return tp_status_from_error(ERROR_INVALID_PARAMETER);
    if ((err = tp_timer_create(sizeof(*timer), timer_invoke, &timer_ops, (void *)callback,
                               userdata, env, &timer)) != ERROR_SUCCESS)
        return tp_status_from_error(err);
    *out = (TP_TIMER *)timer;
    return 0;
}

/***********************************************************************
 *           SetThreadpoolTimer   (kernel32_tp.@)
 *
 * A zero due time queues a callback at once; a due time in the past too.
 */
VOID WINAPI SetThreadpoolTimer(PTP_TIMER api, PFILETIME due, DWORD period_ms, DWORD window_ms)
{
    LONGLONG due_100ns;

    TRACE("%p %p %lu %lu\n", (void *)api, (void *)due, (unsigned long)period_ms,
          (unsigned long)window_ms);
    TP_CHECK(api, TP_CHECK_TIMER, TP_CHECK_USE);
    timer_set(impl_from_TP_TIMER(api), tp_due_from_filetime(due, &due_100ns), period_ms, window_ms);
}

/***********************************************************************
 *           SetThreadpoolTimerEx   (kernel32_tp.@)
 *
 * TRUE when the timer was armed (its next expiry had not come yet), so that
 * this call cancelled that expiry; a one-shot timer that already fired is
 * not armed (test_timer.c).
 */
BOOL WINAPI SetThreadpoolTimerEx(PTP_TIMER api, PFILETIME due, DWORD period_ms, DWORD window_ms)
{
    LONGLONG due_100ns;

    TRACE("%p %p %lu %lu\n", (void *)api, (void *)due, (unsigned long)period_ms,
          (unsigned long)window_ms);
    TP_CHECK(api, TP_CHECK_TIMER, TP_CHECK_USE);
    return timer_set(impl_from_TP_TIMER(api), tp_due_from_filetime(due, &due_100ns), period_ms,
                     window_ms);
}

/***********************************************************************
 *           TpSetTimerEx   (kernel32_tp.@)
 */
BOOL WINAPI TpSetTimerEx(TP_TIMER *api, LARGE_INTEGER *due, LONG period_ms, LONG window_ms)
{
    LONGLONG due_100ns;

    TRACE("%p %p %ld %ld\n", (void *)api, (void *)due, (long)period_ms, (long)window_ms);
    TP_CHECK(api, TP_CHECK_TIMER, TP_CHECK_USE);
    return timer_set(impl_from_TP_TIMER(api), tp_due_from_large_integer(due, &due_100ns),
                     (DWORD)period_ms, (DWORD)window_ms);
}

/***********************************************************************
 *           IsThreadpoolTimerSet   (kernel32_tp.@)
 *
 * TRUE from a set with a due time until a set with NULL: a one-shot timer
 * that fired is still "set" (test_timer.c).
 */
BOOL WINAPI IsThreadpoolTimerSet(PTP_TIMER api)
{
    TRACE("%p\n", (void *)api);
    TP_CHECK(api, TP_CHECK_TIMER, TP_CHECK_USE);
    return tp_timer_service_is_set(impl_from_TP_TIMER(api));
}

/***********************************************************************
 *           WaitForThreadpoolTimerCallbacks   (kernel32_tp.@)
 *
 * Waits for queued and running callbacks only: an armed timer stays armed.
 */
VOID WINAPI WaitForThreadpoolTimerCallbacks(PTP_TIMER api, BOOL cancel_pending)
{
    TRACE("%p %d\n", (void *)api, cancel_pending);
    TP_CHECK(api, TP_CHECK_TIMER, TP_CHECK_DRAIN);
    tp_object_drain(&impl_from_TP_TIMER(api)->obj, cancel_pending, FALSE);
}

/***********************************************************************
 *           CloseThreadpoolTimer   (kernel32_tp.@)
 *
 * Disarms the timer; callbacks already queued still run.
 */
VOID WINAPI CloseThreadpoolTimer(PTP_TIMER api)
{
    TRACE("%p\n", (void *)api);
    TP_CHECK(api, TP_CHECK_TIMER, TP_CHECK_CLOSE);
    tp_object_close(&impl_from_TP_TIMER(api)->obj);
}

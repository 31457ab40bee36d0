/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy registered waits: RegisterWaitForSingleObject(Ex),
 * UnregisterWait and UnregisterWaitEx, on the wait objects of wait.c.
 *
 * A registered wait is a wait object on the default pool whose callback
 * is a WAITORTIMERCALLBACK (TRUE: timed out).  Without WT_EXECUTEONLYONCE
 * it is armed again, with the same timeout, each time its callback returns.
 * The flags choose the callback environment: WT_EXECUTELONGFUNCTION makes
 * callbacks long; WT_EXECUTEINWAITTHREAD runs them, one at a time, on the
 * one thread of a private pool, as Windows runs them one at a time on the
 * wait thread that serves them; WT_EXECUTEINIOTHREAD and
 * WT_EXECUTEINPERSISTENTTHREAD need nothing (no APC is ever queued to our
 * workers, so every worker will do).
 *
 * Unregistering with a completion event: the event is set when the wait
 * is destroyed, that is once its last callback returned, which may be at
 * once, later on a worker, or after the unregistering callback itself
 * returns.  A blocking unregistration (INVALID_HANDLE_VALUE) from the
 * wait's own callback cannot wait for itself: it does not wait and reports
 * ERROR_IO_PENDING, like one with no event.  A callback run "in the wait
 * thread" is the wait thread's own business, not an outstanding callback:
 * unregistering from it succeeds (as on Windows; Wine reports
 * ERROR_IO_PENDING).
 *
 * Takes R (the registered waits' lock, a leaf) alone, and W through wait.c.
 */
#include <stdlib.h>

#include "tp_private.h"

#define TP_REGISTERED_WAIT_MAGIC 0x54505257u    /* "TPRW" */

struct tp_registered_wait {
    struct tp_wait wait;            /* (c) first: a wait object */
    unsigned int magic;             /* (c) TP_REGISTERED_WAIT_MAGIC until freed */
    HANDLE handle;                  /* (c) the object waited for */
    DWORD timeout_ms;               /* (c) INFINITE: none */
    ULONG flags;                    /* (c) WT_* */
    BOOL unregistered;              /* (R) Unregister* ran: never armed again */
    HANDLE completion_event;        /* (R) set when the wait is destroyed */
};

static struct {
    struct os_lock lock;            /* R */
    struct tp_pool *wait_thread_pool; /* (R) one thread: WT_EXECUTEINWAITTHREAD callbacks */
} registered;
static _Atomic int registered_state;    /* 0: not set up, 1: being set up, 2: ready */

/* The registered wait whose callback this thread is running, if any. */
static _Thread_local struct tp_registered_wait *registered_current;

static void registered_setup(void)
{
    int expected = 0;

    if (atomic_load_explicit(&registered_state, memory_order_acquire) == 2)
        return;
    if (atomic_compare_exchange_strong(&registered_state, &expected, 1)) {
        os_lock_init(&registered.lock);
        atomic_store_explicit(&registered_state, 2, memory_order_release);
    }
    while (atomic_load_explicit(&registered_state, memory_order_acquire) != 2)
        ;
}

/* The pool of WT_EXECUTEINWAITTHREAD callbacks, made on first use. */
static DWORD registered_wait_thread_pool(struct tp_pool **out)
{
    struct tp_pool *pool;
    DWORD err;

    os_lock_acquire(&registered.lock);
    if ((pool = registered.wait_thread_pool)) {
        os_lock_release(&registered.lock);
        *out = pool;
        return ERROR_SUCCESS;
    }
    if ((err = tp_pool_create(&pool)) == ERROR_SUCCESS) {
        tp_pool_set_max_threads(pool, 1);
        /* It lives as long as the process, like the default pool: not
         * one of the objects a leak check counts. */
        atomic_fetch_sub(&tp_live_objects, 1);
        registered.wait_thread_pool = pool;
        *out = pool;
    }
    os_lock_release(&registered.lock);
    return err;
}

static LONGLONG timeout_from_ms(DWORD timeout_ms)
{
    return -(LONGLONG)timeout_ms * 10000;
}

/* Arms the wait as registered.  ERROR_OPERATION_ABORTED once unregistered. */
static DWORD registered_arm(struct tp_registered_wait *rw)
{
    LONGLONG timeout_100ns = timeout_from_ms(rw->timeout_ms);
    BOOL cancelled;

    return tp_wait_set(&rw->wait, rw->handle,
                       rw->timeout_ms == INFINITE ? NULL : &timeout_100ns, &cancelled);
}

static void registered_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    struct tp_registered_wait *rw = (struct tp_registered_wait *)obj;
    WAITORTIMERCALLBACK callback = (WAITORTIMERCALLBACK)obj->callback;
    struct tp_registered_wait *outer = registered_current;
    DWORD result = tp_wait_take_result(obj), err;

    (void)inst;
    TRACE("registered wait callback %p(%p, %d)\n", obj->callback, obj->userdata,
          result == WAIT_TIMEOUT);
    registered_current = rw;
    callback(obj->userdata, result == WAIT_TIMEOUT);
    registered_current = outer;
    TRACE("registered wait callback %p returned\n", obj->callback);
    if (rw->flags & WT_EXECUTEONLYONCE)
        return;
    /* Armed again for the next signal or timeout, unless unregistered
     * meanwhile (then the wait is shut down and this does nothing). */
    if ((err = registered_arm(rw)) != ERROR_SUCCESS && err != ERROR_OPERATION_ABORTED)
        TRACE("registered wait %p: cannot wait again for %p: error %lu\n", (void *)rw,
              rw->handle, (unsigned long)err);
}

/* The destroy hook: the wait's last callback returned after it was unregistered. */
static void registered_destroy(struct tp_object *obj)
{
    struct tp_registered_wait *rw = (struct tp_registered_wait *)obj;
    HANDLE event;
    DWORD err;

    os_lock_acquire(&registered.lock);
    event = rw->completion_event;
    rw->magic = 0;
    os_lock_release(&registered.lock);
    tp_wait_destroy(obj);
    if (event && !os_handle_set_event(event, &err))
        TRACE("completion event %p: error %lu\n", event, (unsigned long)err);
}

static const struct tp_object_ops registered_ops = {
    .shutdown = tp_wait_shutdown,
    .cancel_locked = tp_wait_cancel_locked,
    .destroy = registered_destroy,
};

/*
 * Registers and arms a wait.  A mutex raises as on Windows; if a handler
 * continues, the call fails with ERROR_NOT_SUPPORTED.  ERROR_INVALID_HANDLE,
 * ERROR_INVALID_PARAMETER, ERROR_NOT_ENOUGH_MEMORY.
 */
static DWORD registered_create(HANDLE handle, WAITORTIMERCALLBACK callback, void *context,
                               DWORD timeout_ms, ULONG flags, const char *func,
                               struct tp_registered_wait **out)
{
    TP_CALLBACK_ENVIRON env = { 0 };
    struct tp_registered_wait *rw;
    struct tp_wait *wait;
    struct tp_pool *pool;
    DWORD err;

    registered_setup();
    env.Version = 3;
    env.CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
    env.Size = sizeof(env);
    if (flags & WT_EXECUTELONGFUNCTION)
        env.u.s.LongFunction = 1;
    if (flags & WT_EXECUTEINWAITTHREAD) {
        if ((err = registered_wait_thread_pool(&pool)) != ERROR_SUCCESS)
            return err;
        env.Pool = (PTP_POOL)pool;
    }
    if ((err = tp_wait_create(sizeof(*rw), registered_invoke, &registered_ops, (void *)callback,
                              context, &env, &wait)) != ERROR_SUCCESS)
        return err;
    rw = (struct tp_registered_wait *)wait;
    rw->magic = TP_REGISTERED_WAIT_MAGIC;
    rw->handle = handle;
    rw->timeout_ms = timeout_ms;
    rw->flags = flags;
    if ((err = registered_arm(rw)) != ERROR_SUCCESS) {
        rw->magic = 0;
        tp_object_close(&rw->wait.timer.obj);
        if (err == ERROR_NOT_SUPPORTED)
            os_wait_raise_refused(func, handle, err);
        return err;
    }
    *out = rw;
    return ERROR_SUCCESS;
}

/* Callbacks of rw queued or running, but the caller's own when it runs in
 * the wait thread.  Takes P. */
static LONG registered_outstanding(struct tp_registered_wait *rw)
{
    struct tp_object *obj = &rw->wait.timer.obj;
    LONG outstanding;

    os_lock_acquire(&obj->pool->lock);
    outstanding = obj->pending + obj->running;
    os_lock_release(&obj->pool->lock);
    if (registered_current == rw && (rw->flags & WT_EXECUTEINWAITTHREAD))
        outstanding--;
    return outstanding;
}

/*
 * Unregisters: never armed again, then released.  event: NULL (return at
 * once), INVALID_HANDLE_VALUE (drop queued callbacks and wait for running
 * ones), or an event set once the last callback returned.  Returns
 * ERROR_IO_PENDING when callbacks were still outstanding at release.
 */
static DWORD registered_unregister(HANDLE wait_handle, HANDLE event)
{
    struct tp_registered_wait *rw = wait_handle;
    struct tp_object *obj;
    BOOL wait;
    LONG outstanding;

    if (!rw || rw->magic != TP_REGISTERED_WAIT_MAGIC)
        return ERROR_INVALID_HANDLE;
    registered_setup();
    obj = &rw->wait.timer.obj;
    os_lock_acquire(&registered.lock);
    if (rw->unregistered) {
        os_lock_release(&registered.lock);
        return ERROR_INVALID_HANDLE;
    }
    rw->unregistered = TRUE;
    wait = event == INVALID_HANDLE_VALUE;
    if (!wait)
        rw->completion_event = event;
    os_lock_release(&registered.lock);

    /* Disarmed for good: a callback's re-arm does nothing from here. */
    tp_wait_shutdown(obj);
    /* From its own callback, waiting would never end. */
    if (wait && registered_current != rw)
        tp_object_drain(obj, TRUE, TRUE);
    outstanding = registered_outstanding(rw);
    tp_object_close(obj);       /* may destroy it (and set its event) at once */
    return outstanding > 0 ? ERROR_IO_PENDING : ERROR_SUCCESS;
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           RegisterWaitForSingleObject   (kernel32_tp.@)
 *
 * A mutex raises STATUS_THREADPOOL_HANDLE_EXCEPTION, as SetThreadpoolWait
 * does (test_registerwait.c).
 */
BOOL WINAPI RegisterWaitForSingleObject(PHANDLE out, HANDLE handle, WAITORTIMERCALLBACK callback,
                                        PVOID context, ULONG timeout_ms, ULONG flags)
{
    struct tp_registered_wait *rw;
    DWORD err;

    TRACE("%p %p %p %p %lu %#lx\n", (void *)out, handle, (void *)callback, context,
          (unsigned long)timeout_ms, (unsigned long)flags);
    if (!out)
        err = ERROR_INVALID_PARAMETER;
    else
        err = registered_create(handle, callback, context, timeout_ms, flags, __func__, &rw);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    *out = rw;
    return TRUE;
}

/***********************************************************************
 *           RegisterWaitForSingleObjectEx   (kernel32_tp.@)
 *
 * The same, returning the wait handle (NULL on failure).
 */
HANDLE WINAPI RegisterWaitForSingleObjectEx(HANDLE handle, WAITORTIMERCALLBACK callback,
                                            PVOID context, ULONG timeout_ms, ULONG flags)
{
    struct tp_registered_wait *rw;
    DWORD err;

    TRACE("%p %p %p %lu %#lx\n", handle, (void *)callback, context, (unsigned long)timeout_ms,
          (unsigned long)flags);
    if ((err = registered_create(handle, callback, context, timeout_ms, flags, __func__, &rw))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return rw;
}

/***********************************************************************
 *           UnregisterWaitEx   (kernel32_tp.@)
 *
 * FALSE with ERROR_IO_PENDING when callbacks were still queued or running
 * (the wait is unregistered all the same); an event given is set once they
 * are done, even when the call comes from the wait's own callback.
 */
BOOL WINAPI UnregisterWaitEx(HANDLE wait, HANDLE event)
{
    DWORD err;

    TRACE("%p %p\n", wait, event);
    if ((err = registered_unregister(wait, event)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           UnregisterWait   (kernel32_tp.@)
 *
 * UnregisterWaitEx with no event.
 */
BOOL WINAPI UnregisterWait(HANDLE wait)
{
    DWORD err;

    TRACE("%p\n", wait);
    if ((err = registered_unregister(wait, NULL)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

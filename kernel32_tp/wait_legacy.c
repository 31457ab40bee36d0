/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy registered waits: RegisterWaitForSingleObject(Ex),
 * UnregisterWait and UnregisterWaitEx, and ntdll's RtlRegisterWait and
 * RtlDeregisterWait(Ex), on the wait objects of wait.c.
 *
 * A registered wait is a wait object on the default pool whose callback
 * is a WAITORTIMERCALLBACK (TRUE: timed out).  Without WT_EXECUTEONLYONCE
 * it is armed again, with the same timeout, each time its callback returns.
 * The flags choose the callback environment: WT_EXECUTELONGFUNCTION makes
 * callbacks long; WT_EXECUTEINWAITTHREAD runs them, one at a time, on the
 * one thread of a private pool, as Windows runs them one at a time on the
 * wait thread that serves them; WT_EXECUTEINIOTHREAD runs them on the
 * legacy I/O threads (tp_legacy_io_pool: idle, they run APCs);
 * WT_EXECUTEINPERSISTENTTHREAD needs nothing (every worker will do).
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
 * The wait handle is the wait's address, and it is in the caller's
 * variable before the callback can run, even for an object already
 * signalled: registration arms the wait and stores the handle while it
 * holds R, and a callback that finds its wait not yet published passes
 * through R first (thread.c's conformance test unregisters from such a
 * callback).  A handle given back is looked up in the set of live
 * registered waits before it is used, so NULL, garbage or a wait already
 * destroyed fail with ERROR_INVALID_HANDLE instead of being dereferenced.
 *
 * Each operation has one body returning a Win32 error; the kernel32
 * exports set it as the last error, the ntdll ones (RtlRegisterWait,
 * RtlDeregisterWait(Ex)) return it as an NTSTATUS (ERROR_IO_PENDING is
 * STATUS_PENDING).
 *
 * Takes R (the registered waits' lock) alone, or before W while arming a
 * wait it registers (R -> W).
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_WAIT
#include "tp_private.h"
#include "ptrset.h"

struct tp_registered_wait {
    struct tp_wait wait;            /* (c) first: a wait object */
    struct ptrset_node live_node;   /* (R) in registered.live until destroyed */
    HANDLE handle;                  /* (c) the object waited for */
    DWORD timeout_ms;               /* (c) INFINITE: none */
    ULONG flags;                    /* (c) WT_* */
    _Atomic int published;          /* (a) the wait handle is in the caller's variable */
    BOOL unregistered;              /* (R) Unregister* ran: never armed again */
    HANDLE completion_event;        /* (R) set when the wait is destroyed */
};

static struct {
    struct os_lock lock;            /* R */
    struct tp_pool *wait_thread_pool; /* (R) one thread: WT_EXECUTEINWAITTHREAD callbacks */
    struct ptrset live;             /* (R) every registered wait not yet destroyed */
} registered = { .live = PTRSET_INIT };
static struct os_once registered_once = OS_ONCE_INIT;

/* The registered wait whose callback this thread is running, if any. */
static _Thread_local struct tp_registered_wait *registered_current;

static void registered_init(void)
{
    os_lock_init(&registered.lock, OS_LOCK_RANK_R);
}

static void registered_setup(void)
{
    os_once(&registered_once, registered_init);
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

/* Arms the wait as registered.  ERROR_OPERATION_ABORTED once unregistered. */
static DWORD registered_arm(struct tp_registered_wait *rw)
{
    LONGLONG timeout_100ns = tp_due_from_ms(rw->timeout_ms);
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
    /* Fired before RegisterWait* returned: its handle is stored once the
     * registering thread lets go of R. */
    if (!atomic_load_explicit(&rw->published, memory_order_acquire)) {
        os_lock_acquire(&registered.lock);
        os_lock_release(&registered.lock);
    }
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
    ptrset_remove(&registered.live, (uintptr_t)&rw->live_node);
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
 * Registers and arms a wait, and stores its handle in *out before its
 * callback can run.  A mutex raises as on Windows; if a handler continues,
 * the call fails with ERROR_NOT_SUPPORTED.  ERROR_INVALID_HANDLE,
 * ERROR_INVALID_PARAMETER, ERROR_NOT_ENOUGH_MEMORY.
 * Locking: takes R, and W (through wait.c) inside it.
 */
static DWORD registered_create(HANDLE *out, HANDLE handle, WAITORTIMERCALLBACK callback,
                               void *context, DWORD timeout_ms, ULONG flags, const char *func)
{
    TP_CALLBACK_ENVIRON env = { 0 };
    struct tp_registered_wait *rw;
    struct tp_wait *wait;
    struct tp_pool *pool;
    BOOL removed;
    DWORD err;

    if (!out)
        return ERROR_INVALID_PARAMETER;
    registered_setup();
    tp_legacy_env_init(&env, flags);
    if (flags & WT_EXECUTEINWAITTHREAD) {
        if ((err = registered_wait_thread_pool(&pool)) != ERROR_SUCCESS)
            return err;
        env.Pool = (PTP_POOL)pool;
    } else if (flags & WT_EXECUTEINIOTHREAD) {
        if ((err = tp_legacy_io_pool(&pool)) != ERROR_SUCCESS)
            return err;
        env.Pool = (PTP_POOL)pool;
    }
    if ((err = tp_wait_create(sizeof(*rw), registered_invoke, &registered_ops, (void *)callback,
                              context, &env, &wait)) != ERROR_SUCCESS)
        return err;
    rw = (struct tp_registered_wait *)wait;
    rw->handle = handle;
    rw->timeout_ms = timeout_ms;
    rw->flags = flags;

    os_lock_acquire(&registered.lock);
    if (!ptrset_add(&registered.live, &rw->live_node)) {
        os_lock_release(&registered.lock);
        tp_object_close(&rw->wait.timer.obj);   /* never armed: destroyed at once */
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    if ((err = registered_arm(rw)) == ERROR_SUCCESS) {
        /* Under R: a callback that fires at once waits in registered_invoke
         * until the handle is where its caller will look for it. */
        *out = rw;
        atomic_store_explicit(&rw->published, 1, memory_order_release);
        os_lock_release(&registered.lock);
        return ERROR_SUCCESS;
    }
    /* Only a caller that guessed the address could have seen it. */
    removed = ptrset_remove(&registered.live, (uintptr_t)&rw->live_node) != NULL;
    os_lock_release(&registered.lock);
    if (removed)
        tp_object_close(&rw->wait.timer.obj);
    if (err == ERROR_NOT_SUPPORTED)
        os_wait_raise_refused(func, handle, err);
    return err;
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
 * The body of UnregisterWait(Ex) and RtlDeregisterWait(Ex) (func: which).
 */
static DWORD registered_unregister(const char *func, HANDLE wait_handle, HANDLE event)
{
    struct tp_registered_wait *rw;
    struct tp_object *obj;
    BOOL wait;
    LONG outstanding;

    TRACE_FOR(func, "%p %p\n", wait_handle, event);
    registered_setup();
    os_lock_acquire(&registered.lock);
    /* Looked up before it is read: NULL, garbage and destroyed waits are
     * not in the set. */
    if (!ptrset_find(&registered.live,
                     PTRSET_KEY(wait_handle, struct tp_registered_wait, live_node))) {
        os_lock_release(&registered.lock);
        return ERROR_INVALID_HANDLE;
    }
    rw = wait_handle;
    obj = &rw->wait.timer.obj;
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
 * does (test_registerwait.c).  *out holds the handle before the callback
 * can run (registerwait_handle_stored_before_callback).
 */
BOOL WINAPI RegisterWaitForSingleObject(PHANDLE out, HANDLE handle, WAITORTIMERCALLBACK callback,
                                        PVOID context, ULONG timeout_ms, ULONG flags)
{
    DWORD err;

    TRACE("%p %p %p %p %lu %#lx\n", (void *)out, handle, (void *)callback, context,
          (unsigned long)timeout_ms, (unsigned long)flags);
    if ((err = registered_create(out, handle, callback, context, timeout_ms, flags, __func__))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
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
    HANDLE wait;
    DWORD err;

    TRACE("%p %p %p %lu %#lx\n", handle, (void *)callback, context, (unsigned long)timeout_ms,
          (unsigned long)flags);
    if ((err = registered_create(&wait, handle, callback, context, timeout_ms, flags, __func__))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return wait;
}

/***********************************************************************
 *           UnregisterWaitEx   (kernel32_tp.@)
 *
 * FALSE with ERROR_IO_PENDING when callbacks were still queued or running
 * (the wait is unregistered all the same); an event given is set once they
 * are done, even when the call comes from the wait's own callback.  A
 * handle that is not a registered wait is ERROR_INVALID_HANDLE.
 */
BOOL WINAPI UnregisterWaitEx(HANDLE wait, HANDLE event)
{
    return os_bool_result(registered_unregister(__func__, wait, event));
}

/***********************************************************************
 *           UnregisterWait   (kernel32_tp.@)
 *
 * UnregisterWaitEx with no event.
 */
BOOL WINAPI UnregisterWait(HANDLE wait)
{
    return os_bool_result(registered_unregister(__func__, wait, NULL));
}

/***********************************************************************
 *           RtlRegisterWait   (kernel32_tp.@)
 *
 * RegisterWaitForSingleObject with an NTSTATUS result.
 */
NTSTATUS WINAPI RtlRegisterWait(HANDLE *out, HANDLE handle, WAITORTIMERCALLBACK callback,
                                PVOID context, ULONG timeout_ms, ULONG flags)
{
    TRACE("%p %p %p %p %lu %#lx\n", (void *)out, handle, (void *)callback, context,
          (unsigned long)timeout_ms, (unsigned long)flags);
    return tp_status_from_error(registered_create(out, handle, callback, context, timeout_ms,
                                                  flags, __func__));
}

/***********************************************************************
 *           RtlDeregisterWaitEx   (kernel32_tp.@)
 *
 * STATUS_PENDING where UnregisterWaitEx fails with ERROR_IO_PENDING.
 */
NTSTATUS WINAPI RtlDeregisterWaitEx(HANDLE wait, HANDLE event)
{
    return tp_status_from_error(registered_unregister(__func__, wait, event));
}

/***********************************************************************
 *           RtlDeregisterWait   (kernel32_tp.@)
 *
 * RtlDeregisterWaitEx with no event.
 */
NTSTATUS WINAPI RtlDeregisterWait(HANDLE wait)
{
    return tp_status_from_error(registered_unregister(__func__, wait, NULL));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy timer queues: CreateTimerQueue, CreateTimerQueueTimer,
 * ChangeTimerQueueTimer, DeleteTimerQueueTimer, DeleteTimerQueue(Ex),
 * CancelTimerQueueTimer and SetTimerQueueTimer, and ntdll's names for the
 * same calls: RtlCreateTimerQueue, RtlCreateTimer, RtlUpdateTimer,
 * RtlDeleteTimer, RtlDeleteTimerQueue(Ex).  Each operation has one body
 * returning a Win32 error; the kernel32 exports set it as the last error,
 * the ntdll ones return it as an NTSTATUS (ERROR_IO_PENDING is
 * STATUS_PENDING, a success status that kernel32 reports as a failure).
 *
 * A queue timer is a timer object (timer.c) on the default pool with a
 * legacy callback; a queue is only the list of its timers, so every queue
 * shares the one timer service thread.  As on Windows since Vista, the
 * WT_EXECUTEIN*THREAD flags only mark callbacks persistent: every callback
 * runs on a pool worker, never on the timer service thread.
 *
 * Deletion with a completion event: the event is set when the timer (or the
 * queue's last timer) is destroyed, that is once its last callback returned,
 * which may be at once, later on a worker, or after the deleting callback
 * itself returns.  A blocking deletion (INVALID_HANDLE_VALUE) from inside a
 * callback of the timer (or queue) being deleted cannot wait for itself: it
 * does not wait and reports ERROR_IO_PENDING, like a deletion with no event.
 *
 * Handles are addresses.  A timer's handle is in the caller's variable
 * before its callback can run: creation arms the timer and stores the
 * handle while it holds T, and a callback that finds its timer not yet
 * published passes through T first.  A handle given back is looked up in
 * the sets of live queues and timers before it is used, so NULL, garbage
 * or a freed object fail cleanly instead of being dereferenced.
 *
 * Takes T (the queues' lock) alone or before Q; destroys objects with no
 * lock held.
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_TIMER
#include "tp_private.h"
#include "ptrset.h"

struct tp_timer_queue {
    struct os_stamp stamp;          /* (c) first: ours (os.h, ownership stamps) */
    struct ptrset_node live_node;   /* (T) in queues.live_queues until freed (not the default) */
    struct list timers;             /* (T) its timers not yet deleted */
    LONG live;                      /* (T) its timers not yet destroyed */
    BOOL deleted;                   /* (T) DeleteTimerQueueEx ran */
    BOOL deleting;                  /* (T) DeleteTimerQueueEx is still using the queue */
    HANDLE completion_event;        /* (T) set when the deleted queue's last timer goes */
};

struct tp_queue_timer {
    struct tp_timer timer;          /* (c) first: a timer object */
    struct ptrset_node live_node;   /* (T) in queues.live_timers until destroyed */
    _Atomic int published;          /* (a) the handle is in the creator's variable */
    struct tp_timer_queue *queue;   /* (c) */
    struct list entry;              /* (T) in queue->timers until deleted */
    BOOL deleted;                   /* (T) DeleteTimerQueueTimer (or the queue's) ran */
    HANDLE completion_event;        /* (T) set when the timer is destroyed */
};

static struct {
    struct os_lock lock;            /* T */
    struct os_cond cond;            /* (T) blocking queue deletions wait here */
    struct tp_timer_queue *default_queue; /* (T) created on first use, never freed */
    struct ptrset live_queues;      /* (T) queues created and not yet freed */
    struct ptrset live_timers;      /* (T) queue timers created and not yet destroyed */
} queues = { .live_queues = PTRSET_INIT, .live_timers = PTRSET_INIT };
static struct os_once queues_once = OS_ONCE_INIT;

/* The queue timer whose callback this thread is running, if any. */
static _Thread_local struct tp_queue_timer *queue_timer_current;

static void queues_init(void)
{
    os_lock_init(&queues.lock, OS_LOCK_RANK_T);
    os_cond_init(&queues.cond);
}

static void queues_setup(void)
{
    os_once(&queues_once, queues_init);
}

static void queue_timer_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    struct tp_queue_timer *qt = (struct tp_queue_timer *)obj;
    WAITORTIMERCALLBACK callback = (WAITORTIMERCALLBACK)obj->callback;
    struct tp_queue_timer *outer = queue_timer_current;

    (void)inst;
    /* Fired before the creating call returned: its handle is stored once
     * the creating thread lets go of T. */
    if (!atomic_load_explicit(&qt->published, memory_order_acquire)) {
        os_lock_acquire(&queues.lock);
        os_lock_release(&queues.lock);
    }
    TRACE("queue timer callback %p(%p, TRUE)\n", obj->callback, obj->userdata);
    queue_timer_current = qt;
    callback(obj->userdata, TRUE);
    queue_timer_current = outer;
    TRACE("queue timer callback %p returned\n", obj->callback);
}

static void set_event_traced(HANDLE event)
{
    DWORD err;

    if (!os_handle_set_event(event, &err))
        TRACE("completion event %p: error %lu\n", event, (unsigned long)err);
}

/* Frees a queue already taken out of queues.live_queues. */
static void queue_free(struct tp_timer_queue *queue)
{
    os_stamp_clear(&queue->stamp);
    free(queue);
    atomic_fetch_sub(&tp_live_objects, 1);
}

/*
 * The destroy hook: the timer's last callback returned after it was
 * deleted.  Sets its completion event, and for the last timer of a deleted
 * queue, the queue's, and frees the queue unless its deletion is running.
 */
static void queue_timer_destroy(struct tp_object *obj)
{
    struct tp_queue_timer *qt = (struct tp_queue_timer *)obj;
    struct tp_timer_queue *queue = qt->queue, *freed = NULL;
    HANDLE timer_event, queue_event = NULL;

    os_lock_acquire(&queues.lock);
    timer_event = qt->completion_event;
    ptrset_remove(&queues.live_timers, (uintptr_t)&qt->live_node);
    queue->live--;
    if (queue->deleted && queue->live == 0) {
        if (queue->deleting) {
            os_cond_broadcast(&queues.cond);
        } else {
            queue_event = queue->completion_event;
            ptrset_remove(&queues.live_queues, (uintptr_t)&queue->live_node);
            freed = queue;
        }
    }
    os_lock_release(&queues.lock);
    if (timer_event)
        set_event_traced(timer_event);
    if (freed) {
        queue_free(freed);
        if (queue_event)
            set_event_traced(queue_event);
    }
}

static const struct tp_object_ops queue_timer_ops = {
    .shutdown = tp_timer_shutdown,
    .destroy = queue_timer_destroy,
};

static DWORD queue_create(struct tp_timer_queue **out)
{
    struct tp_timer_queue *queue = calloc(1, sizeof(*queue));

    if (!queue)
        return ERROR_NOT_ENOUGH_MEMORY;
    os_stamp_set(&queue->stamp);
    list_init(&queue->timers);
    *out = queue;
    return ERROR_SUCCESS;
}

/* The default queue, created on first use.  It is in no set: no handle
 * names it, and it is never deleted. */
static DWORD queue_default(struct tp_timer_queue **out)
{
    struct tp_timer_queue *queue, *created;
    DWORD err;

    os_lock_acquire(&queues.lock);
    queue = queues.default_queue;
    os_lock_release(&queues.lock);
    if (queue) {
        *out = queue;
        return ERROR_SUCCESS;
    }
    if ((err = queue_create(&created)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&queues.lock);
    if (!queues.default_queue) {
        queues.default_queue = created;
        created = NULL;
    }
    queue = queues.default_queue;
    os_lock_release(&queues.lock);
    free(created);      /* another thread was first */
    *out = queue;
    return ERROR_SUCCESS;
}

/* A queue the caller created and has not deleted: NULL if handle is not one.
 * Locking: T. */
static struct tp_timer_queue *queue_find_locked(HANDLE handle)
{
    struct tp_timer_queue *queue = handle;

    TP_ASSERT_LOCKED(&queues.lock);
    if (!ptrset_find(&queues.live_queues, PTRSET_KEY(handle, struct tp_timer_queue, live_node)))
        return NULL;
    return queue->deleted ? NULL : queue;
}

/*
 * A live queue timer not yet deleted: ERROR_INVALID_PARAMETER for NULL,
 * ERROR_INVALID_HANDLE for anything else that is not one.
 * Locking: T.
 */
static DWORD queue_timer_find_locked(HANDLE handle, struct tp_queue_timer **out)
{
    struct tp_queue_timer *qt = handle;

    TP_ASSERT_LOCKED(&queues.lock);
    if (!qt)
        return ERROR_INVALID_PARAMETER;
    if (!ptrset_find(&queues.live_timers, PTRSET_KEY(handle, struct tp_queue_timer, live_node))
        || qt->deleted)
        return ERROR_INVALID_HANDLE;
    *out = qt;
    return ERROR_SUCCESS;
}

/* A new queue for the caller: counted as a live object. */
static DWORD queue_new(HANDLE *out)
{
    struct tp_timer_queue *queue;
    DWORD err;

    if (!out)
        return ERROR_INVALID_PARAMETER;
    queues_setup();
    if ((err = queue_create(&queue)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&queues.lock);
    if (!ptrset_add(&queues.live_queues, &queue->live_node)) {
        os_lock_release(&queues.lock);
        free(queue);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    os_lock_release(&queues.lock);
    atomic_fetch_add(&tp_live_objects, 1);
    *out = queue;
    return ERROR_SUCCESS;
}

/*
 * Creates a timer in queue (NULL: the default queue), arms it and stores
 * its handle in *out before its callback can run.  The flags only choose
 * the callback environment: WT_EXECUTELONGFUNCTION makes callbacks long;
 * WT_EXECUTEONLYONCE changes nothing (the period decides, as on Windows
 * and Wine); the thread-choosing flags need nothing of ours.
 */
static DWORD queue_timer_create(HANDLE queue_handle, HANDLE *out, WAITORTIMERCALLBACK callback,
                                void *context, DWORD due_ms, DWORD period_ms, ULONG flags)
{
    TP_CALLBACK_ENVIRON env = { 0 };
    struct tp_timer_queue *queue = NULL;
    struct tp_queue_timer *qt;
    struct tp_timer *timer;
    LONGLONG due_100ns = tp_due_from_ms(due_ms);
    DWORD err;

    if (!out)
        return ERROR_INVALID_PARAMETER;
    queues_setup();
    if (!queue_handle && (err = queue_default(&queue)) != ERROR_SUCCESS)
        return err;
    tp_legacy_env_init(&env, flags);
    if ((err = tp_timer_create(sizeof(*qt), queue_timer_invoke, &queue_timer_ops,
                               (void *)callback, context, &env, &timer)) != ERROR_SUCCESS)
        return err;
    qt = (struct tp_queue_timer *)timer;

    os_lock_acquire(&queues.lock);
    if (queue_handle && !(queue = queue_find_locked(queue_handle)))
        err = ERROR_INVALID_HANDLE;
    else if (queue->deleted)
        err = ERROR_INVALID_HANDLE;
    else if (!ptrset_add(&queues.live_timers, &qt->live_node))
        err = ERROR_NOT_ENOUGH_MEMORY;
    if (err != ERROR_SUCCESS) {
        os_lock_release(&queues.lock);
        /* Never armed and in no queue: nothing to count, nothing to set. */
        qt->timer.obj.ops = NULL;
        tp_timer_shutdown(&qt->timer.obj);
        tp_object_close(&qt->timer.obj);
        return err;
    }
    qt->queue = queue;
    list_add_tail(&queue->timers, &qt->entry);
    queue->live++;
    /* Armed under T (T -> Q): a concurrent deletion of the queue cannot
     * shut the timer down between publication and arming, and a callback
     * that fires at once waits in queue_timer_invoke until the handle is
     * where its creator will look for it. */
    tp_timer_service_set(&qt->timer, &due_100ns, period_ms, 0, FALSE);
    *out = qt;
    atomic_store_explicit(&qt->published, 1, memory_order_release);
    os_lock_release(&queues.lock);
    return ERROR_SUCCESS;
}

/*
 * Windows changes a periodic timer, or a one-shot timer that has not fired
 * yet; a one-shot timer that fired stays as it is, and the call succeeds.
 * The body of ChangeTimerQueueTimer and RtlUpdateTimer (func: which, for
 * the trace); the queue is only traced: a timer knows its queue.
 */
static DWORD queue_timer_change(const char *func, HANDLE queue_handle, HANDLE timer_handle,
                                DWORD due_ms, DWORD period_ms)
{
    struct tp_queue_timer *qt;
    LONGLONG due_100ns = tp_due_from_ms(due_ms);
    DWORD err;

    TRACE_FOR(func, "%p %p %lu %lu\n", queue_handle, timer_handle, (unsigned long)due_ms,
              (unsigned long)period_ms);
    queues_setup();
    os_lock_acquire(&queues.lock);
    if ((err = queue_timer_find_locked(timer_handle, &qt)) == ERROR_SUCCESS)
        tp_timer_service_set(&qt->timer, &due_100ns, period_ms, 0, TRUE);
    os_lock_release(&queues.lock);
    return err;
}

/* Callbacks of qt queued or running. */
static LONG queue_timer_outstanding(struct tp_queue_timer *qt)
{
    struct tp_object *obj = &qt->timer.obj;
    LONG outstanding;

    os_lock_acquire(&obj->pool->lock);
    outstanding = obj->pending + obj->running;
    os_lock_release(&obj->pool->lock);
    return outstanding;
}

/*
 * Disarms and releases a timer that was taken out of its queue.  A
 * blocking deletion first drops its queued callbacks and waits for the
 * running ones (except when this thread runs one of them).  Returns
 * ERROR_IO_PENDING when callbacks were still outstanding at release.
 */
static DWORD queue_timer_release(struct tp_queue_timer *qt, BOOL wait)
{
    struct tp_object *obj = &qt->timer.obj;
    LONG outstanding;

    tp_timer_shutdown(obj);
    if (wait && queue_timer_current != qt)
        tp_object_drain(obj, TRUE, TRUE);
    outstanding = queue_timer_outstanding(qt);
    tp_object_close(obj);       /* may destroy it (and set its event) at once */
    return outstanding ? ERROR_IO_PENDING : ERROR_SUCCESS;
}

/* The body of DeleteTimerQueueTimer, CancelTimerQueueTimer (no event) and
 * RtlDeleteTimer (func: which, for the trace); the queue is only traced. */
static DWORD queue_timer_delete(const char *func, HANDLE queue_handle, HANDLE timer_handle,
                                HANDLE event)
{
    struct tp_queue_timer *qt;
    DWORD err;

    TRACE_FOR(func, "%p %p %p\n", queue_handle, timer_handle, event);
    queues_setup();
    os_lock_acquire(&queues.lock);
    if ((err = queue_timer_find_locked(timer_handle, &qt)) != ERROR_SUCCESS) {
        os_lock_release(&queues.lock);
        return err;
    }
    qt->deleted = TRUE;
    list_remove(&qt->entry);
    if (event != INVALID_HANDLE_VALUE)
        qt->completion_event = event;
    os_lock_release(&queues.lock);
    return queue_timer_release(qt, event == INVALID_HANDLE_VALUE);
}

/* The default queue is not in the set: NULL is ERROR_INVALID_HANDLE.  The
 * body of DeleteTimerQueue(Ex) and RtlDeleteTimerQueue(Ex) (func: which). */
static DWORD queue_delete(const char *func, HANDLE queue_handle, HANDLE event)
{
    struct tp_timer_queue *queue;
    struct tp_queue_timer *qt, *self = queue_timer_current;
    BOOL wait = event == INVALID_HANDLE_VALUE;
    struct list timers;
    DWORD err = ERROR_SUCCESS;

    TRACE_FOR(func, "%p %p\n", queue_handle, event);
    queues_setup();
    list_init(&timers);
    os_lock_acquire(&queues.lock);
    if (!(queue = queue_find_locked(queue_handle))) {
        os_lock_release(&queues.lock);
        return ERROR_INVALID_HANDLE;
    }
    queue->deleted = TRUE;
    queue->deleting = TRUE;
    if (!wait)
        queue->completion_event = event;
    while (!list_empty(&queue->timers)) {
        qt = LIST_ENTRY(queue->timers.next, struct tp_queue_timer, entry);
        list_remove(&qt->entry);
        qt->deleted = TRUE;
        list_add_tail(&timers, &qt->entry);
    }
    os_lock_release(&queues.lock);

    /* From a callback of this queue's own timer, waiting would never end. */
    if (wait && self && self->queue == queue) {
        wait = FALSE;
        err = ERROR_IO_PENDING;
    }
    /* The entries are this thread's now: the destroy hook does not touch them. */
    while (!list_empty(&timers)) {
        qt = LIST_ENTRY(timers.next, struct tp_queue_timer, entry);
        list_remove(&qt->entry);
        queue_timer_release(qt, wait);
    }

    os_lock_acquire(&queues.lock);
    if (wait) {
        /* Timers deleted earlier may still run callbacks. */
        while (queue->live > 0 && !os_process_exiting())
            os_cond_wait(&queues.cond, &queues.lock);
    }
    queue->deleting = FALSE;
    if (queue->live > 0) {
        /* The last timer's destroy hook frees the queue and sets the event. */
        os_lock_release(&queues.lock);
        return err;
    }
    ptrset_remove(&queues.live_queues, (uintptr_t)&queue->live_node);
    os_lock_release(&queues.lock);
    event = queue->completion_event;
    queue_free(queue);
    if (event)
        set_event_traced(event);
    return err;
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateTimerQueue   (kernel32_tp.@)
 */
HANDLE WINAPI CreateTimerQueue(void)
{
    HANDLE queue;
    DWORD err;

    TRACE("\n");
    if ((err = queue_new(&queue)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return queue;
}

/***********************************************************************
 *           CreateTimerQueueTimer   (kernel32_tp.@)
 *
 * *out holds the timer before its callback can run
 * (timerqueue_handle_stored_before_callback).
 */
BOOL WINAPI CreateTimerQueueTimer(PHANDLE out, HANDLE queue, WAITORTIMERCALLBACK callback,
                                  PVOID context, DWORD due_ms, DWORD period_ms, ULONG flags)
{
    DWORD err;

    TRACE("%p %p %p %p %lu %lu %#lx\n", (void *)out, queue, (void *)callback, context,
          (unsigned long)due_ms, (unsigned long)period_ms, (unsigned long)flags);
    if ((err = queue_timer_create(queue, out, callback, context, due_ms, period_ms, flags))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           SetTimerQueueTimer   (kernel32_tp.@)
 *
 * The Windows 2000 form of CreateTimerQueueTimer: returns the timer.
 */
HANDLE WINAPI SetTimerQueueTimer(HANDLE queue, WAITORTIMERCALLBACK callback, PVOID context,
                                 DWORD due_ms, DWORD period_ms, BOOL prefer_io)
{
    HANDLE timer;
    DWORD err;

    TRACE("%p %p %p %lu %lu %d\n", queue, (void *)callback, context, (unsigned long)due_ms,
          (unsigned long)period_ms, prefer_io);
    if ((err = queue_timer_create(queue, &timer, callback, context, due_ms, period_ms,
                                  prefer_io ? WT_EXECUTEINIOTHREAD : WT_EXECUTEDEFAULT))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return timer;
}

/***********************************************************************
 *           ChangeTimerQueueTimer   (kernel32_tp.@)
 *
 * The queue handle is not needed: a timer knows its queue (Windows accepts
 * another queue's handle too).
 */
BOOL WINAPI ChangeTimerQueueTimer(HANDLE queue, HANDLE timer, ULONG due_ms, ULONG period_ms)
{
    return os_bool_result(queue_timer_change(__func__, queue, timer, due_ms, period_ms));
}

/***********************************************************************
 *           DeleteTimerQueueTimer   (kernel32_tp.@)
 *
 * FALSE with ERROR_IO_PENDING when callbacks were still queued or running
 * (the timer is deleted all the same); an event given is set once they are
 * done, even when the call comes from the timer's own callback.
 */
BOOL WINAPI DeleteTimerQueueTimer(HANDLE queue, HANDLE timer, HANDLE event)
{
    return os_bool_result(queue_timer_delete(__func__, queue, timer, event));
}

/***********************************************************************
 *           CancelTimerQueueTimer   (kernel32_tp.@)
 *
 * The Windows 2000 name of DeleteTimerQueueTimer with no event.
 */
BOOL WINAPI CancelTimerQueueTimer(HANDLE queue, HANDLE timer)
{
    return os_bool_result(queue_timer_delete(__func__, queue, timer, NULL));
}

/***********************************************************************
 *           DeleteTimerQueueEx   (kernel32_tp.@)
 *
 * TRUE unless the queue is invalid (NULL, the default queue, deleted), as
 * on Windows since Vista; a blocking call from one of the queue's own
 * callbacks does not wait and reports ERROR_IO_PENDING.
 */
BOOL WINAPI DeleteTimerQueueEx(HANDLE queue, HANDLE event)
{
    return os_bool_result(queue_delete(__func__, queue, event));
}

/***********************************************************************
 *           DeleteTimerQueue   (kernel32_tp.@)
 */
BOOL WINAPI DeleteTimerQueue(HANDLE queue)
{
    return os_bool_result(queue_delete(__func__, queue, NULL));
}

/***********************************************************************
 *           RtlCreateTimerQueue   (kernel32_tp.@)
 */
NTSTATUS WINAPI RtlCreateTimerQueue(HANDLE *out)
{
    TRACE("%p\n", (void *)out);
    return tp_status_from_error(queue_new(out));
}

/***********************************************************************
 *           RtlCreateTimer   (kernel32_tp.@)
 *
 * CreateTimerQueueTimer with the queue first and an NTSTATUS result.
 */
NTSTATUS WINAPI RtlCreateTimer(HANDLE queue, HANDLE *out, WAITORTIMERCALLBACK callback,
                               PVOID context, DWORD due_ms, DWORD period_ms, ULONG flags)
{
    TRACE("%p %p %p %p %lu %lu %#lx\n", queue, (void *)out, (void *)callback, context,
          (unsigned long)due_ms, (unsigned long)period_ms, (unsigned long)flags);
    return tp_status_from_error(queue_timer_create(queue, out, callback, context, due_ms,
                                                   period_ms, flags));
}

/***********************************************************************
 *           RtlUpdateTimer   (kernel32_tp.@)
 */
NTSTATUS WINAPI RtlUpdateTimer(HANDLE queue, HANDLE timer, DWORD due_ms, DWORD period_ms)
{
    return tp_status_from_error(queue_timer_change(__func__, queue, timer, due_ms, period_ms));
}

/***********************************************************************
 *           RtlDeleteTimer   (kernel32_tp.@)
 *
 * STATUS_PENDING where DeleteTimerQueueTimer fails with ERROR_IO_PENDING.
 */
NTSTATUS WINAPI RtlDeleteTimer(HANDLE queue, HANDLE timer, HANDLE event)
{
    return tp_status_from_error(queue_timer_delete(__func__, queue, timer, event));
}

/***********************************************************************
 *           RtlDeleteTimerQueueEx   (kernel32_tp.@)
 */
NTSTATUS WINAPI RtlDeleteTimerQueueEx(HANDLE queue, HANDLE event)
{
    return tp_status_from_error(queue_delete(__func__, queue, event));
}

/***********************************************************************
 *           RtlDeleteTimerQueue   (kernel32_tp.@)
 *
 * RtlDeleteTimerQueueEx with no event: it does not wait, as on Windows.
 */
NTSTATUS WINAPI RtlDeleteTimerQueue(HANDLE queue)
{
    return tp_status_from_error(queue_delete(__func__, queue, NULL));
}

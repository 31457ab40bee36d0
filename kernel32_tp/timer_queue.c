/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy timer queues: CreateTimerQueue, CreateTimerQueueTimer,
 * ChangeTimerQueueTimer, DeleteTimerQueueTimer, DeleteTimerQueue(Ex),
 * CancelTimerQueueTimer and SetTimerQueueTimer.
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
 * Takes T (the queues' lock) alone or before Q; destroys objects with no
 * lock held.
 */
#include <stdlib.h>

#include "tp_private.h"

#define TP_TIMER_QUEUE_MAGIC 0x54505451u    /* "TPTQ" */
#define TP_QUEUE_TIMER_MAGIC 0x54505154u    /* "TPQT" */

struct tp_timer_queue {
    struct os_stamp stamp;          /* (c) first: ours (os.h, ownership stamps) */
    unsigned int magic;             /* (c) TP_TIMER_QUEUE_MAGIC until freed */
    BOOL is_default;                /* (c) the default queue is never deleted */
    struct list timers;             /* (T) its timers not yet deleted */
    LONG live;                      /* (T) its timers not yet destroyed */
    BOOL deleted;                   /* (T) DeleteTimerQueueEx ran */
    BOOL deleting;                  /* (T) DeleteTimerQueueEx is still using the queue */
    HANDLE completion_event;        /* (T) set when the deleted queue's last timer goes */
};

struct tp_queue_timer {
    struct tp_timer timer;          /* (c) first: a timer object */
    unsigned int magic;             /* (c) TP_QUEUE_TIMER_MAGIC until freed */
    struct tp_timer_queue *queue;   /* (c) */
    struct list entry;              /* (T) in queue->timers until deleted */
    BOOL deleted;                   /* (T) DeleteTimerQueueTimer (or the queue's) ran */
    HANDLE completion_event;        /* (T) set when the timer is destroyed */
};

static struct {
    struct os_lock lock;            /* T */
    struct os_cond cond;            /* (T) blocking queue deletions wait here */
    struct tp_timer_queue *default_queue; /* (T) created on first use, never freed */
} queues;
static _Atomic int queues_state;    /* 0: not set up, 1: being set up, 2: ready */

/* The queue timer whose callback this thread is running, if any. */
static _Thread_local struct tp_queue_timer *queue_timer_current;

static void queues_setup(void)
{
    int expected = 0;

    if (atomic_load_explicit(&queues_state, memory_order_acquire) == 2)
        return;
    if (atomic_compare_exchange_strong(&queues_state, &expected, 1)) {
        os_lock_init(&queues.lock);
        os_cond_init(&queues.cond);
        atomic_store_explicit(&queues_state, 2, memory_order_release);
    }
    while (atomic_load_explicit(&queues_state, memory_order_acquire) != 2)
        ;
}

static void queue_timer_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    struct tp_queue_timer *qt = (struct tp_queue_timer *)obj;
    WAITORTIMERCALLBACK callback = (WAITORTIMERCALLBACK)obj->callback;
    struct tp_queue_timer *outer = queue_timer_current;

    (void)inst;
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

static void queue_free(struct tp_timer_queue *queue)
{
    queue->magic = 0;
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
    qt->magic = 0;
    queue->live--;
    if (queue->deleted && queue->live == 0) {
        if (queue->deleting) {
            os_cond_broadcast(&queues.cond);
        } else {
            queue_event = queue->completion_event;
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
    queue->magic = TP_TIMER_QUEUE_MAGIC;
    list_init(&queue->timers);
    *out = queue;
    return ERROR_SUCCESS;
}

/* NULL names the default queue, created on first use. */
static DWORD queue_from_handle(HANDLE handle, struct tp_timer_queue **out)
{
    struct tp_timer_queue *queue = handle, *created;
    DWORD err;

    if (queue) {
        if (queue->magic != TP_TIMER_QUEUE_MAGIC)
            return ERROR_INVALID_HANDLE;
        *out = queue;
        return ERROR_SUCCESS;
    }
    os_lock_acquire(&queues.lock);
    queue = queues.default_queue;
    os_lock_release(&queues.lock);
    if (queue) {
        *out = queue;
        return ERROR_SUCCESS;
    }
    if ((err = queue_create(&created)) != ERROR_SUCCESS)
        return err;
    created->is_default = TRUE;
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

static DWORD queue_timer_from_handle(HANDLE handle, struct tp_queue_timer **out)
{
    struct tp_queue_timer *qt = handle;

    if (!qt)
        return ERROR_INVALID_PARAMETER;
    if (qt->magic != TP_QUEUE_TIMER_MAGIC)
        return ERROR_INVALID_HANDLE;
    *out = qt;
    return ERROR_SUCCESS;
}

/* DueTime in milliseconds from now, as a FILETIME-rule relative due time. */
static LONGLONG due_from_ms(DWORD due_ms)
{
    return -(LONGLONG)due_ms * 10000;
}

/*
 * Creates a timer in queue (NULL: the default queue) and arms it.  The
 * flags only choose the callback environment: WT_EXECUTELONGFUNCTION makes
 * callbacks long; WT_EXECUTEONLYONCE changes nothing (the period decides, as
 * on Windows and Wine); the thread-choosing flags need nothing of ours.
 */
static DWORD queue_timer_create(HANDLE queue_handle, WAITORTIMERCALLBACK callback, void *context,
                                DWORD due_ms, DWORD period_ms, ULONG flags,
                                struct tp_queue_timer **out)
{
    TP_CALLBACK_ENVIRON env = { 0 };
    struct tp_timer_queue *queue;
    struct tp_queue_timer *qt;
    struct tp_timer *timer;
    LONGLONG due_100ns = due_from_ms(due_ms);
    DWORD err;

    queues_setup();
    if ((err = queue_from_handle(queue_handle, &queue)) != ERROR_SUCCESS)
        return err;
    env.Version = 3;
    env.CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
    env.Size = sizeof(env);
    if (flags & WT_EXECUTELONGFUNCTION)
        env.u.s.LongFunction = 1;
    if ((err = tp_timer_create(sizeof(*qt), queue_timer_invoke, &queue_timer_ops,
                               (void *)callback, context, &env, &timer)) != ERROR_SUCCESS)
        return err;
    qt = (struct tp_queue_timer *)timer;
    qt->magic = TP_QUEUE_TIMER_MAGIC;
    qt->queue = queue;

    os_lock_acquire(&queues.lock);
    if (queue->deleted) {
        os_lock_release(&queues.lock);
        /* Never armed and in no queue: nothing to count, nothing to set. */
        qt->timer.obj.ops = NULL;
        tp_timer_shutdown(&qt->timer.obj);
        tp_object_close(&qt->timer.obj);
        return ERROR_INVALID_HANDLE;
    }
    list_add_tail(&queue->timers, &qt->entry);
    queue->live++;
    /* Armed under T (T -> Q): a concurrent deletion of the queue cannot
     * shut the timer down between publication and arming. */
    tp_timer_service_set(&qt->timer, &due_100ns, period_ms, 0, FALSE);
    os_lock_release(&queues.lock);
    *out = qt;
    return ERROR_SUCCESS;
}

/*
 * Windows changes a periodic timer, or a one-shot timer that has not fired
 * yet; a one-shot timer that fired stays as it is, and the call succeeds.
 */
static DWORD queue_timer_change(HANDLE timer_handle, DWORD due_ms, DWORD period_ms)
{
    struct tp_queue_timer *qt;
    LONGLONG due_100ns = due_from_ms(due_ms);
    DWORD err;

    if ((err = queue_timer_from_handle(timer_handle, &qt)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&queues.lock);
    if (qt->deleted)
        err = ERROR_INVALID_HANDLE;
    else
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

static DWORD queue_timer_delete(HANDLE timer_handle, HANDLE event)
{
    struct tp_queue_timer *qt;
    DWORD err;

    if ((err = queue_timer_from_handle(timer_handle, &qt)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&queues.lock);
    if (qt->deleted) {
        os_lock_release(&queues.lock);
        return ERROR_INVALID_HANDLE;
    }
    qt->deleted = TRUE;
    list_remove(&qt->entry);
    if (event != INVALID_HANDLE_VALUE)
        qt->completion_event = event;
    os_lock_release(&queues.lock);
    return queue_timer_release(qt, event == INVALID_HANDLE_VALUE);
}

static DWORD queue_delete(HANDLE queue_handle, HANDLE event)
{
    struct tp_timer_queue *queue = queue_handle;
    struct tp_queue_timer *qt, *self = queue_timer_current;
    BOOL wait = event == INVALID_HANDLE_VALUE;
    struct list timers;
    DWORD err = ERROR_SUCCESS;

    if (!queue || queue->magic != TP_TIMER_QUEUE_MAGIC || queue->is_default)
        return ERROR_INVALID_HANDLE;
    queues_setup();
    list_init(&timers);
    os_lock_acquire(&queues.lock);
    if (queue->deleted) {
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
    struct tp_timer_queue *queue;
    DWORD err;

    TRACE("\n");
    queues_setup();
    if ((err = queue_create(&queue)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    atomic_fetch_add(&tp_live_objects, 1);
    return queue;
}

/***********************************************************************
 *           CreateTimerQueueTimer   (kernel32_tp.@)
 */
BOOL WINAPI CreateTimerQueueTimer(PHANDLE out, HANDLE queue, WAITORTIMERCALLBACK callback,
                                  PVOID context, DWORD due_ms, DWORD period_ms, ULONG flags)
{
    struct tp_queue_timer *qt;
    DWORD err;

    TRACE("%p %p %p %p %lu %lu %#lx\n", (void *)out, queue, (void *)callback, context,
          (unsigned long)due_ms, (unsigned long)period_ms, (unsigned long)flags);
    if (!out)
        err = ERROR_INVALID_PARAMETER;
    else
        err = queue_timer_create(queue, callback, context, due_ms, period_ms, flags, &qt);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    *out = qt;
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
    struct tp_queue_timer *qt;
    DWORD err;

    TRACE("%p %p %p %lu %lu %d\n", queue, (void *)callback, context, (unsigned long)due_ms,
          (unsigned long)period_ms, prefer_io);
    if ((err = queue_timer_create(queue, callback, context, due_ms, period_ms,
                                  prefer_io ? WT_EXECUTEINIOTHREAD : WT_EXECUTEDEFAULT, &qt))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return qt;
}

/***********************************************************************
 *           ChangeTimerQueueTimer   (kernel32_tp.@)
 *
 * The queue handle is not needed: a timer knows its queue (Windows accepts
 * another queue's handle too).
 */
BOOL WINAPI ChangeTimerQueueTimer(HANDLE queue, HANDLE timer, ULONG due_ms, ULONG period_ms)
{
    DWORD err;

    TRACE("%p %p %lu %lu\n", queue, timer, (unsigned long)due_ms, (unsigned long)period_ms);
    if ((err = queue_timer_change(timer, due_ms, period_ms)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
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
    DWORD err;

    TRACE("%p %p %p\n", queue, timer, event);
    if ((err = queue_timer_delete(timer, event)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           CancelTimerQueueTimer   (kernel32_tp.@)
 *
 * The Windows 2000 name of DeleteTimerQueueTimer with no event.
 */
BOOL WINAPI CancelTimerQueueTimer(HANDLE queue, HANDLE timer)
{
    DWORD err;

    TRACE("%p %p\n", queue, timer);
    if ((err = queue_timer_delete(timer, NULL)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
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
    DWORD err;

    TRACE("%p %p\n", queue, event);
    if ((err = queue_delete(queue, event)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           DeleteTimerQueue   (kernel32_tp.@)
 */
BOOL WINAPI DeleteTimerQueue(HANDLE queue)
{
    DWORD err;

    TRACE("%p\n", queue);
    if ((err = queue_delete(queue, NULL)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

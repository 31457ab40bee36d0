/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_IO: a callback object fed by the platform's I/O completions
 * (os_io_bind, os.h), one callback per completed operation, each with that
 * operation's OVERLAPPED, status and byte count.  Its callbacks are
 * ordinary callback instances.
 *
 * The caller announces each operation with StartThreadpoolIo and takes the
 * announcement back with CancelThreadpoolIo when the operation did not
 * start; a completion that nobody announced is dropped.  Drains
 * (WaitForThreadpoolIoCallbacks, group closes) wait for announced
 * operations too; a cancelling drain gives up on them instead (issued or
 * not).  As on Windows these are counts, not pairs: a completion goes to
 * an announced operation first, else pays off a given-up one without a
 * callback.  Closing the object with announced operations in flight keeps
 * it until they completed and their callbacks ran: an announced operation
 * holds a reference.  So do the given-up operations, as on Windows: a
 * closed object stays until a completion came for each of them, or until
 * the platform reports that its binding ended (the file was closed; no
 * completion comes any more), whichever is first: nothing leaks when an
 * operation given up on was never issued (docs/io.md).
 *
 * That last reference goes under the platform's binding lock, where the
 * object cannot be destroyed (the destroy hook unbinds, which takes that
 * lock).  So each object has a reaper, an internal work object made with
 * it: when dropping the reference there would finish the object, the
 * reaper is queued instead and drops it on a worker.
 *
 * The completion records are the platform's packets, queued here in FIFO
 * order, one per queued callback: completing allocates nothing.  The worker
 * that starts a callback takes the oldest packet.
 *
 * Takes P.  The platform calls io_complete under its binding lock (I -> P).
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_IO
#include "tp_private.h"

struct tp_io {
    struct tp_object obj;               /* (c) first: see impl_from_TP_IO() */
    struct os_io_binding *binding;      /* (c) */
    BOOL every_completion;              /* (c) no announcements (BindIoCompletionCallback) */
    /* (a) announced operations not completed nor cancelled; changed under P,
     * except that StartThreadpoolIo adds one without P while it is above 0
     * (io_start): under P it never leaves 0 without P, and only grows
     * without P, so a reader under P that sees 0 sees 0 until it lets go. */
    _Atomic LONG started;
    LONG skipped;                       /* (P) operations a cancelling drain gave up on */
    struct tp_work *reaper;             /* (c) drops the given-up operations' reference;
                                         * NULL for every_completion */
    BOOL ended;                         /* (P) the binding ended: nothing completes */
    struct os_io_packet *head;          /* (P) completions of queued callbacks, oldest first */
    struct os_io_packet *tail;          /* (P) */
    LONG packets;                       /* (P) how many: obj->pending + callbacks starting */
};

#define impl_from_TP_IO(api) \
    ((struct tp_io *)tp_object_checked((api), TP_OBJECT_IO, __func__))

static struct tp_io *io_from_object(struct tp_object *obj)
{
    TP_ASSERT(obj->type == TP_OBJECT_IO);
    return (struct tp_io *)obj;
}

/* ---- announcements and their reference ---------------------------------------- */

/*
 * One operation fewer in flight.  The last one drops the reference that
 * operations in flight hold; returns TRUE when that finished the object
 * (the caller destroys it after dropping P).
 * Locking: P.
 */
static BOOL io_operation_done_locked(struct tp_io *io)
{
    TP_ASSERT_LOCKED(&io->obj.pool->lock);
    TP_ASSERT(io->started > 0);
    if (--io->started > 0)
        return FALSE;
    io->obj.refs--;
    tp_object_wake_drainers_locked(&io->obj);
    return tp_object_finished_locked(&io->obj);
}

/*
 * One more announced operation.  While others are in flight (started > 0)
 * the operations' reference is held already and a drain waits for them
 * anyway: one more needs no P (a callback that starts its next read and
 * write announces the second this way).  Only the step from 0, which takes
 * the reference, takes P.  Takes P.
 */
static void io_start(struct tp_io *io)
{
    struct tp_pool *pool = io->obj.pool;
    LONG started = atomic_load_explicit(&io->started, memory_order_relaxed);

    while (started > 0) {
        if (atomic_compare_exchange_weak_explicit(&io->started, &started, started + 1,
                                                  memory_order_seq_cst, memory_order_relaxed))
            return;
    }
    os_lock_acquire(&pool->lock);
    if (io->obj.closed)
        os_panic("StartThreadpoolIo: I/O object %p used after it was closed", (void *)io);
    if (io->started++ == 0)
        io->obj.refs++;     /* the operations in flight keep the object */
    os_lock_release(&pool->lock);
}

static void io_cancel(struct tp_io *io)
{
    struct tp_pool *pool = io->obj.pool;
    BOOL finished;

    os_lock_acquire(&pool->lock);
    if (io->started == 0)
        os_panic("CancelThreadpoolIo: I/O object %p has no operation started", (void *)io);
    finished = io_operation_done_locked(io);
    os_lock_release(&pool->lock);
    if (finished)
        tp_object_destroy(&io->obj);
}

/*
 * No given-up operation is left (skipped reached 0, or the binding ended):
 * their reference goes.  Under the binding lock the object must not be
 * destroyed, so when that reference is the last thing holding it the
 * reaper drops it instead.  Returns the reaper's dispatch.
 * Locking: P (and the platform's binding lock).
 */
static enum tp_dispatch io_given_up_done_locked(struct tp_io *io)
{
    TP_ASSERT_LOCKED(&io->obj.pool->lock);
    TP_ASSERT(io->reaper != NULL);
    if (io->obj.refs == 1 && io->obj.pending == 0 && io->obj.running == 0)
        return tp_object_queue_locked(&io->reaper->obj, 1);
    io->obj.refs--;
    return TP_DISPATCH_NONE;
}

/* The reaper's callback, on a worker with no lock held: the last reference
 * of the object goes, and with it the object (io_destroy closes the reaper). */
static void CALLBACK io_reap(PTP_CALLBACK_INSTANCE inst, void *userdata, PTP_WORK work)
{
    struct tp_io *io = userdata;

    (void)inst;
    (void)work;
    TRACE("I/O object %p: the last operation given up on is over\n", (void *)io);
    tp_object_unref(&io->obj);
}

/* ---- completions ---------------------------------------------------------------- */

/*
 * The platform's completion function: queues one callback carrying packet,
 * or drops the packet when no operation was announced for it.  A NULL
 * packet says the binding ended: no completion comes any more, so the
 * operations given up on are over.  Runs on a platform thread under its
 * binding lock; never blocks.
 */
static void io_complete(void *key, struct os_io_packet *packet)
{
    struct tp_io *io = key;
    struct tp_object *obj = &io->obj;
    struct tp_pool *pool = obj->pool;
    enum tp_dispatch action = TP_DISPATCH_NONE;

    os_lock_acquire(&pool->lock);
    if (!packet) {
        io->ended = TRUE;
        if (io->skipped) {
            io->skipped = 0;
            action = io_given_up_done_locked(io);
        }
        os_lock_release(&pool->lock);
        tp_sched_dispatch_finish(pool, action);
        return;
    }
    if (!io->every_completion) {
        /* Windows counts, it does not match completions to announcements:
         * an announced operation takes the completion first, and only then
         * does a completion count against the operations a cancelling
         * drain gave up on (docs/io.md). */
        if (!io->started) {
            if (io->skipped && --io->skipped == 0)
                action = io_given_up_done_locked(io);
            goto drop;
        }
        /* Cannot finish the object: the callback queued below holds it.
         * The count may have grown since (io_start): the decrement's own
         * result says whether this was the last. */
        if (atomic_fetch_sub_explicit(&io->started, 1, memory_order_seq_cst) == 1) {
            io->obj.refs--;
            tp_object_wake_drainers_locked(obj);
        }
    }
    packet->next = NULL;
    if (io->tail)
        io->tail->next = packet;
    else
        io->head = packet;
    io->tail = packet;
    io->packets++;
    /* Not tp_object_submit: a closed object still gets the callbacks of the
     * operations it had in flight. */
    action = tp_object_queue_locked(obj, 1);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
    return;

drop:
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
    TRACE("I/O object %p: completion of %p dropped (not announced)\n", (void *)io,
          (void *)packet->overlapped);
    os_io_packet_release(packet);
}

void tp_io_take_completion(struct tp_object *obj, struct tp_io_completion *completion)
{
    struct tp_io *io = io_from_object(obj);
    struct os_io_packet *packet;

    os_lock_acquire(&obj->pool->lock);
    /* Every queued or starting callback has its packet (see io_cancel_locked). */
    packet = io->head;
    TP_ASSERT(packet != NULL);
    io->head = packet->next;
    if (!io->head)
        io->tail = NULL;
    io->packets--;
    os_lock_release(&obj->pool->lock);
    completion->overlapped = packet->overlapped;
    completion->status = packet->status;
    completion->err = packet->err;
    completion->bytes = packet->bytes;
    os_io_packet_release(packet);
}

/* ---- object hooks ---------------------------------------------------------------- */

/*
 * A cancel drops the obj->pending newest callbacks: their packets are the
 * newest ones, at the tail (the older ones belong to callbacks that workers
 * are starting).  Announced operations are given up on.
 * Locking: P.
 */
static void io_cancel_locked(struct tp_object *obj)
{
    struct tp_io *io = io_from_object(obj);
    struct os_io_packet *keep_last = NULL, *packet, *next;
    LONG keep = io->packets - obj->pending, i, started;

    TP_ASSERT_LOCKED(&obj->pool->lock);
    TP_ASSERT(keep >= 0);
    if (obj->pending) {
        packet = io->head;
        for (i = 0; i < keep; i++) {
            keep_last = packet;
            packet = packet->next;
        }
        if (keep_last)
            keep_last->next = NULL;
        else
            io->head = NULL;
        io->tail = keep_last;
        io->packets = keep;
        for (; packet; packet = next) {
            next = packet->next;
            os_io_packet_release(packet);
        }
    }
    /* Taken whole: an io_start racing this sees 0 and waits for P. */
    started = atomic_exchange_explicit(&io->started, 0, memory_order_seq_cst);
    if (started) {
        /* The announced operations' reference passes to the given-up ones,
         * unless those hold one already.  The caller (a drain) holds a
         * reference of its own: never the last. */
        if (io->skipped || io->ended)
            io->obj.refs--;
        else if (io->binding)
            os_io_watch(io->binding);   /* the binding's end ends them too */
        /* After the end of the binding nothing can complete them. */
        if (!io->ended)
            io->skipped += started;
        TP_ASSERT(io->obj.refs > 0);
    }
}

static BOOL io_busy_locked(struct tp_object *obj)
{
    return io_from_object(obj)->started > 0;
}

static void io_destroy(struct tp_object *obj)
{
    struct tp_io *io = io_from_object(obj);

    /* After this no completion can reach the object. */
    os_io_unbind(io->binding);
    TP_ASSERT(io->packets == 0);
    /* From inside its own callback when it reaped the object: the worker
     * destroys it once that returns. */
    if (io->reaper)
        tp_object_close(&io->reaper->obj);
}

static void io_free(struct tp_object *obj)
{
    os_io_object_free(io_from_object(obj));
}

static const struct tp_object_ops io_ops = {
    .destroy = io_destroy,
    .free = io_free,
    .cancel_locked = io_cancel_locked,
    .busy_locked = io_busy_locked,
};

/* ---- creation and the callbacks -------------------------------------------------- */

DWORD tp_io_create(HANDLE file, tp_invoke_fn invoke, void *callback, void *userdata,
                   const TP_CALLBACK_ENVIRON *env, BOOL every_completion, struct tp_io **out)
{
    TP_CALLBACK_ENVIRON reaper_env = { 0 };
    struct tp_io *io;
    DWORD err;

    if (!callback)
        return ERROR_INVALID_PARAMETER;
    if (!(io = os_io_object_alloc(sizeof(*io))))
        return ERROR_NOT_ENOUGH_MEMORY;
    io->every_completion = every_completion;
    io->obj.ops = &io_ops;
    /* Bound before the object exists for its group: a failure leaves no
     * trace.  No completion can come before the caller starts operations. */
    if ((err = os_io_bind(file, io_complete, io, every_completion ? NULL : &io->binding))
        != ERROR_SUCCESS)
        goto fail_bind;
    if ((err = tp_object_init(&io->obj, TP_OBJECT_IO, invoke, callback, userdata, env))
        != ERROR_SUCCESS)
        goto fail_init;
    if (!every_completion) {
        /* Made now: the object may outlive its pool's handle and its own,
         * and the reaper is needed where nothing can be allocated. */
        reaper_env.Version = 3;
        reaper_env.Pool = (PTP_POOL)io->obj.pool;
        reaper_env.CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
        reaper_env.Size = sizeof(reaper_env);
        if ((err = tp_work_create(io_reap, io, &reaper_env, &io->reaper)) != ERROR_SUCCESS) {
            /* Joined its group and pool: it goes the way every object goes. */
            tp_object_close(&io->obj);
            return err;
        }
    }
    *out = io;
    return ERROR_SUCCESS;

fail_init:
    /* A file bound for its life cannot be unbound: the object must stay.
     * tp_object_init fails only on the environment, which the legacy
     * caller builds itself. */
    TP_ASSERT(!every_completion);
    os_io_unbind(io->binding);
fail_bind:
    os_io_object_free(io);
    return err;
}

DWORD tp_io_bind_file(struct tp_io *io, HANDLE file)
{
    TP_ASSERT(io->every_completion);
    return os_io_bind(file, io_complete, io, NULL);
}

static void io_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    PTP_WIN32_IO_CALLBACK callback = (PTP_WIN32_IO_CALLBACK)obj->callback;
    struct tp_io_completion completion;

    tp_io_take_completion(obj, &completion);
    TRACE("I/O callback %p(%p, %p, %p, %lu, %lu, %p)\n", obj->callback, (void *)inst,
          obj->userdata, (void *)completion.overlapped, (unsigned long)completion.err,
          (unsigned long)completion.bytes, (void *)obj);
    callback((PTP_CALLBACK_INSTANCE)inst, obj->userdata, completion.overlapped, completion.err,
             completion.bytes, (PTP_IO)obj);
    TRACE("I/O callback %p returned\n", obj->callback);
}

static void io_invoke_nt(struct tp_object *obj, struct tp_instance *inst)
{
    tp_io_nt_callback callback = (tp_io_nt_callback)obj->callback;
    struct tp_io_completion completion;
    IO_STATUS_BLOCK iosb;

    tp_io_take_completion(obj, &completion);
    iosb.Status = completion.status;
    iosb.Information = completion.bytes;
    TRACE("I/O callback %p(%p, %p, %p, %#lx, %lu, %p)\n", obj->callback, (void *)inst,
          obj->userdata, (void *)completion.overlapped, (unsigned long)completion.status,
          (unsigned long)completion.bytes, (void *)obj);
    callback((PTP_CALLBACK_INSTANCE)inst, obj->userdata, completion.overlapped, &iosb,
             (TP_IO *)obj);
    TRACE("I/O callback %p returned\n", obj->callback);
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateThreadpoolIo   (kernel32_tp.@)
 *
 * A file can be bound once: a second object for it fails with
 * ERROR_INVALID_PARAMETER, as a second completion port does, and so does
 * a file opened without FILE_FLAG_OVERLAPPED (test_io.c).
 */
PTP_IO WINAPI CreateThreadpoolIo(HANDLE file, PTP_WIN32_IO_CALLBACK callback, PVOID userdata,
                                 PTP_CALLBACK_ENVIRON env)
{
    struct tp_io *io;
    DWORD err;

    TRACE("%p %p %p %p\n", file, (void *)callback, userdata, (void *)env);
    TP_CHECK_ENV(env);
    if ((err = tp_io_create(file, io_invoke, (void *)callback, userdata, env, FALSE, &io))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return (PTP_IO)io;
}

/***********************************************************************
 *           TpAllocIoCompletion   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpAllocIoCompletion(TP_IO **out, HANDLE file, tp_io_nt_callback callback,
                                    void *userdata, TP_CALLBACK_ENVIRON *env)
{
    struct tp_io *io;
    DWORD err;

    TRACE("%p %p %p %p %p\n", (void *)out, file, (void *)callback, userdata, (void *)env);
    TP_CHECK_ENV(env);
    if (!out)
        return tp_status_from_error(ERROR_INVALID_PARAMETER);
    if ((err = tp_io_create(file, io_invoke_nt, (void *)callback, userdata, env, FALSE, &io))
        != ERROR_SUCCESS)
        return tp_status_from_error(err);
    *out = (TP_IO *)io;
    return 0;
}

/***********************************************************************
 *           StartThreadpoolIo   (kernel32_tp.@)
 */
VOID WINAPI StartThreadpoolIo(PTP_IO api)
{
    TRACE("%p\n", (void *)api);
    TP_CHECK(api, TP_CHECK_IO, TP_CHECK_USE);
    io_start(impl_from_TP_IO(api));
}

/***********************************************************************
 *           CancelThreadpoolIo   (kernel32_tp.@)
 *
 * Without a StartThreadpoolIo to take back, Windows corrupts its count;
 * kernel32_tp stops the process with a message.
 */
VOID WINAPI CancelThreadpoolIo(PTP_IO api)
{
    TRACE("%p\n", (void *)api);
    TP_CHECK(api, TP_CHECK_IO, TP_CHECK_USE);
    io_cancel(impl_from_TP_IO(api));
}

/***********************************************************************
 *           WaitForThreadpoolIoCallbacks   (kernel32_tp.@)
 *
 * Also waits for the operations announced by StartThreadpoolIo to complete
 * and their callbacks to return.  With cancel_pending, drops the queued
 * callbacks and gives up on the announced operations: their completions
 * run no callback (test_io.c).
 */
VOID WINAPI WaitForThreadpoolIoCallbacks(PTP_IO api, BOOL cancel_pending)
{
    tp_object_drain_export(__func__, api, TP_OBJECT_IO, cancel_pending);
}

/***********************************************************************
 *           CloseThreadpoolIo   (kernel32_tp.@)
 *
 * With operations in flight the object stays until they completed and
 * their callbacks returned (test_io.c).
 */
VOID WINAPI CloseThreadpoolIo(PTP_IO api)
{
    tp_object_close_export(__func__, api, TP_OBJECT_IO);
}

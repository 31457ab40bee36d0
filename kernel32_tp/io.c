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
 * that starts a callback takes the oldest packet, under the FIFO's spin
 * lock (a leaf, also taken under P), without P.
 *
 * When the last announced operation completes, the operations' reference
 * stays with the callback that completion queues, so that the callback's
 * StartThreadpoolIo for the next operation takes no P; the callback drops
 * it on return if it announced nothing (docs/io.md).
 *
 * Takes P.  The platform calls io_complete under its binding lock (I -> P).
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_IO
#include "tp_private.h"
#include "spin_lock.h"

struct tp_io {
    struct tp_object obj;               /* (c) first: see impl_from_TP_IO() */
    struct os_io_binding *binding;      /* (c) */
    BOOL every_completion;              /* (c) no announcements (BindIoCompletionCallback) */
    /* (a) IO_STARTED_ONE times the announced operations not completed nor
     * cancelled, | IO_OPS_REF while the object holds the operations'
     * reference (io_start).  The count changes under P, except that
     * StartThreadpoolIo adds one without P while IO_OPS_REF is set; the
     * bit is set under P and cleared only from exactly IO_OPS_REF (no
     * operation announced), under P or by the callback that returns
     * (io_callback_returned), which then drops the reference under P. */
    _Atomic LONG started;
    LONG skipped;                       /* (P) operations a cancelling drain gave up on */
    struct tp_work *reaper;             /* (c) drops the given-up operations' reference;
                                         * NULL for every_completion */
    BOOL ended;                         /* (P) the binding ended: nothing completes */
    /* The completions of queued callbacks, oldest first, under a spin lock
     * held for a few instructions (spin_lock.h), so that a worker
     * starting a callback takes its packet without P.  Linked, and dropped
     * from the tail by a cancel, under P as well: there the count of
     * packets not taken yet is obj->pending plus the callbacks starting. */
    _Atomic LONG packets_lock;          /* (a) */
    struct os_io_packet *head;          /* (packets_lock) */
    struct os_io_packet *tail;          /* (packets_lock) */
    LONG packets;                       /* (packets_lock) how many */
};

/* The parts of tp_io.started. */
#define IO_OPS_REF 1
#define IO_STARTED_ONE 2

#define impl_from_TP_IO(api) \
    ((struct tp_io *)tp_object_checked((api), TP_OBJECT_IO, __func__))

static struct tp_io *io_from_object(struct tp_object *obj)
{
    TP_ASSERT(obj->type == TP_OBJECT_IO);
    return (struct tp_io *)obj;
}

/* ---- announcements and their reference ---------------------------------------- */

/* Announced operations in a tp_io.started word. */
static LONG io_announced(LONG word)
{
    return word / IO_STARTED_ONE;
}

/* Clears IO_OPS_REF if no operation is announced: TRUE when it did, and
 * the caller drops the reference under P.  Without P or under it. */
static BOOL io_ops_ref_clear(struct tp_io *io)
{
    LONG expected = IO_OPS_REF;

    return atomic_compare_exchange_strong(&io->started, &expected, 0);
}

/*
 * One operation fewer in flight.  The last one drops the reference that
 * operations in flight hold; returns TRUE when that finished the object
 * (the caller destroys it after dropping P).
 * Locking: P.
 */
static BOOL io_operation_done_locked(struct tp_io *io)
{
    LONG word;

    TP_ASSERT_LOCKED(&io->obj.pool->lock);
    word = atomic_fetch_sub(&io->started, IO_STARTED_ONE) - IO_STARTED_ONE;
    TP_ASSERT(word >= IO_OPS_REF);
    if (io_announced(word) > 0)
        return FALSE;
    tp_object_wake_drainers_locked(&io->obj);
    /* Announced again meanwhile, without P: the reference stays. */
    if (!io_ops_ref_clear(io))
        return FALSE;
    io->obj.refs--;
    return tp_object_finished_locked(&io->obj);
}

/*
 * One more announced operation.  While the object holds the operations'
 * reference (IO_OPS_REF) one more needs no P: a drain that waits for
 * announced operations looks at the count again whenever a callback of the
 * object returns or an operation completes, under P.  The reference stays
 * after the last operation completed, until the callback that completion
 * queued returns having announced nothing (io_callback_returned): so a
 * callback that starts its next read and write, the common case, announces
 * both without P.  Only a start with no reference held takes P.  Takes P.
 */
static void io_start(struct tp_io *io)
{
    struct tp_pool *pool = io->obj.pool;
    LONG word = atomic_load_explicit(&io->started, memory_order_relaxed);

    while (word & IO_OPS_REF) {
        if (atomic_compare_exchange_weak_explicit(&io->started, &word, word + IO_STARTED_ONE,
                                                  memory_order_seq_cst, memory_order_relaxed))
            return;
    }
    os_lock_acquire(&pool->lock);
    if (io->obj.closed)
        os_panic("StartThreadpoolIo: I/O object %p used after it was closed", (void *)io);
    /* Others may add without P only once the bit is set. */
    word = atomic_load_explicit(&io->started, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&io->started, &word,
                                         (word + IO_STARTED_ONE) | IO_OPS_REF))
        ;
    if (!(word & IO_OPS_REF))
        io->obj.refs++;     /* the operations in flight keep the object */
    os_lock_release(&pool->lock);
}

/*
 * A callback of io returned: when the operations' reference outlived the
 * last operation (io_complete) and the callback announced none, it goes.
 * The callback still counts as running: the object cannot finish before
 * its worker looks (tp_object_callback_done_locked).  Takes P only then.
 */
static void io_callback_returned(struct tp_io *io)
{
    struct tp_pool *pool = io->obj.pool;

    if (atomic_load_explicit(&io->started, memory_order_relaxed) != IO_OPS_REF
        || !io_ops_ref_clear(io))
        return;
    os_lock_acquire(&pool->lock);
    io->obj.refs--;
    os_lock_release(&pool->lock);
}

static void io_cancel(struct tp_io *io)
{
    struct tp_pool *pool = io->obj.pool;
    BOOL finished;

    os_lock_acquire(&pool->lock);
    if (io_announced(atomic_load(&io->started)) == 0)
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
        if (!io_announced(atomic_load(&io->started))) {
            if (io->skipped && --io->skipped == 0)
                action = io_given_up_done_locked(io);
            goto drop;
        }
        /* The count may have grown since (io_start): the decrement's own
         * result says whether this was the last.  The operations'
         * reference stays: the callback queued below is likely to announce
         * the next operation, which then takes no P; it drops the
         * reference if it does not (io_callback_returned). */
        if (io_announced(atomic_fetch_sub(&io->started, IO_STARTED_ONE)) == 1)
            tp_object_wake_drainers_locked(obj);
    }
    packet->next = NULL;
    tp_spin_lock_take(&io->packets_lock);
    if (io->tail)
        io->tail->next = packet;
    else
        io->head = packet;
    io->tail = packet;
    io->packets++;
    tp_spin_lock_drop(&io->packets_lock);
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

    tp_spin_lock_take(&io->packets_lock);
    /* Every queued or starting callback has its packet (see io_cancel_locked). */
    packet = io->head;
    TP_ASSERT(packet != NULL);
    io->head = packet->next;
    if (!io->head)
        io->tail = NULL;
    io->packets--;
    tp_spin_lock_drop(&io->packets_lock);
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
    struct os_io_packet *keep_last = NULL, *packet = NULL, *next;
    LONG keep, i, started, word;

    TP_ASSERT_LOCKED(&obj->pool->lock);
    if (obj->pending) {
        /* Workers that dequeued a callback (no longer in obj->pending) may
         * be taking their packets meanwhile: counted under the lock. */
        tp_spin_lock_take(&io->packets_lock);
        keep = io->packets - obj->pending;
        TP_ASSERT(keep >= 0);
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
        tp_spin_lock_drop(&io->packets_lock);
        for (; packet; packet = next) {
            next = packet->next;
            os_io_packet_release(packet);
        }
    }
    /* Taken whole: an io_start racing this sees 0 and waits for P. */
    word = atomic_exchange_explicit(&io->started, 0, memory_order_seq_cst);
    started = io_announced(word);
    if (!started && (word & IO_OPS_REF)) {
        /* The reference that outlived the last operation (io_complete).
         * The caller (a drain) holds a reference of its own. */
        io->obj.refs--;
    } else if (started) {
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
    return io_announced(atomic_load(&io_from_object(obj)->started)) > 0;
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
    io_callback_returned(io_from_object(obj));
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
    io_callback_returned(io_from_object(obj));
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scheduler: everything that decides which thread runs a queued
 * callback, and when a thread is added.  It owns
 *   - the pool's run queue (one FIFO of objects per priority, objects take
 *     turns) and the dispatch policy that answers a queued callback: kick
 *     the spinner, wake one idle worker, start a worker, or let the monitor
 *     watch;
 *   - the one path that adds a worker (reserve under P, start without it:
 *     sched_reserve_locked and sched_start), used by dispatch, the pool's
 *     minimum, CallbackMayRunLong and the monitor;
 *   - the worker loop: dequeue, run one callback through the object layer
 *     (tp_object_run, then tp_object_callback_done_locked hands it back),
 *     spin, sleep, retire;
 *   - the accounting of workers whose callbacks block or run long, and the
 *     CallbackMayRunLong decision;
 *   - the stall monitor: one thread per process that adds a worker to a pool
 *     whose queue made no progress for a tick.
 * pool.c keeps lifetime and limits (min, max, stack size), which the
 * scheduler reads under P.  Takes P around queue and count changes only,
 * never across user code; the monitor takes M alone or inside P (P -> M).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tp_private.h"
#include "spin_lock.h"

/* Idle workers above the pool's minimum retire after this long. */
#define TP_WORKER_IDLE_TIMEOUT_MS 2000

/*
 * A worker that finds the queue empty spins this long before it sleeps, so
 * that work submitted right after costs the submitter no wake-up system call
 * and the worker no sleep (one spinner per pool, see sched.spinner).
 */
#define TP_WORKER_SPIN_NS 20000

/*
 * Spinning pays only when work comes within the spin: a steady stream of
 * submissions.  When work comes in bursts further apart (timers expiring
 * every few tens of microseconds, say), every spin ends empty and only takes
 * the CPU that the submitters and the timer service need, which on a small
 * machine makes callbacks late.  So after TP_WORKER_SPIN_MISSES empty spins
 * in a row the workers stop spinning, and try once again every
 * TP_WORKER_SPIN_RETRY times they go idle, to notice a stream starting.
 */
#define TP_WORKER_SPIN_MISSES 4
#define TP_WORKER_SPIN_RETRY 16

/* The monitor looks at watched pools this often. */
#define TP_MONITOR_TICK_MS 15
/* How long callbacks must stay queued, though they start, before the
 * monitor judges whether the workers wait where the pool cannot see. */
#define TP_MONITOR_BACKLOG_MS 60

/* One worker thread, on its own stack. */
struct tp_worker {
    struct tp_pool *pool;           /* (c) */
    BOOL in_callback;               /* (P) running user code for the pool */
    BOOL blocked;                   /* (P) its callback sleeps in a wait */
    BOOL long_running;              /* (P) its callback declared itself long */
    BOOL counted_inactive;          /* (P) counted in sched.inactive */
    BOOL counted_returning;         /* (P) counted in sched.returning */
    _Atomic int kicked;             /* (a) set by a submitter while it spins: work came */
    struct list entry;              /* (P) in sched.workers */
    /* (a) callbacks it ran: written by this worker only (relaxed load and
     * store, no shared cache line), summed under P by tp_sched_stats_locked. */
    _Atomic ULONGLONG callbacks_run;
    /* (X) the object a simple post (struct tp_post) runs as: the instance
     * calls of its callback act on it as on any object's.  Its fields under
     * P are this worker's alone (nothing else can name it), but for the
     * instance calls of its own callback, which take P. */
    struct tp_object carrier;
    /* The simple posts of its run not started yet (worker_run_posts_locked):
     * the worker takes them one by one under run_lock, a spin lock held for
     * a few instructions; they go back to the queue (worker_give_back_locked,
     * under P) when its callback blocks or runs long, or the monitor finds
     * it stuck in one callback for a tick. */
    _Atomic LONG run_lock;          /* (a) */
    struct tp_post *run_rest;       /* (run_lock) */
    ULONGLONG run_seen;             /* (P) callbacks_run at the monitor's last look */
    /* The work object whose callbacks it runs in a row (worker_run_locked),
     * NULL between runs: a cancel of it (tp_sched_unqueue_locked) sets
     * run_cancelled, which the worker reads before each callback it took
     * off the object's count, here rather than on the object, whose count
     * the poster writes on every post. */
    struct tp_object *run_obj;      /* (P) */
    _Atomic int run_cancelled;      /* (a) set under P, read by the worker */
};

static unsigned int target_concurrency;  /* (c) once the first pool exists: CPUs, at least 2 */

static void monitor_watch(struct tp_pool *pool);

DWORD tp_sched_idle_timeout_ms(void)
{
    static _Atomic DWORD timeout_ms;
    DWORD value = atomic_load_explicit(&timeout_ms, memory_order_relaxed);
    const char *env;

    if (value)
        return value;
    /* KERNEL32_TP_IDLE_TIMEOUT_MS shortens retirement for tests of it. */
    env = os_getenv("KERNEL32_TP_IDLE_TIMEOUT_MS");
    value = env && atol(env) > 0 ? (DWORD)atol(env) : TP_WORKER_IDLE_TIMEOUT_MS;
    atomic_store_explicit(&timeout_ms, value, memory_order_relaxed);
    return value;
}

void tp_sched_init(struct tp_pool *pool)
{
    struct tp_sched *sched = &pool->sched;
    unsigned int i;

    os_cond_init(&sched->work_cond);
    for (i = 0; i < TP_PRIORITY_COUNT; i++) {
        list_init(&sched->queue[i]);
        sched->posts_tail[i] = &sched->posts[i];
    }
    list_init(&sched->monitor_entry);
    list_init(&sched->workers);
    if (!target_concurrency) {
        unsigned int cpus = os_cpu_count();
        target_concurrency = cpus < 2 ? 2 : cpus;
    }
}

void tp_sched_destroy(struct tp_pool *pool)
{
    tp_post_pool_free(pool);
    os_cond_destroy(&pool->sched.work_cond);
}

BOOL tp_sched_busy_locked(const struct tp_pool *pool)
{
    /* Queued simple posts (struct tp_post) count nowhere else. */
    return pool->sched.threads != 0 || pool->sched.watched || pool->sched.queued > 0;
}

DWORD tp_sched_threads(struct tp_pool *pool)
{
    DWORD threads;

    os_lock_acquire(&pool->lock);
    threads = pool->sched.threads;
    os_lock_release(&pool->lock);
    return threads;
}

void tp_sched_wake_idle_locked(struct tp_pool *pool)
{
    TP_ASSERT_LOCKED(&pool->lock);
    os_cond_broadcast(&pool->sched.work_cond);
}

/* ---- adding workers: the one path ------------------------------------------ */

/*
 * Counts count workers that are about to start in sched.threads, so that
 * every decision made under P sees them.  Each reservation is then carried
 * out by sched_start once P is dropped.  Locking: P.
 */
static void sched_reserve_locked(struct tp_pool *pool, DWORD count)
{
    TP_ASSERT_LOCKED(&pool->lock);
    pool->sched.threads += count;
}

static void worker_main(void *arg);

/* The worker this thread is, if it is one (set by worker_main). */
static _Thread_local struct tp_worker *sched_current_worker;

/*
 * Starts count workers reserved by sched_reserve_locked.  A worker that
 * cannot start gives its reservation back; the pool may be finished then
 * (a closed pool's last reservation), and is freed.  Without P.  Returns how
 * many started.
 */
static DWORD sched_start(struct tp_pool *pool, DWORD count)
{
    DWORD started = 0, err = ERROR_SUCCESS;
    SIZE_T stack_size;
    BOOL finished, watch;

    os_lock_acquire(&pool->lock);
    stack_size = pool->stack_reserve;
    os_lock_release(&pool->lock);
    while (started < count
           && (err = os_thread_start(worker_main, pool, stack_size)) == ERROR_SUCCESS)
        started++;
    if (started == count)
        return started;
    TRACE("cannot start a worker for pool %p: error %lu\n", (void *)pool, (unsigned long)err);
    os_lock_acquire(&pool->lock);
    pool->sched.threads -= count - started;
    /* A post cannot fail: queued callbacks that no worker is left to run
     * (the thread could not be created) are the monitor's, which tries
     * again each tick (test_faults.c). */
    watch = pool->sched.queued > 0 && !pool->sched.threads && !pool->sched.watched;
    if (watch)
        pool->sched.watched = TRUE;
    finished = tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    if (watch)
        monitor_watch(pool);
    if (finished)
        tp_pool_free(pool);
    return started;
}

BOOL tp_sched_start_workers(struct tp_pool *pool, DWORD count)
{
    DWORD missing;

    os_lock_acquire(&pool->lock);
    missing = pool->sched.threads < count ? count - pool->sched.threads : 0;
    sched_reserve_locked(pool, missing);
    os_lock_release(&pool->lock);
    return sched_start(pool, missing) == missing;
}

/* ---- the run queue and the dispatch policy --------------------------------- */

/* Workers in the pool that will come back for queued work without help. */
static DWORD sched_running_workers_locked(const struct tp_pool *pool)
{
    return pool->sched.threads - pool->sched.inactive;
}

/* Finds a worker for queued callbacks.  Locking: P. */
static enum tp_dispatch sched_dispatch_locked(struct tp_pool *pool)
{
    struct tp_sched *sched = &pool->sched;

    TP_ASSERT_LOCKED(&pool->lock);
    if (sched->queued <= 0)
        return TP_DISPATCH_NONE;
    /* A worker spinning on its way to sleep takes it with no system call. */
    if (sched->spinner) {
        atomic_store_explicit(&sched->spinner->kicked, 1, memory_order_release);
        /* One polling I/O stood in front of a spinner: the spinner takes
         * what comes next (worker_poll_io_locked). */
        sched->spinner = sched->spinner_behind;
        sched->spinner_behind = NULL;
        sched->spinner_polls = FALSE;
        return TP_DISPATCH_NONE;
    }
    /*
     * An idle worker takes it.  One wake at a time: while a woken worker
     * has not run yet it will find this work too, and if more is queued
     * when it runs it wakes the next one itself (worker_main), so that a
     * submitter of many callbacks makes one wake-up system call, not one
     * per idle worker.
     */
    if (sched->idle > sched->waking) {
        if (sched->waking)
            return TP_DISPATCH_NONE;
        sched->waking++;
        return TP_DISPATCH_WAKE;
    }
    if ((DWORD)sched->queued <= sched->waking)
        return TP_DISPATCH_NONE;
    if (sched->threads >= pool->max_threads)
        return TP_DISPATCH_NONE;
    /*
     * Keep about one running worker per CPU for short callbacks (a bounded
     * thread count for trivial work); workers whose callbacks block or run
     * long do not count, so callbacks waiting on each other get new threads
     * up to the maximum and never deadlock below it.
     */
    if (sched->threads < pool->min_threads
        || sched_running_workers_locked(pool) < target_concurrency) {
        /* Enough threads for the CPUs, but some block or run long. */
        if (sched->threads >= pool->min_threads && sched->threads >= target_concurrency)
            sched->injected_blocked++;
        sched_reserve_locked(pool, 1);
        return TP_DISPATCH_START_WORKER;
    }
    if (sched->watched)
        return TP_DISPATCH_NONE;
    /* Workers may be stuck in callbacks we cannot see: let the monitor judge. */
    sched->watched = TRUE;
    return TP_DISPATCH_WATCH;
}

void tp_sched_dispatch_finish(struct tp_pool *pool, enum tp_dispatch action)
{
    /*
     * Signalled after P is dropped: a worker woken under P would find the
     * lock taken and sleep on it once more.  The caller's object keeps the
     * pool alive until then.
     */
    if (action == TP_DISPATCH_WAKE)
        os_cond_signal(&pool->sched.work_cond);
    else if (action == TP_DISPATCH_START_WORKER)
        sched_start(pool, 1);
    else if (action == TP_DISPATCH_WATCH)
        monitor_watch(pool);
}

/* Raises the queue's high mark to queued. */
static void sched_note_depth(struct tp_sched *sched, LONG queued)
{
    LONG max = atomic_load_explicit(&sched->queued_max, memory_order_relaxed);

    while (queued > max
           && !atomic_compare_exchange_weak_explicit(&sched->queued_max, &max, queued,
                                                     memory_order_relaxed,
                                                     memory_order_relaxed))
        ;
}

/* Adds delta to what is linked at priority (sched.linked, sched.present):
 * written under P, read without it.  Locking: P. */
static void sched_count_linked_locked(struct tp_sched *sched, unsigned int priority, LONG delta)
{
    atomic_store_explicit(&sched->linked, atomic_load_explicit(&sched->linked,
                          memory_order_relaxed) + delta, memory_order_relaxed);
    atomic_store_explicit(&sched->present[priority],
                          atomic_load_explicit(&sched->present[priority], memory_order_relaxed)
                          + delta, memory_order_relaxed);
}

/* Links obj, which has no pending callback, into its queue.  Locking: P. */
static void sched_link_locked(struct tp_sched *sched, struct tp_object *obj)
{
    unsigned int priority = tp_object_priority(obj);

    list_add_tail(&sched->queue[priority], &obj->queue_entry);
    sched->objects_linked[priority]++;
    sched_count_linked_locked(sched, priority, 1);
}

/*
 * Moves the posts of the inbox into their FIFOs, oldest first, each behind
 * the object turns queued before it (struct tp_post, due_turn); they were
 * counted in sched.queued by their posts.  Called before anything is
 * queued or taken under P, so that the order of posts holds.  Locking: P.
 */
static void sched_take_inbox_locked(struct tp_sched *sched)
{
    struct tp_post *post, *next, *oldest, *newest;
    unsigned int i;
    ULONGLONG due;
    LONG count;

    for (i = 0; i < TP_PRIORITY_COUNT; i++) {
        if (!atomic_load_explicit(&sched->inbox[i].head, memory_order_relaxed))
            continue;
        newest = atomic_exchange_explicit(&sched->inbox[i].head, NULL, memory_order_acquire);
        due = sched->turns_taken[i] + (ULONGLONG)sched->objects_linked[i];
        /* Reversed in one pass: the newest, the stack's head, ends the chain. */
        for (oldest = NULL, post = newest, count = 0; post; post = next, count++) {
            next = post->next;
            post->next = oldest;
            post->due_turn = due;
            oldest = post;
        }
        *sched->posts_tail[i] = oldest;
        sched->posts_tail[i] = &newest->next;
        sched_count_linked_locked(sched, i, count);
    }
}

/*
 * A simple post skips the dispatch only while the queue is shallower than
 * this (1 MiB of records): the poster that takes P then waits its turn
 * behind the workers, which keeps a submitter far ahead of them from
 * filling memory with records (S1b peaks at 10 MiB, not 40).
 */
#define TP_POST_SKIP_DEPTH 16384

/*
 * Whether a simple post that found the inbox empty, and filled it, must
 * take P to pick a worker (sched_dispatch_locked).  Not while as many
 * workers as the CPUs will look at the inbox before they sleep
 * (sched.returning), none sleeps (sched.sleeping) and the monitor watches
 * the pool: then the dispatch would start no worker (enough of them run),
 * wake none (none sleeps: a post that waited for stuck workers while one
 * slept would wait for the monitor's tick, which only then wakes it), nor
 * arm the monitor (it is), and a spinner it might kick watches the inbox
 * itself.
 * Without P this saves the lock's cache line going back and forth between
 * a poster and workers that keep up with it, one post at a time.  Only
 * while queued, the depth the post made, is below TP_POST_SKIP_DEPTH.
 *
 * Read after the push, as a worker leaves sched.returning before its last
 * look at the inbox (worker_count_returning_locked), all seq_cst: either
 * the post sees a worker still counted, whose last look finds it, or that
 * worker's look does; a worker on its way to sleep counts in
 * sched.sleeping before it leaves sched.returning, so a post its look
 * missed sees it there.  Likewise sched.watched against the monitor, which
 * reads sched.queued again after it clears it (monitor_check_pool).
 * Without P.
 */
static BOOL sched_post_needs_dispatch(struct tp_sched *sched, LONG queued)
{
    return queued > TP_POST_SKIP_DEPTH
           || atomic_load(&sched->returning) < target_concurrency
           || atomic_load(&sched->sleeping) != 0 || !atomic_load(&sched->watched);
}

void tp_sched_post(struct tp_pool *pool, struct tp_post *post)
{
    struct tp_sched *sched = &pool->sched;
    unsigned int priority = post->dispatch & TP_OBJECT_PRIORITY_MASK;
    struct tp_post *head = atomic_load_explicit(&sched->inbox[priority].head,
                                                memory_order_relaxed);
    enum tp_dispatch action;
    LONG queued;

    /* Counted first: the figure may run ahead, never behind.  (seq_cst:
     * the monitor reads it again after it stops watching.) */
    queued = atomic_fetch_add(&sched->queued, 1) + 1;
    sched_note_depth(sched, queued);
    do
        post->next = head;
    while (!atomic_compare_exchange_weak_explicit(&sched->inbox[priority].head, &head, post,
                                                  memory_order_seq_cst, memory_order_relaxed));
    /*
     * The inbox was not empty: the post that filled it picked a worker, and
     * no worker sleeps before it empties the inbox under P.  Otherwise pick
     * one now, as a post under P does, unless the dispatch has nothing to
     * do (sched_post_needs_dispatch).
     */
    if (head || !sched_post_needs_dispatch(sched, queued))
        return;
    os_lock_acquire(&pool->lock);
    action = sched_dispatch_locked(pool);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
}

/*
 * Whether a worker runs a callback of obj now and will come back to the
 * queue when it returns: it runs obj's callbacks (worker.run_obj) and
 * neither blocks nor runs long.  Locking: P.
 */
static BOOL sched_worker_comes_back_for_locked(struct tp_sched *sched, struct tp_object *obj)
{
    const struct tp_worker *worker;
    const struct list *entry;

    for (entry = sched->workers.next; entry != &sched->workers; entry = entry->next) {
        worker = LIST_ENTRY(entry, const struct tp_worker, entry);
        if (worker->run_obj == obj && !worker->counted_inactive)
            return TRUE;
    }
    return FALSE;
}

/* Whether the calling thread is a worker running a callback of obj that
 * neither blocks nor runs long.  Locking: P. */
static BOOL sched_worker_is_running_locked(const struct tp_object *obj)
{
    const struct tp_worker *worker = sched_current_worker;

    return worker && worker->run_obj == obj && !worker->counted_inactive;
}

/*
 * obj->pending leaves and reaches 0 only under P, together with linking and
 * unlinking obj->queue_entry: an object with pending callbacks is in its
 * queue.  So a post to an object whose count is above 0 only adds to it
 * (tp_sched_enqueue_more, without P), and the object's place in the queue,
 * and the worker coming for it, are already there.
 */
enum tp_dispatch tp_sched_enqueue_locked(struct tp_object *obj, LONG count)
{
    struct tp_pool *pool = obj->pool;
    struct tp_sched *sched = &pool->sched;
    LONG queued;

    TP_ASSERT_LOCKED(&pool->lock);
    sched_take_inbox_locked(sched);
    queued = atomic_fetch_add_explicit(&sched->queued, count, memory_order_relaxed) + count;
    if (atomic_fetch_add(&obj->pending, count) == 0)
        sched_link_locked(sched, obj);
    sched_note_depth(sched, queued);
    /*
     * A post to a work object whose callback a worker runs now, with
     * nothing else queued, wakes no other worker: that worker takes it
     * when its callback returns (worker_run_locked wakes another if more
     * is queued by then).  So a submitter that the workers keep up with
     * does not pay a wake-up system call, and a woken worker does not take
     * its CPU, each time the workers empty the object (the S1 slow mode,
     * docs/performance.md).  The monitor watches the pool meanwhile, in
     * case that callback waits for this one where the pool cannot see
     * (it wakes an idle worker when no callback starts for a tick).
     * Likewise an I/O completion that a callback of the same object made
     * on this worker's thread (a write the pipe took at once), even with a
     * spinner: kicking it would move an echo's round trip to the other
     * thread at every turn, each side's data then in the other's cache
     * (IO1 in docs/performance.md); a spinner that is not kicked takes it
     * anyway when its spin ends.
     */
    if (queued == count && obj->running
        && ((obj->type == TP_OBJECT_IO && sched_worker_is_running_locked(obj))
            || (obj->type == TP_OBJECT_WORK && !obj->ops
                && !sched->spinner && sched_worker_comes_back_for_locked(sched, obj)))) {
        if (sched->watched)
            return TP_DISPATCH_NONE;
        sched->watched = TRUE;
        return TP_DISPATCH_WATCH;
    }
    return sched_dispatch_locked(pool);
}

BOOL tp_sched_enqueue_more(struct tp_object *obj, LONG count)
{
    struct tp_sched *sched = &obj->pool->sched;
    LONG pending = atomic_load_explicit(&obj->pending, memory_order_relaxed), queued;

    if (pending <= 0)
        return FALSE;
    /* Counted in sched.queued first: the figure may run ahead, never behind. */
    queued = atomic_fetch_add_explicit(&sched->queued, count, memory_order_relaxed) + count;
    do {
        if (pending <= 0) {
            /* Dequeued meanwhile: the caller queues it under P. */
            atomic_fetch_sub_explicit(&sched->queued, count, memory_order_relaxed);
            return FALSE;
        }
    } while (!atomic_compare_exchange_weak(&obj->pending, &pending, pending + count));
    sched_note_depth(sched, queued);
    return TRUE;
}

/* Unlinks obj, whose pending count just reached 0.  Locking: P. */
static void sched_unlink_locked(struct tp_sched *sched, struct tp_object *obj)
{
    unsigned int priority = tp_object_priority(obj);

    list_remove(&obj->queue_entry);
    sched->objects_linked[priority]--;
    sched_count_linked_locked(sched, priority, -1);
}

/* The workers running callbacks of obj in a row drop those they took and
 * did not start (worker_run_locked).  Locking: P. */
static void sched_cancel_runs_locked(struct tp_sched *sched, struct tp_object *obj)
{
    struct tp_worker *worker;
    struct list *entry;

    for (entry = sched->workers.next; entry != &sched->workers; entry = entry->next) {
        worker = LIST_ENTRY(entry, struct tp_worker, entry);
        if (worker->run_obj == obj)
            atomic_store(&worker->run_cancelled, 1);
    }
}

LONG tp_sched_unqueue_locked(struct tp_object *obj)
{
    struct tp_sched *sched = &obj->pool->sched;
    LONG dropped;

    TP_ASSERT_LOCKED(&obj->pool->lock);
    if (obj->running)
        sched_cancel_runs_locked(sched, obj);
    if (!atomic_load_explicit(&obj->pending, memory_order_relaxed))
        return 0;
    /* Posts that come meanwhile add to the count taken here. */
    dropped = atomic_exchange(&obj->pending, 0);
    sched_unlink_locked(sched, obj);
    atomic_fetch_sub_explicit(&sched->queued, dropped, memory_order_relaxed);
    return dropped;
}

/* Simple posts a worker takes at once to run in a row without P. */
#define TP_POST_RUN_MAX 16

/*
 * Takes the posts at the head of priority's FIFO that are due (no object
 * turn queued before them is left, or no object of the priority is), up to
 * TP_POST_RUN_MAX, and up to the first that may run long: they are no
 * longer queued.  Returns the chain (ended
 * with NULL) and its length in *count.  Locking: P.
 */
static struct tp_post *sched_take_posts_locked(struct tp_sched *sched, unsigned int priority,
                                               LONG *count)
{
    struct tp_post *first = sched->posts[priority], *last = first, *next;
    BOOL objects = sched->objects_linked[priority] > 0;
    /* A post that may run long runs alone: its worker stops counting as
     * one that comes back soon, and must hold nothing meanwhile. */
    LONG taken = 1, most = first->dispatch & TP_OBJECT_LONG_FUNCTION ? 1 : TP_POST_RUN_MAX;

    while (taken < most && (next = last->next)
           && !(next->dispatch & TP_OBJECT_LONG_FUNCTION)
           && (!objects || next->due_turn <= sched->turns_taken[priority])) {
        last = next;
        taken++;
    }
    if (!(sched->posts[priority] = last->next))
        sched->posts_tail[priority] = &sched->posts[priority];
    last->next = NULL;
    sched_count_linked_locked(sched, priority, -taken);
    atomic_fetch_sub_explicit(&sched->queued, taken, memory_order_relaxed);
    *count = taken;
    return first;
}

/* Gives back posts a worker took but did not run, at the head of their
 * FIFO, where they were: still due.  Locking: P. */
static void sched_untake_posts_locked(struct tp_sched *sched, unsigned int priority,
                                      struct tp_post *first)
{
    struct tp_post *last = first;
    LONG count = 1;

    for (; last->next; last = last->next)
        count++;
    if (!(last->next = sched->posts[priority]))
        sched->posts_tail[priority] = &last->next;
    sched->posts[priority] = first;
    sched_count_linked_locked(sched, priority, count);
    atomic_fetch_add_explicit(&sched->queued, count, memory_order_relaxed);
}

/*
 * Takes the first callback of the highest non-empty priority: an object's,
 * or a run of simple posts (returned in *posts, with NULL).  An object with
 * more callbacks queued goes back to the tail of its queue, behind the
 * other objects of its priority: their callbacks take turns (round robin),
 * so that many posts of one object do not hold back another object's, which
 * Windows guarantees (a cleanup group's members finish while another
 * object's posts are still queued; tests/test_work.c, fairness).  Alone in
 * its queue, the object stays at the head, so its posts still run in
 * parallel on every worker that comes.  A simple post takes its turn where
 * it was queued among the objects' (struct tp_post, due_turn), as an
 * object of its own would.
 * Locking: P.
 */
static struct tp_object *sched_dequeue_locked(struct tp_pool *pool, struct tp_post **posts,
                                              LONG *post_count)
{
    struct tp_sched *sched = &pool->sched;
    struct tp_object *obj;
    struct tp_post *post;
    unsigned int i;

    TP_ASSERT_LOCKED(&pool->lock);
    sched_take_inbox_locked(sched);
    *posts = NULL;
    for (i = 0; i < TP_PRIORITY_COUNT; i++) {
        post = sched->posts[i];
        if (post && (list_empty(&sched->queue[i])
                     || post->due_turn <= sched->turns_taken[i])) {
            *posts = sched_take_posts_locked(sched, i, post_count);
            return NULL;
        }
        if (list_empty(&sched->queue[i]))
            continue;
        obj = LIST_ENTRY(sched->queue[i].next, struct tp_object, queue_entry);
        sched->turns_taken[i]++;
        /* Posts may add to pending meanwhile (tp_sched_enqueue_more), but
         * only while it is above 0: taking the last one is ours. */
        if (atomic_fetch_sub(&obj->pending, 1) == 1)
            sched_unlink_locked(sched, obj);
        else
            list_move_tail(&sched->queue[i], &obj->queue_entry);
        atomic_fetch_sub_explicit(&sched->queued, 1, memory_order_relaxed);
        obj->running++;
        obj->associated++;
        sched->progress++;
        return obj;
    }
    return NULL;
}

ULONGLONG tp_sched_callbacks_run_locked(struct tp_pool *pool)
{
    const struct tp_sched *sched = &pool->sched;
    ULONGLONG run = sched->callbacks_retired;
    const struct list *entry;

    TP_ASSERT_LOCKED(&pool->lock);
    for (entry = sched->workers.next; entry != &sched->workers; entry = entry->next)
        run += atomic_load_explicit(&LIST_ENTRY(entry, struct tp_worker, entry)->callbacks_run,
                                    memory_order_relaxed);
    return run;
}

void tp_sched_stats_locked(struct tp_pool *pool, TP_DEBUG_POOL_STATS *stats)
{
    const struct tp_sched *sched = &pool->sched;

    TP_ASSERT_LOCKED(&pool->lock);
    stats->Threads = sched->threads;
    stats->CallbacksRun = (LONGLONG)tp_sched_callbacks_run_locked(pool);
    stats->ThreadsCreated = (LONGLONG)sched->threads_created;
    stats->ThreadsRetired = (LONGLONG)sched->threads_retired;
    stats->InjectedBlocked = (LONGLONG)sched->injected_blocked;
    stats->InjectedMayRunLong = (LONGLONG)sched->injected_long;
    stats->InjectedStall = (LONGLONG)sched->injected_stall;
    stats->QueueDepth = sched->queued;
    stats->QueueDepthMax = sched->queued_max;
}

/* ---- blocked and long-running callbacks ------------------------------------- */

/*
 * Puts the posts of worker's run it has not started back at the head of
 * their queue, where other workers find them: its callback blocks, runs
 * long or is stuck.  TRUE when there were any.  Locking: P.
 */
static BOOL worker_give_back_locked(struct tp_worker *worker)
{
    struct tp_post *rest;

    TP_ASSERT_LOCKED(&worker->pool->lock);
    tp_spin_lock_take(&worker->run_lock);
    rest = worker->run_rest;
    worker->run_rest = NULL;
    tp_spin_lock_drop(&worker->run_lock);
    if (!rest)
        return FALSE;
    sched_untake_posts_locked(&worker->pool->sched, rest->dispatch & TP_OBJECT_PRIORITY_MASK,
                              rest);
    return TRUE;
}

/* Whether a simple post is in the inbox: a worker's last look before it
 * stops coming back for it (seq_cst, as tp_sched_post's reads).  Without P. */
static BOOL sched_inbox_filled(struct tp_sched *sched)
{
    unsigned int i;

    for (i = 0; i < TP_PRIORITY_COUNT; i++)
        if (atomic_load(&sched->inbox[i].head))
            return TRUE;
    return FALSE;
}

/*
 * Counts worker in sched.returning, or no longer: a worker that leaves the
 * count then looks at the inbox once more (sched_post_needs_dispatch) and
 * returns TRUE when a post is there, which it must run or dispatch: the
 * post may have counted on it.  Locking: P.
 */
static BOOL worker_count_returning_locked(struct tp_worker *worker, BOOL returning)
{
    struct tp_sched *sched = &worker->pool->sched;

    TP_ASSERT_LOCKED(&worker->pool->lock);
    if (returning == worker->counted_returning)
        return FALSE;
    worker->counted_returning = returning;
    if (returning) {
        atomic_fetch_add(&sched->returning, 1);
        return FALSE;
    }
    atomic_fetch_sub(&sched->returning, 1);
    return sched_inbox_filled(sched);
}

/* Recounts worker in sched.inactive after blocked/long_running changed and
 * returns what the caller must do for the queue.  Locking: P. */
static enum tp_dispatch worker_update_inactive_locked(struct tp_worker *worker)
{
    struct tp_pool *pool = worker->pool;
    BOOL inactive = worker->in_callback && (worker->blocked || worker->long_running);

    TP_ASSERT_LOCKED(&pool->lock);
    if (inactive == worker->counted_inactive)
        return TP_DISPATCH_NONE;
    worker->counted_inactive = inactive;
    if (!inactive) {
        pool->sched.inactive--;
        worker_count_returning_locked(worker, TRUE);
        return TP_DISPATCH_NONE;
    }
    pool->sched.inactive++;
    /* Its last look at the inbox makes the posts that counted on it show in
     * sched.queued (the push synchronizes with the look), which the
     * dispatch reads. */
    worker_count_returning_locked(worker, FALSE);
    /* One fewer worker will come back for the queue: maybe start another. */
    return sched_dispatch_locked(pool);
}

/* The handle layer tells us the current callback sleeps in a wait, or woke. */
static void worker_block_hook(void *arg, BOOL blocking)
{
    struct tp_worker *worker = arg;
    struct tp_pool *pool = worker->pool;
    enum tp_dispatch action;

    /* A worker asleep in a wait looks for no work, nor polls I/O. */
    os_io_poller_active(!blocking);
    os_lock_acquire(&pool->lock);
    worker->blocked = blocking;
    action = worker_update_inactive_locked(worker);
    /* What the callback may wait for may be among them. */
    if (blocking && worker_give_back_locked(worker) && action == TP_DISPATCH_NONE)
        action = sched_dispatch_locked(pool);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
}

/*
 * Marks the callback long-running: it stops counting as a worker that will
 * soon come back for queued work, so the pool may start another.  Succeeds
 * when an idle worker exists or one more can be started.
 */
DWORD tp_sched_may_run_long(struct tp_worker *worker)
{
    struct tp_pool *pool = worker->pool;
    enum tp_dispatch action;
    DWORD err = ERROR_SUCCESS;
    BOOL start = FALSE;

    os_lock_acquire(&pool->lock);
    if (worker->long_running) {
        os_lock_release(&pool->lock);
        return ERROR_SUCCESS;
    }
    worker->long_running = TRUE;
    worker_give_back_locked(worker);
    action = worker_update_inactive_locked(worker);
    if (action == TP_DISPATCH_NONE && pool->sched.idle <= pool->sched.waking) {
        /* No idle worker is free to take what comes next: make one. */
        if (pool->sched.threads < pool->max_threads) {
            sched_reserve_locked(pool, 1);
            pool->sched.injected_long++;
            start = TRUE;
        } else {
            err = ERROR_TOO_MANY_THREADS;
        }
    }
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
    if (start && !sched_start(pool, 1))
        err = ERROR_TOO_MANY_THREADS;
    return err;
}

/* ---- the worker loop ---------------------------------------------------------- */

/* Whether a post of a priority above limit (a lower index) is in the
 * inbox.  Without P. */
static inline BOOL sched_posted_above(struct tp_sched *sched, unsigned int limit)
{
    uintptr_t any = 0;

    /* Unrolled, with no early exit: a worker asks on every callback it
     * runs in a row (worker_may_go_on). */
    _Static_assert(TP_PRIORITY_COUNT == 3, "one load per priority below");
    if (limit > 0)
        any |= (uintptr_t)atomic_load_explicit(&sched->inbox[0].head, memory_order_relaxed);
    if (limit > 1)
        any |= (uintptr_t)atomic_load_explicit(&sched->inbox[1].head, memory_order_relaxed);
    if (limit > 2)
        any |= (uintptr_t)atomic_load_explicit(&sched->inbox[2].head, memory_order_relaxed);
    return any != 0;
}

/*
 * Whether the worker, whose callback of obj just returned (in inst), may run
 * the next one of obj at once, without P.  Only while obj is the one object
 * queued in the pool, the inbox included (no other object's turn comes
 * earlier, issue 10's fairness), and nothing of the callback that returned
 * needs P: it stayed associated, left no library to free, and the worker
 * counts as running (not blocked, not long).  Work objects only: the other
 * kinds keep per-callback state under P.  The object's running and
 * associated counts carry on to the next callback unchanged.  Without P.
 */
static BOOL worker_may_go_on(struct tp_worker *worker, struct tp_object *obj,
                             const struct tp_instance *inst)
{
    struct tp_sched *sched = &worker->pool->sched;

    /* blocked and long_running are written by this thread only. */
    return obj->type == TP_OBJECT_WORK && !obj->ops && inst->associated && !inst->free_library
           && !worker->long_running && !worker->blocked
           && atomic_load_explicit(&sched->linked, memory_order_relaxed) == 1
           && !sched_posted_above(sched, TP_PRIORITY_COUNT);
}

/* Callbacks a worker takes off obj's count at once to run in a row: one
 * compare-and-swap for them, so that the workers and the poster meet on
 * the object's count once per so many callbacks, not on each. */
#define TP_WORKER_CLAIM 16

/*
 * Takes up to TP_WORKER_CLAIM callbacks of obj to run in a row, leaving at
 * least one pending (the last is taken under P, which unlinks the object):
 * returns how many.  They are no longer counted as queued; a cancel that
 * comes while they wait still drops them (worker_run_locked watches
 * worker->run_cancelled).  Without P.
 */
static LONG worker_claim(struct tp_worker *worker, struct tp_object *obj)
{
    LONG pending = atomic_load_explicit(&obj->pending, memory_order_relaxed), take;

    do {
        if (pending < 2)
            return 0;
        take = pending - 1 < TP_WORKER_CLAIM ? pending - 1 : TP_WORKER_CLAIM;
    } while (!atomic_compare_exchange_weak(&obj->pending, &pending, pending - take));
    atomic_fetch_sub_explicit(&worker->pool->sched.queued, take, memory_order_relaxed);
    return take;
}

/* Callbacks a worker runs in a row without P: the pool looks at its queue
 * again after as many. */
#define TP_WORKER_RUN_MAX 64

/* Counts one more callback run by the worker (written by it alone). */
static void worker_count_run(struct tp_worker *worker)
{
    atomic_store_explicit(&worker->callbacks_run,
                          atomic_load_explicit(&worker->callbacks_run, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/*
 * Runs one callback of obj, which sched_dequeue_locked counted as running
 * and associated, and maybe more of obj (worker_may_go_on), and hands it
 * back to the object layer.  Enters and leaves with P held; drops it around
 * user code.
 */
static void worker_run_locked(struct tp_worker *worker, struct tp_object *obj)
{
    struct tp_pool *pool = worker->pool;
    struct tp_instance inst;
    enum tp_dispatch action;
    unsigned int runs = 1;
    LONG claimed = 0;

    worker->in_callback = TRUE;
    worker->long_running = tp_object_long_function(obj);
    /* A cancel from now on tells this worker (tp_sched_unqueue_locked). */
    worker->run_obj = obj;
    atomic_store_explicit(&worker->run_cancelled, 0, memory_order_relaxed);
    action = worker_update_inactive_locked(worker);
    /* More is queued (posts to a queued object pick no worker): one more
     * worker may come for it, as a post would have asked; not for obj's
     * one callback left, which this worker takes after its own, as
     * tp_sched_enqueue_locked leaves a post to a running object. */
    if (action == TP_DISPATCH_NONE && pool->sched.queued > 0) {
        if (pool->sched.queued == 1 && atomic_load_explicit(&obj->pending, memory_order_relaxed)
            && obj->type == TP_OBJECT_WORK && !obj->ops && !worker->counted_inactive) {
            if (!pool->sched.watched) {
                pool->sched.watched = TRUE;
                action = TP_DISPATCH_WATCH;
            }
        } else {
            action = sched_dispatch_locked(pool);
        }
    }
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);

    tp_object_run(obj, &inst, worker);
    /* Before the object hears of it: a drain that returns sees the count. */
    worker_count_run(worker);
    /* More of obj in a row, while nobody else waits (worker_may_go_on). */
    while (runs < TP_WORKER_RUN_MAX && worker_may_go_on(worker, obj, &inst)) {
        /* A cancel that comes after the claim either finds the callbacks
         * still pending or tells run_cancelled (set under P before the
         * cancel takes the count: both seq_cst). */
        if (!claimed && !(claimed = worker_claim(worker, obj)))
            break;
        /* A cancel came (it dropped the pending ones): drop these too. */
        if (atomic_load(&worker->run_cancelled))
            break;
        claimed--;
        runs++;
        tp_object_run(obj, &inst, worker);
        worker_count_run(worker);
    }

    os_lock_acquire(&pool->lock);
    pool->sched.progress += runs - 1;
    worker->run_obj = NULL;
    if (claimed) {
        /* Not run: dropped, if a cancel came, or queued again for the
         * object's turn (another object came, or the callback changed what
         * the worker may do). */
        if (atomic_load_explicit(&worker->run_cancelled, memory_order_relaxed)) {
            obj->cancelled += claimed;
        } else if ((action = tp_sched_enqueue_locked(obj, claimed)) != TP_DISPATCH_NONE) {
            os_lock_release(&pool->lock);
            tp_sched_dispatch_finish(pool, action);
            os_lock_acquire(&pool->lock);
        }
    }
    worker->in_callback = FALSE;
    worker->blocked = FALSE;
    worker->long_running = FALSE;
    worker_update_inactive_locked(worker);
    tp_object_callback_done_locked(obj, &inst);
}

/*
 * Whether a worker running simple posts of priority in a row (the carrier's
 * callback just returned, in inst) must stop before the next one and go
 * back to P: something of a higher priority was queued, or the
 * callback changed what needs P (it disassociated, left a library to free,
 * blocks or declared itself long).  (A post that may run long is never
 * taken behind another: sched_take_posts_locked.)  Without P.
 */
static BOOL worker_posts_must_stop(struct tp_worker *worker, const struct tp_instance *inst,
                                   unsigned int priority)
{
    struct tp_sched *sched = &worker->pool->sched;
    unsigned int i;

    if (!inst->associated || inst->free_library || worker->long_running || worker->blocked)
        return TRUE;
    for (i = 0; i < priority; i++)
        if (atomic_load_explicit(&sched->present[i], memory_order_relaxed))
            return TRUE;
    return sched_posted_above(sched, priority);
}

/*
 * Runs a run of simple posts of one priority (sched_dequeue_locked took
 * them), one after the other through the worker's carrier object, without
 * P; gives back those it did not run when it had to stop
 * (worker_posts_must_stop).  Enters and leaves with P held.
 */
static void worker_run_posts_locked(struct tp_worker *worker, struct tp_post *post, LONG count)
{
    struct tp_pool *pool = worker->pool;
    struct tp_object *carrier = &worker->carrier;
    unsigned int priority = post->dispatch & TP_OBJECT_PRIORITY_MASK;
    struct tp_instance inst;
    enum tp_dispatch action;
    LONG runs = 0;
    BOOL watch = FALSE;

    worker->in_callback = TRUE;
    worker->long_running = (post->dispatch & TP_OBJECT_LONG_FUNCTION) != 0;
    tp_spin_lock_take(&worker->run_lock);
    worker->run_rest = post->next;
    tp_spin_lock_drop(&worker->run_lock);
    action = worker_update_inactive_locked(worker);
    /* Another worker comes only for more than a run's worth: this one is
     * back for the next run soon after, and a burst of posts does not wake
     * every worker to take turns at P and the inbox. */
    if (action == TP_DISPATCH_NONE && pool->sched.queued > TP_POST_RUN_MAX)
        action = sched_dispatch_locked(pool);
    /* The monitor looks after posts held in a run (monitor_check_pool). */
    if (count > 1 && !pool->sched.watched)
        watch = pool->sched.watched = TRUE;
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
    if (watch)
        monitor_watch(pool);

    for (;;) {
        carrier->invoke = post->invoke;
        carrier->callback = post->callback;
        carrier->userdata = post->userdata;
        carrier->dispatch = post->dispatch;
        tp_post_release(post);
        /* The counts a callback's instance calls change (instance.c). */
        carrier->running = 1;
        carrier->associated = 1;
        tp_object_run(carrier, &inst, worker);
        worker_count_run(worker);
        runs++;
        tp_spin_lock_take(&worker->run_lock);
        if ((post = worker->run_rest)) {
            if (worker_posts_must_stop(worker, &inst, priority))
                post = NULL;
            else
                worker->run_rest = post->next;
        }
        tp_spin_lock_drop(&worker->run_lock);
        if (!post)
            break;
    }

    os_lock_acquire(&pool->lock);
    pool->sched.progress += (ULONGLONG)runs;
    worker_give_back_locked(worker);
    TP_ASSERT(runs <= count);
    worker->in_callback = FALSE;
    worker->blocked = FALSE;
    worker->long_running = FALSE;
    worker_update_inactive_locked(worker);
    carrier->running = 0;
    carrier->associated = 0;
    /* After the callback's counts dropped: the module may hold its code. */
    if (inst.free_library) {
        os_lock_release(&pool->lock);
        os_library_free(inst.free_library);
        os_lock_acquire(&pool->lock);
    }
    /* The last callback of a closed pool lets idle workers retire (as
     * tp_pool_object_left_locked does when an object goes). */
    if (pool->closed && tp_pool_objects_locked(pool) == 0 && pool->sched.queued == 0)
        tp_sched_wake_idle_locked(pool);
}

/* Readies the worker's carrier object (struct tp_worker) for pool. */
static void worker_carrier_init(struct tp_worker *worker)
{
    struct tp_object *carrier = &worker->carrier;

    os_stamp_set(&carrier->stamp);
    carrier->type = TP_OBJECT_SIMPLE;
    carrier->closed = TRUE;
    carrier->pool = worker->pool;
    carrier->refs = 1;
    list_init(&carrier->queue_entry);
    list_init(&carrier->group_entry);
}

/*
 * Spins until a submitter kicks this worker or TP_WORKER_SPIN_NS passed.
 * Enters and leaves with P held; spins without it.  Locking: P.
 */
static void worker_spin_locked(struct tp_worker *worker)
{
    struct tp_pool *pool = worker->pool;
    struct tp_sched *sched = &pool->sched;
    ULONGLONG deadline_ns;
    unsigned int i;
    BOOL posted = FALSE;

    TP_ASSERT_LOCKED(&pool->lock);
    atomic_store_explicit(&worker->kicked, 0, memory_order_relaxed);
    sched->spinner = worker;
    sched->spinner_polls = FALSE;
    os_lock_release(&pool->lock);
    deadline_ns = os_clock_monotonic_ns() + TP_WORKER_SPIN_NS;
    for (i = 1; !atomic_load_explicit(&worker->kicked, memory_order_acquire); i++) {
        /* A simple post may count on the spinner and kick no one
         * (sched_post_needs_dispatch). */
        if (sched_posted_above(sched, TP_PRIORITY_COUNT)) {
            posted = TRUE;
            break;
        }
        os_cpu_relax();
        if (i % 64 != 0)
            continue;
        /* I/O that became ready queues its callbacks here (a kick). */
        if (os_clock_monotonic_ns() > deadline_ns || os_io_poll())
            break;
    }
    os_lock_acquire(&pool->lock);
    /* Not kicked: stop being the spinner (a kick clears it itself), or the
     * one behind a worker polling I/O. */
    if (sched->spinner == worker)
        sched->spinner = NULL;
    else if (sched->spinner_behind == worker)
        sched->spinner_behind = NULL;
    if (posted || atomic_load_explicit(&worker->kicked, memory_order_relaxed))
        sched->spin_misses = 0;
    else if (sched->spin_misses < TP_WORKER_SPIN_MISSES)
        sched->spin_misses++;
}

/*
 * Collects the I/O that became ready (os_io_poll) before the worker spins
 * or sleeps: a completion that its own callback made ready (an echo's
 * write) then runs on this worker or the spinner, with no thread woken.
 * While it polls the worker stands in as the spinner, so the callbacks it
 * queues kick it instead of waking an idle worker.  In front of a worker
 * that spins, too: the first callback it queues is its own, not a hand-off
 * to the other thread (and back: a ping-pong of completions then bounced
 * between two workers, each one's data in the other's cache); the spinner
 * takes the next ones (sched_dispatch_locked).  Enters and leaves with P
 * held; polls without it.  TRUE when it handled any event.  Locking: P.
 */
static BOOL worker_poll_io_locked(struct tp_worker *worker)
{
    struct tp_pool *pool = worker->pool;
    struct tp_sched *sched = &pool->sched;
    BOOL stand_in = !sched->spinner || !sched->spinner_polls, handled;

    TP_ASSERT_LOCKED(&pool->lock);
    if (stand_in) {
        atomic_store_explicit(&worker->kicked, 0, memory_order_relaxed);
        sched->spinner_behind = sched->spinner;
        sched->spinner = worker;
        sched->spinner_polls = TRUE;
    }
    os_lock_release(&pool->lock);
    handled = os_io_poll();
    os_lock_acquire(&pool->lock);
    /* Not kicked: the spinner behind, if still spinning, is the spinner. */
    if (stand_in && sched->spinner == worker) {
        sched->spinner = sched->spinner_behind;
        sched->spinner_behind = NULL;
        sched->spinner_polls = FALSE;
    }
    return handled;
}

/* Whether a worker going idle should spin first (TP_WORKER_SPIN_MISSES).
 * Locking: P. */
static BOOL worker_spin_worthwhile_locked(struct tp_pool *pool)
{
    struct tp_sched *sched = &pool->sched;

    TP_ASSERT_LOCKED(&pool->lock);
    /* One that only polls once does not stand for a spinner. */
    if (sched->spinner && !sched->spinner_polls)
        return FALSE;
    if (sched->spin_misses < TP_WORKER_SPIN_MISSES)
        return TRUE;
    if (++sched->spin_skips < TP_WORKER_SPIN_RETRY)
        return FALSE;
    sched->spin_skips = 0;
    return TRUE;
}

/* Sleeps until woken or the idle timeout; TRUE when it timed out.  Locking: P. */
static BOOL worker_sleep_locked(struct tp_pool *pool)
{
    struct tp_sched *sched = &pool->sched;
    enum tp_dispatch action;
    ULONGLONG deadline_ns;
    BOOL timed_out;

    sched->idle++;
    os_io_poller_active(FALSE);
    deadline_ns = os_clock_monotonic_ns()
                  + (ULONGLONG)tp_sched_idle_timeout_ms() * 1000000ull;
    /* An APC queued to an idle legacy I/O thread runs while it waits,
     * as on Windows (ntdll's threadpool conformance test queues one). */
    if (pool->alertable)
        timed_out = !os_cond_wait_until_alertable(&sched->work_cond, &pool->lock,
                                                  deadline_ns);
    else
        timed_out = !os_cond_wait_until(&sched->work_cond, &pool->lock, deadline_ns);
    sched->idle--;
    os_io_poller_active(TRUE);
    if (sched->waking)
        sched->waking--;
    /* More queued than this worker takes: wake the next one (the one wake at
     * a time of sched_dispatch_locked). */
    if (sched->queued > 1 && (action = sched_dispatch_locked(pool)) != TP_DISPATCH_NONE) {
        os_lock_release(&pool->lock);
        tp_sched_dispatch_finish(pool, action);
        os_lock_acquire(&pool->lock);
    }
    return timed_out;
}

static void worker_main(void *arg)
{
    struct tp_worker worker = { 0 };
    struct tp_pool *pool = arg;
    struct tp_object *obj;
    struct tp_post *posts;
    LONG post_count;
    BOOL finished, timed_out, spun = FALSE, polled = FALSE;

    worker.pool = pool;
    sched_current_worker = &worker;
    worker_carrier_init(&worker);
    os_thread_set_block_hook(worker_block_hook, &worker);
    os_io_poller_active(TRUE);
    os_lock_acquire(&pool->lock);
    list_add_tail(&pool->sched.workers, &worker.entry);
    pool->sched.threads_created++;
    worker_count_returning_locked(&worker, TRUE);
    for (;;) {
        if ((obj = sched_dequeue_locked(pool, &posts, &post_count))) {
            worker_run_locked(&worker, obj);
            spun = polled = FALSE;
            continue;
        }
        if (posts) {
            worker_run_posts_locked(&worker, posts, post_count);
            spun = polled = FALSE;
            continue;
        }
        if (pool->closed && tp_pool_objects_locked(pool) == 0 && pool->sched.queued == 0) {
            if (!worker_count_returning_locked(&worker, FALSE))
                break;
            worker_count_returning_locked(&worker, TRUE);
            continue;
        }
        if (!polled && os_io_pollable()) {
            polled = TRUE;
            if (worker_poll_io_locked(&worker))
                continue;
        }
        if (!spun && worker_spin_worthwhile_locked(pool)) {
            worker_spin_locked(&worker);
            spun = TRUE;
            continue;
        }
        spun = polled = FALSE;
        /* Asleep it comes back only when told: a post that came meanwhile
         * may have counted on it (sched_post_needs_dispatch). */
        atomic_fetch_add(&pool->sched.sleeping, 1);
        if (worker_count_returning_locked(&worker, FALSE)) {
            atomic_fetch_sub(&pool->sched.sleeping, 1);
            worker_count_returning_locked(&worker, TRUE);
            continue;
        }
        timed_out = worker_sleep_locked(pool);
        atomic_fetch_sub(&pool->sched.sleeping, 1);
        if (timed_out && pool->sched.queued == 0 && pool->sched.threads > pool->min_threads)
            break;
        worker_count_returning_locked(&worker, TRUE);
    }
    TP_ASSERT(!worker.counted_returning);
    os_io_poller_active(FALSE);
    list_remove(&worker.entry);
    pool->sched.callbacks_retired += atomic_load_explicit(&worker.callbacks_run,
                                                          memory_order_relaxed);
    pool->sched.threads_retired++;
    pool->sched.threads--;
    finished = tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    os_thread_set_block_hook(NULL, NULL);
    os_stamp_clear(&worker.carrier.stamp);
    TRACE("worker of pool %p retires\n", (void *)pool);
    if (finished)
        tp_pool_free(pool);
}

/* ---- the stall monitor -------------------------------------------------------- */

/*
 * One thread for the whole process looks at pools whose queued callbacks
 * wait while every worker is busy.  When a pool started no callback during
 * a whole tick, its workers are stuck in user code the pool cannot see
 * (computing, or blocking in calls outside the handle layer), and the
 * monitor wakes an idle worker, if one is left idle (a post to a running
 * work object wakes none: tp_sched_enqueue_locked), or starts one more,
 * up to the maximum.  It takes P of one pool
 * at a time, and M inside it (the lock order P -> M).
 */
static struct {
    struct os_lock lock;
    struct os_cond cond;        /* (M) the monitor sleeps here while nothing is watched */
    struct list pools;          /* (M) watched pools (each holds sched.watched) */
    BOOL started;               /* (M) the thread is running */
} monitor;
static struct os_once monitor_once = OS_ONCE_INIT;

static void monitor_init(void)
{
    os_lock_init(&monitor.lock, OS_LOCK_RANK_M);
    os_cond_init(&monitor.cond);
    list_init(&monitor.pools);
}

static void monitor_setup(void)
{
    os_once(&monitor_once, monitor_init);
}

/* The child of a fork() has no monitor thread, and M may be held by a
 * thread it does not have: it starts with none watched (pool.c). */
void tp_sched_fork_child(void)
{
    static const struct os_once fresh = OS_ONCE_INIT;

    memset(&monitor, 0, sizeof(monitor));
    monitor_once = fresh;
}

/*
 * Gives back the posts held in the run of a worker that ran no callback
 * since the monitor's last look (stuck in one, where the pool cannot see
 * it wait): other workers run them.  TRUE while any worker still holds
 * some.  Locking: P.
 */
static BOOL monitor_take_back_locked(struct tp_pool *pool, BOOL *gave)
{
    struct list *entry;
    struct tp_worker *worker;
    ULONGLONG run;
    BOOL held = FALSE;

    *gave = FALSE;
    TP_ASSERT_LOCKED(&pool->lock);
    for (entry = pool->sched.workers.next; entry != &pool->sched.workers; entry = entry->next) {
        worker = LIST_ENTRY(entry, struct tp_worker, entry);
        run = atomic_load_explicit(&worker->callbacks_run, memory_order_relaxed);
        if (run == worker->run_seen && worker_give_back_locked(worker))
            *gave = TRUE;
        worker->run_seen = run;
        tp_spin_lock_take(&worker->run_lock);
        held |= worker->run_rest != NULL;
        tp_spin_lock_drop(&worker->run_lock);
    }
    return held;
}

/*
 * Whether the pool's workers spend most of their callbacks' time waiting
 * where the pool cannot see it, while callbacks stayed queued for
 * TP_MONITOR_BACKLOG_MS: the whole process used less than half the CPU
 * time its running workers could have.  A wait the handle layer sees
 * counts its worker out (worker_block_hook); one it does not see is, say,
 * a kernel32 call of a callback under Wine, where every call that waits
 * (ReadFile, WriteFile, SetEvent...) is a round trip to Wine's server: a
 * pool kept at one running worker per CPU then leaves the CPUs idle while
 * its queue waits.  One more worker each time, up to twice as many running
 * as the CPUs; a worker that then finds nothing to do retires after the
 * idle timeout.  Called at each of the monitor's looks at a pool with
 * callbacks queued and no idle worker.  Locking: P.
 */
static BOOL monitor_workers_wait_locked(struct tp_pool *pool)
{
    struct tp_sched *sched = &pool->sched;
    ULONGLONG now = os_clock_monotonic_ns(), cpu = os_process_cpu_ns(), span;
    DWORD running = sched_running_workers_locked(pool) - sched->idle;
    BOOL waiting;

    TP_ASSERT_LOCKED(&pool->lock);
    /* A new backlog, or a failed read of the CPU time (0): start a span. */
    if (!sched->backlog_since_ns || cpu < sched->backlog_cpu_ns) {
        sched->backlog_since_ns = now;
        sched->backlog_cpu_ns = cpu;
        return FALSE;
    }
    span = now - sched->backlog_since_ns;
    if (span < TP_MONITOR_BACKLOG_MS * 1000000ull)
        return FALSE;
    waiting = running < 2 * target_concurrency
              && (cpu - sched->backlog_cpu_ns) * 2 < span * running;
    sched->backlog_since_ns = now;
    sched->backlog_cpu_ns = cpu;
    return waiting;
}

/*
 * Looks at one watched pool and stops watching it when its queue is empty
 * or it cannot grow.  Returns TRUE when the pool was closed and is now
 * finished: the caller frees it.
 * Locking: M not held; takes P, then M inside it (the lock order).
 */
static BOOL monitor_check_pool(struct tp_pool *pool)
{
    struct tp_sched *sched = &pool->sched;
    BOOL start = FALSE, backlog = FALSE, done, finished, held, gave;
    enum tp_dispatch action = TP_DISPATCH_NONE;
    ULONGLONG progress;

    os_lock_acquire(&pool->lock);
    held = monitor_take_back_locked(pool, &gave);
    /* Posts given back: an idle worker may take them. */
    if (gave)
        action = sched_dispatch_locked(pool);
    /* Callbacks started, and returned: a worker that runs several in a row
     * (worker_may_go_on) counts their starts only when it is done. */
    progress = sched->progress + tp_sched_callbacks_run_locked(pool);
    /* Posts held in a worker's run keep the pool watched, even at its
     * maximum: their worker may get stuck later, and idle workers can
     * take them once they are given back. */
    done = !held && (sched->queued <= 0
                     || (sched->threads >= pool->max_threads && sched->idle <= sched->waking));
    if (!done && sched->queued > 0 && sched->idle > sched->waking
        && progress == sched->progress_seen && action == TP_DISPATCH_NONE) {
        /* A post left for a worker that is stuck in its callback
         * (tp_sched_enqueue_locked): an idle one takes it. */
        sched->waking++;
        action = TP_DISPATCH_WAKE;
    } else if (!done && sched->queued > 0 && sched->threads < pool->max_threads
               && sched->idle <= sched->waking && progress == sched->progress_seen) {
        sched_reserve_locked(pool, 1);
        sched->injected_stall++;
        start = TRUE;
    } else if (!done && sched->queued > 0 && sched->threads < pool->max_threads
               && sched->idle <= sched->waking && action == TP_DISPATCH_NONE) {
        /* Callbacks start, but the queue does not drain. */
        backlog = TRUE;
        if (monitor_workers_wait_locked(pool)) {
            sched_reserve_locked(pool, 1);
            sched->injected_blocked++;
            start = TRUE;
        }
    }
    if (!backlog)
        sched->backlog_since_ns = 0;
    sched->progress_seen = progress;
    if (done && !held && sched->threads < pool->max_threads) {
        /* A simple post that saw the pool watched skipped the dispatch
         * (sched_post_needs_dispatch): cleared first, then sched.queued
         * read again (seq_cst both), so that it shows here if it did. */
        sched->watched = FALSE;
        if (atomic_load(&sched->queued) > 0) {
            sched->watched = TRUE;
            done = FALSE;
        }
    }
    if (done) {
        /* Unlink and clear together, so a submitter that sets watched again
         * finds the entry free to link. */
        os_lock_acquire(&monitor.lock);
        list_remove(&sched->monitor_entry);
        os_lock_release(&monitor.lock);
        sched->watched = FALSE;
    }
    finished = done && tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
    if (start) {
        TRACE("pool %p stalled: adding a worker\n", (void *)pool);
        sched_start(pool, 1);
    }
    return finished;
}

static void monitor_main(void *arg)
{
    struct list *entry, *next;
    struct tp_pool *pool;

    (void)arg;
    os_lock_acquire(&monitor.lock);
    for (;;) {
        while (list_empty(&monitor.pools))
            os_cond_wait(&monitor.cond, &monitor.lock);
        os_cond_wait_until(&monitor.cond, &monitor.lock,
                           os_clock_monotonic_ns() + TP_MONITOR_TICK_MS * 1000000ull);
        for (entry = monitor.pools.next; entry != &monitor.pools; entry = next) {
            /* Only the monitor unlinks entries and others only append, so
             * next stays on the list while M is dropped. */
            next = entry->next;
            pool = LIST_ENTRY(entry, struct tp_pool, sched.monitor_entry);
            os_lock_release(&monitor.lock);
            if (monitor_check_pool(pool))
                tp_pool_free(pool);
            os_lock_acquire(&monitor.lock);
        }
    }
}

/* Asks the monitor to watch a pool whose queue may stall (sched.watched was
 * set under P).  Without P. */
static void monitor_watch(struct tp_pool *pool)
{
    BOOL start = FALSE;

    monitor_setup();
    os_lock_acquire(&monitor.lock);
    if (!list_linked(&pool->sched.monitor_entry))
        list_add_tail(&monitor.pools, &pool->sched.monitor_entry);
    if (!monitor.started)
        start = monitor.started = TRUE;
    os_cond_signal(&monitor.cond);
    os_lock_release(&monitor.lock);
    if (start && os_thread_start(monitor_main, NULL, 0) != ERROR_SUCCESS) {
        /* Without the monitor only the other injection paths remain. */
        os_lock_acquire(&monitor.lock);
        monitor.started = FALSE;
        os_lock_release(&monitor.lock);
    }
}

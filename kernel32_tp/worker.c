/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Worker threads: the loop that takes queued callbacks off a pool and runs
 * them inside a callback instance, idle retirement, and the accounting of
 * workers whose callbacks block or run long (so the pool can add threads).
 * Takes P around queue and count changes only; never holds it across user
 * code.
 */
#include <stdlib.h>

#include "tp_private.h"

/* Idle workers above the pool's minimum retire after this long. */
#define TP_WORKER_IDLE_TIMEOUT_MS 2000

/*
 * A worker that finds the queue empty spins this long before it sleeps, so
 * that work submitted right after costs the submitter no wake-up system call
 * and the worker no sleep (one spinner per pool, see pool->spinner).
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

DWORD tp_worker_idle_timeout_ms(void)
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

enum tp_dispatch tp_worker_update_inactive_locked(struct tp_worker *worker)
{
    struct tp_pool *pool = worker->pool;
    BOOL inactive = worker->in_callback && (worker->blocked || worker->long_running);

    TP_ASSERT_LOCKED(&pool->lock);
    if (inactive == worker->counted_inactive)
        return TP_DISPATCH_NONE;
    worker->counted_inactive = inactive;
    if (!inactive) {
        pool->inactive--;
        return TP_DISPATCH_NONE;
    }
    pool->inactive++;
    /* One fewer worker will come back for the queue: maybe start another. */
    return tp_pool_dispatch_locked(pool);
}

/* The handle layer tells us the current callback sleeps in a wait, or woke. */
static void worker_block_hook(void *arg, BOOL blocking)
{
    struct tp_worker *worker = arg;
    struct tp_pool *pool = worker->pool;
    enum tp_dispatch action;

    os_lock_acquire(&pool->lock);
    worker->blocked = blocking;
    action = tp_worker_update_inactive_locked(worker);
    os_lock_release(&pool->lock);
    tp_pool_dispatch_finish(pool, action);
}

/*
 * Takes the first callback of the highest non-empty priority.  An object
 * with more callbacks queued goes back to the tail of its queue, behind the
 * other objects of its priority: their callbacks take turns (round robin),
 * so that many posts of one object do not hold back another object's, which
 * Windows guarantees (a cleanup group's members finish while another
 * object's posts are still queued; tests/test_work.c, fairness).  Alone in
 * its queue, the object stays at the head, so its posts still run in
 * parallel on every worker that comes.
 * Locking: P.
 */
static struct tp_object *worker_dequeue_locked(struct tp_pool *pool)
{
    struct tp_object *obj;
    unsigned int i;

    TP_ASSERT_LOCKED(&pool->lock);
    for (i = 0; i < TP_PRIORITY_COUNT; i++) {
        if (list_empty(&pool->queue[i]))
            continue;
        obj = LIST_ENTRY(pool->queue[i].next, struct tp_object, queue_entry);
        if (--obj->pending == 0)
            list_remove(&obj->queue_entry);
        else
            list_move_tail(&pool->queue[i], &obj->queue_entry);
        pool->queued--;
        obj->running++;
        obj->associated++;
        pool->progress++;
        return obj;
    }
    return NULL;
}

/*
 * Runs one callback of obj, which worker_dequeue_locked counted as running
 * and associated.  Enters and leaves with P held; drops it around user code.
 * Returns TRUE when obj must be destroyed after P is dropped.
 */
static BOOL worker_run_locked(struct tp_worker *worker, struct tp_object *obj)
{
    struct tp_pool *pool = worker->pool;
    struct tp_instance inst = { .magic = 0 };
    PTP_SIMPLE_CALLBACK finalization;
    enum tp_dispatch action;
    BOOL in_group, finished;

    os_stamp_set(&inst.stamp);
    inst.magic = TP_INSTANCE_MAGIC;
    inst.obj = obj;
    inst.worker = worker;
    inst.thread_id = os_thread_current_id();
    inst.associated = TRUE;
    inst.may_run_long = tp_object_long_function(obj);
    if (tp_check_enabled)
        tp_check_instance_enter(&inst);
    worker->in_callback = TRUE;
    worker->long_running = tp_object_long_function(obj);
    action = tp_worker_update_inactive_locked(worker);
    os_lock_release(&pool->lock);
    tp_pool_dispatch_finish(pool, action);

    atomic_fetch_add_explicit(&tp_callbacks_run, 1, memory_order_relaxed);
    obj->invoke(obj, &inst);
    if ((finalization = tp_object_finalization(obj))) {
        TRACE("finalization %p(%p, %p)\n", (void *)finalization, (void *)&inst,
              obj->userdata);
        finalization((PTP_CALLBACK_INSTANCE)&inst, obj->userdata);
        TRACE("finalization %p returned\n", (void *)finalization);
    }
    /* Over for the checked mode before an action wakes a thread that may
     * try the instance. */
    if (tp_check_enabled)
        tp_check_instance_leave(&inst);
    /* After the callback and its finalization, before the counts drop: a
     * thread woken by these actions sees the callback over. */
    tp_instance_run_actions(&inst);
    inst.magic = 0;
    os_stamp_clear(&inst.stamp);

    /* A simple callback belongs to its group until it returns to the pool. */
    in_group = obj->type == TP_OBJECT_SIMPLE && obj->group
               && tp_group_remove(obj->group, obj);

    os_lock_acquire(&pool->lock);
    worker->in_callback = FALSE;
    worker->blocked = FALSE;
    worker->long_running = FALSE;
    tp_worker_update_inactive_locked(worker);
    obj->running--;
    if (inst.associated)
        obj->associated--;
    if (in_group)
        obj->refs--;
    tp_object_wake_drainers_locked(obj);
    finished = tp_object_finished_locked(obj);
    /*
     * FreeLibraryWhenCallbackReturns comes last, after waiters were released:
     * the module may hold the callback's code, which has returned by now.
     * Unless finished, obj may be gone once P is dropped: not touched again.
     */
    if (inst.free_library) {
        os_lock_release(&pool->lock);
        os_library_free(inst.free_library);
        os_lock_acquire(&pool->lock);
    }
    return finished;
}

/*
 * Spins until a submitter kicks this worker or TP_WORKER_SPIN_NS passed.
 * Enters and leaves with P held; spins without it.  Locking: P.
 */
static void worker_spin_locked(struct tp_worker *worker)
{
    struct tp_pool *pool = worker->pool;
    ULONGLONG deadline_ns;
    unsigned int i;

    TP_ASSERT_LOCKED(&pool->lock);
    atomic_store_explicit(&worker->kicked, 0, memory_order_relaxed);
    pool->spinner = worker;
    os_lock_release(&pool->lock);
    deadline_ns = os_clock_monotonic_ns() + TP_WORKER_SPIN_NS;
    for (i = 1; !atomic_load_explicit(&worker->kicked, memory_order_acquire); i++) {
        os_cpu_relax();
        if (i % 64 == 0 && os_clock_monotonic_ns() > deadline_ns)
            break;
    }
    os_lock_acquire(&pool->lock);
    /* Not kicked: stop being the spinner (a kick clears it itself). */
    if (pool->spinner == worker)
        pool->spinner = NULL;
    if (atomic_load_explicit(&worker->kicked, memory_order_relaxed))
        pool->spin_misses = 0;
    else if (pool->spin_misses < TP_WORKER_SPIN_MISSES)
        pool->spin_misses++;
}

/* Whether a worker going idle should spin first (TP_WORKER_SPIN_MISSES).
 * Locking: P. */
static BOOL worker_spin_worthwhile_locked(struct tp_pool *pool)
{
    TP_ASSERT_LOCKED(&pool->lock);
    if (pool->spinner)
        return FALSE;
    if (pool->spin_misses < TP_WORKER_SPIN_MISSES)
        return TRUE;
    if (++pool->spin_skips < TP_WORKER_SPIN_RETRY)
        return FALSE;
    pool->spin_skips = 0;
    return TRUE;
}

static void worker_main(void *arg)
{
    struct tp_worker worker = { 0 };
    struct tp_pool *pool = arg;
    struct tp_object *obj;
    enum tp_dispatch action;
    BOOL timed_out, finished, spun = FALSE;
    ULONGLONG deadline_ns;

    worker.pool = pool;
    os_thread_set_block_hook(worker_block_hook, &worker);
    os_lock_acquire(&pool->lock);
    for (;;) {
        if ((obj = worker_dequeue_locked(pool))) {
            if (worker_run_locked(&worker, obj))
                tp_object_destroy_by_worker_locked(obj);
            spun = FALSE;
            continue;
        }
        if (pool->closed && pool->objects == 0)
            break;
        if (!spun && worker_spin_worthwhile_locked(pool)) {
            worker_spin_locked(&worker);
            spun = TRUE;
            continue;
        }
        spun = FALSE;
        pool->idle++;
        deadline_ns = os_clock_monotonic_ns()
                      + (ULONGLONG)tp_worker_idle_timeout_ms() * 1000000ull;
        /* An APC queued to an idle legacy I/O thread runs while it waits,
         * as on Windows (ntdll's threadpool conformance test queues one). */
        if (pool->alertable)
            timed_out = !os_cond_wait_until_alertable(&pool->work_cond, &pool->lock,
                                                      deadline_ns);
        else
            timed_out = !os_cond_wait_until(&pool->work_cond, &pool->lock, deadline_ns);
        pool->idle--;
        if (pool->waking)
            pool->waking--;
        /* More queued than this worker takes: wake the next one (the one
         * wake at a time of tp_pool_dispatch_locked). */
        if (pool->queued > 1 && (action = tp_pool_dispatch_locked(pool)) != TP_DISPATCH_NONE) {
            os_lock_release(&pool->lock);
            tp_pool_dispatch_finish(pool, action);
            os_lock_acquire(&pool->lock);
        }
        if (timed_out && pool->queued == 0 && pool->threads > pool->min_threads)
            break;
    }
    pool->threads--;
    finished = tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    os_thread_set_block_hook(NULL, NULL);
    TRACE("worker of pool %p retires\n", (void *)pool);
    if (finished)
        tp_pool_free(pool);
}

BOOL tp_worker_start(struct tp_pool *pool)
{
    SIZE_T stack_size;
    BOOL finished;
    DWORD err;

    os_lock_acquire(&pool->lock);
    stack_size = pool->stack_reserve;
    os_lock_release(&pool->lock);
    if ((err = os_thread_start(worker_main, pool, stack_size)) == ERROR_SUCCESS)
        return TRUE;
    TRACE("cannot start a worker for pool %p: error %lu\n", (void *)pool, (unsigned long)err);
    os_lock_acquire(&pool->lock);
    pool->threads--;
    finished = tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    if (finished)
        tp_pool_free(pool);
    return FALSE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The injection monitor: one thread for the whole process that looks at
 * pools whose queued callbacks wait while every worker is busy.  When a pool
 * started no callback during a whole tick, its workers are stuck in user
 * code the pool cannot see (computing, or blocking in calls outside the
 * handle layer), and the monitor starts one more worker, up to the maximum.
 * Takes P of one pool at a time, and M inside it (the lock order P -> M).
 */
#include "tp_private.h"

#define TP_MONITOR_TICK_MS 15

static struct {
    struct os_lock lock;
    struct os_cond cond;        /* (M) the monitor sleeps here while nothing is watched */
    struct list pools;          /* (M) watched pools (each holds pool->watched) */
    BOOL started;               /* (M) the thread is running */
} monitor;
static struct os_once monitor_once = OS_ONCE_INIT;

static void monitor_init(void)
{
    os_lock_init(&monitor.lock);
    os_cond_init(&monitor.cond);
    list_init(&monitor.pools);
}

static void monitor_setup(void)
{
    os_once(&monitor_once, monitor_init);
}

/*
 * Looks at one watched pool and stops watching it when its queue is empty
 * or it cannot grow.  Returns TRUE when the pool was closed and is now
 * finished: the caller frees it.
 * Locking: M not held; takes P, then M inside it (the lock order).
 */
static BOOL monitor_check_pool(struct tp_pool *pool)
{
    BOOL start = FALSE, done, finished;

    os_lock_acquire(&pool->lock);
    done = pool->queued <= 0 || pool->threads >= pool->max_threads;
    if (!done && pool->idle <= pool->waking && pool->progress == pool->progress_seen) {
        pool->threads++;
        start = TRUE;
    }
    pool->progress_seen = pool->progress;
    if (done) {
        /* Unlink and clear together, so a submitter that sets watched again
         * finds the entry free to link. */
        os_lock_acquire(&monitor.lock);
        list_remove(&pool->monitor_entry);
        os_lock_release(&monitor.lock);
        pool->watched = FALSE;
    }
    finished = done && tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    if (start) {
        TRACE("pool %p stalled: adding a worker\n", (void *)pool);
        tp_worker_start(pool);
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
            pool = LIST_ENTRY(entry, struct tp_pool, monitor_entry);
            os_lock_release(&monitor.lock);
            if (monitor_check_pool(pool))
                tp_pool_free(pool);
            os_lock_acquire(&monitor.lock);
        }
    }
}

void tp_monitor_watch(struct tp_pool *pool)
{
    BOOL start = FALSE;

    monitor_setup();
    os_lock_acquire(&monitor.lock);
    if (!list_linked(&pool->monitor_entry))
        list_add_tail(&monitor.pools, &pool->monitor_entry);
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

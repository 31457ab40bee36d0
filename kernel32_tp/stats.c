/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The figures users can read (tp_debug_pool_stats, include/kernel32_tp.h)
 * and their report at exit (KERNEL32_TP_STATS=1).  Owns the list of live
 * pools, which tells a pool pointer from any other, and the timer lateness
 * histogram's bucketing.  The figures themselves are counted where their
 * events happen, at no shared cost to the callbacks: the scheduler's under
 * P, which it holds there anyway, and callbacks run per worker
 * (scheduler.c); waits armed in wait.c; lateness in timer_service.c.
 *
 * Takes C (the live pools' list), and P inside it to read one pool.  A pool
 * leaves the list before it is freed (tp_pool_free), so a pool found on the
 * list under C is alive for as long as C is held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_private.h"

static struct {
    struct os_lock lock;            /* C */
    struct list pools;              /* (C) every live pool, the default one included */
    ULONGLONG freed_callbacks_run;  /* (C) callbacks run by the pools already freed */
} live;
static struct os_once live_once = OS_ONCE_INIT;

static void stats_report(void);

static void live_init(void)
{
    const char *env = os_getenv("KERNEL32_TP_STATS");

    os_lock_init(&live.lock, OS_LOCK_RANK_C);
    list_init(&live.pools);
    if (env && atoi(env) > 0)
        atexit(stats_report);
}

static void live_setup(void)
{
    os_once(&live_once, live_init);
}

/* The child of a fork() has none of the parent's pools to report, and C
 * may be held by a thread it does not have (pool.c). */
void tp_stats_fork_child(void)
{
    static const struct os_once fresh = OS_ONCE_INIT;

    memset(&live, 0, sizeof(live));
    live_once = fresh;
}

void tp_stats_pool_added(struct tp_pool *pool)
{
    live_setup();
    os_lock_acquire(&live.lock);
    list_add_tail(&live.pools, &pool->stats_entry);
    os_lock_release(&live.lock);
}

void tp_stats_pool_removed(struct tp_pool *pool)
{
    ULONGLONG run;

    /* The pool is being freed: no worker is left to count, P is free. */
    os_lock_acquire(&pool->lock);
    run = tp_sched_callbacks_run_locked(pool);
    os_lock_release(&pool->lock);
    os_lock_acquire(&live.lock);
    list_remove(&pool->stats_entry);
    live.freed_callbacks_run += run;
    os_lock_release(&live.lock);
}

/* Every pool's callbacks run, summed on demand (tp_debug_callbacks_run):
 * the workers count theirs privately, so the callbacks share no counter. */
LONGLONG tp_stats_callbacks_run(void)
{
    ULONGLONG run;
    struct list *entry;

    live_setup();
    os_lock_acquire(&live.lock);
    run = live.freed_callbacks_run;
    for (entry = live.pools.next; entry != &live.pools; entry = entry->next) {
        struct tp_pool *pool = LIST_ENTRY(entry, struct tp_pool, stats_entry);

        os_lock_acquire(&pool->lock);
        run += tp_sched_callbacks_run_locked(pool);
        os_lock_release(&pool->lock);
    }
    os_lock_release(&live.lock);
    return (LONGLONG)run;
}

void tp_stats_timer_late(struct tp_pool *pool, ULONGLONG late_ns)
{
    ULONGLONG late_us = late_ns / 1000;
    unsigned int bucket = 0;

    /* [0] under 1 us, [i] from 2^(i-1) us, the last one open-ended. */
    while (late_us && bucket < TP_DEBUG_LATENESS_BUCKETS - 1) {
        late_us >>= 1;
        bucket++;
    }
    atomic_fetch_add_explicit(&pool->timer_lateness[bucket], 1, memory_order_relaxed);
}

/* Reads one pool's figures.  Locking: C; takes P. */
static void stats_read_locked(struct tp_pool *pool, TP_DEBUG_POOL_STATS *stats)
{
    unsigned int i;

    TP_ASSERT_LOCKED(&live.lock);
    memset(stats, 0, sizeof(*stats));
    stats->Size = sizeof(*stats);
    stats->LatenessBuckets = TP_DEBUG_LATENESS_BUCKETS;
    os_lock_acquire(&pool->lock);
    tp_sched_stats_locked(pool, stats);
    os_lock_release(&pool->lock);
    stats->WaitsArmed = atomic_load_explicit(&pool->waits_armed, memory_order_relaxed);
    for (i = 0; i < TP_DEBUG_LATENESS_BUCKETS; i++)
        stats->TimerLateness[i] = (LONGLONG)atomic_load_explicit(&pool->timer_lateness[i],
                                                                 memory_order_relaxed);
}

/* Whether pool is on the list.  Locking: C. */
static BOOL stats_pool_live_locked(const struct tp_pool *pool)
{
    const struct list *entry;

    TP_ASSERT_LOCKED(&live.lock);
    for (entry = live.pools.next; entry != &live.pools; entry = entry->next)
        if (entry == &pool->stats_entry)
            return TRUE;
    return FALSE;
}

/* One block on stderr: a line per live pool, then its lateness histogram. */
static void stats_report(void)
{
    TP_DEBUG_POOL_STATS stats;
    struct list *entry;
    struct tp_pool *pool;
    unsigned int i, late;

    os_lock_acquire(&live.lock);
    fprintf(stderr, "kernel32_tp: stats: pools alive at exit\n");
    for (entry = live.pools.next; entry != &live.pools; entry = entry->next) {
        pool = LIST_ENTRY(entry, struct tp_pool, stats_entry);
        stats_read_locked(pool, &stats);
        fprintf(stderr,
                "kernel32_tp: stats: pool %p%s: callbacks %lld, queue %ld (max %ld), "
                "threads %lu (created %lld, retired %lld), injected blocked %lld "
                "may-run-long %lld stall %lld, waits armed %ld\n",
                (void *)pool, pool->is_default ? " (default)" : "",
                (long long)stats.CallbacksRun, (long)stats.QueueDepth,
                (long)stats.QueueDepthMax, (unsigned long)stats.Threads,
                (long long)stats.ThreadsCreated, (long long)stats.ThreadsRetired,
                (long long)stats.InjectedBlocked, (long long)stats.InjectedMayRunLong,
                (long long)stats.InjectedStall, (long)stats.WaitsArmed);
        fprintf(stderr, "kernel32_tp: stats:   timer lateness (us: count):");
        for (i = 0, late = 0; i < TP_DEBUG_LATENESS_BUCKETS; i++) {
            if (!stats.TimerLateness[i])
                continue;
            late++;
            if (i == 0)
                fprintf(stderr, " <1: %lld", (long long)stats.TimerLateness[i]);
            else
                fprintf(stderr, " %s%llu: %lld", i == TP_DEBUG_LATENESS_BUCKETS - 1 ? ">=" : "",
                        1ull << (i - 1), (long long)stats.TimerLateness[i]);
        }
        fprintf(stderr, late ? "\n" : " none\n");
    }
    os_lock_release(&live.lock);
    fflush(stderr);
}

/***********************************************************************
 *           tp_debug_pool_stats   (kernel32_tp.@)
 */
BOOL WINAPI tp_debug_pool_stats(PTP_POOL api, TP_DEBUG_POOL_STATS *stats)
{
    TP_DEBUG_POOL_STATS all;
    struct tp_pool *pool;
    DWORD size;
    BOOL found;

    TRACE("%p %p\n", api, stats);
    if (!stats || stats->Size < TP_DEBUG_POOL_STATS_SIZE_V1) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    live_setup();
    pool = impl_from_TP_POOL(api);      /* NULL: the default pool, made if need be */
    os_lock_acquire(&live.lock);
    if ((found = stats_pool_live_locked(pool)))
        stats_read_locked(pool, &all);
    os_lock_release(&live.lock);
    if (!found) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    /* Grown callers get what this version knows, the rest zeroed. */
    size = stats->Size < sizeof(all) ? stats->Size : (DWORD)sizeof(all);
    memset((char *)stats + size, 0, stats->Size - size);
    memcpy(stats, &all, size);
    stats->Size = size;
    return TRUE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_POOL: lifetime, thread limits and stack information.  The run queue,
 * the worker threads and the decision to add one belong to the scheduler
 * (scheduler.c), which reads the limits under P.  Takes P; never runs user
 * code.
 *
 * A pool is freed when it was closed, holds no object, has no worker left
 * and is not watched by the monitor (tp_pool_finished_locked); whoever makes
 * that true last frees it.  The default pool is never freed.
 */
#include <stdlib.h>
#include <string.h>

#include "tp_private.h"

/* Windows' limit for a new pool, and its default minimum. */
#define TP_POOL_DEFAULT_MAX_THREADS 500
#define TP_POOL_DEFAULT_MIN_THREADS 0

static struct tp_pool default_pool;
static struct os_once default_pool_once = OS_ONCE_INIT;
/* (a) &default_pool once it is set up: a poster finds it with one load. */
static struct tp_pool *_Atomic default_pool_ready;

static void pool_init(struct tp_pool *pool)
{
    memset(pool, 0, sizeof(*pool));
    os_stamp_set(&pool->stamp);
    os_lock_init(&pool->lock, OS_LOCK_RANK_P);
    tp_sched_init(pool);
    os_cond_init(&pool->drain_cond);
    os_thread_default_stack(&pool->stack_reserve, &pool->stack_commit);
    pool->max_threads = TP_POOL_DEFAULT_MAX_THREADS;
    pool->min_threads = TP_POOL_DEFAULT_MIN_THREADS;
}

static void default_pool_setup(void)
{
    pool_init(&default_pool);
    default_pool.is_default = TRUE;
    tp_stats_pool_added(&default_pool);
    atomic_store_explicit(&default_pool_ready, &default_pool, memory_order_release);
}

/*
 * The child of a fork() starts fresh (docs/reliability.md, test_exit.c):
 * it has none of the parent's workers or service threads, and the locks
 * they held stay held.  The process-wide state (the default pool, the
 * monitor, the timer service) is forgotten, its memory left behind, and
 * set up anew on its next use (its once made fresh); the parent's pools and
 * objects are not to be used in the child.  Runs on the child's one
 * thread, inside fork().
 */
static void pool_fork_child(void)
{
    static const struct os_once fresh = OS_ONCE_INIT;

    memset(&default_pool, 0, sizeof(default_pool));
    atomic_store_explicit(&default_pool_ready, NULL, memory_order_relaxed);
    default_pool_once = fresh;
    tp_sched_fork_child();
    tp_timer_service_fork_child();
    tp_stats_fork_child();
}

/* Priority 103: after the stamps (101) and the trace (102). */
__attribute__((constructor(103))) static void pool_fork_setup(void)
{
    os_fork_child_register(pool_fork_child);
}

struct tp_pool *tp_pool_default(void)
{
    struct tp_pool *pool = atomic_load_explicit(&default_pool_ready, memory_order_acquire);

    if (__builtin_expect(pool != NULL, 1))
        return pool;
    os_once(&default_pool_once, default_pool_setup);
    return &default_pool;
}

DWORD tp_pool_create(struct tp_pool **out)
{
    struct tp_pool *pool = malloc(sizeof(*pool));

    if (!pool)
        return ERROR_NOT_ENOUGH_MEMORY;
    pool_init(pool);
    tp_stats_pool_added(pool);
    atomic_fetch_add(&tp_live_objects, 1);
    if (tp_check_enabled)
        tp_check_created(pool, TP_CHECK_POOL);
    *out = pool;
    return ERROR_SUCCESS;
}

BOOL tp_pool_finished_locked(struct tp_pool *pool)
{
    TP_ASSERT_LOCKED(&pool->lock);
    return pool->closed && !pool->is_default && tp_pool_objects_locked(pool) == 0
           && !tp_sched_busy_locked(pool);
}

void tp_pool_free(struct tp_pool *pool)
{
    TP_ASSERT(!pool->is_default);
    tp_stats_pool_removed(pool);
    tp_sched_destroy(pool);
    os_cond_destroy(&pool->drain_cond);
    os_lock_destroy(&pool->lock);
    os_stamp_clear(&pool->stamp);
    tp_debug_free_live(pool, sizeof(*pool));
}

BOOL tp_pool_object_left_locked(struct tp_pool *pool)
{
    LONG left;

    TP_ASSERT_LOCKED(&pool->lock);
    /* Never closed, never finished: its count is per thread. */
    if (pool->is_default) {
        os_thread_count_add(TP_COUNT_DEFAULT_POOL_OBJECTS, -1);
        return FALSE;
    }
    /* Acquire and release: whoever frees the pool comes after this object's
     * end, and after those counted out without P before. */
    left = (atomic_fetch_sub_explicit(&pool->objects, 1, memory_order_acq_rel) - 1)
           & ~TP_POOL_OBJECTS_CLOSED;
    TP_ASSERT(left >= 0 && left < TP_POOL_OBJECTS_CLOSED - 1);
    /* Idle workers of a closed pool retire as soon as it is empty. */
    if (pool->closed && left == 0)
        tp_sched_wake_idle_locked(pool);
    return tp_pool_finished_locked(pool);
}

/*
 * Objects keep a closed pool alive: Windows lets callbacks that are already
 * queued run after CloseThreadpool, and frees the pool after the last
 * object is closed.
 */
void tp_pool_close(struct tp_pool *pool)
{
    BOOL finished;

    TP_ASSERT(!pool->is_default);
    os_lock_acquire(&pool->lock);
    if (pool->closed)
        os_panic("CloseThreadpool: pool %p closed twice", (void *)pool);
    pool->closed = TRUE;
    /* From now on objects leave under P (tp_pool_object_left_open); the
     * acquire orders what the objects that left without P did before. */
    atomic_fetch_or_explicit(&pool->objects, TP_POOL_OBJECTS_CLOSED, memory_order_acq_rel);
    tp_sched_wake_idle_locked(pool);
    finished = tp_pool_finished_locked(pool);
    os_lock_release(&pool->lock);
    if (finished)
        tp_pool_free(pool);
}

void tp_pool_set_max_threads(struct tp_pool *pool, DWORD max_threads)
{
    os_lock_acquire(&pool->lock);
    /* Windows keeps min <= max by lowering the minimum. */
    pool->max_threads = max_threads ? max_threads : 1;
    if (pool->min_threads > pool->max_threads)
        pool->min_threads = pool->max_threads;
    os_lock_release(&pool->lock);
}

/*
 * Starts workers until the pool has min_threads of them.  Fails (and leaves
 * the minimum unchanged) when a thread cannot be created.
 */
DWORD tp_pool_set_min_threads(struct tp_pool *pool, DWORD min_threads)
{
    if (!tp_sched_start_workers(pool, min_threads))
        return ERROR_NOT_ENOUGH_MEMORY;
    os_lock_acquire(&pool->lock);
    pool->min_threads = min_threads;
    if (pool->max_threads < min_threads)
        pool->max_threads = min_threads;
    os_lock_release(&pool->lock);
    return ERROR_SUCCESS;
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateThreadpool   (kernel32_tp.@)
 */
PTP_POOL WINAPI CreateThreadpool(PVOID reserved)
{
    struct tp_pool *pool;
    DWORD err;

    TRACE("%p\n", reserved);
    if ((err = tp_pool_create(&pool)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return (PTP_POOL)pool;
}

/***********************************************************************
 *           TpAllocPool   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpAllocPool(TP_POOL **out, PVOID reserved)
{
    struct tp_pool *pool;
    DWORD err;

    TRACE("%p %p\n", out, reserved);
    if (!out)
        return tp_status_from_error(ERROR_INVALID_PARAMETER);
    if ((err = tp_pool_create(&pool)) != ERROR_SUCCESS)
        return tp_status_from_error(err);
    *out = (TP_POOL *)pool;
    return 0;
}

/***********************************************************************
 *           CloseThreadpool   (kernel32_tp.@)
 */
VOID WINAPI CloseThreadpool(PTP_POOL api)
{
    TRACE("%p\n", api);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_CLOSE);
    tp_pool_close(impl_from_TP_POOL(api));
}

/***********************************************************************
 *           SetThreadpoolThreadMaximum   (kernel32_tp.@)
 */
VOID WINAPI SetThreadpoolThreadMaximum(PTP_POOL api, DWORD max_threads)
{
    TRACE("%p %lu\n", api, (unsigned long)max_threads);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    tp_pool_set_max_threads(impl_from_TP_POOL(api), max_threads);
}

/***********************************************************************
 *           SetThreadpoolThreadMinimum   (kernel32_tp.@)
 */
BOOL WINAPI SetThreadpoolThreadMinimum(PTP_POOL api, DWORD min_threads)
{
    TRACE("%p %lu\n", api, (unsigned long)min_threads);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    return os_bool_result(tp_pool_set_min_threads(impl_from_TP_POOL(api), min_threads));
}

/***********************************************************************
 *           TpSetPoolMinThreads   (kernel32_tp.@)
 *
 * An NTSTATUS, as in Windows (test_ntdll.c); Wine 8 declares and returns BOOL.
 */
NTSTATUS WINAPI TpSetPoolMinThreads(TP_POOL *api, DWORD min_threads)
{
    TRACE("%p %lu\n", api, (unsigned long)min_threads);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    return tp_status_from_error(tp_pool_set_min_threads(impl_from_TP_POOL(api), min_threads));
}

/* The stack calls take no default pool: NULL is ERROR_INVALID_PARAMETER (test_pool.c). */
static DWORD pool_set_stack(PTP_POOL api, const TP_POOL_STACK_INFORMATION *info)
{
    struct tp_pool *pool = (struct tp_pool *)api;

    if (!pool || !info)
        return ERROR_INVALID_PARAMETER;
    os_lock_acquire(&pool->lock);
    pool->stack_reserve = info->StackReserve;
    pool->stack_commit = info->StackCommit;
    os_lock_release(&pool->lock);
    return ERROR_SUCCESS;
}

static DWORD pool_query_stack(PTP_POOL api, TP_POOL_STACK_INFORMATION *info)
{
    struct tp_pool *pool = (struct tp_pool *)api;

    if (!pool || !info)
        return ERROR_INVALID_PARAMETER;
    os_lock_acquire(&pool->lock);
    info->StackReserve = pool->stack_reserve;
    info->StackCommit = pool->stack_commit;
    os_lock_release(&pool->lock);
    return ERROR_SUCCESS;
}

/***********************************************************************
 *           SetThreadpoolStackInformation   (kernel32_tp.@)
 */
BOOL WINAPI SetThreadpoolStackInformation(PTP_POOL api, PTP_POOL_STACK_INFORMATION info)
{
    TRACE("%p %p\n", api, info);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    return os_bool_result(pool_set_stack(api, info));
}

/***********************************************************************
 *           TpSetPoolStackInformation   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpSetPoolStackInformation(TP_POOL *api, TP_POOL_STACK_INFORMATION *info)
{
    TRACE("%p %p\n", api, info);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    return tp_status_from_error(pool_set_stack(api, info));
}

/***********************************************************************
 *           QueryThreadpoolStackInformation   (kernel32_tp.@)
 */
BOOL WINAPI QueryThreadpoolStackInformation(PTP_POOL api, PTP_POOL_STACK_INFORMATION info)
{
    TRACE("%p %p\n", api, info);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    return os_bool_result(pool_query_stack(api, info));
}

/***********************************************************************
 *           TpQueryPoolStackInformation   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpQueryPoolStackInformation(TP_POOL *api, TP_POOL_STACK_INFORMATION *info)
{
    TRACE("%p %p\n", api, info);
    TP_CHECK(api, TP_CHECK_POOL, TP_CHECK_USE);
    return tp_status_from_error(pool_query_stack(api, info));
}

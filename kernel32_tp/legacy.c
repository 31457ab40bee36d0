/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy thread-pool calls built on the same objects: QueueUserWorkItem
 * and ntdll's RtlQueueWorkItem (a simple callback on the default pool, or
 * on the pool of legacy I/O threads).  Timer queues, registered waits
 * and BindIoCompletionCallback join it with their object kinds.
 * Takes no lock of its own.
 */
#include "tp_private.h"

static void legacy_work_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    LPTHREAD_START_ROUTINE routine = (LPTHREAD_START_ROUTINE)obj->callback;

    (void)inst;
    TRACE("work item %p(%p)\n", obj->callback, obj->userdata);
    routine(obj->userdata);
    TRACE("work item %p returned\n", obj->callback);
}

static struct tp_pool *_Atomic legacy_io_pool;     /* (a) made on first use, never freed */

/*
 * WT_EXECUTEINIOTHREAD asks for a thread that waits alertably, so that the
 * APCs a callback queues to its own thread (or anyone queues to it) run
 * once it is idle.  Such callbacks run on a pool of their own whose idle
 * workers wait alertably; the default pool's workers need not.
 */
DWORD tp_legacy_io_pool(struct tp_pool **out)
{
    struct tp_pool *pool = atomic_load(&legacy_io_pool), *expected = NULL;
    DWORD err;

    if (pool) {
        *out = pool;
        return ERROR_SUCCESS;
    }
    if ((err = tp_pool_create(&pool)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&pool->lock);
    pool->alertable = TRUE;
    os_lock_release(&pool->lock);
    if (!atomic_compare_exchange_strong(&legacy_io_pool, &expected, pool)) {
        tp_pool_close(pool);    /* another thread was first */
        pool = expected;
    } else {
        /* It lives as long as the process, like the default pool: not one
         * of the objects a leak check counts. */
        atomic_fetch_sub(&tp_live_objects, 1);
    }
    *out = pool;
    return ERROR_SUCCESS;
}

void tp_legacy_env_init(TP_CALLBACK_ENVIRON *env, ULONG flags)
{
    env->Version = 3;
    env->CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
    env->Size = sizeof(*env);
    if (flags & WT_EXECUTELONGFUNCTION)
        env->u.s.LongFunction = 1;
}

/*
 * WT_EXECUTELONGFUNCTION makes the item long-running from the start;
 * WT_EXECUTEINIOTHREAD sends it to the I/O threads.  The persistent-thread
 * flag needs no thread of its own: every worker lives long enough.
 */
static DWORD legacy_queue_work(LPTHREAD_START_ROUTINE routine, void *context, ULONG flags)
{
    TP_CALLBACK_ENVIRON env = { 0 };
    struct tp_pool *pool;
    DWORD err;

    tp_legacy_env_init(&env, flags);
    if (flags & WT_EXECUTEINIOTHREAD) {
        if ((err = tp_legacy_io_pool(&pool)) != ERROR_SUCCESS)
            return err;
        env.Pool = (PTP_POOL)pool;
    }
    return tp_simple_post(legacy_work_invoke, (void *)routine, context, &env);
}

/***********************************************************************
 *           QueueUserWorkItem   (kernel32_tp.@)
 */
BOOL WINAPI QueueUserWorkItem(LPTHREAD_START_ROUTINE routine, PVOID context, ULONG flags)
{
    TRACE("%p %p %#lx\n", (void *)routine, context, (unsigned long)flags);
    return os_bool_result(legacy_queue_work(routine, context, flags));
}

/***********************************************************************
 *           RtlQueueWorkItem   (kernel32_tp.@)
 *
 * QueueUserWorkItem with an NTSTATUS result.
 */
NTSTATUS WINAPI RtlQueueWorkItem(tp_rtl_work_routine routine, PVOID context, ULONG flags)
{
    TRACE("%p %p %#lx\n", (void *)routine, context, (unsigned long)flags);
    return tp_status_from_error(legacy_queue_work(routine, context, flags));
}

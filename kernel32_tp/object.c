/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every callback object (work, simple, timer, wait, I/O) shares: the
 * environment, submission, cancellation, drains and lifetime.
 *
 * Lifetime: obj->refs counts the user's handle and the group membership.
 * The object is destroyed when no reference is left and no callback is
 * queued or running (tp_object_finished_locked), by whoever sees that last:
 * Close*, a group close, or the worker whose callback returned.
 * Takes P (and G through group.c, before P); closing an object that was
 * never queued takes no lock (tp_object_close).
 */
#include <stdlib.h>
#include <string.h>

#include "tp_private.h"

/* What an environment gives an object (object_read_environment). */
struct object_environment {
    struct tp_pool *pool;
    struct tp_group *group;
    unsigned char dispatch;             /* as tp_object.dispatch */
    struct tp_object_extras extras;     /* the fields few objects have */
};

/*
 * Windows accepts the V1 and V3 environments; V3 adds the callback
 * priority, which must be a valid TP_CALLBACK_PRIORITY.  The fields few
 * objects have go to environment->extras.
 */
static inline __attribute__((always_inline)) DWORD
object_read_environment(struct object_environment *environment, const TP_CALLBACK_ENVIRON *env)
{
    environment->dispatch = TP_CALLBACK_PRIORITY_NORMAL;
    environment->group = NULL;
    environment->extras = (struct tp_object_extras){ NULL, NULL, NULL };
    if (!env) {
        environment->pool = tp_pool_default();
        return ERROR_SUCCESS;
    }
    if (env->Version != 1 && env->Version != 3)
        return ERROR_INVALID_PARAMETER;
    if (env->Version == 3) {
        if ((unsigned int)env->CallbackPriority >= TP_PRIORITY_COUNT)
            return ERROR_INVALID_PARAMETER;
        environment->dispatch = (unsigned char)env->CallbackPriority;
    }
    environment->pool = impl_from_TP_POOL(env->Pool);
    if (env->CleanupGroup)
        environment->group = impl_from_TP_CLEANUP_GROUP(env->CleanupGroup);
    environment->extras.group_cancel = env->CleanupGroupCancelCallback;
    environment->extras.finalization = env->FinalizationCallback;
    environment->extras.race_dll = env->RaceDll;
    if (env->u.s.LongFunction)
        environment->dispatch |= TP_OBJECT_LONG_FUNCTION;
    /* Persistent: every worker of ours is persistent enough, as no APC is
     * ever queued to it. */
    return ERROR_SUCCESS;
}

static BOOL extras_needed(const struct tp_object_extras *extras)
{
    return extras->finalization || extras->race_dll || extras->group_cancel;
}

/*
 * Writes every field of obj but ops and extras (object_join's): a fresh
 * object, whose memory need not be zeroed, or a recycled simple one.
 */
static inline __attribute__((always_inline)) void
object_fill(struct tp_object *obj, const struct object_environment *environment,
            enum tp_object_type type, tp_invoke_fn invoke, void *callback, void *userdata)
{
    os_stamp_set(&obj->stamp);
    obj->type = (unsigned char)type;
    obj->dispatch = environment->dispatch;
    if (environment->pool->is_default)
        obj->dispatch |= TP_OBJECT_DEFAULT_POOL;
    obj->closed = FALSE;
    obj->queued = FALSE;
    obj->pool = environment->pool;
    obj->group = environment->group;
    obj->extras = NULL;
    obj->invoke = invoke;
    obj->callback = callback;
    obj->userdata = userdata;
    list_init(&obj->queue_entry);
    list_init(&obj->group_entry);
    obj->refs = obj->group ? 2 : 1;     /* the user's handle, the group's membership */
    obj->group_member = FALSE;
    atomic_init(&obj->pending, 0);
    obj->running = 0;
    obj->associated = 0;
    obj->drainers = 0;
    obj->cancelled = 0;
}

/*
 * Gives obj its extras when the environment has any, takes the references
 * the environment asks for and joins the group.  On failure obj has no
 * extras left.
 */
static DWORD object_join(struct tp_object *obj, const struct tp_object_extras *extras)
{
    DWORD err;

    if (extras_needed(extras)) {
        if (!(obj->extras = malloc(sizeof(*obj->extras))))
            return ERROR_NOT_ENOUGH_MEMORY;
        *obj->extras = *extras;
    }
    /* RaceDll: the module stays loaded as long as the object lives. */
    if (extras->race_dll && (err = os_library_addref(extras->race_dll)) != ERROR_SUCCESS) {
        free(obj->extras);
        obj->extras = NULL;
        return err;
    }
    /* One count on the default pool: its own (tp_pool_object_joined). */
    if (!(obj->dispatch & TP_OBJECT_DEFAULT_POOL))
        os_thread_count_add(TP_COUNT_LIVE_OBJECTS, 1);
    if (obj->group)
        tp_group_add(obj->group, obj);
    return ERROR_SUCCESS;
}

DWORD tp_object_init(struct tp_object *obj, enum tp_object_type type, tp_invoke_fn invoke,
                     void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env)
{
    struct object_environment environment;
    DWORD err;

    if (!env) {
        /* The common case, in short: the default pool, which is never closed,
         * no group and no extras; the one count is the pool's. */
        environment = (struct object_environment){ .pool = tp_pool_default(), .group = NULL,
                                                   .dispatch = TP_CALLBACK_PRIORITY_NORMAL };
        object_fill(obj, &environment, type, invoke, callback, userdata);
        os_thread_count_add(TP_COUNT_DEFAULT_POOL_OBJECTS, 1);
        if (tp_check_enabled)
            tp_check_created(obj, (enum tp_check_kind)type);
        return ERROR_SUCCESS;
    }
    if ((err = object_read_environment(&environment, env)) != ERROR_SUCCESS)
        return err;
    object_fill(obj, &environment, type, invoke, callback, userdata);
    if ((err = object_join(obj, &environment.extras)) != ERROR_SUCCESS)
        return err;
    /* No P: making an object in a pool that is being closed is misuse. */
    TP_ASSERT(!__atomic_load_n(&obj->pool->closed, __ATOMIC_RELAXED));
    tp_pool_object_joined(obj->pool);
    if (tp_check_enabled)
        tp_check_created(obj, (enum tp_check_kind)type);
    return ERROR_SUCCESS;
}

/*
 * Joins the pool and lets go of the handle nobody holds: the object is then
 * ready for its one callback.  Locking: P.
 */
static void simple_start_locked(struct tp_object *obj)
{
    TP_ASSERT_LOCKED(&obj->pool->lock);
    TP_ASSERT(!obj->pool->closed);
    tp_pool_object_joined(obj->pool);
    obj->refs--;
    obj->closed = TRUE;
}

/*
 * Whether a simple callback posted with env needs no object (no group, no
 * extras, a valid environment), as object_read_environment would find, with
 * its pool and dispatch: read without filling a whole object.  FALSE sends
 * the post the long way, which reports an invalid environment.
 */
static BOOL simple_environment_light(const TP_CALLBACK_ENVIRON *env, struct tp_pool **pool,
                                     unsigned char *dispatch)
{
    if (!env) {
        *pool = tp_pool_default();
        *dispatch = TP_CALLBACK_PRIORITY_NORMAL;
        return TRUE;
    }
    if ((env->Version != 1 && env->Version != 3) || env->CleanupGroup
        || env->FinalizationCallback || env->RaceDll || env->CleanupGroupCancelCallback)
        return FALSE;
    *dispatch = TP_CALLBACK_PRIORITY_NORMAL;
    if (env->Version == 3) {
        if ((unsigned int)env->CallbackPriority >= TP_PRIORITY_COUNT)
            return FALSE;
        *dispatch = (unsigned char)env->CallbackPriority;
    }
    if (env->u.s.LongFunction)
        *dispatch |= TP_OBJECT_LONG_FUNCTION;
    *pool = impl_from_TP_POOL(env->Pool);
    return TRUE;
}

/*
 * The hot path of TrySubmitThreadpoolCallback and QueueUserWorkItem.  A
 * simple callback with no group and no extras is no object: a post record
 * (struct tp_post, post.c) goes to the scheduler's inbox without P
 * (tp_sched_post), and a worker runs it through an object of its own.
 * Otherwise a one-shot object is made and queued under P (a group close
 * may cancel it from the queue).
 */
DWORD tp_simple_post(tp_invoke_fn invoke, void *callback, void *userdata,
                     const TP_CALLBACK_ENVIRON *env)
{
    struct object_environment environment;
    struct tp_object *obj = NULL;
    struct tp_post *post;
    struct tp_pool *pool;
    enum tp_dispatch action;
    unsigned char dispatch;
    DWORD err;

    if (!callback)
        return ERROR_INVALID_PARAMETER;
    if (simple_environment_light(env, &pool, &dispatch)) {
        /* No P: posting to a pool that is being closed is misuse. */
        TP_ASSERT(!__atomic_load_n(&pool->closed, __ATOMIC_RELAXED));
        if ((err = tp_post_take(pool, &post)) != ERROR_SUCCESS)
            return err;
        post->invoke = invoke;
        post->callback = callback;
        post->userdata = userdata;
        post->dispatch = dispatch;
        tp_sched_post(pool, post);
        return ERROR_SUCCESS;
    }
    if ((err = object_read_environment(&environment, env)) != ERROR_SUCCESS)
        return err;
    pool = environment.pool;
    if (!(obj = calloc(1, sizeof(*obj))))
        return ERROR_NOT_ENOUGH_MEMORY;
    object_fill(obj, &environment, TP_OBJECT_SIMPLE, invoke, callback, userdata);
    if ((err = object_join(obj, &environment.extras)) != ERROR_SUCCESS) {
        free(obj);
        return err;
    }
    /* Under P: a group close may see a member as soon as it joined. */
    os_lock_acquire(&pool->lock);
    simple_start_locked(obj);
    action = tp_object_queue_locked(obj, 1);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
    return ERROR_SUCCESS;
}

enum tp_dispatch tp_object_queue_locked(struct tp_object *obj, LONG count)
{
    TP_ASSERT_LOCKED(&obj->pool->lock);
    /* Workers may know it from now on: its close takes P (tp_object_close). */
    if (!obj->queued)
        __atomic_store_n(&obj->queued, TRUE, __ATOMIC_RELAXED);
    return tp_sched_enqueue_locked(obj, count);
}

void tp_object_submit(struct tp_object *obj, LONG count)
{
    struct tp_pool *pool = obj->pool;
    enum tp_dispatch action;

    /* Queued already: one count more (the object is closed only when its
     * user is done posting, so a post here that races a close is misuse;
     * the checked mode reports it). */
    if (!__atomic_load_n(&obj->closed, __ATOMIC_RELAXED) && tp_sched_enqueue_more(obj, count))
        return;
    os_lock_acquire(&pool->lock);
    if (obj->closed)
        os_panic("thread-pool object %p used after it was closed", (void *)obj);
    action = tp_object_queue_locked(obj, count);
    os_lock_release(&pool->lock);
    tp_sched_dispatch_finish(pool, action);
}

LONG tp_object_cancel_locked(struct tp_object *obj)
{
    LONG dropped;

    TP_ASSERT_LOCKED(&obj->pool->lock);
    /* Kinds with this hook queue under P only: pending holds still. */
    if (obj->ops && obj->ops->cancel_locked)
        obj->ops->cancel_locked(obj);
    /* A worker running a work object's callbacks in a row drops those it
     * took off the count already, too (tp_sched_unqueue_locked). */
    if (!(dropped = tp_sched_unqueue_locked(obj)))
        return 0;
    obj->cancelled += dropped;
    tp_object_wake_drainers_locked(obj);
    return dropped;
}

void tp_object_wake_drainers_locked(struct tp_object *obj)
{
    TP_ASSERT_LOCKED(&obj->pool->lock);
    if (obj->drainers && obj->pending == 0 && (obj->associated == 0 || obj->running == 0))
        os_cond_broadcast(&obj->pool->drain_cond);
}

/* Work of obj's kind outside the pool's queue (I/O in flight).  Locking: P. */
static BOOL object_busy_locked(struct tp_object *obj)
{
    return obj->ops && obj->ops->busy_locked && obj->ops->busy_locked(obj);
}

void tp_object_drain(struct tp_object *obj, BOOL cancel_pending, BOOL include_disassociated)
{
    struct tp_pool *pool = obj->pool;

    os_lock_acquire(&pool->lock);
    if (cancel_pending)
        tp_object_cancel_locked(obj);
    obj->drainers++;
    while (obj->pending > 0 || (include_disassociated ? obj->running : obj->associated) > 0
           || object_busy_locked(obj)) {
        /* The workers are gone: what is pending or running never ends. */
        if (os_process_exiting())
            break;
        os_cond_wait(&pool->drain_cond, &pool->lock);
    }
    obj->drainers--;
    os_lock_release(&pool->lock);
}

BOOL tp_object_finished_locked(struct tp_object *obj)
{
    TP_ASSERT_LOCKED(&obj->pool->lock);
    return obj->refs == 0 && obj->pending == 0 && obj->running == 0;
}

/*
 * The memory and references of an object nothing holds any more: the kind's
 * destroy hook, the object itself, then the RaceDll reference.  No lock
 * needed; the pool's bookkeeping is the caller's.
 */
static void object_release(struct tp_object *obj)
{
    HMODULE race_dll = tp_object_race_dll(obj);
    /* Not obj->pool: after an object left it, a closed pool may be gone. */
    BOOL counted = !(obj->dispatch & TP_OBJECT_DEFAULT_POOL);

    if (obj->ops && obj->ops->destroy)
        obj->ops->destroy(obj);
    os_stamp_clear(&obj->stamp);
    if (obj->extras)
        free(obj->extras);
    if (tp_check_enabled)
        tp_check_object_freed(obj);     /* the quarantine frees it later */
    else if (obj->ops && obj->ops->free)
        obj->ops->free(obj);
    else
        free(obj);
    if (counted)
        os_thread_count_add(TP_COUNT_LIVE_OBJECTS, -1);
    if (race_dll)
        os_library_free(race_dll);
}

/*
 * The worker's way to destroy an object whose callback it just ran, without
 * dropping P more than needed: its pool cannot finish meanwhile, since the
 * worker itself is one of the pool's threads.
 * Locking: P (dropped only around hooks and module releases).
 */
static void object_destroy_by_worker_locked(struct tp_object *obj)
{
    struct tp_pool *pool = obj->pool;
    BOOL drop_lock;

    TP_ASSERT_LOCKED(&pool->lock);
    TP_ASSERT(!tp_pool_object_left_locked(pool));
    /* Hooks and module releases run with no lock held; a plain free need not
     * drop P.  The worker keeps the pool alive either way. */
    drop_lock = (obj->ops && obj->ops->destroy) || tp_object_race_dll(obj);
    if (drop_lock)
        os_lock_release(&pool->lock);
    object_release(obj);
    if (drop_lock)
        os_lock_acquire(&pool->lock);
}

void tp_object_run(struct tp_object *obj, struct tp_instance *inst, struct tp_worker *worker)
{
    PTP_SIMPLE_CALLBACK finalization;

    *inst = (struct tp_instance){ .magic = 0 };
    os_stamp_set(&inst->stamp);
    inst->magic = TP_INSTANCE_MAGIC;
    inst->obj = obj;
    inst->worker = worker;
    inst->thread_id = os_thread_current_id();
    inst->associated = TRUE;
    if (tp_check_enabled)
        tp_check_instance_enter(inst);

    obj->invoke(obj, inst);
    if ((finalization = tp_object_finalization(obj))) {
        TRACE("finalization %p(%p, %p)\n", (void *)finalization, (void *)inst,
              obj->userdata);
        finalization((PTP_CALLBACK_INSTANCE)inst, obj->userdata);
        TRACE("finalization %p returned\n", (void *)finalization);
    }
    /* Over for the checked mode before an action wakes a thread that may
     * try the instance. */
    if (tp_check_enabled)
        tp_check_instance_leave(inst);
    /* After the callback and its finalization, before the counts drop: a
     * thread woken by these actions sees the callback over. */
    tp_instance_run_actions(inst);
    inst->magic = 0;
    os_stamp_clear(&inst->stamp);

    /* A simple callback belongs to its group until it returns to the pool
     * (G is taken before P: here, not in tp_object_callback_done_locked). */
    inst->left_group = obj->type == TP_OBJECT_SIMPLE && obj->group
                       && tp_group_remove(obj->group, obj);
}

void tp_object_callback_done_locked(struct tp_object *obj, struct tp_instance *inst)
{
    struct tp_pool *pool = obj->pool;
    BOOL finished;

    TP_ASSERT_LOCKED(&pool->lock);
    obj->running--;
    if (inst->associated)
        obj->associated--;
    if (inst->left_group)
        obj->refs--;
    tp_object_wake_drainers_locked(obj);
    finished = tp_object_finished_locked(obj);
    /*
     * FreeLibraryWhenCallbackReturns comes last, after waiters were released:
     * the module may hold the callback's code, which has returned by now.
     * Unless finished, obj may be gone once P is dropped: not touched again.
     */
    if (inst->free_library) {
        os_lock_release(&pool->lock);
        os_library_free(inst->free_library);
        os_lock_acquire(&pool->lock);
    }
    if (finished)
        object_destroy_by_worker_locked(obj);
}

void tp_object_destroy(struct tp_object *obj)
{
    struct tp_pool *pool = obj->pool;
    BOOL pool_finished;

    object_release(obj);
    os_lock_acquire(&pool->lock);
    pool_finished = tp_pool_object_left_locked(pool);
    os_lock_release(&pool->lock);
    if (pool_finished)
        tp_pool_free(pool);
}

/* An object whose memory can go with no hook, no module release and no
 * use of its pool: freeing it needs no lock. */
static BOOL object_plain(const struct tp_object *obj)
{
    return !(obj->ops && obj->ops->destroy) && !tp_object_race_dll(obj);
}

/*
 * Drops one reference and P; destroys the object when nothing holds it any
 * more.  A plain object leaves its pool in the same hold of P, so that
 * closing a work object takes P once.  Enters with P, leaves without it.
 */
static void object_unref_and_unlock(struct tp_object *obj)
{
    struct tp_pool *pool = obj->pool;
    BOOL finished, plain, pool_finished = FALSE;

    TP_ASSERT_LOCKED(&pool->lock);
    TP_ASSERT(obj->refs > 0);
    obj->refs--;
    finished = tp_object_finished_locked(obj);
    plain = finished && object_plain(obj);
    if (plain)
        pool_finished = tp_pool_object_left_locked(pool);
    os_lock_release(&pool->lock);
    if (plain) {
        object_release(obj);
        if (pool_finished)
            tp_pool_free(pool);
    } else if (finished) {
        tp_object_destroy(obj);
    }
}

void tp_object_unref(struct tp_object *obj)
{
    os_lock_acquire(&obj->pool->lock);
    object_unref_and_unlock(obj);
}

void tp_object_close(struct tp_object *obj)
{
    if (tp_object_close_unknown(obj))
        return;
    /* The kind's service (a timer's) stops queueing callbacks first: it
     * must never find the object closed (tp_object_submit panics). */
    if (obj->ops && obj->ops->shutdown)
        obj->ops->shutdown(obj);
    os_lock_acquire(&obj->pool->lock);
    if (obj->closed)
        os_panic("thread-pool object %p closed twice (or after its cleanup group "
                 "released it)", (void *)obj);
    obj->closed = TRUE;
    if (!obj->group) {
        /* The user's reference goes in the same hold. */
        object_unref_and_unlock(obj);
        return;
    }
    os_lock_release(&obj->pool->lock);
    /* Closing a member takes it out of its group: its reference goes too. */
    if (tp_group_remove(obj->group, obj))
        tp_object_unref(obj);
    tp_object_unref(obj);
}

/* ---- the exports' shared bodies ------------------------------------------------ */

NTSTATUS tp_object_alloc_export(const char *func, enum tp_object_type type,
                                tp_object_construct_fn construct, void *out, void *callback,
                                void *userdata, const TP_CALLBACK_ENVIRON *env)
{
    struct tp_object *obj;
    DWORD err;

    if (TP_TRACE_ON(tp_object_channel(type)))
        tp_trace_printf(func, "%p %p %p %p\n", out, callback, userdata, (void *)env);
    if (__builtin_expect(tp_check_enabled, 0))
        tp_check_environment(func, env);
    if (!out)
        return tp_status_from_error(ERROR_INVALID_PARAMETER);
    if ((err = construct(callback, userdata, env, &obj)) != ERROR_SUCCESS)
        return tp_status_from_error(err);
    /* Pointers to structs share one representation, and the object is the
     * first member of the handle's struct: its address is the handle. */
    memcpy(out, &obj, sizeof(obj));
    return 0;
}

void tp_object_drain_export(const char *func, void *api, enum tp_object_type type,
                            BOOL cancel_pending)
{
    if (TP_TRACE_ON(tp_object_channel(type)))
        tp_trace_printf(func, "%p %d\n", api, cancel_pending);
    if (__builtin_expect(tp_check_enabled, 0))
        tp_check_call(func, api, (enum tp_check_kind)type, TP_CHECK_DRAIN);
    tp_object_drain(tp_object_checked(api, type, func), cancel_pending, FALSE);
}

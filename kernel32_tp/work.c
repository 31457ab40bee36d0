/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_WORK and the simple callbacks of TrySubmitThreadpoolCallback.  Both
 * are plain callback objects (object.c); a simple callback is a one-shot
 * object whose handle nobody holds.  Takes no lock of its own.
 */
#include <stdlib.h>

#include "tp_private.h"

static void work_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    PTP_WORK_CALLBACK callback = (PTP_WORK_CALLBACK)obj->callback;

    TRACE("work callback %p(%p, %p, %p)\n", obj->callback, (void *)inst, obj->userdata,
          (void *)obj);
    callback((PTP_CALLBACK_INSTANCE)inst, obj->userdata, (PTP_WORK)obj);
    TRACE("work callback %p returned\n", obj->callback);
}

static void simple_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    PTP_SIMPLE_CALLBACK callback = (PTP_SIMPLE_CALLBACK)obj->callback;

    TRACE("simple callback %p(%p, %p)\n", obj->callback, (void *)inst, obj->userdata);
    callback((PTP_CALLBACK_INSTANCE)inst, obj->userdata);
    TRACE("simple callback %p returned\n", obj->callback);
}

/* The size make bench S6 measures (tp_private.h, struct tp_object). */
_Static_assert(sizeof(void *) != 8 || sizeof(struct tp_work) <= 120,
               "a work object outgrew its 128-byte heap chunk");

static inline __attribute__((always_inline)) DWORD
object_create(enum tp_object_type type, tp_invoke_fn invoke, void *callback, void *userdata,
              const TP_CALLBACK_ENVIRON *env, struct tp_work **out)
{
    /* Not calloc: tp_object_init writes every field but the hooks (glibc's
     * calloc also bypasses its per-thread cache, which malloc takes first). */
    struct tp_work *work = malloc(sizeof(*work));
    DWORD err;

    if (!work)
        return ERROR_NOT_ENOUGH_MEMORY;
    work->obj.ops = NULL;
    if ((err = tp_object_init(&work->obj, type, invoke, callback, userdata, env))
        != ERROR_SUCCESS) {
        free(work);
        return err;
    }
    *out = work;
    return ERROR_SUCCESS;
}

/* tp_work_create's body, inline in CreateThreadpoolWork (make bench S6). */
static inline __attribute__((always_inline)) DWORD
work_create(PTP_WORK_CALLBACK callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
            struct tp_work **out)
{
    if (!callback)
        return ERROR_INVALID_PARAMETER;
    return object_create(TP_OBJECT_WORK, work_invoke, (void *)callback, userdata, env, out);
}

DWORD tp_work_create(PTP_WORK_CALLBACK callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                     struct tp_work **out)
{
    return work_create(callback, userdata, env, out);
}

/* The exports' constructor (tp_object_construct_fn), inline in them. */
static inline __attribute__((always_inline)) DWORD
work_construct(void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
               struct tp_object **out)
{
    struct tp_work *work;
    DWORD err;

    if ((err = work_create((PTP_WORK_CALLBACK)callback, userdata, env, &work))
        == ERROR_SUCCESS)
        *out = &work->obj;
    return err;
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateThreadpoolWork   (kernel32_tp.@)
 */
PTP_WORK WINAPI CreateThreadpoolWork(PTP_WORK_CALLBACK callback, PVOID userdata,
                                     PTP_CALLBACK_ENVIRON env)
{
    return (PTP_WORK)tp_object_create_export(__func__, TP_OBJECT_WORK, work_construct,
                                             (void *)callback, userdata, env);
}

/***********************************************************************
 *           TpAllocWork   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpAllocWork(TP_WORK **out, PTP_WORK_CALLBACK callback, PVOID userdata,
                            TP_CALLBACK_ENVIRON *env)
{
    return tp_object_alloc_export(__func__, TP_OBJECT_WORK, work_construct, out, (void *)callback,
                                  userdata, env);
}

/***********************************************************************
 *           SubmitThreadpoolWork   (kernel32_tp.@)
 */
VOID WINAPI SubmitThreadpoolWork(PTP_WORK api)
{
    TRACE("%p\n", (void *)api);
    TP_CHECK(api, TP_CHECK_WORK, TP_CHECK_USE);
    tp_object_submit(&impl_from_TP_WORK(api)->obj, 1);
}

/***********************************************************************
 *           WaitForThreadpoolWorkCallbacks   (kernel32_tp.@)
 */
VOID WINAPI WaitForThreadpoolWorkCallbacks(PTP_WORK api, BOOL cancel_pending)
{
    tp_object_drain_export(__func__, api, TP_OBJECT_WORK, cancel_pending);
}

/***********************************************************************
 *           CloseThreadpoolWork   (kernel32_tp.@)
 */
VOID WINAPI CloseThreadpoolWork(PTP_WORK api)
{
    tp_object_close_export(__func__, api, TP_OBJECT_WORK);
}

/***********************************************************************
 *           TrySubmitThreadpoolCallback   (kernel32_tp.@)
 */
BOOL WINAPI TrySubmitThreadpoolCallback(PTP_SIMPLE_CALLBACK callback, PVOID userdata,
                                        PTP_CALLBACK_ENVIRON env)
{
    DWORD err;

    TRACE("%p %p %p\n", (void *)callback, userdata, (void *)env);
    TP_CHECK_ENV(env);
    if ((err = tp_simple_post(simple_invoke, (void *)callback, userdata, env))
        != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           TpSimpleTryPost   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpSimpleTryPost(PTP_SIMPLE_CALLBACK callback, PVOID userdata,
                                TP_CALLBACK_ENVIRON *env)
{
    TRACE("%p %p %p\n", (void *)callback, userdata, (void *)env);
    TP_CHECK_ENV(env);
    return tp_status_from_error(tp_simple_post(simple_invoke, (void *)callback, userdata, env));
}

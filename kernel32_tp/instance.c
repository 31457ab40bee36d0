/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_CALLBACK_INSTANCE: the record of one running callback, on its worker's
 * stack.  It holds the association with the object that started the
 * callback (what WaitForThreadpool*Callbacks waits for) and the completion
 * actions deferred until the callback returns; whether the callback declared
 * itself long is its worker's state (scheduler.c).  Group membership needs no field here: the object's
 * running count covers a callback until it returns to the pool, associated
 * or not (see tp_object_drain).
 *
 * Takes P to change the object's association; runs completion actions with
 * no lock held.  CallbackMayRunLong is the scheduler's decision
 * (tp_sched_may_run_long).
 */
#include "tp_private.h"

struct tp_instance *tp_instance_from_api(PTP_CALLBACK_INSTANCE api, const char *func)
{
    struct tp_instance *inst = (struct tp_instance *)api;

    if (tp_check_enabled)
        tp_check_instance(func, api);
    if (!inst || inst->magic != TP_INSTANCE_MAGIC)
        os_panic("%s: %p is not the instance of a running callback", func, (void *)api);
    if (inst->thread_id != os_thread_current_id())
        os_panic("%s: instance %p of object %p belongs to thread %04lx, not to the "
                 "calling thread %04lx", func, (void *)api, (void *)inst->obj,
                 (unsigned long)inst->thread_id, (unsigned long)os_thread_current_id());
    return inst;
}

/*
 * Windows' order: leave the critical section, release the mutex, set the
 * event, release the semaphore (test_instance.c).  A release that fails
 * skips the actions after it; the error is traced.  The library is freed
 * later, after the object's counts dropped (tp_instance_free_library).
 */
void tp_instance_run_actions(struct tp_instance *inst)
{
    DWORD err = ERROR_SUCCESS;

    if (inst->leave_cs)
        os_critical_section_leave(inst->leave_cs);
    if (inst->release_mutex && !os_handle_release_mutex(inst->release_mutex, &err))
        goto failed;
    if (inst->set_event && !os_handle_set_event(inst->set_event, &err))
        goto failed;
    if (inst->release_semaphore
        && !os_handle_release_semaphore(inst->release_semaphore,
                                        inst->release_semaphore_count, &err))
        goto failed;
    return;
failed:
    inst->free_library = NULL;
    TRACE("completion action of instance %p failed: error %lu\n", (void *)inst,
          (unsigned long)err);
}

void tp_instance_disassociate(struct tp_instance *inst)
{
    struct tp_object *obj = inst->obj;

    BOOL was_associated;

    os_lock_acquire(&obj->pool->lock);
    was_associated = inst->associated;
    if (was_associated) {
        inst->associated = FALSE;
        obj->associated--;
        tp_object_wake_drainers_locked(obj);
    }
    os_lock_release(&obj->pool->lock);
    /* Windows reports a second disassociation (test_instance.c). */
    if (!was_associated)
        os_raise_invalid_parameter("DisassociateCurrentThreadFromCallback",
                                   "the callback is already disassociated", inst);
}

/*
 * The registrations: one action of each kind per instance.  Windows raises
 * STATUS_INVALID_PARAMETER for a second one and keeps the first
 * (test_instance.c).
 */
static BOOL instance_first_action(struct tp_instance *inst, BOOL taken, const char *func)
{
    if (taken)
        os_raise_invalid_parameter(func, "a completion action of this kind is already set",
                                   inst);
    return !taken;
}

/* NULL and INVALID_HANDLE_VALUE are rejected the same way, and not registered. */
static BOOL instance_valid_handle(struct tp_instance *inst, HANDLE handle, const char *func)
{
    if (handle && handle != INVALID_HANDLE_VALUE)
        return TRUE;
    os_raise_invalid_parameter(func, "a NULL or invalid handle", inst);
    return FALSE;
}

static void instance_set_event(PTP_CALLBACK_INSTANCE api, HANDLE event, const char *func)
{
    struct tp_instance *inst = tp_instance_from_api(api, func);

    if (instance_valid_handle(inst, event, func)
        && instance_first_action(inst, inst->set_event != NULL, func))
        inst->set_event = event;
}

static void instance_release_semaphore(PTP_CALLBACK_INSTANCE api, HANDLE semaphore, DWORD count,
                                       const char *func)
{
    struct tp_instance *inst = tp_instance_from_api(api, func);

    if (!instance_valid_handle(inst, semaphore, func))
        return;
    if (count == 0) {
        os_raise_invalid_parameter(func, "a semaphore release count of zero", inst);
        return;
    }
    if (instance_first_action(inst, inst->release_semaphore != NULL, func)) {
        inst->release_semaphore = semaphore;
        inst->release_semaphore_count = (LONG)count;
    }
}

static void instance_release_mutex(PTP_CALLBACK_INSTANCE api, HANDLE mutex, const char *func)
{
    struct tp_instance *inst = tp_instance_from_api(api, func);

    if (instance_first_action(inst, inst->release_mutex != NULL, func))
        inst->release_mutex = mutex;
}

static void instance_leave_cs(PTP_CALLBACK_INSTANCE api, CRITICAL_SECTION *cs, const char *func)
{
    struct tp_instance *inst = tp_instance_from_api(api, func);

    if (instance_first_action(inst, inst->leave_cs != NULL, func))
        inst->leave_cs = cs;
}

static void instance_free_library(PTP_CALLBACK_INSTANCE api, HMODULE module, const char *func)
{
    struct tp_instance *inst = tp_instance_from_api(api, func);

    if (instance_first_action(inst, inst->free_library != NULL, func))
        inst->free_library = module;
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           SetEventWhenCallbackReturns   (kernel32_tp.@)
 *
 * One action of each kind per instance: a second registration raises
 * STATUS_INVALID_PARAMETER and the first stays (test_instance.c).
 */
VOID WINAPI SetEventWhenCallbackReturns(PTP_CALLBACK_INSTANCE api, HANDLE event)
{
    TRACE("%p %p\n", api, event);
    instance_set_event(api, event, __func__);
}

/***********************************************************************
 *           ReleaseSemaphoreWhenCallbackReturns   (kernel32_tp.@)
 */
VOID WINAPI ReleaseSemaphoreWhenCallbackReturns(PTP_CALLBACK_INSTANCE api, HANDLE semaphore,
                                                DWORD count)
{
    TRACE("%p %p %lu\n", api, semaphore, (unsigned long)count);
    instance_release_semaphore(api, semaphore, count, __func__);
}

/***********************************************************************
 *           ReleaseMutexWhenCallbackReturns   (kernel32_tp.@)
 */
VOID WINAPI ReleaseMutexWhenCallbackReturns(PTP_CALLBACK_INSTANCE api, HANDLE mutex)
{
    TRACE("%p %p\n", api, mutex);
    instance_release_mutex(api, mutex, __func__);
}

/***********************************************************************
 *           LeaveCriticalSectionWhenCallbackReturns   (kernel32_tp.@)
 */
VOID WINAPI LeaveCriticalSectionWhenCallbackReturns(PTP_CALLBACK_INSTANCE api,
                                                    PCRITICAL_SECTION cs)
{
    TRACE("%p %p\n", api, (void *)cs);
    instance_leave_cs(api, cs, __func__);
}

/***********************************************************************
 *           FreeLibraryWhenCallbackReturns   (kernel32_tp.@)
 */
VOID WINAPI FreeLibraryWhenCallbackReturns(PTP_CALLBACK_INSTANCE api, HMODULE module)
{
    TRACE("%p %p\n", api, (void *)module);
    instance_free_library(api, module, __func__);
}

/***********************************************************************
 *           DisassociateCurrentThreadFromCallback   (kernel32_tp.@)
 *
 * A second call raises STATUS_INVALID_PARAMETER (test_instance.c).
 */
VOID WINAPI DisassociateCurrentThreadFromCallback(PTP_CALLBACK_INSTANCE api)
{
    TRACE("%p\n", api);
    tp_instance_disassociate(tp_instance_from_api(api, __func__));
}

/***********************************************************************
 *           CallbackMayRunLong   (kernel32_tp.@)
 */
BOOL WINAPI CallbackMayRunLong(PTP_CALLBACK_INSTANCE api)
{
    DWORD err;

    TRACE("%p\n", api);
    if ((err = tp_sched_may_run_long(tp_instance_from_api(api, __func__)->worker)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           TpCallbackMayRunLong   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpCallbackMayRunLong(TP_CALLBACK_INSTANCE *api)
{
    TRACE("%p\n", api);
    return tp_status_from_error(tp_sched_may_run_long(tp_instance_from_api(api, __func__)->worker));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy thread-pool calls built on the same objects: QueueUserWorkItem
 * and ntdll's RtlQueueWorkItem (a simple callback on the default pool).  Timer queues, registered waits
 * and BindIoCompletionCallback join it with their object kinds.
 * Takes no lock of its own.
 */
#include "tp_private.h"

/* ntdll's work routine (PRTL_WORK_ITEM_ROUTINE, which mingw-w64's headers
 * lack): the same type as LPTHREAD_START_ROUTINE. */
typedef DWORD (CALLBACK *tp_rtl_work_routine)(void *);

static void legacy_work_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    LPTHREAD_START_ROUTINE routine = (LPTHREAD_START_ROUTINE)obj->callback;

    (void)inst;
    TRACE("work item %p(%p)\n", obj->callback, obj->userdata);
    routine(obj->userdata);
    TRACE("work item %p returned\n", obj->callback);
}

/*
 * WT_EXECUTELONGFUNCTION makes the item long-running from the start.  The
 * I/O-thread and persistent-thread flags need no thread of their own here:
 * no APC is ever queued to our workers, so every worker is as good.
 */
static DWORD legacy_queue_work(LPTHREAD_START_ROUTINE routine, void *context, ULONG flags)
{
    TP_CALLBACK_ENVIRON env = { 0 };

    env.Version = 3;
    env.CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
    env.Size = sizeof(env);
    if (flags & WT_EXECUTELONGFUNCTION)
        env.u.s.LongFunction = 1;
    return tp_simple_post(legacy_work_invoke, (void *)routine, context, &env);
}

/***********************************************************************
 *           QueueUserWorkItem   (kernel32_tp.@)
 */
BOOL WINAPI QueueUserWorkItem(LPTHREAD_START_ROUTINE routine, PVOID context, ULONG flags)
{
    DWORD err;

    TRACE("%p %p %#lx\n", (void *)routine, context, (unsigned long)flags);
    if ((err = legacy_queue_work(routine, context, flags)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
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

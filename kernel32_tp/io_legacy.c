/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * BindIoCompletionCallback and ntdll's RtlSetIoCompletionCallback: the
 * legacy way to run a routine for every completion of a file, on the
 * default pool.  Built on TP_IO (io.c): one
 * I/O object per completion routine, which every file bound to that
 * routine feeds for the file's whole life (Windows has no call to unbind
 * a file).  Those objects live as long as the process, like the default
 * pool, and are not counted as live objects.
 *
 * The table of routines is a list that only grows, pushed with a
 * compare-and-swap: no lock.
 */
#include <stdlib.h>

#define TP_TRACE_CHANNEL TP_TRACE_IO
#include "tp_private.h"

struct legacy_io {
    struct legacy_io *next;                 /* (c) once published */
    LPOVERLAPPED_COMPLETION_ROUTINE routine; /* (c) */
    struct tp_io *io;                       /* (c) */
};

static struct legacy_io *_Atomic legacy_ios;   /* (a) newest first, never shrinks */

static void legacy_io_invoke(struct tp_object *obj, struct tp_instance *inst)
{
    LPOVERLAPPED_COMPLETION_ROUTINE routine = (LPOVERLAPPED_COMPLETION_ROUTINE)obj->callback;
    struct tp_io_completion completion;

    (void)inst;
    tp_io_take_completion(obj, &completion);
    TRACE("completion routine %p(%lu, %lu, %p)\n", obj->callback, (unsigned long)completion.err,
          (unsigned long)completion.bytes, (void *)completion.overlapped);
    routine(completion.err, (DWORD)completion.bytes, completion.overlapped);
    TRACE("completion routine %p returned\n", obj->callback);
}

static struct tp_io *legacy_io_find(LPOVERLAPPED_COMPLETION_ROUTINE routine)
{
    struct legacy_io *entry;

    for (entry = atomic_load(&legacy_ios); entry; entry = entry->next) {
        if (entry->routine == routine)
            return entry->io;
    }
    return NULL;
}

static DWORD legacy_io_bind(HANDLE file, LPOVERLAPPED_COMPLETION_ROUTINE routine)
{
    TP_CALLBACK_ENVIRON env = { 0 };
    struct legacy_io *entry;
    struct tp_io *io;
    DWORD err;

    if (!routine)
        return ERROR_INVALID_PARAMETER;
    if ((io = legacy_io_find(routine)))
        return tp_io_bind_file(io, file);
    if (!(entry = malloc(sizeof(*entry))))
        return ERROR_NOT_ENOUGH_MEMORY;
    env.Version = 3;
    env.CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
    env.Size = sizeof(env);
    if ((err = tp_io_create(file, legacy_io_invoke, (void *)routine, NULL, &env, TRUE, &io))
        != ERROR_SUCCESS) {
        free(entry);
        return err;
    }
    atomic_fetch_sub(&tp_live_objects, 1);     /* lives as long as the process */
    entry->routine = routine;
    entry->io = io;
    /* Two threads binding the first files of one routine at once make two
     * objects for it: harmless, both serve their files. */
    entry->next = atomic_load(&legacy_ios);
    while (!atomic_compare_exchange_weak(&legacy_ios, &entry->next, entry))
        ;
    return ERROR_SUCCESS;
}

/***********************************************************************
 *           BindIoCompletionCallback   (kernel32_tp.@)
 *
 * flags is reserved; Windows ignores it.  The routine runs on the default
 * pool for every completion of the file, with no StartThreadpoolIo.
 */
BOOL WINAPI BindIoCompletionCallback(HANDLE file, LPOVERLAPPED_COMPLETION_ROUTINE routine,
                                     ULONG flags)
{
    DWORD err;

    TRACE("%p %p %#lx\n", file, (void *)routine, (unsigned long)flags);
    if ((err = legacy_io_bind(file, routine)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           RtlSetIoCompletionCallback   (kernel32_tp.@)
 *
 * BindIoCompletionCallback with an NTSTATUS result.
 */
NTSTATUS WINAPI RtlSetIoCompletionCallback(HANDLE file, tp_rtl_completion_routine routine,
                                           ULONG flags)
{
    TRACE("%p %p %#lx\n", file, (void *)routine, (unsigned long)flags);
    return tp_status_from_error(legacy_io_bind(file, (LPOVERLAPPED_COMPLETION_ROUTINE)routine));
}

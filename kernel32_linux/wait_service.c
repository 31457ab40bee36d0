/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: the thread-pool waits of os.h (os_wait_*), plugged straight into
 * the handle layer's waiter lists.  A block is a struct handle_waiter on one
 * object whose wake() is the core's fired(): the thread that signals the
 * object (SetEvent, ReleaseSemaphore, a thread's end) decides under the
 * object's lock that the wait is satisfied, claims the waiter with its
 * compare-and-swap, consumes the object for it exactly as for a sleeping
 * thread (so an auto-reset event or a semaphore unit satisfies one wait),
 * and calls fired(), which queues the callback.  No thread waits for the
 * handles, nothing polls, and arming creates no thread.  Timeouts are the
 * core's (the timer service).
 *
 * Knows nothing about pools.  Locks: the waited object's (O), through the
 * handle layer; fired() runs under it.
 */
#include <stdlib.h>

#include "handle.h"

struct os_wait_block {
    struct handle_waiter waiter;    /* (X) the caller's; waiter.state is the handle layer's */
    struct handle_wait_link link;   /* (O) on the object's list while armed and unsatisfied */
    os_wait_fired_fn fired;         /* (c) */
    void *context;                  /* (c) */
    BOOL armed;                     /* (X) link.obj is referenced: disarm before anything */
};

/* The signaller's call, under the object's lock, after it consumed it for us. */
static void block_wake(struct handle_waiter *waiter)
{
    struct os_wait_block *block = waiter->context;

    block->fired(block->context);
}

DWORD os_wait_create(os_wait_fired_fn fired, void *context, struct os_wait_block **out)
{
    struct os_wait_block *block = calloc(1, sizeof(*block));

    if (!block)
        return ERROR_NOT_ENOUGH_MEMORY;
    block->fired = fired;
    block->context = context;
    block->waiter.wake = block_wake;
    block->waiter.context = block;
    /* No thread owns what a pool wait takes: mutexes are refused below. */
    block->waiter.tid = 0;
    block->waiter.ts = NULL;
    block->waiter.wait_all = FALSE;
    block->waiter.count = 1;
    block->waiter.links = &block->link;
    *out = block;
    return ERROR_SUCCESS;
}

void os_wait_destroy(struct os_wait_block *block)
{
    if (block->armed)
        os_panic("thread-pool wait block %p destroyed while armed", (void *)block);
    free(block);
}

/* Unlinks the waiter (waiting out a signaller inside block_wake) and drops
 * the object. */
static void block_finish(struct os_wait_block *block)
{
    handle_waiter_finish(&block->waiter);
    handle_object_unref(block->link.obj);
    block->link.obj = NULL;
    block->armed = FALSE;
}

DWORD os_wait_arm(struct os_wait_block *block, HANDLE handle)
{
    struct handle_object *obj;
    unsigned int state;

    if (block->armed)
        os_panic("thread-pool wait block %p armed twice", (void *)block);
    if (handle_lookup(handle, HANDLE_TYPE_ANY, &obj) != ERROR_SUCCESS)
        return ERROR_INVALID_HANDLE;
    if (!obj->ops->ready || obj->ops->type == HANDLE_TYPE_MUTEX) {
        handle_object_unref(obj);
        return obj->ops->ready ? ERROR_NOT_SUPPORTED : ERROR_INVALID_HANDLE;
    }
    /* The reference keeps the object alive across a CloseHandle of handle. */
    block->link.obj = obj;
    block->armed = TRUE;
    state = handle_waiter_start(&block->waiter, TRUE);
    /*
     * Satisfied inside handle_waiter_start (the object was signalled, the
     * waiter never linked): nobody woke it, so tell the core here.  Once
     * linked, a signaller may satisfy it even before start returns; that
     * signaller has called block_wake itself.
     */
    if (state != HANDLE_WAIT_PENDING && block->waiter.linked_upto == 0) {
        block_finish(block);
        block->fired(block->context);
    }
    return ERROR_SUCCESS;
}

BOOL os_wait_disarm(struct os_wait_block *block)
{
    unsigned int state;

    if (!block->armed)
        return FALSE;
    /* The compare-and-swap against the signallers: whoever wins decides. */
    state = handle_waiter_cancel(&block->waiter);
    block_finish(block);
    return state == HANDLE_WAIT_CANCELLED;
}

void os_wait_raise_refused(const char *func, HANDLE handle, DWORD err)
{
    os_panic("%s: handle %p %s: Windows raises STATUS_THREADPOOL_HANDLE_EXCEPTION here", func,
             handle, err == ERROR_NOT_SUPPORTED ? "is a mutex, which thread-pool waits refuse"
                                                : "is not an open waitable object");
}

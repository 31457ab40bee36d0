/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: waits.  The waiter machinery shared by every wait
 * (start, satisfy, kick, cancel, finish), the signallers' hand-over
 * (handle_object_wake_locked), the futex helpers, and the exports
 * WaitForSingleObject(Ex), WaitForMultipleObjects(Ex), Sleep and SleepEx,
 * and the alertable waits that run user APCs (queued in win_thread.c).
 *
 * Satisfaction is decided under the object's lock, by whoever holds it:
 * the signaller (SetEvent, ReleaseSemaphore, ReleaseMutex, a thread's exit)
 * walks the object's waiters in FIFO order and, for each waiter it can
 * satisfy, claims it with one compare-and-swap of waiter->state, consumes
 * the object for it and calls its wake function; a waiter is claimed once,
 * so a wait on several objects consumes exactly one of them (wait-any) or
 * all of them (wait-all).  A wait-all is satisfied only by a party that
 * holds the locks of all its objects: the waiting thread (which locks them
 * in address order) or a signaller that got the other locks by trylock;
 * when a trylock fails the signaller kicks the thread to re-evaluate.
 * Nothing is ever taken for a wait-all that cannot take everything.
 *
 * Locks: obj->lock of the objects waited on (see handle.h for the order).
 * No lock is held while the thread sleeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handle.h"

/* ---- the waiter ---------------------------------------------------------- */

static BOOL state_is_final(unsigned int state)
{
    return state != HANDLE_WAIT_PENDING && state != HANDLE_WAIT_KICKED;
}

static DWORD result_for(DWORD index, int ready)
{
    return (ready == HANDLE_READY_ABANDONED ? WAIT_ABANDONED_0 : WAIT_OBJECT_0) + index;
}

/* Sorts the wait's objects by address into objs (the lock order). */
static void objects_in_lock_order(const struct handle_waiter *waiter,
                                  struct handle_object **objs)
{
    DWORD i, j;

    for (i = 0; i < waiter->count; i++) {
        struct handle_object *obj = waiter->links[i].obj;

        for (j = i; j > 0 && objs[j - 1] > obj; j--)
            objs[j] = objs[j - 1];
        objs[j] = obj;
    }
}

static void lock_all(const struct handle_waiter *waiter, struct handle_object **objs)
{
    DWORD i;

    objects_in_lock_order(waiter, objs);
    for (i = 0; i < waiter->count; i++)
        os_lock_acquire(&objs[i]->lock);
}

static void unlock_all(const struct handle_waiter *waiter, struct handle_object **objs)
{
    DWORD i;

    for (i = waiter->count; i-- > 0;)
        os_lock_release(&objs[i]->lock);
}

/*
 * Wait-all: if every object is ready, claims the waiter (whose state was
 * seen as expected) and consumes them all.  Locking: every object's lock.
 * Returns TRUE when the waiter was satisfied.
 */
static BOOL wait_all_try_locked(struct handle_waiter *waiter, unsigned int expected)
{
    DWORD i, abandoned = MAXIMUM_WAIT_OBJECTS, result;
    int ready;

    for (i = 0; i < waiter->count; i++) {
        struct handle_object *obj = waiter->links[i].obj;

        if (!(ready = obj->ops->ready(obj, waiter)))
            return FALSE;
        if (ready == HANDLE_READY_ABANDONED && abandoned == MAXIMUM_WAIT_OBJECTS)
            abandoned = i;
    }
    result = abandoned < MAXIMUM_WAIT_OBJECTS ? WAIT_ABANDONED_0 + abandoned : WAIT_OBJECT_0;
    if (!atomic_compare_exchange_strong_explicit(&waiter->state, &expected, result,
                                                 memory_order_acq_rel, memory_order_acquire))
        return FALSE;
    for (i = 0; i < waiter->count; i++) {
        struct handle_wait_link *link = &waiter->links[i];

        link->obj->ops->consume(link->obj, waiter);
        if (list_linked(&link->entry))
            list_remove(&link->entry);
    }
    return TRUE;
}

DWORD handle_waiter_start(struct handle_waiter *waiter, BOOL may_block)
{
    struct handle_object *objs[MAXIMUM_WAIT_OBJECTS];
    unsigned int expected;
    DWORD i;
    int ready;

    waiter->linked_upto = 0;
    atomic_store_explicit(&waiter->state, HANDLE_WAIT_PENDING, memory_order_relaxed);
    for (i = 0; i < waiter->count; i++) {
        waiter->links[i].waiter = waiter;
        waiter->links[i].index = i;
        list_init(&waiter->links[i].entry);
    }

    if (waiter->wait_all) {
        /* Atomic: all locks held while deciding, consuming and linking. */
        lock_all(waiter, objs);
        if (!wait_all_try_locked(waiter, HANDLE_WAIT_PENDING)) {
            if (may_block) {
                for (i = 0; i < waiter->count; i++)
                    list_add_tail(&waiter->links[i].obj->waiters, &waiter->links[i].entry);
                waiter->linked_upto = waiter->count;
            } else {
                atomic_store_explicit(&waiter->state, HANDLE_WAIT_CANCELLED, memory_order_relaxed);
            }
        }
        unlock_all(waiter, objs);
        return atomic_load_explicit(&waiter->state, memory_order_acquire);
    }

    /*
     * Wait-any: object by object, so the lowest ready index wins.  Once a
     * link is on a list, that object's signaller may claim the waiter while
     * we look at the next objects: the compare-and-swap decides.
     */
    for (i = 0; i < waiter->count; i++) {
        struct handle_wait_link *link = &waiter->links[i];
        struct handle_object *obj = link->obj;

        os_lock_acquire(&obj->lock);
        if (state_is_final(atomic_load_explicit(&waiter->state, memory_order_acquire))) {
            os_lock_release(&obj->lock);
            break;
        }
        if ((ready = obj->ops->ready(obj, waiter))) {
            expected = HANDLE_WAIT_PENDING;
            if (atomic_compare_exchange_strong_explicit(&waiter->state, &expected,
                                                        result_for(i, ready),
                                                        memory_order_acq_rel, memory_order_acquire))
                obj->ops->consume(obj, waiter);
            os_lock_release(&obj->lock);
            break;
        }
        if (may_block) {
            list_add_tail(&obj->waiters, &link->entry);
            waiter->linked_upto = i + 1;
        }
        os_lock_release(&obj->lock);
    }
    if (!may_block) {
        expected = HANDLE_WAIT_PENDING;
        atomic_compare_exchange_strong_explicit(&waiter->state, &expected, HANDLE_WAIT_CANCELLED,
                                                memory_order_acq_rel, memory_order_acquire);
    }
    return atomic_load_explicit(&waiter->state, memory_order_acquire);
}

void handle_waiter_reevaluate(struct handle_waiter *waiter)
{
    struct handle_object *objs[MAXIMUM_WAIT_OBJECTS];
    unsigned int expected;

    lock_all(waiter, objs);
    expected = atomic_load_explicit(&waiter->state, memory_order_acquire);
    /* Kicks happen under one of these locks: none can come in between. */
    if (!state_is_final(expected) && !wait_all_try_locked(waiter, expected))
        atomic_compare_exchange_strong_explicit(&waiter->state, &expected, HANDLE_WAIT_PENDING,
                                                memory_order_acq_rel, memory_order_acquire);
    unlock_all(waiter, objs);
}

DWORD handle_waiter_cancel(struct handle_waiter *waiter)
{
    unsigned int state = atomic_load_explicit(&waiter->state, memory_order_acquire);

    while (!state_is_final(state)) {
        if (atomic_compare_exchange_strong_explicit(&waiter->state, &state, HANDLE_WAIT_CANCELLED,
                                                    memory_order_acq_rel, memory_order_acquire))
            return HANDLE_WAIT_CANCELLED;
    }
    return state;
}

void handle_waiter_finish(struct handle_waiter *waiter)
{
    DWORD i;

    /*
     * Lock every object we linked to, even when the link is already off
     * its list: the signaller that removed it may still be inside wake(),
     * under that lock, and the waiter must outlive it.
     */
    for (i = 0; i < waiter->linked_upto; i++) {
        struct handle_wait_link *link = &waiter->links[i];

        os_lock_acquire(&link->obj->lock);
        if (list_linked(&link->entry))
            list_remove(&link->entry);
        os_lock_release(&link->obj->lock);
    }
    waiter->linked_upto = 0;
}

/* The signaller of obj found a wait-all waiter: satisfy it if all its
 * objects can be locked without waiting, else let the thread decide. */
static void wait_all_offer_locked(struct handle_object *obj, struct handle_waiter *waiter,
                                  unsigned int state)
{
    DWORD i, locked;
    BOOL wake;

    for (locked = 0; locked < waiter->count; locked++) {
        struct handle_object *other = waiter->links[locked].obj;

        if (other != obj && !os_lock_try_acquire(&other->lock))
            break;
    }
    if (locked == waiter->count)
        wake = wait_all_try_locked(waiter, state);
    else    /* someone holds one of the locks: the thread re-evaluates itself */
        wake = atomic_compare_exchange_strong_explicit(&waiter->state, &state, HANDLE_WAIT_KICKED,
                                                       memory_order_acq_rel, memory_order_acquire)
               || state == HANDLE_WAIT_KICKED;
    if (wake)
        waiter->wake(waiter);
    for (i = 0; i < locked; i++) {
        struct handle_object *other = waiter->links[i].obj;

        if (other != obj)
            os_lock_release(&other->lock);
    }
}

void handle_object_wake_locked(struct handle_object *obj)
{
    struct list *node, *next;

    for (node = obj->waiters.next; node != &obj->waiters; node = next) {
        struct handle_wait_link *link = LIST_ENTRY(node, struct handle_wait_link, entry);
        struct handle_waiter *waiter = link->waiter;
        unsigned int state;
        int ready;

        /* The next node may be unlinked below only if it is a sibling link of
         * the same wait-all waiter, which is never on the same list twice. */
        next = node->next;
        if (!obj->ops->ready(obj, NULL))
            break;
        state = atomic_load_explicit(&waiter->state, memory_order_acquire);
        if (state_is_final(state)) {
            /* Claimed through another object, or cancelled: its owner unlinks
             * the rest; this one can go now (we hold its lock). */
            list_remove(&link->entry);
            continue;
        }
        if (waiter->wait_all) {
            wait_all_offer_locked(obj, waiter, state);
            continue;
        }
        if (!(ready = obj->ops->ready(obj, waiter)))
            continue;
        if (!atomic_compare_exchange_strong_explicit(&waiter->state, &state,
                                                     result_for(link->index, ready),
                                                     memory_order_acq_rel, memory_order_acquire))
            continue;   /* claimed meanwhile by another object's signaller */
        obj->ops->consume(obj, waiter);
        list_remove(&link->entry);
        waiter->wake(waiter);
    }
}

/* ---- threads waiting ------------------------------------------------------ */

static void thread_waiter_wake(struct handle_waiter *waiter)
{
    os_futex_wake(&waiter->state, 1);
}

/*
 * The calling thread waits for count objects (none: an alertable sleep).
 * Alertable: unless an object satisfies the wait at once, queued APCs run
 * and end it with WAIT_IO_COMPLETION; one queued during the wait wakes it
 * the same way.
 */
static DWORD wait_objects(DWORD count, struct handle_object **objs, BOOL wait_all,
                          DWORD timeout_ms, BOOL alertable, DWORD *err)
{
    struct handle_wait_link links[MAXIMUM_WAIT_OBJECTS];
    struct handle_object *self = NULL;
    struct handle_waiter waiter;
    ULONGLONG deadline_ns = 0;
    unsigned int state, expected;
    DWORD i, j;

    if ((!count && !alertable) || count > MAXIMUM_WAIT_OBJECTS) {
        *err = ERROR_INVALID_PARAMETER;
        return WAIT_FAILED;
    }
    for (i = 0; i < count; i++) {
        if (!objs[i]->ops->ready) {
            *err = ERROR_INVALID_HANDLE;    /* not a waitable object */
            return WAIT_FAILED;
        }
        /* Windows: a wait-all may not name one object twice. */
        for (j = 0; wait_all && j < i; j++) {
            if (objs[j] == objs[i]) {
                *err = ERROR_INVALID_PARAMETER;
                return WAIT_FAILED;
            }
        }
        links[i].obj = objs[i];
    }
    if (alertable && !(self = handle_thread_self_object())) {
        *err = ERROR_NOT_ENOUGH_MEMORY;
        return WAIT_FAILED;
    }
    waiter.wake = thread_waiter_wake;
    waiter.context = NULL;
    waiter.tid = os_thread_current_id();
    waiter.ts = handle_thread_current();
    waiter.wait_all = wait_all;
    waiter.count = count;
    waiter.links = links;

    state = handle_waiter_start(&waiter, timeout_ms != 0);
    /*
     * As on Windows, an object that is ready satisfies even an alertable
     * wait, and the APCs stay queued; a wait that is not satisfied at once
     * runs the queued APCs instead of blocking, even with no time.
     */
    if (self && (state == HANDLE_WAIT_PENDING || state == HANDLE_WAIT_KICKED
                 || state == HANDLE_WAIT_CANCELLED) && handle_apc_arm(self, &waiter)) {
        expected = state;
        /* Pending: an object handed to us meanwhile wins; the APCs wait. */
        while ((expected == HANDLE_WAIT_PENDING || expected == HANDLE_WAIT_KICKED
                || expected == HANDLE_WAIT_CANCELLED)
               && !atomic_compare_exchange_strong_explicit(&waiter.state, &expected,
                                                           WAIT_IO_COMPLETION,
                                                           memory_order_acq_rel,
                                                           memory_order_acquire))
            ;
        state = atomic_load_explicit(&waiter.state, memory_order_acquire);
    }
    /* A wait-all can be kicked between linking and here: it still waits. */
    if (state == HANDLE_WAIT_PENDING || state == HANDLE_WAIT_KICKED) {
        if (timeout_ms != INFINITE)
            deadline_ns = os_clock_monotonic_ns() + (ULONGLONG)timeout_ms * 1000000ull;
        os_thread_notify_block(TRUE);
        for (;;) {
            state = atomic_load_explicit(&waiter.state, memory_order_acquire);
            if (state == HANDLE_WAIT_KICKED) {
                handle_waiter_reevaluate(&waiter);
                continue;
            }
            if (state != HANDLE_WAIT_PENDING)
                break;
            if (!os_futex_wait(&waiter.state, HANDLE_WAIT_PENDING, deadline_ns)
                || (deadline_ns && os_clock_monotonic_ns() >= deadline_ns)) {
                state = handle_waiter_cancel(&waiter);
                break;
            }
        }
        os_thread_notify_block(FALSE);
    }
    /* Unpublished before the waiter goes: QueueUserAPC may be looking at it. */
    if (self)
        handle_apc_disarm(self);
    handle_waiter_finish(&waiter);
    if (self) {
        if (state == WAIT_IO_COMPLETION)
            handle_apc_run_all(self);
        handle_object_unref(self);
    }
    return state;
}

DWORD handle_wait_objects(DWORD count, struct handle_object **objs, BOOL wait_all,
                          DWORD timeout_ms, DWORD *err)
{
    return wait_objects(count, objs, wait_all, timeout_ms, FALSE, err);
}

DWORD handle_wait_objects_alertable(DWORD count, struct handle_object **objs, BOOL wait_all,
                                    DWORD timeout_ms, BOOL alertable, DWORD *err)
{
    return wait_objects(count, objs, wait_all, timeout_ms, alertable, err);
}

void handle_sleep(DWORD timeout_ms)
{
    _Atomic unsigned int never = 0;
    ULONGLONG deadline_ns;

    if (!timeout_ms) {
        sched_yield();
        return;
    }
    deadline_ns = timeout_ms == INFINITE ? 0
                  : os_clock_monotonic_ns() + (ULONGLONG)timeout_ms * 1000000ull;
    os_thread_notify_block(TRUE);
    /* Nobody wakes this word: only the deadline ends the sleep. */
    while (os_futex_wait(&never, 0, deadline_ns)) {
        if (deadline_ns && os_clock_monotonic_ns() >= deadline_ns)
            break;
    }
    os_thread_notify_block(FALSE);
}

/* Looks up and waits; WAIT_FAILED with the last error set on bad input. */
static DWORD wait_handles(DWORD count, const HANDLE *handles, BOOL wait_all, DWORD timeout_ms,
                          BOOL alertable)
{
    struct handle_object *objs[MAXIMUM_WAIT_OBJECTS];
    DWORD i, ret, err = ERROR_SUCCESS;

    if (!count || count > MAXIMUM_WAIT_OBJECTS) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return WAIT_FAILED;
    }
    if (!handles) {
        os_set_last_error(ERROR_NOACCESS);
        return WAIT_FAILED;
    }
    for (i = 0; i < count; i++) {
        if ((err = handle_lookup(handles[i], HANDLE_TYPE_ANY, &objs[i])) != ERROR_SUCCESS)
            break;
    }
    /* The references keep every object alive across a concurrent CloseHandle. */
    ret = err == ERROR_SUCCESS ? wait_objects(count, objs, wait_all, timeout_ms, alertable, &err)
                               : WAIT_FAILED;
    while (i-- > 0)
        handle_object_unref(objs[i]);
    if (ret == WAIT_FAILED)
        os_set_last_error(err);
    return ret;
}

/***********************************************************************
 *           WaitForSingleObject   (kernel32_tp.@)
 */
DWORD WINAPI WaitForSingleObject(HANDLE handle, DWORD timeout_ms)
{
    HANDLE_TRACE("%p %u", handle, (unsigned int)timeout_ms);
    return wait_handles(1, &handle, FALSE, timeout_ms, FALSE);
}

/***********************************************************************
 *           WaitForSingleObjectEx   (kernel32_tp.@)
 *
 * Alertable: the thread's queued APCs (QueueUserAPC) run, in FIFO order,
 * and the wait returns WAIT_IO_COMPLETION: at once when some are queued
 * and the object is not signalled (a signalled object wins, the APCs stay
 * queued), else when one is queued during the wait.
 */
DWORD WINAPI WaitForSingleObjectEx(HANDLE handle, DWORD timeout_ms, BOOL alertable)
{
    HANDLE_TRACE("%p %u %d", handle, (unsigned int)timeout_ms, alertable);
    return wait_handles(1, &handle, FALSE, timeout_ms, alertable);
}

/***********************************************************************
 *           WaitForMultipleObjects   (kernel32_tp.@)
 */
DWORD WINAPI WaitForMultipleObjects(DWORD count, const HANDLE *handles, BOOL wait_all,
                                    DWORD timeout_ms)
{
    HANDLE_TRACE("%u %p %d %u", (unsigned int)count, (const void *)handles, wait_all,
                 (unsigned int)timeout_ms);
    return wait_handles(count, handles, wait_all, timeout_ms, FALSE);
}

/***********************************************************************
 *           WaitForMultipleObjectsEx   (kernel32_tp.@)
 *
 * Alertable: as WaitForSingleObjectEx.
 */
DWORD WINAPI WaitForMultipleObjectsEx(DWORD count, const HANDLE *handles, BOOL wait_all,
                                      DWORD timeout_ms, BOOL alertable)
{
    HANDLE_TRACE("%u %p %d %u %d", (unsigned int)count, (const void *)handles, wait_all,
                 (unsigned int)timeout_ms, alertable);
    return wait_handles(count, handles, wait_all, timeout_ms, alertable);
}

/***********************************************************************
 *           Sleep   (kernel32_tp.@)
 */
VOID WINAPI Sleep(DWORD timeout_ms)
{
    HANDLE_TRACE("%u", (unsigned int)timeout_ms);
    handle_sleep(timeout_ms);
}

/***********************************************************************
 *           SleepEx   (kernel32_tp.@)
 *
 * Alertable: returns WAIT_IO_COMPLETION as soon as APCs ran (see
 * WaitForSingleObjectEx), else 0 after the time.  SleepEx(0, TRUE) runs
 * queued APCs, or yields.
 */
DWORD WINAPI SleepEx(DWORD timeout_ms, BOOL alertable)
{
    DWORD err = ERROR_SUCCESS, ret;

    HANDLE_TRACE("%u %d", (unsigned int)timeout_ms, alertable);
    if (!alertable) {
        handle_sleep(timeout_ms);
        return 0;
    }
    ret = wait_objects(0, NULL, FALSE, timeout_ms, TRUE, &err);
    if (ret == WAIT_IO_COMPLETION)
        return ret;
    if (ret == WAIT_FAILED)     /* out of memory for the thread's object */
        handle_sleep(timeout_ms);
    else if (!timeout_ms)
        sched_yield();
    return 0;
}

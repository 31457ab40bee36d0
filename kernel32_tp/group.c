/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TP_CLEANUP_GROUP: the set of objects created with an environment that
 * names the group, and CloseThreadpoolCleanupGroupMembers, which cancels,
 * waits for and closes them all.  A member's callbacks count for the group
 * until they return to the pool, even after they disassociated themselves.
 * Takes G, and P inside it (the lock order G -> P); calls the cancel
 * callbacks with no lock held.
 */
#include <stdlib.h>

#include "tp_private.h"

struct tp_group {
    struct os_stamp stamp;          /* (c) first: ours (os.h, ownership stamps) */
    struct os_lock lock;
    struct list members;            /* (G) objects created with this group */
    BOOL closed;                    /* (G) CloseThreadpoolCleanupGroup ran */
};

DWORD tp_group_create(struct tp_group **out)
{
    struct tp_group *group = malloc(sizeof(*group));

    if (!group)
        return ERROR_NOT_ENOUGH_MEMORY;
    os_stamp_set(&group->stamp);
    os_lock_init(&group->lock, OS_LOCK_RANK_G);
    list_init(&group->members);
    group->closed = FALSE;
    atomic_fetch_add(&tp_live_objects, 1);
    if (tp_check_enabled)
        tp_check_created(group, TP_CHECK_GROUP);
    *out = group;
    return ERROR_SUCCESS;
}

void tp_group_add(struct tp_group *group, struct tp_object *obj)
{
    os_lock_acquire(&group->lock);
    if (group->closed)
        os_panic("thread-pool object created with cleanup group %p after it was closed",
                 (void *)group);
    list_add_tail(&group->members, &obj->group_entry);
    obj->group_member = TRUE;
    os_lock_release(&group->lock);
}

static void group_free(struct tp_group *group)
{
    os_lock_destroy(&group->lock);
    os_stamp_clear(&group->stamp);
    if (tp_check_enabled)
        tp_check_memory_freed(group, sizeof(*group));   /* the quarantine frees it later */
    else
        free(group);
    atomic_fetch_sub(&tp_live_objects, 1);
}

/* A closed group lives on until its last member has left it. */
static BOOL group_finished_locked(struct tp_group *group)
{
    TP_ASSERT_LOCKED(&group->lock);
    return group->closed && list_empty(&group->members);
}

BOOL tp_group_is_member(struct tp_group *group, const struct tp_object *obj)
{
    BOOL member;

    os_lock_acquire(&group->lock);
    member = obj->group_member;
    os_lock_release(&group->lock);
    return member;
}

BOOL tp_group_remove(struct tp_group *group, struct tp_object *obj)
{
    BOOL was_member, finished;

    os_lock_acquire(&group->lock);
    was_member = obj->group_member;
    if (was_member) {
        list_remove(&obj->group_entry);
        obj->group_member = FALSE;
    }
    finished = was_member && group_finished_locked(group);
    os_lock_release(&group->lock);
    if (finished)
        group_free(group);
    return was_member;
}

/*
 * Detaches every member at once (so the group can be reused at once, and a
 * member that closes itself meanwhile finds it is no longer a member), then
 * for each: drops queued callbacks when cancelling, waits for all its running
 * callbacks, calls the cancel callback, and closes it for the user.
 */
void tp_group_close_members(struct tp_group *group, BOOL cancel_pending, void *userdata)
{
    struct list members, *entry;
    struct tp_object *obj;
    PTP_CLEANUP_GROUP_CANCEL_CALLBACK group_cancel;
    BOOL call_cancel, close_for_user;
    LONG dropped;

    list_init(&members);
    os_lock_acquire(&group->lock);
    for (entry = group->members.next; entry != &group->members; entry = entry->next)
        LIST_ENTRY(entry, struct tp_object, group_entry)->group_member = FALSE;
    /* From here the entries belong to this thread's list, not to G. */
    list_move_all(&members, &group->members);
    os_lock_release(&group->lock);

    /* Services (the timer service) stop queueing callbacks of every member
     * first, so that the cancels and drains below see the last of them. */
    for (entry = members.next; entry != &members; entry = entry->next) {
        obj = LIST_ENTRY(entry, struct tp_object, group_entry);
        if (obj->ops && obj->ops->shutdown)
            obj->ops->shutdown(obj);
    }

    if (cancel_pending) {
        for (entry = members.next; entry != &members; entry = entry->next) {
            obj = LIST_ENTRY(entry, struct tp_object, group_entry);
            os_lock_acquire(&obj->pool->lock);
            tp_object_cancel_locked(obj);
            os_lock_release(&obj->pool->lock);
        }
    }

    while (!list_empty(&members)) {
        entry = members.next;
        list_remove(entry);
        obj = LIST_ENTRY(entry, struct tp_object, group_entry);
        tp_object_drain(obj, FALSE, TRUE);

        /*
         * Close the member for the user, unless its own callback (or another
         * thread) closed it meanwhile: then it gets no cancel callback either.
         * A simple callback has no user handle; it is cancelled only if its
         * callback was dropped.
         */
        os_lock_acquire(&obj->pool->lock);
        dropped = obj->cancelled;
        close_for_user = !obj->closed && obj->type != TP_OBJECT_SIMPLE;
        if (close_for_user)
            obj->closed = TRUE;
        os_lock_release(&obj->pool->lock);
        if (close_for_user && tp_check_enabled)
            tp_check_group_released(obj);
        group_cancel = tp_object_group_cancel(obj);
        call_cancel = cancel_pending && group_cancel
                      && (obj->type == TP_OBJECT_SIMPLE ? dropped > 0 : close_for_user);
        if (call_cancel) {
            TRACE("cancel callback %p(%p, %p)\n", (void *)group_cancel, obj->userdata,
                  userdata);
            group_cancel(obj->userdata, userdata);
            TRACE("cancel callback %p returned\n", (void *)group_cancel);
        }
        if (close_for_user)
            tp_object_unref(obj);
        tp_object_unref(obj);       /* the group's reference */
    }
}

/*
 * Members left in the group stay members (their Close* still leaves it);
 * the group's memory goes with the last of them.
 */
void tp_group_close(struct tp_group *group)
{
    BOOL finished;

    os_lock_acquire(&group->lock);
    if (group->closed)
        os_panic("CloseThreadpoolCleanupGroup: group %p closed twice", (void *)group);
    group->closed = TRUE;
    finished = group_finished_locked(group);
    os_lock_release(&group->lock);
    if (finished)
        group_free(group);
}

/* ---- exports --------------------------------------------------------------- */

/***********************************************************************
 *           CreateThreadpoolCleanupGroup   (kernel32_tp.@)
 */
PTP_CLEANUP_GROUP WINAPI CreateThreadpoolCleanupGroup(void)
{
    struct tp_group *group;
    DWORD err;

    TRACE("\n");
    if ((err = tp_group_create(&group)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return (PTP_CLEANUP_GROUP)group;
}

/***********************************************************************
 *           TpAllocCleanupGroup   (kernel32_tp.@)
 */
NTSTATUS WINAPI TpAllocCleanupGroup(TP_CLEANUP_GROUP **out)
{
    struct tp_group *group;
    DWORD err;

    TRACE("%p\n", out);
    if (!out)
        return tp_status_from_error(ERROR_INVALID_PARAMETER);
    if ((err = tp_group_create(&group)) != ERROR_SUCCESS)
        return tp_status_from_error(err);
    *out = (TP_CLEANUP_GROUP *)group;
    return 0;
}

/***********************************************************************
 *           CloseThreadpoolCleanupGroupMembers   (kernel32_tp.@)
 */
VOID WINAPI CloseThreadpoolCleanupGroupMembers(PTP_CLEANUP_GROUP api, BOOL cancel_pending,
                                               PVOID userdata)
{
    TRACE("%p %d %p\n", api, cancel_pending, userdata);
    TP_CHECK(api, TP_CHECK_GROUP, TP_CHECK_DRAIN);
    tp_group_close_members(impl_from_TP_CLEANUP_GROUP(api), cancel_pending, userdata);
}

/***********************************************************************
 *           CloseThreadpoolCleanupGroup   (kernel32_tp.@)
 */
VOID WINAPI CloseThreadpoolCleanupGroup(PTP_CLEANUP_GROUP api)
{
    TRACE("%p\n", api);
    TP_CHECK(api, TP_CHECK_GROUP, TP_CHECK_CLOSE);
    tp_group_close(impl_from_TP_CLEANUP_GROUP(api));
}

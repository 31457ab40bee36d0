/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the handle table and the life of kernel objects
 * (references), CloseHandle, DuplicateHandle, the process object and its
 * pseudo-handle.  It knows object types only
 * by their ops; it neither signals nor waits.
 *
 * A handle value is (generation << 22) | (index << 2): a multiple of 4,
 * below 2^31 (it survives truncation to 32 bits and sign extension, as
 * Windows handles do), never 0 and never a pseudo-handle; as on Windows,
 * the low two bits are ignored.  Closing a handle
 * bumps its slot's generation, so the old value is rejected; free slots are
 * reused in FIFO order and only once HANDLE_REUSE_AFTER slots exist, so a
 * closed value can come back only after HANDLE_REUSE_AFTER * 512 more
 * handles were opened.
 *
 * Locks: a lookup holds one of HANDLE_STRIPES stripe locks (S) just long
 * enough to check the slot and take a reference; the free list has its own
 * lock (F).  Nothing else is locked while either is held.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "handle.h"
/* NtClose, NtQuerySystemTime: declared (and so exported) by winternl.h. */
#include <winternl.h>

#define HANDLE_INDEX_BITS 20
#define HANDLE_GEN_BITS 9
#define HANDLE_INDEX_MASK ((1u << HANDLE_INDEX_BITS) - 1)
#define HANDLE_GEN_MASK ((1u << HANDLE_GEN_BITS) - 1)
#define HANDLE_SEGMENT_BITS 10
#define HANDLE_SEGMENT_SIZE (1u << HANDLE_SEGMENT_BITS)
#define HANDLE_SEGMENTS (1u << (HANDLE_INDEX_BITS - HANDLE_SEGMENT_BITS))
#define HANDLE_REUSE_AFTER 4096u
#define HANDLE_STRIPES 64u

#define HANDLE_PSEUDO_PROCESS ((HANDLE)~(ULONG_PTR)0)
#define HANDLE_PSEUDO_THREAD ((HANDLE)~(ULONG_PTR)1)

struct handle_slot {
    struct handle_object *obj;      /* (S) NULL while free */
    unsigned int gen;               /* (S) generation of the slot's current or next handle */
    unsigned int next_free;         /* (F) FIFO link of free slots, 0 = end */
};

/* Segments are allocated on demand and never freed, so a lookup reaches a
 * slot without a lock; it locks only to read it. */
static struct handle_slot *_Atomic segments[HANDLE_SEGMENTS];   /* (a) published once */

static struct os_lock stripes[HANDLE_STRIPES] = {
    [0 ... HANDLE_STRIPES - 1] = OS_LOCK_INITIALIZER(OS_LOCK_RANK_S)
};

static struct os_lock free_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_F);   /* F */
static unsigned int free_head, free_tail;   /* (F) free slot indices, FIFO */
static unsigned int free_count;             /* (F) */
static unsigned int high_water;             /* (F) indices 1..high_water exist */

/* ---- objects ------------------------------------------------------------- */

void handle_object_init(struct handle_object *obj, const struct handle_ops *ops)
{
    obj->ops = ops;
    obj->refs = 1;
    os_lock_init(&obj->lock, OS_LOCK_RANK_O);
    list_init(&obj->waiters);
    list_init(&obj->name_entry);
    obj->name = NULL;
    obj->name_handles = 0;
}

void handle_object_ref(struct handle_object *obj)
{
    atomic_fetch_add_explicit(&obj->refs, 1, memory_order_relaxed);
}

void handle_object_unref(struct handle_object *obj)
{
    if (!handle_refs_release(&obj->refs, "handle object", obj))
        return;
    /* Nobody can reach it any more: no handle, no wait, no owner. */
    if (!list_empty(&obj->waiters))
        os_panic("handle object %p freed with waiters", (void *)obj);
    if (obj->ops->destroy)
        obj->ops->destroy(obj);
    os_lock_destroy(&obj->lock);
    free(obj->name);
    free(obj);
}

/* ---- the process --------------------------------------------------------- */

static int process_ready(struct handle_object *obj, const struct handle_waiter *waiter)
{
    (void)obj;
    (void)waiter;
    return HANDLE_NOT_READY;    /* signalled when the process ends: never seen */
}

static const struct handle_ops process_ops = {
    .type = HANDLE_TYPE_PROCESS,
    .ready = process_ready,
};

static struct handle_object *process_object;    /* (c) after process_once */
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void process_object_create(void)
{
    struct handle_object *obj = calloc(1, sizeof(*obj));

    if (!obj)
        os_panic("out of memory creating the process object");
    handle_object_init(obj, &process_ops);     /* this reference is never dropped */
    process_object = obj;
}

struct handle_object *handle_process_object(void)
{
    pthread_once(&process_once, process_object_create);
    return process_object;
}

/* ---- the table ----------------------------------------------------------- */

static struct os_lock *stripe_of(unsigned int index)
{
    return &stripes[index % HANDLE_STRIPES];
}

/* The slot of index if its segment exists. */
static struct handle_slot *slot_of(unsigned int index)
{
    struct handle_slot *segment;

    segment = atomic_load_explicit(&segments[index >> HANDLE_SEGMENT_BITS], memory_order_acquire);
    return segment ? &segment[index & (HANDLE_SEGMENT_SIZE - 1)] : NULL;
}

/* A free index: a fresh one while the table is small, else the oldest freed.
 * Locking: F.  Returns 0 when the table is full or memory ran out. */
static unsigned int index_take_locked(DWORD *err)
{
    unsigned int index, seg;
    struct handle_slot *segment;

    if (free_count && (high_water >= HANDLE_REUSE_AFTER || high_water == HANDLE_INDEX_MASK)) {
        index = free_head;
        free_head = slot_of(index)->next_free;
        if (!free_head)
            free_tail = 0;
        free_count--;
        return index;
    }
    if (high_water == HANDLE_INDEX_MASK) {
        *err = ERROR_NO_SYSTEM_RESOURCES;
        return 0;
    }
    index = high_water + 1;
    seg = index >> HANDLE_SEGMENT_BITS;
    if (!segments[seg]) {
        if (!(segment = calloc(HANDLE_SEGMENT_SIZE, sizeof(*segment)))) {
            *err = ERROR_NOT_ENOUGH_MEMORY;
            return 0;
        }
        atomic_store_explicit(&segments[seg], segment, memory_order_release);
    }
    high_water = index;
    return index;
}

static void index_put(unsigned int index)
{
    os_lock_acquire(&free_lock);
    slot_of(index)->next_free = 0;
    if (free_tail)
        slot_of(free_tail)->next_free = index;
    else
        free_head = index;
    free_tail = index;
    free_count++;
    os_lock_release(&free_lock);
}

DWORD handle_alloc(struct handle_object *obj, HANDLE *handle)
{
    DWORD err = ERROR_SUCCESS;
    struct handle_slot *slot;
    unsigned int index, gen;

    os_lock_acquire(&free_lock);
    index = index_take_locked(&err);
    os_lock_release(&free_lock);
    if (!index)
        return err;
    slot = slot_of(index);
    handle_object_ref(obj);
    os_lock_acquire(stripe_of(index));
    slot->obj = obj;
    gen = slot->gen;
    os_lock_release(stripe_of(index));
    *handle = (HANDLE)(ULONG_PTR)((gen << (HANDLE_INDEX_BITS + 2)) | (index << 2));
    return ERROR_SUCCESS;
}

/* Splits a handle value; FALSE when it cannot be one of ours. */
static BOOL handle_decode(HANDLE handle, unsigned int *index, unsigned int *gen)
{
    /* Windows ignores the low two bits of a handle (applications may tag
     * them): so do we. */
    ULONG_PTR value = (ULONG_PTR)handle & ~(ULONG_PTR)3;

    if (value >= (1ul << (HANDLE_INDEX_BITS + HANDLE_GEN_BITS + 2)))
        return FALSE;
    *index = (unsigned int)(value >> 2) & HANDLE_INDEX_MASK;
    *gen = (unsigned int)(value >> (HANDLE_INDEX_BITS + 2));
    return *index != 0;
}

static BOOL type_matches(const struct handle_object *obj, enum handle_type type)
{
    return type == HANDLE_TYPE_ANY || obj->ops->type == type;
}

DWORD handle_lookup(HANDLE handle, enum handle_type type, struct handle_object **obj)
{
    struct handle_object *found = NULL;
    struct handle_slot *slot;
    unsigned int index, gen;

    if (handle == HANDLE_PSEUDO_PROCESS) {
        found = handle_process_object();
        handle_object_ref(found);
    } else if (handle == HANDLE_PSEUDO_THREAD) {
        if (!(found = handle_thread_self_object()))
            return ERROR_NOT_ENOUGH_MEMORY;
    } else {
        if (!handle_decode(handle, &index, &gen) || !(slot = slot_of(index)))
            return ERROR_INVALID_HANDLE;
        os_lock_acquire(stripe_of(index));
        if (slot->obj && slot->gen == gen && type_matches(slot->obj, type)) {
            found = slot->obj;
            handle_object_ref(found);
        }
        os_lock_release(stripe_of(index));
        if (!found)
            return ERROR_INVALID_HANDLE;
        *obj = found;
        return ERROR_SUCCESS;
    }
    if (!type_matches(found, type)) {
        handle_object_unref(found);
        return ERROR_INVALID_HANDLE;
    }
    *obj = found;
    return ERROR_SUCCESS;
}

DWORD handle_lookup_take(HANDLE handle, enum handle_type type,
                         void (*take)(struct handle_object *obj, void *context), void *context)
{
    struct handle_slot *slot;
    unsigned int index, gen;
    BOOL found = FALSE;

    if (!handle_decode(handle, &index, &gen) || !(slot = slot_of(index)))
        return ERROR_INVALID_HANDLE;
    os_lock_acquire(stripe_of(index));
    if (slot->obj && slot->gen == gen && type_matches(slot->obj, type)) {
        take(slot->obj, context);
        found = TRUE;
    }
    os_lock_release(stripe_of(index));
    return found ? ERROR_SUCCESS : ERROR_INVALID_HANDLE;
}

DWORD handle_close(HANDLE handle)
{
    struct handle_object *obj = NULL;
    struct handle_slot *slot;
    unsigned int index, gen;

    if (handle == HANDLE_PSEUDO_PROCESS || handle == HANDLE_PSEUDO_THREAD)
        return ERROR_SUCCESS;
    if (!handle_decode(handle, &index, &gen) || !(slot = slot_of(index)))
        return ERROR_INVALID_HANDLE;
    os_lock_acquire(stripe_of(index));
    if (slot->obj && slot->gen == gen) {
        obj = slot->obj;
        slot->obj = NULL;
        slot->gen = (gen + 1) & HANDLE_GEN_MASK;
    }
    os_lock_release(stripe_of(index));
    if (!obj)
        return ERROR_INVALID_HANDLE;
    index_put(index);
    if (obj->name)
        handle_name_handle_closed(obj);
    /* A wait in progress holds its own reference: the object outlives this. */
    handle_object_unref(obj);
    return ERROR_SUCCESS;
}

/* Duplicates handle in the current process; dup NULL only closes. */
static DWORD handle_duplicate(HANDLE src_process, HANDLE src, HANDLE dst_process, HANDLE *dup,
                              DWORD options)
{
    struct handle_object *obj, *process;
    DWORD err, close_err;

    /* Both process handles must name this process: there is no other. */
    if ((err = handle_lookup(src_process, HANDLE_TYPE_PROCESS, &process)) != ERROR_SUCCESS)
        return err;
    handle_object_unref(process);
    if ((err = handle_lookup(src, HANDLE_TYPE_ANY, &obj)) != ERROR_SUCCESS)
        return err;
    if ((err = handle_lookup(dst_process, HANDLE_TYPE_PROCESS, &process)) == ERROR_SUCCESS) {
        handle_object_unref(process);
        if (dup) {
            if (obj->name)
                handle_name_handle_opened(obj);
            if ((err = handle_alloc(obj, dup)) != ERROR_SUCCESS && obj->name)
                handle_name_handle_closed(obj);
        }
    }
    handle_object_unref(obj);
    /* Windows closes the source whatever happened to the duplicate. */
    if ((options & DUPLICATE_CLOSE_SOURCE) && (close_err = handle_close(src)) != ERROR_SUCCESS
        && err == ERROR_SUCCESS)
        err = close_err;
    return err;
}

/***********************************************************************
 *           CloseHandle   (kernel32_tp.@)
 */
BOOL WINAPI CloseHandle(HANDLE handle)
{
    HANDLE_TRACE("%p", handle);
    return os_bool_result(handle_close(handle));
}

/***********************************************************************
 *           DuplicateHandle   (kernel32_tp.@)
 *
 * Within this process only; the access mask and inheritance are accepted
 * and not enforced (this layer has no access checks).
 */
BOOL WINAPI DuplicateHandle(HANDLE src_process, HANDLE src, HANDLE dst_process, HANDLE *dst,
                            DWORD access, BOOL inherit, DWORD options)
{
    HANDLE dup = NULL;
    DWORD err;

    HANDLE_TRACE("%p %p %p %p %#x %d %#x", src_process, src, dst_process, (void *)dst,
                 (unsigned int)access, inherit, (unsigned int)options);
    err = handle_duplicate(src_process, src, dst_process, dst ? &dup : NULL, options);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (dst)
        *dst = dup;
    return TRUE;
}

/***********************************************************************
 *           GetCurrentProcess   (kernel32_tp.@)
 */
HANDLE WINAPI GetCurrentProcess(void)
{
    HANDLE_TRACE("%s", "()");
    return HANDLE_PSEUDO_PROCESS;
}

/***********************************************************************
 *           GetCurrentProcessId   (kernel32_tp.@)
 */
DWORD WINAPI GetCurrentProcessId(void)
{
    HANDLE_TRACE("%s", "()");
    return (DWORD)getpid();
}

/***********************************************************************
 *           NtClose   (kernel32_tp.@)
 *
 * CloseHandle's ntdll form: STATUS_INVALID_HANDLE instead of a last error.
 */
NTSTATUS WINAPI NtClose(HANDLE handle)
{
    HANDLE_TRACE("%p", handle);
    return handle_close(handle) == ERROR_SUCCESS ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
}

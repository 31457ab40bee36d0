/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checked mode (check.h, docs/reliability.md).  A registry, apart from
 * the objects, knows every handle the library gave out: its kind and
 * whether it is live, closed by the user, released by its cleanup group or
 * freed; and every running callback instance with its thread.  Entry points
 * look a handle up here before they touch its memory, so a double close, a
 * use after close, a handle of the wrong kind or a pointer that was never
 * ours stops the process with one line instead of reading freed memory.
 * Freed memory is not given back at once: it waits, poisoned, in a bounded
 * FIFO (the quarantine), and its registry entry says "freed" until it
 * leaves, so a use after close is caught even when the object is gone.
 *
 * Must not: change what the library does for a correct program, or run at
 * all without KERNEL32_TP_CHECK (each hook is behind one branch).
 * Locks: one of CHECK_STRIPES registry locks (by handle), the quarantine
 * lock, and G (a group's lock, alone, for the deadlock check); never two of
 * them at once, never across user code.  The registry and quarantine locks
 * are leaves taken after P (a worker holds P when its callback starts and
 * when it frees an object), never before it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_private.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CHECK_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CHECK_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define CHECK_POISON(p, n) ((void)(p), (void)(n))
#define CHECK_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#ifndef KERNEL32_TP_CHECK_DEFAULT
#define KERNEL32_TP_CHECK_DEFAULT 0
#endif

#define CHECK_BUCKETS 4096u             /* registry hash buckets (a power of two) */
#define CHECK_STRIPES 64u               /* registry locks; bucket b takes b % CHECK_STRIPES */
#define CHECK_QUARANTINE_MAX 4096u      /* freed blocks kept at most ... */
#define CHECK_QUARANTINE_BYTES (4u << 20) /* ... and bytes of them */
#define CHECK_POISON_BYTE 0xdb

enum check_state {
    CHECK_LIVE,             /* handed out, not closed */
    CHECK_CLOSED,           /* closed by the user; memory still in use */
    CHECK_RELEASED,         /* closed by CloseThreadpoolCleanupGroupMembers */
    CHECK_FREED,            /* memory in the quarantine */
    CHECK_RUNNING,          /* an instance whose callback runs */
    CHECK_RETURNED,         /* an instance whose callback returned */
};

/* How a freed object ended: what a later use is told. */
enum check_end {
    CHECK_END_NONE,         /* never closed through an export (internal objects) */
    CHECK_END_CLOSED,
    CHECK_END_RELEASED,
};

/* Keys of the entries that map a thread to its running instance: odd, so
 * never the address of a handle (all are at least 4-byte aligned). */
#define CHECK_THREAD_KEY(tid) ((((uintptr_t)(tid)) << 1) | 1u)
#define CHECK_KIND_THREAD 0xff

struct check_entry {
    uintptr_t key;                      /* (K) the handle's address, or a thread key */
    struct check_entry *next;           /* (K) in its bucket */
    unsigned char kind;                 /* (K) enum tp_check_kind or CHECK_KIND_THREAD */
    unsigned char state;                /* (K) enum check_state */
    unsigned char end;                  /* (K) enum check_end, once CHECK_FREED */
    unsigned char queued;               /* (K) in the quarantine FIFO */
    DWORD thread_id;                    /* (K) an instance's thread while running */
    const void *value;                  /* (K) a thread key's running instance */
    /* The quarantine: what to give back when the entry leaves it. */
    struct check_entry *fifo_next;      /* (A) */
    size_t fifo_bytes;                  /* (A) what it counts for in fifo_bytes */
    size_t bytes;                       /* (K) poisoned bytes; 0: nothing to free */
};

int tp_check_enabled;

/* (K) the entry's stripe lock.  (A) the quarantine lock. */
static struct check_entry *buckets[CHECK_BUCKETS];     /* (K) */
static struct os_lock stripes[CHECK_STRIPES];
static struct os_lock fifo_lock;
static struct check_entry *fifo_head, *fifo_tail;      /* (A) */
static size_t fifo_count, fifo_bytes;                  /* (A) */
/* (a) An entry could not be allocated: an unknown handle may be one of
 * ours, so it is not reported as foreign any more. */
static _Atomic int registry_incomplete;

__attribute__((constructor(103))) static void check_setup(void)
{
    const char *value = os_getenv("KERNEL32_TP_CHECK");
    unsigned int i;

    for (i = 0; i < CHECK_STRIPES; i++)
        os_lock_init(&stripes[i], OS_LOCK_RANK_K);
    os_lock_init(&fifo_lock, OS_LOCK_RANK_A);
    tp_check_enabled = value && *value ? atoi(value) > 0 : KERNEL32_TP_CHECK_DEFAULT;
}

static void check_quarantine_add(struct check_entry *entry, size_t bytes);

/* ---- the registry ----------------------------------------------------------- */

static unsigned int check_bucket(uintptr_t key)
{
    return (unsigned int)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 52) & (CHECK_BUCKETS - 1);
}

static struct os_lock *check_stripe(uintptr_t key)
{
    return &stripes[check_bucket(key) % CHECK_STRIPES];
}

/* Locking: the key's stripe. */
static struct check_entry *check_find(uintptr_t key)
{
    struct check_entry *entry;

    for (entry = buckets[check_bucket(key)]; entry; entry = entry->next)
        if (entry->key == key)
            return entry;
    return NULL;
}

/* Locking: the key's stripe. */
static void check_unlink(struct check_entry *gone)
{
    struct check_entry **link = &buckets[check_bucket(gone->key)];

    while (*link != gone)
        link = &(*link)->next;
    *link = gone->next;
}

/* The entry of key, made (zeroed, in its bucket) if missing; NULL when out
 * of memory.  Locking: the key's stripe. */
static struct check_entry *check_find_or_add(uintptr_t key)
{
    struct check_entry *entry = check_find(key);
    unsigned int b = check_bucket(key);

    if (entry)
        return entry;
    if (!(entry = calloc(1, sizeof(*entry)))) {
        atomic_store(&registry_incomplete, 1);
        return NULL;
    }
    entry->key = key;
    entry->next = buckets[b];
    buckets[b] = entry;
    return entry;
}

/* ---- stopping ------------------------------------------------------------------- */

static const char *check_kind_name(unsigned int kind)
{
    switch (kind) {
    case TP_CHECK_SIMPLE: return "simple callback";
    case TP_CHECK_WORK: return "work";
    case TP_CHECK_TIMER: return "timer";
    case TP_CHECK_WAIT: return "wait";
    case TP_CHECK_IO: return "I/O";
    case TP_CHECK_POOL: return "pool";
    case TP_CHECK_GROUP: return "cleanup group";
    case TP_CHECK_INSTANCE: return "callback instance";
    default: return "object";
    }
}

/* "kernel32_tp: fatal: <call>: <kind> <pointer>: <what>", then the process
 * stops (os_misuse_stop).  Called with no lock held. */
static void __attribute__((noreturn, format(printf, 4, 5)))
check_fail(const char *func, unsigned int kind, const void *api, const char *fmt, ...)
{
    static const char digits[] = "0123456789abcdef";
    char what[256], line[400], pointer[2 + 2 * sizeof(uintptr_t) + 1], *end;
    uintptr_t bits = (uintptr_t)api;
    va_list args;

    va_start(args, fmt);
    vsnprintf(what, sizeof(what), fmt, args);
    va_end(args);
    /* The pointer as 0x and lowercase hex without leading zeros, the same
     * on every C runtime (%p is not), so that a test can match it. */
    end = pointer + sizeof(pointer) - 1;
    *end = 0;
    do {
        *--end = digits[bits & 15];
        bits >>= 4;
    } while (bits);
    *--end = 'x';
    *--end = '0';
    snprintf(line, sizeof(line), "%s: %s %s: %s", func, check_kind_name(kind), end, what);
    os_misuse_stop(line);
}

/* ---- the instance of the calling thread's callback ------------------------------ */

/* The instance of the callback running on this thread, or NULL. */
static const struct tp_instance *check_current_instance(void)
{
    uintptr_t key = CHECK_THREAD_KEY(os_thread_current_id());
    struct os_lock *stripe = check_stripe(key);
    const struct check_entry *entry;
    const void *inst;

    os_lock_acquire(stripe);
    entry = check_find(key);
    inst = entry ? entry->value : NULL;
    os_lock_release(stripe);
    return inst;
}

/*
 * A drain from a callback that it would wait for: WaitFor*Callbacks on the
 * object whose callback this is, while the callback is still associated
 * (it counts itself), or CloseThreadpoolCleanupGroupMembers on the group of
 * the object whose callback this is, while that object is still a member
 * (the close waits for every callback of its members, associated or not).
 */
static void check_drain_deadlock(const char *func, const void *api, enum tp_check_kind kind)
{
    const struct tp_instance *inst = check_current_instance();
    struct tp_group *group;
    BOOL member;

    if (!inst)
        return;
    if (kind != TP_CHECK_GROUP) {
        /* inst->associated is private to this thread: its own callback. */
        if ((const void *)inst->obj == api && inst->associated)
            check_fail(func, kind, api, "called from the object's own callback, which it "
                       "would wait for forever (deadlock): call "
                       "DisassociateCurrentThreadFromCallback first");
        return;
    }
    if ((const void *)(group = inst->obj->group) != api)
        return;
    member = tp_group_is_member(group, inst->obj);
    if (member)
        check_fail(func, kind, api, "called from a callback of one of its members, which it "
                   "would wait for forever (deadlock)");
}

/* ---- the hooks -------------------------------------------------------------------- */

void tp_check_created(const void *handle, enum tp_check_kind kind)
{
    uintptr_t key = (uintptr_t)handle;
    struct os_lock *stripe = check_stripe(key);
    struct check_entry *entry;

    os_lock_acquire(stripe);
    /* An entry left for this address can only be stale: its memory was
     * given back (the quarantine forgets what it frees). */
    if ((entry = check_find_or_add(key))) {
        entry->kind = (unsigned char)kind;
        entry->state = CHECK_LIVE;
        entry->end = CHECK_END_NONE;
    }
    os_lock_release(stripe);
}

void tp_check_call(const char *func, const void *api, enum tp_check_kind kind,
                   enum tp_check_op op)
{
    uintptr_t key = (uintptr_t)api;
    struct os_lock *stripe = check_stripe(key);
    struct check_entry *entry;
    unsigned int found_kind = 0;
    const char *what = NULL;
    BOOL closed, released;

    /* NULL names the default pool, which cannot be closed. */
    if (kind == TP_CHECK_POOL && !api) {
        if (op == TP_CHECK_CLOSE)
            check_fail(func, kind, api, "the default pool (NULL) cannot be closed");
        return;
    }
    os_lock_acquire(stripe);
    entry = check_find(key);
    if (!entry || entry->kind == CHECK_KIND_THREAD) {
        if (!atomic_load(&registry_incomplete))
            what = "not a thread-pool handle (a foreign pointer, a stack address, or an object "
                   "freed long ago)";
    } else if (entry->kind != kind) {
        found_kind = entry->kind;
    } else {
        closed = entry->state == CHECK_CLOSED
                 || (entry->state == CHECK_FREED && entry->end == CHECK_END_CLOSED);
        released = entry->state == CHECK_RELEASED
                   || (entry->state == CHECK_FREED && entry->end == CHECK_END_RELEASED);
        if (closed)
            what = op == TP_CHECK_CLOSE ? "closed twice" : "used after it was closed";
        else if (released)
            what = op == TP_CHECK_CLOSE ? "closed after its cleanup group released it"
                                        : "used after its cleanup group released it";
        else if (entry->state == CHECK_FREED)
            what = "used after it was freed";
        else if (op == TP_CHECK_CLOSE)
            entry->state = CHECK_CLOSED;    /* in the same hold: two racing closes see it */
    }
    os_lock_release(stripe);
    if (found_kind)
        check_fail(func, found_kind, api, "a %s handle where a %s is expected",
                   check_kind_name(found_kind), check_kind_name(kind));
    if (what)
        check_fail(func, kind, api, "%s", what);
    if (op == TP_CHECK_DRAIN)
        check_drain_deadlock(func, api, kind);
}

void tp_check_environment(const char *func, const TP_CALLBACK_ENVIRON *env)
{
    /* A bad version is the call's own error (ERROR_INVALID_PARAMETER). */
    if (!env || (env->Version != 1 && env->Version != 3))
        return;
    tp_check_call(func, env->Pool, TP_CHECK_POOL, TP_CHECK_USE);
    if (env->CleanupGroup)
        tp_check_call(func, env->CleanupGroup, TP_CHECK_GROUP, TP_CHECK_USE);
}

void tp_check_group_released(const struct tp_object *obj)
{
    uintptr_t key = (uintptr_t)obj;
    struct os_lock *stripe = check_stripe(key);
    struct check_entry *entry;

    os_lock_acquire(stripe);
    if ((entry = check_find(key)) && entry->state == CHECK_LIVE)
        entry->state = CHECK_RELEASED;
    os_lock_release(stripe);
}

void tp_check_instance_enter(const struct tp_instance *inst)
{
    uintptr_t key = (uintptr_t)inst, thread_key = CHECK_THREAD_KEY(inst->thread_id);
    struct check_entry *entry;

    os_lock_acquire(check_stripe(key));
    if ((entry = check_find_or_add(key))) {
        entry->kind = TP_CHECK_INSTANCE;
        entry->state = CHECK_RUNNING;
        entry->thread_id = inst->thread_id;
    }
    os_lock_release(check_stripe(key));
    os_lock_acquire(check_stripe(thread_key));
    if ((entry = check_find_or_add(thread_key))) {
        entry->kind = CHECK_KIND_THREAD;
        entry->value = inst;
    }
    os_lock_release(check_stripe(thread_key));
}

void tp_check_instance_leave(const struct tp_instance *inst)
{
    uintptr_t key = (uintptr_t)inst, thread_key = CHECK_THREAD_KEY(inst->thread_id);
    struct check_entry *entry;

    os_lock_acquire(check_stripe(thread_key));
    if ((entry = check_find(thread_key))) {
        check_unlink(entry);
        free(entry);
    }
    os_lock_release(check_stripe(thread_key));
    /* The entry stays: the same stack address is the next callback's
     * instance on this thread, and until then a call with it is told that
     * its callback returned. */
    os_lock_acquire(check_stripe(key));
    if ((entry = check_find(key)) && entry->kind == TP_CHECK_INSTANCE) {
        entry->state = CHECK_RETURNED;
        if (entry->queued)
            entry = NULL;
        else
            entry->queued = 1;
    } else {
        entry = NULL;
    }
    os_lock_release(check_stripe(key));
    /* Addresses of instances come and go with worker threads: the entries
     * leave through the quarantine too (no memory to give back). */
    if (entry)
        check_quarantine_add(entry, 0);
}

void tp_check_instance(const char *func, const void *api)
{
    uintptr_t key = (uintptr_t)api;
    struct os_lock *stripe = check_stripe(key);
    const struct check_entry *entry;
    unsigned int kind = 0, state = 0;
    DWORD owner = 0, me = os_thread_current_id();
    BOOL found = FALSE;

    os_lock_acquire(stripe);
    if ((entry = check_find(key)) && entry->kind != CHECK_KIND_THREAD) {
        found = TRUE;
        kind = entry->kind;
        state = entry->state;
        owner = entry->thread_id;
    }
    os_lock_release(stripe);
    if (found && kind == TP_CHECK_INSTANCE && state == CHECK_RUNNING && owner == me)
        return;
    if (found && kind == TP_CHECK_INSTANCE && state == CHECK_RUNNING)
        check_fail(func, TP_CHECK_INSTANCE, api, "the instance of a callback running on "
                   "thread %04lx, not of the calling thread %04lx", (unsigned long)owner,
                   (unsigned long)me);
    if (found && kind == TP_CHECK_INSTANCE)
        check_fail(func, TP_CHECK_INSTANCE, api, "%s",
                   check_current_instance() ? "the instance of a callback that has returned, "
                   "not of the running one" : "called outside a callback: the instance's "
                   "callback has returned");
    if (found)
        check_fail(func, kind, api, "a %s handle where a callback instance is expected",
                   check_kind_name(kind));
    check_fail(func, TP_CHECK_INSTANCE, api, "%s", check_current_instance()
               ? "not the instance of the running callback (a foreign pointer)"
               : "called outside a callback, with a pointer that was never an instance");
}

/* ---- the quarantine ------------------------------------------------------------ */

/* Gives the memory of an entry that left the quarantine back, and forgets
 * the entry unless its address came back to life meanwhile (an instance).
 * No lock held. */
static void check_release(struct check_entry *entry)
{
    struct os_lock *stripe = check_stripe(entry->key);
    void *memory = (void *)entry->key;
    size_t bytes;
    BOOL forget;

    os_lock_acquire(stripe);
    entry->queued = 0;
    forget = entry->state == CHECK_FREED || entry->state == CHECK_RETURNED;
    bytes = entry->bytes;
    if (forget)
        check_unlink(entry);
    os_lock_release(stripe);
    if (!forget)
        return;
    free(entry);
    if (!bytes)
        return;
    CHECK_UNPOISON(memory, bytes);
    free(memory);
}

/* Appends entry (its stripe already let go) and evicts the oldest past the
 * limits.  No lock held. */
static void check_quarantine_add(struct check_entry *entry, size_t bytes)
{
    struct check_entry *evicted = NULL, **evicted_tail = &evicted, *next;

    os_lock_acquire(&fifo_lock);
    entry->fifo_next = NULL;
    if (fifo_tail)
        fifo_tail->fifo_next = entry;
    else
        fifo_head = entry;
    fifo_tail = entry;
    fifo_count++;
    entry->fifo_bytes = bytes;
    fifo_bytes += bytes;
    while (fifo_head && (fifo_count > CHECK_QUARANTINE_MAX
                         || fifo_bytes > CHECK_QUARANTINE_BYTES)) {
        next = fifo_head;
        fifo_head = next->fifo_next;
        if (!fifo_head)
            fifo_tail = NULL;
        fifo_count--;
        fifo_bytes -= next->fifo_bytes;
        next->fifo_next = NULL;
        *evicted_tail = next;
        evicted_tail = &next->fifo_next;
    }
    os_lock_release(&fifo_lock);
    while ((next = evicted)) {
        evicted = next->fifo_next;
        check_release(next);
    }
}

/* Marks the handle freed and poisons its memory; FALSE when the registry
 * has no entry for it (out of memory at creation): free it at once. */
static BOOL check_freed(void *memory, size_t bytes)
{
    uintptr_t key = (uintptr_t)memory;
    struct os_lock *stripe = check_stripe(key);
    struct check_entry *entry;
    BOOL queued;

    os_lock_acquire(stripe);
    if (!(entry = check_find(key))) {
        os_lock_release(stripe);
        return FALSE;
    }
    /* Still queued from an earlier life of the address (an I/O object's
     * memory went back at once): it leaves with that place in the queue. */
    queued = entry->queued;
    entry->end = entry->state == CHECK_CLOSED ? CHECK_END_CLOSED
                 : entry->state == CHECK_RELEASED ? CHECK_END_RELEASED : CHECK_END_NONE;
    entry->state = CHECK_FREED;
    entry->queued = 1;
    entry->bytes = bytes;
    /* Poisoned under the stripe: a check of this handle never sees it half done. */
    if (bytes) {
        memset(memory, CHECK_POISON_BYTE, bytes);
        CHECK_POISON(memory, bytes);
    }
    os_lock_release(stripe);
    if (!queued)
        check_quarantine_add(entry, bytes);
    return TRUE;
}

void tp_check_object_freed(struct tp_object *obj)
{
    void (*free_object)(struct tp_object *obj) = obj->ops ? obj->ops->free : NULL;

    /*
     * Memory a kind frees itself (an I/O object's: the platform's process
     * heap, where a program may look for it with HeapValidate) goes back at
     * once; its entry still says "freed" until it leaves the quarantine or
     * the address serves a new handle.  The rest waits, poisoned.
     */
    if (!free_object && check_freed(obj, sizeof(*obj)))
        return;
    if (free_object) {
        check_freed(obj, 0);
        free_object(obj);
    } else {
        free(obj);
    }
}

void tp_check_memory_freed(void *memory, size_t size)
{
    if (!check_freed(memory, size))
        free(memory);
}

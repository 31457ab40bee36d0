/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared core structures of kernel32_tp: pools (their scheduling side in
 * scheduler.h), callback objects and callback instances, with the locking
 * rules that guard them; cleanup groups and workers keep their structs in
 * group.c and scheduler.c.
 * Core files include only this header and standard C headers.
 *
 * Locking: each shared field carries one tag of the legend in lock_order.h
 * (included through os.h), which is shared with the Linux emulation and
 * gives the whole acquisition order.  The core's letters: (c) constant,
 * (a) C11 atomic, (X) private to one thread; (G) group->lock, (R) the
 * registered waits (wait_legacy.c), (T) the timer queues (timer_queue.c),
 * (W) wait->lock (wait.c; the platform's wait takes its own locks, O on
 * Linux, inside it and calls back, fired, taking P only), (Q) the timer
 * service (timer_service.c), (P) pool->lock, (M) the injection monitor
 * (scheduler.c), and (I) the platform's I/O binding lock, held around its
 * calls of an I/O completion function (os_io_bind in os.h; io.c).
 * Order: G, R, T, W, I, O, Q, P, M.  Never hold two pools', two groups' or
 * two waits' locks.  No lock is held while user code runs (callbacks,
 * finalization and cancel callbacks, completion actions).  Debug and
 * sanitizer builds check the order (lock_rank.c).
 */
#ifndef KERNEL32_TP_PRIVATE_H
#define KERNEL32_TP_PRIVATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include "os.h"
#include "list.h"
/* ntdll's Tp* declarations, where the platform's headers have them: on ELF
 * they give our Tp* definitions their exported visibility. */
#include <winternl.h>
#include "heap.h"
#include "deadline.h"
#include "kernel32_tp.h"

/* ---- assertions and tracing (trace.c) ------------------------------------ */

/* Misuse Windows does not report, or a broken invariant: stop the process. */
#define TP_ASSERT(expr) \
    ((expr) ? (void)0 : os_panic("%s:%d: assertion failed: %s", __FILE__, __LINE__, #expr))
#define TP_ASSERT_LOCKED(lock) TP_ASSERT(os_lock_held_by_me(lock))

/* TRACE: on the file's channel (TP_TRACE_CHANNEL, defined before this header). */
#include "trace.h"

/* ---- NTSTATUS <-> Win32 errors (status.c) -------------------------------- */

/* Internal functions return DWORD Win32 errors; ntdll exports convert. */
NTSTATUS tp_status_from_error(DWORD err);

/* ---- pools (pool.c) and their scheduling (scheduler.c) ------------------- */

#include "scheduler.h"

struct tp_pool {
    struct os_stamp stamp;          /* (c) first: ours (os.h, ownership stamps) */
    struct os_lock lock;
    struct tp_sched sched;          /* the run queue and the workers (scheduler.h) */
    struct os_cond drain_cond;      /* (P) WaitFor*Callbacks and group closes sleep here */
    /* What posts without P write, apart from the fields under P (as in
     * struct tp_sched). */
    char posted_pad_before[64];     /* (c) unused: keeps the cache lines apart */
    /* (a) the live callback objects of this pool, with
     * TP_POOL_OBJECTS_CLOSED added under P by CloseThreadpool.  An object
     * joins without P (never a closed pool: that is misuse) and leaves
     * without P only while the bit is clear (tp_pool_object_left_open);
     * once it is set, objects leave under P (tp_pool_object_left_locked), so
     * that a pool found empty under P after its close stays empty and only a
     * holder of P frees it. */
    _Atomic LONG objects;
    char posted_pad_after[64];      /* (c) unused */
    DWORD min_threads;              /* (P) */
    DWORD max_threads;              /* (P) */
    SIZE_T stack_reserve;           /* (P) for workers started from now on */
    SIZE_T stack_commit;            /* (P) recorded only: Linux commits on demand */
    BOOL closed;                    /* (P) CloseThreadpool was called */
    BOOL alertable;                 /* (P) idle workers run APCs: the legacy I/O threads */
    BOOL is_default;                /* (c) the process-wide default pool: never freed */
    struct list stats_entry;        /* (C) in the live pools' list (stats.c) */
    _Atomic LONG waits_armed;       /* (a) waits armed, not yet fired (wait.c) */
    /* (a) timer lateness, log2 buckets of microseconds: counted by the
     * timer service (relaxed), read by stats.c. */
    _Atomic ULONGLONG timer_lateness[TP_DEBUG_LATENESS_BUCKETS];
};

/* tp_pool.objects: CloseThreadpool ran (above any count of objects). */
#define TP_POOL_OBJECTS_CLOSED 0x40000000

/*
 * The core's per-thread counts (os_thread_count_add): the callback objects
 * of the default pool, which is never closed, so that creating and closing
 * objects there writes no cache line another thread writes, and the other
 * callback objects counted live.  tp_debug_live_objects adds both to
 * tp_live_objects: an object of the default pool counts once, in the first.
 */
enum tp_count {
    TP_COUNT_LIVE_OBJECTS,
    TP_COUNT_DEFAULT_POOL_OBJECTS,
    TP_COUNT_KINDS
};
_Static_assert(TP_COUNT_KINDS <= OS_THREAD_COUNTS, "os.h keeps too few per-thread counts");

/* The live callback objects using pool.  Locking: P (the
 * default pool's figure is exact only for what happened before the call). */
static inline LONG tp_pool_objects_locked(struct tp_pool *pool)
{
    LONG objects = atomic_load_explicit(&pool->objects, memory_order_relaxed)
                   & ~TP_POOL_OBJECTS_CLOSED;

    return pool->is_default ? objects + os_thread_count_sum(TP_COUNT_DEFAULT_POOL_OBJECTS)
                            : objects;
}

/* A new callback object of pool.  Without P. */
static inline void tp_pool_object_joined(struct tp_pool *pool)
{
    if (pool->is_default)
        os_thread_count_add(TP_COUNT_DEFAULT_POOL_OBJECTS, 1);
    else
        atomic_fetch_add_explicit(&pool->objects, 1, memory_order_relaxed);
}

/*
 * An object of pool is gone, counted out without P if the pool is still
 * open: TRUE.  FALSE when CloseThreadpool ran: nothing was counted, and the
 * caller counts the object out under P (tp_pool_object_left_locked), which
 * may be the pool's last.  Release: the thread that frees the pool, having
 * read this count, comes after everything done to the object before.
 */
static inline BOOL tp_pool_object_left_open(struct tp_pool *pool)
{
    LONG objects;

    if (pool->is_default) {
        os_thread_count_add(TP_COUNT_DEFAULT_POOL_OBJECTS, -1);
        return TRUE;
    }
    objects = atomic_load_explicit(&pool->objects, memory_order_relaxed);
    do {
        if (objects & TP_POOL_OBJECTS_CLOSED)
            return FALSE;
    } while (!atomic_compare_exchange_weak_explicit(&pool->objects, &objects, objects - 1,
                                                    memory_order_release,
                                                    memory_order_relaxed));
    return TRUE;
}

struct tp_pool *tp_pool_default(void);
DWORD tp_pool_create(struct tp_pool **out);
void tp_pool_close(struct tp_pool *pool);
void tp_pool_set_max_threads(struct tp_pool *pool, DWORD max_threads);
DWORD tp_pool_set_min_threads(struct tp_pool *pool, DWORD min_threads);
/* True when a closed pool has nothing left and its memory can go.  Locking: P. */
BOOL tp_pool_finished_locked(struct tp_pool *pool);
/* An object of the pool was destroyed: returns TRUE when the caller must
 * tp_pool_free() the pool after dropping P.  Locking: P. */
BOOL tp_pool_object_left_locked(struct tp_pool *pool);
void tp_pool_free(struct tp_pool *pool);

/* The pool of the legacy WT_EXECUTEINIOTHREAD callbacks (legacy.c): its idle
 * workers wait alertably, made on first use, never freed.  Takes P. */
DWORD tp_legacy_io_pool(struct tp_pool **out);
/* Fills a zeroed env as the legacy calls' callbacks run (legacy.c): V3,
 * normal priority, a long function when flags has WT_EXECUTELONGFUNCTION. */
void tp_legacy_env_init(TP_CALLBACK_ENVIRON *env, ULONG flags);

/* In the child of a fork(): the scheduler's monitor and the timer service
 * are forgotten, to be set up anew on their next use (pool.c). */
void tp_sched_fork_child(void);
void tp_timer_service_fork_child(void);
void tp_stats_fork_child(void);

/* ---- figures users can read (stats.c) ------------------------------------- */

/* A pool was made, or is about to be freed: it joins or leaves the live
 * pools' list (tp_debug_pool_stats finds pools there).  Take C; without P. */
void tp_stats_pool_added(struct tp_pool *pool);
void tp_stats_pool_removed(struct tp_pool *pool);
/* Callbacks run by every pool, live or freed.  Takes C, and P inside it. */
LONGLONG tp_stats_callbacks_run(void);
/* The timer service took an expiry of a timer of pool late_ns past its
 * latest moment.  Takes no lock. */
void tp_stats_timer_late(struct tp_pool *pool, ULONGLONG late_ns);

/* ---- callback objects (object.c) ------------------------------------------ */

enum tp_object_type {
    TP_OBJECT_SIMPLE,
    TP_OBJECT_WORK,
    TP_OBJECT_TIMER,
    TP_OBJECT_WAIT,
    TP_OBJECT_IO,
};

struct tp_instance;
struct tp_group;

/* Runs the object's own callback for one instance (work, simple, ...). */
typedef void (*tp_invoke_fn)(struct tp_object *obj, struct tp_instance *inst);

/*
 * Hooks of an object kind that a service feeds (timers; waits and I/O
 * later).  Both are called with no lock held.
 *   shutdown: Close* or a group close is about to mark the object closed;
 *             stop the service from queueing callbacks of it.  Runs once
 *             per close (before the double-close check): must be idempotent.
 *   destroy:  the object is about to be freed (tp_object_destroy).
 */
struct tp_object_ops {
    void (*shutdown)(struct tp_object *obj);
    void (*destroy)(struct tp_object *obj);
    /* Optional: frees the object's memory (default: free()). */
    void (*free)(struct tp_object *obj);
    /*
     * Optional, for kinds with work outside the pool's queue (I/O started
     * and not completed).  Locking: P; neither may block or drop P.
     *   cancel_locked: a cancel (WaitFor*Callbacks(TRUE), a cancelling group
     *             close) is about to drop obj->pending queued callbacks,
     *             maybe none: forget what they carry and that outside work.
     *   busy_locked: drains (WaitFor*Callbacks, group closes) also wait
     *             while this is TRUE; the kind wakes them
     *             (tp_object_wake_drainers_locked) when it turns FALSE.
     */
    void (*cancel_locked)(struct tp_object *obj);
    BOOL (*busy_locked)(struct tp_object *obj);
};

/* The parts of an environment that few objects have: kept apart, so that
 * the object stays small (tp_object.extras). */
struct tp_object_extras {
    PTP_SIMPLE_CALLBACK finalization;   /* (c) */
    HMODULE race_dll;                   /* (c) referenced while the object lives */
    PTP_CLEANUP_GROUP_CANCEL_CALLBACK group_cancel; /* (c) */
};

#define TP_OBJECT_PRIORITY_MASK 0x03   /* tp_object.dispatch: the priority */
#define TP_OBJECT_LONG_FUNCTION 0x80   /* tp_object.dispatch: may run long from the start */
/* tp_object.dispatch: of the default pool, so counted live only there (per
 * thread, TP_COUNT_DEFAULT_POOL_OBJECTS), not in TP_COUNT_LIVE_OBJECTS too. */
#define TP_OBJECT_DEFAULT_POOL 0x40

struct tp_object {
    /* Bytes, not bit-fields: each is its own memory location, so fields
     * under different locks never share a write.  The small fields, the
     * union below and the extras keep a work object at 120 bytes on 64-bit
     * systems, stamp included (4 bytes on Windows, none on Linux): a
     * 128-byte heap chunk.  glibc keeps chunks up to that size in its fast
     * bins, which it never merges into the top of the heap and so never
     * gives back to the system, so a cycle of creating and closing many
     * objects does not fault their memory in again; under Wine, one more
     * 16-byte step of msvcrt's heap made closing several times slower
     * (make bench S6, docs/inject.md).  What closing a never-queued object
     * reads (tp_object_close_unknown) is in the first 40 bytes, beside the
     * heap's header that free() reads: no more of a cold object is touched. */
    struct os_stamp stamp;              /* (c) first: ours (os.h, ownership stamps) */
    unsigned char type;                 /* (c) enum tp_object_type */
    unsigned char dispatch;             /* (c) priority | TP_OBJECT_* flags */
    BOOLEAN closed;                     /* (P) Close* (or a group close) has run */
    /* (P) set once, when a callback is first queued (tp_object_queue_locked):
     * until then no worker knows the object, and its Close* reads this
     * without P (the user does not close an object while submitting it). */
    BOOLEAN queued;
    struct tp_pool *pool;               /* (c) */
    const struct tp_object_ops *ops;    /* (c) the kind's hooks, NULL for work */
    struct tp_group *group;             /* (c) NULL when not a member */
    /* (c) NULL unless the environment has a finalization callback, a
     * RaceDll or a group cancel callback: allocated with the object. */
    struct tp_object_extras *extras;
    tp_invoke_fn invoke;                /* (c) */
    void *callback;                     /* (c) the user's callback, typed by invoke */
    void *userdata;                     /* (c) */
    struct list queue_entry;            /* (P) in pool->sched.queue[priority] while pending */
    struct list group_entry;            /* (G) in group->members while a member */
    SHORT refs;                         /* (P) the user's handle + group membership */
    BOOLEAN group_member;               /* (G) a member: the group holds a reference */
    LONG running;                       /* (P) callbacks started, not yet returned to the pool */
    LONG associated;                    /* (P) running callbacks still associated */
    LONG drainers;                      /* (P) threads waiting in a drain for this object */
    LONG cancelled;                     /* (P) callbacks dropped by cancels, ever */
    /* (a) callbacks queued, not started: leaves and reaches 0 only under P
     * (queue_entry linked while above 0); a post to a queued object adds
     * to it without P (tp_sched_enqueue_more).  Last: a poster writes it
     * on every post, and the cache line it takes must not be one the
     * workers read for each callback they run (type to userdata, the
     * first 64 bytes).  The heap aligns an object to 16 bytes, so the line
     * that holds bytes 116-119 starts at byte 64 or later (docs/performance.md,
     * "The S1 slow mode"). */
    _Atomic LONG pending;
};

/* The index into pool->sched.queue. */
static inline unsigned int tp_object_priority(const struct tp_object *obj)
{
    return obj->dispatch & TP_OBJECT_PRIORITY_MASK;
}

/* The environment said the callbacks may run long (CallbackMayRunLong from the start). */
static inline BOOL tp_object_long_function(const struct tp_object *obj)
{
    return (obj->dispatch & TP_OBJECT_LONG_FUNCTION) != 0;
}

static inline PTP_SIMPLE_CALLBACK tp_object_finalization(const struct tp_object *obj)
{
    return obj->extras ? obj->extras->finalization : NULL;
}

static inline HMODULE tp_object_race_dll(const struct tp_object *obj)
{
    return obj->extras ? obj->extras->race_dll : NULL;
}

static inline PTP_CLEANUP_GROUP_CANCEL_CALLBACK tp_object_group_cancel(const struct tp_object *obj)
{
    return obj->extras ? obj->extras->group_cancel : NULL;
}

/* Validates env and writes every field of obj but ops, which the caller
 * sets first (its memory need not be zeroed).  ERROR_INVALID_PARAMETER,
 * ERROR_NOT_ENOUGH_MEMORY. */
DWORD tp_object_init(struct tp_object *obj, enum tp_object_type type, tp_invoke_fn invoke,
                     void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env);
/* Queues count callbacks of obj, closed or not (the caller decides whether
 * it may), and picks a worker for them; the caller acts on the result with
 * tp_sched_dispatch_finish() once P is dropped.  Locking: P. */
enum tp_dispatch tp_object_queue_locked(struct tp_object *obj, LONG count);
/* Queues count callbacks.  Cannot fail, does not allocate.  Without locks;
 * takes P unless obj is queued already. */
void tp_object_submit(struct tp_object *obj, LONG count);
/* Drops queued callbacks; returns how many.  Locking: P. */
LONG tp_object_cancel_locked(struct tp_object *obj);
/* Waits until obj has no queued callbacks and no running callbacks that count:
 * associated ones (WaitFor*Callbacks), or all of them (group close). */
void tp_object_drain(struct tp_object *obj, BOOL cancel_pending, BOOL include_disassociated);
/* The user's Close*: leaves the group, drops the user's reference.  Takes
 * P, unless no worker, service or group ever knew obj (object.c). */
void tp_object_close(struct tp_object *obj);

/*
 * The shared bodies of the callback objects' exports (func: the export's
 * name, for its trace line on the kind's channel, the checked mode and the
 * type assertion).  construct makes one object of the kind from an export's
 * callback, userdata and env.
 */
typedef DWORD (*tp_object_construct_fn)(void *callback, void *userdata,
                                        const TP_CALLBACK_ENVIRON *env, struct tp_object **out);

/* CreateThreadpool*: tp_object_create_export, at the end of this file. */
/* TpAlloc*: out is the caller's TP_WORK ** (or a sibling's), set on success. */
NTSTATUS tp_object_alloc_export(const char *func, enum tp_object_type type,
                                tp_object_construct_fn construct, void *out, void *callback,
                                void *userdata, const TP_CALLBACK_ENVIRON *env);
/* WaitForThreadpool*Callbacks and CloseThreadpool* on a handle of the type. */
void tp_object_drain_export(const char *func, void *api, enum tp_object_type type,
                            BOOL cancel_pending);
/* Close*: tp_object_close_export, at the end of this file. */
/* Drops one reference (user or group); destroys the object when nothing
 * holds it and no callback is queued or running.  Without P. */
void tp_object_unref(struct tp_object *obj);
/* TRUE when nothing holds obj any more: the caller must call
 * tp_object_destroy() once it has dropped P.  Locking: P. */
BOOL tp_object_finished_locked(struct tp_object *obj);
/* Frees obj and, when it was the last of a closed pool, the pool.  Without P. */
void tp_object_destroy(struct tp_object *obj);
/*
 * Runs one callback of obj, which the scheduler counted as running and
 * associated, on the worker's thread with no lock held: the object's invoke,
 * its finalization callback and the instance's completion actions, in an
 * instance kept in *inst for tp_object_callback_done_locked.
 */
void tp_object_run(struct tp_object *obj, struct tp_instance *inst, struct tp_worker *worker);
/*
 * The worker hands the callback back: the object's counts drop, drainers
 * wake, FreeLibraryWhenCallbackReturns runs, and the object is destroyed
 * when nothing holds it any more.  Locking: P, dropped around
 * module releases and the kind's destroy hook (the worker keeps the pool
 * alive); obj may be gone on return.
 */
void tp_object_callback_done_locked(struct tp_object *obj, struct tp_instance *inst);
/* Wakes drainers of obj if its counts allow.  Locking: P. */
void tp_object_wake_drainers_locked(struct tp_object *obj);

/* ---- callback instances (instance.c) -------------------------------------- */

#define TP_INSTANCE_MAGIC 0x54504349u   /* "TPCI" */

struct tp_instance {
    struct os_stamp stamp;          /* (X) first: ours (os.h, ownership stamps) */
    unsigned int magic;             /* (X) TP_INSTANCE_MAGIC while the callback runs */
    struct tp_object *obj;          /* (X) the object that started the callback */
    struct tp_worker *worker;       /* (X) */
    DWORD thread_id;                /* (X) the only thread allowed to use it */
    BOOL associated;                /* (X) written under P, read by its own thread */
    BOOL left_group;                /* (X) a simple callback left its group on return */
    /* Deferred completion actions: one of each kind, the first one wins. */
    CRITICAL_SECTION *leave_cs;     /* (X) */
    HANDLE release_mutex;           /* (X) */
    HANDLE release_semaphore;       /* (X) */
    LONG release_semaphore_count;   /* (X) */
    HANDLE set_event;               /* (X) */
    HMODULE free_library;           /* (X) */
};

/* The running callback's instance, checked: panics on misuse naming func. */
struct tp_instance *tp_instance_from_api(PTP_CALLBACK_INSTANCE api, const char *func);
/* Runs the completion actions but the library's in Windows' order; no lock
 * held.  The worker frees inst->free_library after the counts dropped. */
void tp_instance_run_actions(struct tp_instance *inst);
void tp_instance_disassociate(struct tp_instance *inst);

/* ---- cleanup groups (group.c) --------------------------------------------- */

DWORD tp_group_create(struct tp_group **out);
void tp_group_add(struct tp_group *group, struct tp_object *obj);
/* Removes obj when still a member; TRUE if it was (its group ref is the caller's). */
BOOL tp_group_remove(struct tp_group *group, struct tp_object *obj);
/* TRUE while obj is still a member of group (the checked mode).  Takes G. */
BOOL tp_group_is_member(struct tp_group *group, const struct tp_object *obj);
void tp_group_close_members(struct tp_group *group, BOOL cancel_pending, void *userdata);
void tp_group_close(struct tp_group *group);

/* ---- work and simple callbacks (work.c) ----------------------------------- */

struct tp_work {
    struct tp_object obj;           /* (c) first: see impl_from_TP_WORK() */
};

DWORD tp_work_create(PTP_WORK_CALLBACK callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                     struct tp_work **out);
/* Runs invoke(callback, userdata) once on a one-shot object (simple callbacks,
 * legacy work items).  ERROR_INVALID_PARAMETER, ERROR_NOT_ENOUGH_MEMORY. */
DWORD tp_simple_post(tp_invoke_fn invoke, void *callback, void *userdata,
                     const TP_CALLBACK_ENVIRON *env);

/* ---- timers (timer.c, timer_service.c, timer_queue.c) --------------------- */

struct tp_timer {
    struct tp_object obj;           /* (c) first: see impl_from_TP_TIMER() */
    struct tp_heap_node due_node;   /* (Q) in the service's due heap while armed */
    struct tp_heap_node latest_node; /* (Q) in the service's latest heap while armed */
    ULONGLONG due_ns;               /* (Q) next expiry, monotonic clock */
    ULONGLONG period_ns;            /* (Q) 0: one-shot */
    ULONGLONG window_ns;            /* (Q) how late an expiry may be */
    BOOL set;                       /* (Q) last set with a due time, not NULL */
    BOOL attached;                  /* (Q) known to the service: from creation to shutdown */
    BOOL in_batch;                  /* (Q) being queued by the service, Q dropped */
    /* (c) NULL: an expiry queues a callback of obj.  Otherwise the service
     * calls it instead, with no lock held (a wait's timeout, wait.c). */
    void (*expired)(struct tp_timer *timer);
};

/* Allocates size bytes (a struct that begins with struct tp_timer), zeroed,
 * as a timer object with the given invoke and hooks (ops->shutdown must call
 * tp_timer_shutdown).  ERROR_INVALID_PARAMETER, ERROR_NOT_ENOUGH_MEMORY. */
DWORD tp_timer_create(size_t size, tp_invoke_fn invoke, const struct tp_object_ops *ops,
                      void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                      struct tp_timer **out);
/* The shutdown hook of every timer: leaves the timer service. */
void tp_timer_shutdown(struct tp_object *obj);

/* Makes room for one more timer and starts the service thread if needed.
 * ERROR_NOT_ENOUGH_MEMORY, or the thread's error.  Takes Q. */
DWORD tp_timer_service_attach(struct tp_timer *timer);
/* Disarms the timer for good; later sets panic.  Takes Q.  Idempotent. */
void tp_timer_service_detach(struct tp_timer *timer);
/* Arms (due_100ns: FILETIME rules) or disarms (NULL) the timer; with
 * only_if_armed, does nothing unless it is armed.  Returns whether it was
 * armed.  Never allocates, cannot fail.  Takes Q, then P (a due time of now
 * queues the callback at once). */
BOOL tp_timer_service_set(struct tp_timer *timer, const LONGLONG *due_100ns, DWORD period_ms,
                          DWORD window_ms, BOOL only_if_armed);
BOOL tp_timer_service_is_set(struct tp_timer *timer);

/* ---- waits (wait.c, wait_legacy.c) ----------------------------------------- */

/* Results of queued callbacks kept in order; more are counted (wait.c). */
#define TP_WAIT_RESULT_BITS 64

struct tp_wait {
    struct tp_timer timer;          /* (c) first: the object, and its timeout's timer */
    struct os_wait_block *block;    /* (c) the platform's side of the wait */
    struct os_lock lock;            /* W */
    BOOL armed;                     /* (W) block armed, not disarmed since (may have fired) */
    BOOL timing;                    /* (W) the timeout is set in the timer service */
    ULONGLONG deadline_ns;          /* (W) when the armed wait times out, monotonic */
    BOOL shut;                      /* (W) the shutdown hook ran: nothing is armed again */
    ULONGLONG result_bits;          /* (P) results of queued callbacks, oldest at bit 0,
                                     * 1 = WAIT_TIMEOUT */
    LONG results;                   /* (P) how many: obj->pending + callbacks starting */
    LONG extra_timeouts;            /* (P) of the results past TP_WAIT_RESULT_BITS */
};

/*
 * Allocates size bytes (a struct that begins with struct tp_wait), zeroed,
 * as a wait object whose callbacks run invoke, with the kind's hooks: their
 * shutdown, cancel_locked and destroy must call tp_wait_shutdown,
 * tp_wait_cancel_locked and tp_wait_destroy.  ERROR_INVALID_PARAMETER,
 * ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD tp_wait_create(size_t size, tp_invoke_fn invoke, const struct tp_object_ops *ops,
                     void *callback, void *userdata, const TP_CALLBACK_ENVIRON *env,
                     struct tp_wait **out);
void tp_wait_shutdown(struct tp_object *obj);
void tp_wait_cancel_locked(struct tp_object *obj);
void tp_wait_destroy(struct tp_object *obj);
/*
 * Replaces what the wait waits for: handle (NULL: nothing) until
 * timeout_100ns (FILETIME rules; NULL: no timeout).  *cancelled tells
 * whether a wait armed before was stopped before it was satisfied.  Never
 * allocates; ERROR_INVALID_HANDLE or ERROR_NOT_SUPPORTED (a mutex) leave
 * the wait unarmed; ERROR_OPERATION_ABORTED: the shutdown hook ran (the
 * wait is closed or being closed), nothing was done.  Takes W.
 */
DWORD tp_wait_set(struct tp_wait *wait, HANDLE handle, const LONGLONG *timeout_100ns,
                  BOOL *cancelled);
/* From invoke, once: WAIT_OBJECT_0 or WAIT_TIMEOUT for this callback.  Takes P. */
DWORD tp_wait_take_result(struct tp_object *obj);

/* ---- I/O completion (io.c, io_legacy.c) ------------------------------------ */

struct tp_io;

/* TpAllocIoCompletion's callback type (io.c; the injection layer's table
 * repeats the prototype); Wine's headers declare it, mingw-w64's do not. */
/* ntdll's legacy routines, which mingw-w64's headers lack; here because the
 * exports that take them are also declared by the generated injection table.
 * The work routine (PRTL_WORK_ITEM_ROUTINE) is LPTHREAD_START_ROUTINE's type;
 * the completion routine (PRTL_OVERLAPPED_COMPLETION_ROUTINE) takes the
 * OVERLAPPED as a void pointer. */
typedef DWORD (CALLBACK *tp_rtl_work_routine)(void *);
typedef void (CALLBACK *tp_rtl_completion_routine)(DWORD, DWORD, void *);

typedef void (CALLBACK *tp_io_nt_callback)(PTP_CALLBACK_INSTANCE inst, void *userdata,
                                           void *overlapped, IO_STATUS_BLOCK *iosb, TP_IO *io);

/* One completion, as the callback of an I/O object receives it. */
struct tp_io_completion {
    OVERLAPPED *overlapped;
    NTSTATUS status;                /* IO_STATUS_BLOCK.Status: ntdll's callbacks */
    DWORD err;                      /* the same as a Win32 error: kernel32's callbacks */
    ULONG_PTR bytes;
};

/*
 * Binds file to a new I/O object whose callbacks run invoke.  With
 * every_completion (BindIoCompletionCallback) each completion of its files
 * queues a callback, they stay bound for their life and the object is
 * never closed; otherwise only completions announced by StartThreadpoolIo
 * count.  ERROR_INVALID_PARAMETER, ERROR_INVALID_HANDLE,
 * ERROR_NOT_ENOUGH_MEMORY (os_io_bind's errors).
 */
DWORD tp_io_create(HANDLE file, tp_invoke_fn invoke, void *callback, void *userdata,
                   const TP_CALLBACK_ENVIRON *env, BOOL every_completion, struct tp_io **out);
/* Binds one more file, for its life, to an every_completion object. */
DWORD tp_io_bind_file(struct tp_io *io, HANDLE file);
/* From invoke, once: the completion this callback is for.  Takes P. */
void tp_io_take_completion(struct tp_object *obj, struct tp_io_completion *completion);

/* ---- debug counters (debug.c) ---------------------------------------------- */

/* (a) pools, groups, callback objects: written as any of them comes or
 * goes, so alone in its cache line (the read-mostly data around it, such as
 * the default pool's once flag, is read on every call).  Callback objects
 * count in TP_COUNT_LIVE_OBJECTS instead, when made (object.c); they may be
 * counted out of either: the sum is the figure (tp_debug_live_objects). */
struct tp_live_count {
    _Alignas(64) _Atomic LONG objects;
};
extern struct tp_live_count tp_live;
#define tp_live_objects (tp_live.objects)
/* Frees the memory of a pool or group that is gone (into the checked mode's
 * quarantine when it is on, which frees it later) and counts it out of
 * tp_live_objects. */
void tp_debug_free_live(void *memory, size_t size);

/* ---- handle conversions ----------------------------------------------------- */

static inline struct tp_pool *impl_from_TP_POOL(PTP_POOL api)
{
    return api ? (struct tp_pool *)api : tp_pool_default();
}

static inline struct tp_group *impl_from_TP_CLEANUP_GROUP(PTP_CLEANUP_GROUP api)
{
    TP_ASSERT(api != NULL);
    return (struct tp_group *)api;
}

static inline struct tp_object *tp_object_checked(void *api, enum tp_object_type type,
                                                  const char *func)
{
    struct tp_object *obj = api;

    if (!obj || obj->type != type)
        os_panic("%s: %p is not a thread-pool object of the right type", func, api);
    return obj;
}

#define impl_from_TP_WORK(api) \
    ((struct tp_work *)tp_object_checked((api), TP_OBJECT_WORK, __func__))
#define impl_from_TP_TIMER(api) \
    ((struct tp_timer *)tp_object_checked((api), TP_OBJECT_TIMER, __func__))
#define impl_from_TP_WAIT(api) \
    ((struct tp_wait *)tp_object_checked((api), TP_OBJECT_WAIT, __func__))

/* ---- the checked mode (check.c) ---------------------------------------------- */

#include "check.h"

/* ---- the exports' shared bodies, inline (object.c has the others) ---------- */

/* The trace channel of a kind's exports, the one its file traces on. */
static inline enum tp_trace_channel tp_object_channel(enum tp_object_type type)
{
    switch (type) {
    case TP_OBJECT_TIMER: return TP_TRACE_TIMER;
    case TP_OBJECT_WAIT: return TP_TRACE_WAIT;
    case TP_OBJECT_IO: return TP_TRACE_IO;
    default: return TP_TRACE_POOL;
    }
}

/* CreateThreadpool*: the new object, or NULL with the last error set.
 * Inline, as is the close below: the export calls construct directly. */
static inline __attribute__((always_inline)) struct tp_object *
tp_object_create_export(const char *func, enum tp_object_type type,
                        tp_object_construct_fn construct, void *callback, void *userdata,
                        const TP_CALLBACK_ENVIRON *env)
{
    struct tp_object *obj;
    DWORD err;

    if (TP_TRACE_ON(tp_object_channel(type)))
        tp_trace_printf(func, "%p %p %p\n", callback, userdata, (void *)env);
    if (__builtin_expect(tp_check_enabled, 0))
        tp_check_environment(func, env);
    if ((err = construct(callback, userdata, env, &obj)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return obj;
}

/*
 * Closes an object that no worker, service or group ever knew: never
 * queued, outside any group, with no hook and no extras, in an open pool.
 * Its user's handle is the one thing that holds it, so it goes at once with
 * no P (object.c's object_release, in its plainest case).  FALSE (nothing
 * done) for any other.  Inline: the whole of Close* for such an object.
 */
static inline BOOL tp_object_close_unknown(struct tp_object *obj)
{
    unsigned char dispatch = obj->dispatch;   /* read before the free */

    if (obj->ops || obj->group || obj->extras || __atomic_load_n(&obj->queued, __ATOMIC_RELAXED))
        return FALSE;
    /* Once the pool is closed, its last object must leave under P.  The
     * default pool, never closed, is known from the object's own line. */
    if (dispatch & TP_OBJECT_DEFAULT_POOL)
        os_thread_count_add(TP_COUNT_DEFAULT_POOL_OBJECTS, -1);
    else if (!tp_pool_object_left_open(obj->pool))
        return FALSE;
    /* object_release's case with no hook, no extras and no module. */
    os_stamp_clear(&obj->stamp);
    if (tp_check_enabled)
        tp_check_object_freed(obj);     /* the quarantine frees it later */
    else
        free(obj);
    if (!(dispatch & TP_OBJECT_DEFAULT_POOL))
        os_thread_count_add(TP_COUNT_LIVE_OBJECTS, -1);
    return TRUE;
}

/* Close* of a callback object: the shared body. */
static inline __attribute__((always_inline)) void
tp_object_close_export(const char *func, void *api, enum tp_object_type type)
{
    struct tp_object *obj;

    if (TP_TRACE_ON(tp_object_channel(type)))
        tp_trace_printf(func, "%p\n", api);
    if (__builtin_expect(tp_check_enabled, 0))
        tp_check_call(func, api, (enum tp_check_kind)type, TP_CHECK_CLOSE);
    obj = tp_object_checked(api, type, func);
    if (!tp_object_close_unknown(obj))
        tp_object_close(obj);
}

#endif

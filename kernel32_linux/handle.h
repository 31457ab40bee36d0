/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the Linux handle layer (kernel32_linux/handle_table.c,
 * sync_*.c, critical_section.c, win_thread.c, module.c): the kernel object,
 * the handle table, the waiter that waits are made of, and the per-thread
 * record.  See docs/handles.md for the design.  Nothing here knows about
 * pools.
 *
 * Locking: the tags are letters of the one legend, lock_order.h (through
 * os.h), shared with the core and ordered there.  This layer's:
 *   (c) constant after creation       (a) atomic, C11 atomics only
 *   (X) private to one thread
 *   (N) the name-table lock
 *   (O) obj->lock of the object the field belongs to (or, for a wait link,
 *       of the object whose list it is on)
 *   (D) ts->lock of a thread record
 *   (Y) the thread registry (win_thread.c)   (U) the exception filter (process.c)
 *   (V) the standard handles (console.c)     (Z) the TLS slots (tls.c)
 *   (E) the memory regions (memory.c)        (B) heap->lock (win_heap.c)
 *   (S) a stripe lock of the handle table    (F) the table's free-list lock
 * Order: N -> O -> D -> (the core's Q, P, M) -> Y, U, V, Z, E, B -> S -> F.
 * Several O locks are taken in ascending address order only
 * (handle_objects_lock_all); a signaller that holds one O lock takes others
 * with os_lock_try_acquire only.  No lock is held while user code runs; a
 * waiter's wake function runs under an O lock and may take only locks
 * ranked after O (the core's P, in a thread-pool wait's fired()).
 */
#ifndef KERNEL32_TP_LINUX_HANDLE_H
#define KERNEL32_TP_LINUX_HANDLE_H

#include <pthread.h>

#include "os_linux.h"
#include "list.h"
#include "trace.h"

/* winnt.h has the exception codes among the NTSTATUS values, not this one. */
#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0x00000000)
#endif

/* ---- tracing (handle_table.c) -------------------------------------------- */

/* One line per export call, on the handle channel of the core's trace
 * (trace.h: KERNEL32_TP_TRACE=handle, or all). */
#define HANDLE_TRACE(...) TP_TRACE_TO(TP_TRACE_HANDLE, __VA_ARGS__)
/* The same line written by the body that several exports share, on behalf
 * of the export func (its __func__). */
#define HANDLE_TRACE_FOR(func, ...) TP_TRACE_FOR(TP_TRACE_HANDLE, func, __VA_ARGS__)

/* ---- kernel objects ------------------------------------------------------ */

enum handle_type {
    HANDLE_TYPE_ANY = 0,        /* for lookups: any type */
    HANDLE_TYPE_PROCESS,
    HANDLE_TYPE_THREAD,
    HANDLE_TYPE_EVENT,
    HANDLE_TYPE_SEMAPHORE,
    HANDLE_TYPE_MUTEX,
    HANDLE_TYPE_FILE,           /* files and named pipes (file.h) */
};

/* What ops->ready says about an object for one waiter. */
#define HANDLE_NOT_READY 0
#define HANDLE_READY 1
#define HANDLE_READY_ABANDONED 2    /* a mutex whose owner exited */

struct handle_object;
struct handle_waiter;

struct handle_ops {
    enum handle_type type;
    /*
     * Waitable types only (NULL: not waitable).  Whether a wait by waiter
     * would be satisfied now; waiter NULL asks "for some waiter".
     * Locking: obj->lock.  Returns: HANDLE_NOT_READY, HANDLE_READY or
     * HANDLE_READY_ABANDONED.
     */
    int (*ready)(struct handle_object *obj, const struct handle_waiter *waiter);
    /* Takes what a satisfied wait takes (an auto-reset event's signal, a
     * semaphore's unit, a mutex's ownership).  Locking: obj->lock. */
    void (*consume)(struct handle_object *obj, struct handle_waiter *waiter);
    /* The last reference is gone: release what the object holds (not obj). */
    void (*destroy)(struct handle_object *obj);
};

struct handle_object {
    const struct handle_ops *ops;   /* (c) */
    _Atomic LONG refs;              /* (a) handles, waits in progress, owners */
    struct os_lock lock;            /* the object lock, O */
    struct list waiters;            /* (O) struct handle_wait_link.entry, FIFO */
    char *name;                     /* (c) UTF-8, NULL when unnamed */
    struct list name_entry;         /* (N) in the name table while named handles exist */
    LONG name_handles;              /* (N) open handles of a named object */
};

/* Drops one of *refs (an object's reference count): TRUE when it was the
 * last.  Below zero is misuse and stops the process, naming what and obj. */
static inline BOOL handle_refs_release(_Atomic LONG *refs, const char *what, const void *obj)
{
    LONG left = atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) - 1;

    if (left < 0)
        os_panic("%s %p: reference count below zero", what, obj);
    return left == 0;
}

/* refs = 1 (the caller's); obj is embedded first in a calloc'ed struct. */
void handle_object_init(struct handle_object *obj, const struct handle_ops *ops);
void handle_object_ref(struct handle_object *obj);
/* Drops a reference; the last one calls ops->destroy and frees obj. */
void handle_object_unref(struct handle_object *obj);

/* ---- the handle table (handle_table.c) ---------------------------------- */

/*
 * A new handle for obj, which gets one more reference.  For a named object
 * the caller has already counted the handle (handle_name_handle_opened).
 * ERROR_NO_SYSTEM_RESOURCES when the table is full, ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD handle_alloc(struct handle_object *obj, HANDLE *handle);
/*
 * The object behind handle (or a pseudo-handle) with one more reference,
 * which the caller drops with handle_object_unref.  Locking: a stripe lock.
 * ERROR_INVALID_HANDLE when handle is not open or not of type.
 */
DWORD handle_lookup(HANDLE handle, enum handle_type type, struct handle_object **obj);
/*
 * The same for a caller that wants a reference to something the object
 * holds, not to the object: take(obj, context) runs under the stripe lock,
 * while the handle's own reference keeps obj alive, and takes that
 * reference itself (one atomic instead of the object's ref and unref).
 * take must not block nor take a lock.  Pseudo-handles are
 * ERROR_INVALID_HANDLE (no type that uses this has one).
 */
DWORD handle_lookup_take(HANDLE handle, enum handle_type type,
                         void (*take)(struct handle_object *obj, void *context), void *context);
/* ERROR_INVALID_HANDLE when handle is not open (pseudo-handles succeed).
 * Uncounts a named object's handle. */
DWORD handle_close(HANDLE handle);
/* The process object (never signalled: the process runs). */
struct handle_object *handle_process_object(void);

/* ---- names (sync_objects.c) --------------------------------------------- */

/* A handle to a named object was opened / closed.  Locking: N. */
void handle_name_handle_opened(struct handle_object *obj);
void handle_name_handle_closed(struct handle_object *obj);

/* ---- waits (sync_wait.c) ------------------------------------------------- */

/* waiter->state: a WAIT_* result once satisfied, or one of these. */
#define HANDLE_WAIT_PENDING 0x100u  /* linked and waiting */
#define HANDLE_WAIT_KICKED 0x101u   /* wait-all: an object changed, re-evaluate */
#define HANDLE_WAIT_CANCELLED WAIT_TIMEOUT

/* One object of a wait: the node on the object's list of waiters. */
struct handle_wait_link {
    struct list entry;              /* (O) on obj->waiters while linked */
    struct handle_waiter *waiter;   /* (c) */
    struct handle_object *obj;      /* (c) the caller holds a reference */
    DWORD index;                    /* (c) position in the wait */
};

/*
 * A wait on 1..MAXIMUM_WAIT_OBJECTS objects.  Either a sleeping thread
 * (WaitFor*) or any other party that wants to be called back when an object
 * is handed to it (a thread-pool wait object): wake() is called by the
 * signalling thread, with the lock of the satisfying object held, after the
 * object was consumed for this waiter.  It must not block, must not call
 * back into the handle layer, and may take only locks that are never held
 * while calling into the handle layer.  After wake() returns the signaller
 * never touches the waiter again; links still on other objects' lists are
 * removed by handle_waiter_finish().  A waiter satisfied at once by
 * handle_waiter_start() is not woken: the caller sees the result.
 * Wait-all waiters must be threads (they re-evaluate themselves when kicked).
 */
struct handle_waiter {
    _Atomic unsigned int state;     /* (a) futex word: see HANDLE_WAIT_* */
    void (*wake)(struct handle_waiter *waiter);     /* (c) */
    void *context;                  /* (c) for wake() */
    DWORD tid;                      /* (c) a mutex is given to this thread */
    struct handle_thread *ts;       /* (c) records owned mutexes; NULL: not tracked */
    BOOL wait_all;                  /* (c) */
    DWORD count;                    /* (c) */
    struct handle_wait_link *links; /* (c) count links; links[i].obj set by the caller */
    DWORD linked_upto;              /* (X) links[0..linked_upto) may be linked */
};

/*
 * Starts a wait: satisfies it at once when it can (lowest index first for
 * wait-any), else links it to its objects when may_block, else cancels it.
 * Locking: takes the objects' locks (one at a time, or all in address order
 * for wait-all).  Returns the WAIT_* result, HANDLE_WAIT_CANCELLED, or
 * HANDLE_WAIT_PENDING.  Whatever it returns, call handle_waiter_finish().
 */
DWORD handle_waiter_start(struct handle_waiter *waiter, BOOL may_block);
/* Wait-all, state HANDLE_WAIT_KICKED: check again.  Locking: all its
 * objects' locks, in address order. */
void handle_waiter_reevaluate(struct handle_waiter *waiter);
/* Stops a pending wait; returns its result if it was satisfied meanwhile. */
DWORD handle_waiter_cancel(struct handle_waiter *waiter);
/* Unlinks what is still linked.  Takes the objects' locks one at a time. */
void handle_waiter_finish(struct handle_waiter *waiter);
/*
 * Hands obj to its waiters, in FIFO order, while it is ready for them.
 * Call after any change that may make obj ready.  Locking: obj->lock.
 */
void handle_object_wake_locked(struct handle_object *obj);

/* The calling thread waits: WAIT_* or, with ERROR_* in *err, WAIT_FAILED. */
DWORD handle_wait_objects(DWORD count, struct handle_object **objs, BOOL wait_all,
                          DWORD timeout_ms, DWORD *err);
/* The same; alertable: the thread's user APCs run in it (WAIT_IO_COMPLETION,
 * see WaitForSingleObjectEx).  count 0 with alertable is an alertable sleep. */
DWORD handle_wait_objects_alertable(DWORD count, struct handle_object **objs, BOOL wait_all,
                                    DWORD timeout_ms, BOOL alertable, DWORD *err);
/* Sleeps timeout_ms (INFINITE: forever); 0 only yields. */
void handle_sleep(DWORD timeout_ms);

/* ---- threads (win_thread.c) ---------------------------------------------- */

/*
 * The calling thread's record, created on first use; its exit hook (a
 * pthread key destructor) abandons the mutexes it owns and signals its
 * thread object.  Exists for any pthread, not only CreateThread's.
 */
struct handle_thread {
    struct os_lock lock;            /* D */
    struct list owned_mutexes;      /* (D) struct handle_mutex.owned_entry */
    struct handle_object *self;     /* (X) this thread's thread object, or NULL */
    DWORD exit_code;                /* (X) for self, set by ExitThread/return */
    DWORD tid;                      /* (c) */
    BOOL registered;                /* (X) the exit hook is armed */
};
struct handle_thread *handle_thread_current(void);
/* The current thread's object (GetCurrentThread()), with a reference; NULL
 * on ERROR_NOT_ENOUGH_MEMORY. */
struct handle_object *handle_thread_self_object(void);

/*
 * User APCs of the thread whose object is self (QueueUserAPC), for its
 * alertable waits.  handle_apc_arm: TRUE when APCs are queued already;
 * else waiter is published until handle_apc_disarm, and QueueUserAPC
 * claims it with WAIT_IO_COMPLETION and wakes it.  handle_apc_run_all runs
 * the queued APCs in FIFO order on the calling thread (with no lock held)
 * until none is left; TRUE when it ran any.  Locking: self->lock inside.
 */
BOOL handle_apc_arm(struct handle_object *self, struct handle_waiter *waiter);
void handle_apc_disarm(struct handle_object *self);
BOOL handle_apc_run_all(struct handle_object *self);

/* ---- events (sync_objects.c) ---------------------------------------------- */

/* Sets or resets an event (also for the file layer's OVERLAPPED events).
 * ERROR_INVALID_HANDLE.  Takes the event's lock. */
DWORD handle_event_change(HANDLE handle, BOOL signalled);

/* ---- mutexes (sync_objects.c) -------------------------------------------- */

/* ts's thread ends: every mutex it owns becomes abandoned.  Locking: D,
 * then each mutex's lock, one at a time. */
void handle_mutex_abandon_all(struct handle_thread *ts);

/* ---- exceptions (process.c) ----------------------------------------------- */

/*
 * Raises a noncontinuable exception that nothing can handle (C on Linux has
 * no __try): the unhandled-exception filter, if any, sees it, then the
 * process ends with code as its status, as on Windows.  Never returns.  No
 * lock may be held (the filter is user code).
 */
void handle_raise_exception(DWORD code) __attribute__((noreturn));

/* ---- the process heap (win_heap.c) -------------------------------------- */

/*
 * A zeroed block of the process heap (GetProcessHeap), for the library's
 * own objects that Windows allocates there, where HeapValidate finds them
 * (the thread pool's I/O objects, os_io_object_alloc).  NULL when memory is
 * short.  handle_process_heap_free frees one (NULL: nothing); a pointer
 * that is no live block stops the process.  Take the heap's lock inside.
 */
void *handle_process_heap_alloc(SIZE_T size);
void handle_process_heap_free(void *ptr);

/* ---- strings (wide_string.c) --------------------------------------------- */

/*
 * UTF-16 (unpaired surrogates kept, as WTF-8) to a malloc'ed UTF-8 string.
 * NULL in, NULL out.  ERROR_NOT_ENOUGH_MEMORY.
 */
DWORD handle_utf8_from_utf16(const WCHAR *str, char **utf8);

/* (strings.c) count units of UTF-16 to UTF-8 in dst (cap bytes, no NUL
 * added; NULL and 0 to measure); an unpaired surrogate becomes U+FFFD and
 * sets *invalid (may be NULL).  Returns the bytes all of it needs. */
size_t handle_utf16_to_utf8(const WCHAR *src, size_t count, char *dst, size_t cap,
                            BOOL *invalid);
/* The same from UTF-8 (count bytes) to UTF-16 (cap units); an invalid byte
 * becomes U+FFFD and sets *invalid.  Returns the units all of it needs. */
size_t handle_utf8_to_utf16(const char *src, size_t count, WCHAR *dst, size_t cap, BOOL *invalid);

#endif

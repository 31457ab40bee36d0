/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform contract: everything the core needs from the operating system.
 *
 * kernel32_tp/os/<os>/ implements it (os/linux/: pthreads and futexes, with
 * the handle, I/O, wait and module calls from the Linux kernel32 emulation,
 * kernel32_linux/; os/win32/: the system's own objects).  The core includes only this
 * header, through tp_private.h, and never an OS header.
 *
 * Conventions: a function that can fail returns DWORD (ERROR_SUCCESS or an
 * ERROR_* code, listed on its line); locks and conds cannot fail; an
 * impossible OS failure ends in os_panic().  "Blocks" says whether a call
 * may sleep.
 */
#ifndef KERNEL32_TP_OS_H
#define KERNEL32_TP_OS_H

#include <windows.h>
#include <stdarg.h>
#include <stddef.h>

#include "lock_order.h" /* enum os_lock_rank: the one lock legend */
#include "os_types.h"   /* struct os_sys_lock, struct os_cond: complete types */

/*
 * Ownership stamps (os_types.h, inline): the first member of every struct
 * whose address the API hands out (objects, pools, groups, timer queues,
 * callback instances).  os_stamp_set marks it as ours, os_stamp_clear
 * unmarks it before it is freed.  On Windows, where the DLL can be injected
 * into a process whose system pool already made handles of its own, the
 * injection layer reads the stamp to tell our handles from the system's
 * (docs/inject.md); on Linux the stamp is empty.  Neither blocks or fails.
 */

/*
 * A lock is the platform's system lock (os_types.h) with what every
 * platform keeps beside it, in one body for all (os/os_lock.h).
 */
struct os_lock {
    struct os_sys_lock sys;     /* the system's lock */
    DWORD owner;                /* thread id of the holder, 0 when free; under sys */
#ifdef KERNEL32_TP_LOCK_RANKS
    enum os_lock_rank rank;     /* (c) its place in the order (lock_order.h) */
#endif
};

#ifdef KERNEL32_TP_LOCK_RANKS
#define OS_LOCK_INITIALIZER(rank) { OS_SYS_LOCK_INITIALIZER, 0, (rank) }
#else
#define OS_LOCK_INITIALIZER(rank) { OS_SYS_LOCK_INITIALIZER, 0 }
#endif

/*
 * Locks: not recursive.  The owner is recorded so TP_ASSERT_LOCKED is real.
 * Each lock has a rank, its letter of the legend in lock_order.h; a static
 * lock is initialised with OS_LOCK_INITIALIZER(rank).
 * os_lock_try_acquire takes the lock only if it is free (TRUE); it never
 * blocks, so it may take a lock out of order (the O locks of a signaller).
 *
 * With KERNEL32_TP_LOCK_RANKS (debug and sanitizer builds), taking a lock
 * whose rank is not above every lock the thread holds stops the process
 * with one line naming both locks and where each was taken (lock_rank.c).
 * Without it the rank is not stored and nothing is checked.
 */
void os_lock_init(struct os_lock *lock, enum os_lock_rank rank);
void os_lock_destroy(struct os_lock *lock);
void os_lock_release(struct os_lock *lock);
/* Racy read when not held, but it can equal our id only if we wrote it. */
static inline BOOL os_lock_held_by_me(const struct os_lock *lock)
{
    return __atomic_load_n(&lock->owner, __ATOMIC_RELAXED) == os_thread_current_id();
}
#ifdef KERNEL32_TP_LOCK_RANKS
void os_lock_acquire_at(struct os_lock *lock, const char *file, int line);     /* blocks */
BOOL os_lock_try_acquire_at(struct os_lock *lock, const char *file, int line);
#define os_lock_acquire(lock) os_lock_acquire_at((lock), __FILE__, __LINE__)
#define os_lock_try_acquire(lock) os_lock_try_acquire_at((lock), __FILE__, __LINE__)
/* The checks, shared by both platforms (lock_rank.c): before a blocking
 * acquire; after any acquire; at release. */
void os_lock_rank_check(const struct os_lock *lock, const char *file, int line);
void os_lock_rank_push(const struct os_lock *lock, const char *file, int line);
void os_lock_rank_pop(const struct os_lock *lock);
#else
void os_lock_acquire(struct os_lock *lock);                 /* blocks */
BOOL os_lock_try_acquire(struct os_lock *lock);
#endif

/*
 * One-time initialisation: the first caller of os_once runs fn; every
 * caller returns only after fn returned, and sees what it wrote.  A once
 * is static, initialised with OS_ONCE_INIT (os_types.h).  fn must not
 * fail (it has no way to say so) nor call os_once on the same once.
 * Blocks while another thread runs fn.
 */
void os_once(struct os_once *once, void (*fn)(void));

/* Conds: waits may wake spuriously; callers loop on their predicate.  A
 * static cond is initialised with OS_COND_INITIALIZER (os_types.h). */
void os_cond_init(struct os_cond *cond);
void os_cond_destroy(struct os_cond *cond);
void os_cond_wait(struct os_cond *cond, struct os_lock *lock);          /* blocks */
/* FALSE when deadline_ns (monotonic) passed first.  Blocks. */
BOOL os_cond_wait_until(struct os_cond *cond, struct os_lock *lock, ULONGLONG deadline_ns);
/* The same, and the thread runs the APCs queued to it (QueueUserAPC) while
 * it waits, with lock released, in FIFO order; an APC queued during the
 * wait wakes it.  A wait that ran APCs returns TRUE, like a wake-up.
 * Blocks. */
BOOL os_cond_wait_until_alertable(struct os_cond *cond, struct os_lock *lock,
                                  ULONGLONG deadline_ns);
void os_cond_signal(struct os_cond *cond);
void os_cond_broadcast(struct os_cond *cond);

/* Clocks. */
ULONGLONG os_clock_monotonic_ns(void);
ULONGLONG os_clock_system_100ns(void);   /* FILETIME: UTC, 100 ns since 1601 */

/*
 * Threads.  os_thread_start starts a detached thread running fn(arg) with
 * stack_size bytes of stack (0: the default).  ERROR_NOT_ENOUGH_MEMORY or
 * ERROR_TOO_MANY_THREADS (mapped from the OS).  Does not block.
 */
DWORD os_thread_start(void (*fn)(void *arg), void *arg, SIZE_T stack_size);
/* fn runs in the child of a fork(), on its one thread, before fork()
 * returns there (Linux; a no-op where processes do not fork).  Does not
 * block, cannot fail (an impossible failure panics). */
void os_fork_child_register(void (*fn)(void));
/* DWORD os_thread_current_id(void): inline, in os_types.h. */
/* The stack a new thread gets by default: what a new pool reports. */
void os_thread_default_stack(SIZE_T *reserve, SIZE_T *commit);
unsigned int os_cpu_count(void);
/* CPU time the whole process used so far, in ns (the monitor's judge of
 * workers that wait where the pool cannot see).  Does not block. */
ULONGLONG os_process_cpu_ns(void);
/* A hint inside spin loops (the x86 pause instruction).  Does not block. */
void os_cpu_relax(void);

/*
 * Per-thread counts: sums that many threads change often and that are read
 * seldom (the core's live objects).  os_thread_count_add adds delta to the
 * calling thread's own share of counter which (below OS_THREAD_COUNTS):
 * a plain load and store on a cache line no other thread writes, no atomic
 * read-modify-write.  os_thread_count_sum adds up the shares of every thread,
 * those of threads that ended included (a new thread takes over the share
 * of one that ended), so it is exact for every add that happened before
 * it.  A thread that cannot get a share (memory is short) adds to one that
 * all such threads share, atomically.  Neither blocks nor fails; an add
 * leaves the last error as it was.
 */
#define OS_THREAD_COUNTS 2
/* void os_thread_count_add(unsigned int which, LONG delta): in os_types.h,
 * which may make it inline. */
LONG os_thread_count_sum(unsigned int which);

/*
 * Blocking notifications: the handle layer calls hook(arg, TRUE) when the
 * calling thread is about to sleep in a wait, and hook(arg, FALSE) when it
 * wakes.  The pool registers one per worker so a blocked callback can be
 * covered by a new worker at once.  A platform that cannot see its waits
 * (win32) never calls the hook; the pool's injection timer covers it.
 */
typedef void (*os_block_hook)(void *arg, BOOL blocking);
void os_thread_set_block_hook(os_block_hook hook, void *arg);

/*
 * Handle actions for the deferred completion actions of a callback
 * instance.  They report failure the way the Win32 call would: FALSE and
 * the error in *err.  They do not block (a mutex release never blocks).
 */
BOOL os_handle_set_event(HANDLE event, DWORD *err);
BOOL os_handle_release_semaphore(HANDLE semaphore, LONG count, DWORD *err);
BOOL os_handle_release_mutex(HANDLE mutex, DWORD *err);
void os_critical_section_leave(CRITICAL_SECTION *cs);

/*
 * Modules.  os_library_addref takes one more reference on a loaded module
 * (RaceDll); os_library_free drops one and unloads at zero.
 * ERROR_MOD_NOT_FOUND when the module is not loaded.
 */
DWORD os_library_addref(HMODULE module);
void os_library_free(HMODULE module);

/*
 * I/O completion (the core's io.c).  os_io_bind binds a file handle to
 * complete(key, packet), which the platform calls, on a thread of its own
 * or in os_io_poll (below), for each overlapped operation on the file that completes and would reach
 * a completion port on Windows: not when the OVERLAPPED's hEvent has its
 * low bit set, nor a synchronous success under
 * FILE_SKIP_COMPLETION_PORT_ON_SUCCESS.  By then the OVERLAPPED's Internal
 * and InternalHigh hold the status and byte count and its event is set.
 * The platform holds its binding lock (I, before P: lock_order.h) around complete(),
 * which must not block; after os_io_unbind returns it is never called
 * again for that binding (completions that come later are dropped).
 * The packet is the platform's record of the operation, so completing
 * allocates nothing in the core: complete() owns it until it hands it back
 * with os_io_packet_release, which may be called under P.
 * complete(key, NULL), under the binding lock too, says the binding ended:
 * the file was closed and no completion will come any more.  The platform
 * calls it at most once per binding (Linux: when the file's last handle
 * went and its last operation completed; win32, which the system does not
 * tell, when it finds the handle closed, looking only at bindings
 * os_io_watch named).
 * A NULL binding binds for the file's whole life (never unbound): the
 * platform keeps nothing per file for it beyond the file's own state.
 * os_io_bind: ERROR_INVALID_HANDLE (not a file of the platform's),
 * ERROR_INVALID_PARAMETER (already bound, or opened without
 * FILE_FLAG_OVERLAPPED), ERROR_NOT_ENOUGH_MEMORY, or the error of starting
 * the platform's thread.  Does not block.
 *
 * os_io_object_alloc/free: the zeroed memory of an I/O object.  Windows
 * allocates thread-pool I/O objects from the process heap, where programs
 * (and Wine's conformance tests) check them with HeapValidate; the DLL
 * does the same.  NULL when memory is short.
 */
struct os_io_packet {
    struct os_io_packet *next;      /* the core's while it holds the packet */
    OVERLAPPED *overlapped;
    LONG status;                    /* an NTSTATUS, as in IO_STATUS_BLOCK */
    DWORD err;                      /* the same status as a Win32 error */
    ULONG_PTR bytes;
};
struct os_io_binding;
typedef void (*os_io_complete_fn)(void *key, struct os_io_packet *packet);
DWORD os_io_bind(HANDLE file, os_io_complete_fn complete, void *key,
                 struct os_io_binding **binding);
void os_io_unbind(struct os_io_binding *binding);           /* blocks for a complete() */
/* The core waits for the end of this binding (complete(key, NULL)): a
 * platform that must look for it starts looking.  Does not block. */
void os_io_watch(struct os_io_binding *binding);
void os_io_packet_release(struct os_io_packet *packet);
void *os_io_object_alloc(size_t size);
void os_io_object_free(void *memory);

/*
 * I/O readiness collected by the pool's workers.  A worker that finds its
 * pool's queue empty calls os_io_poll: the platform completes, on the
 * calling thread and without blocking, the operations that became ready
 * (calling complete() as its own thread would); TRUE when it handled
 * anything.  An operation made ready by a callback (an echo's write makes
 * the peer's pending read ready) thus completes on the worker that looks
 * next, with no thread woken.  Called with no lock held (it takes I and P).
 * os_io_poller_active(TRUE) when a worker starts looking for work (started
 * or woken), FALSE when it stops (sleeps or retires): while workers look,
 * the platform's own thread may leave the polling to them, and the last one
 * to stop hands it back.  Takes no lock and does not block (callable under
 * P).  win32: the completion port's thread does it all; both do nothing.
 */
BOOL os_io_poll(void);
void os_io_poller_active(BOOL active);
/* FALSE while os_io_poll has nothing it could find (no I/O was ever
 * watched): the worker does not drop P for it.  Cheap, no lock. */
BOOL os_io_pollable(void);

/*
 * Thread-pool waits (the core's wait.c).  A block is the platform's side of
 * one wait object; os_wait_create allocates all it will need, so arming
 * never allocates.  ERROR_NOT_ENOUGH_MEMORY.
 * os_wait_arm starts one wait for handle, as WaitForSingleObject waits: when
 * the wait is satisfied, taking what such a wait takes (an auto-reset
 * event's signal, one semaphore unit), the platform calls fired(context)
 * exactly once, on any thread (the signaller's, one of its own, or the
 * caller's before os_wait_arm or os_wait_disarm returns), holding none of
 * the core's locks but that caller's.  fired must not block; it may take P.
 * ERROR_INVALID_HANDLE (not an open waitable object), ERROR_NOT_SUPPORTED
 * (a mutex: the wait would own it on a thread that never releases it;
 * Windows refuses them).  Does not block.
 * os_wait_disarm ends the last wait armed: TRUE when it stopped it before it
 * was satisfied (nothing taken, fired never called); FALSE when it was
 * satisfied (fired has returned by then) or nothing was armed.  Call it
 * before arming again and before os_wait_destroy.  Blocks only for a fired()
 * in progress or, on win32, a round trip to the thread that waits.
 * The caller serializes the calls on one block.
 * os_wait_raise_refused reports a handle os_wait_arm refused (err) the way
 * Windows does: STATUS_THREADPOOL_HANDLE_EXCEPTION in the caller, whose
 * first parameter is STATUS_INVALID_PARAMETER_3 for a mutex; win32 returns if
 * a handler continues it; Linux, which has no exceptions, stops the process.
 */
struct os_wait_block;
typedef void (*os_wait_fired_fn)(void *context);
DWORD os_wait_create(os_wait_fired_fn fired, void *context, struct os_wait_block **block);
void os_wait_destroy(struct os_wait_block *block);
DWORD os_wait_arm(struct os_wait_block *block, HANDLE handle);
BOOL os_wait_disarm(struct os_wait_block *block);
void os_wait_raise_refused(const char *func, HANDLE handle, DWORD err);

/* The calling thread's last-error value (the Win32 one). */
DWORD os_get_last_error(void);
void os_set_last_error(DWORD err);

/* How an export that returns BOOL ends: TRUE on ERROR_SUCCESS; otherwise
 * it sets the last error to err (the one place it is set) and is FALSE. */
static inline BOOL os_bool_result(DWORD err)
{
    if (err == ERROR_SUCCESS)
        return TRUE;
    os_set_last_error(err);
    return FALSE;
}

/*
 * TRUE once the process has begun to exit and its DLLs are being detached
 * (Windows): every other thread is gone, wherever it was, and a lock one of
 * them held stays held.  A drain then stops waiting for callbacks that can
 * never end, and os_lock_acquire takes a lock held by a thread that is gone
 * (docs/inject.md, "Exit").  Never blocks.
 */
BOOL os_process_exiting(void);

/* Diagnostics.  os_getenv returns NULL when unset.  os_panic never returns. */
const char *os_getenv(const char *name);
void os_vlog(const char *fmt, va_list args);
void os_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * Misuse that Windows reports by raising STATUS_INVALID_PARAMETER in the
 * caller (a second completion action of one kind, ...).  win32 raises that
 * continuable exception and returns if a handler continues it; Linux has no
 * exceptions and stops the process with the message.
 */
void os_raise_invalid_parameter(const char *func, const char *what, const void *object);

/*
 * Misuse the checked mode caught (check.c): prints "kernel32_tp: fatal: "
 * and line, then stops.  Linux: as os_panic.  win32: raises the
 * noncontinuable STATUS_INVALID_PARAMETER that ntdll raises for a released
 * or invalid thread-pool object; unless a handler catches it, the process
 * ends with that code.  Never returns.
 */
void os_misuse_stop(const char *line) __attribute__((noreturn));

#endif

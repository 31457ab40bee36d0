/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: the thread-pool waits of os.h (os_wait_*) on the system's own
 * handles.  A wait thread waits with WaitForMultipleObjects for up to 63
 * armed blocks plus its control event (the system's limit is 64 handles);
 * when one is signalled, the wait consumed it exactly as WaitForSingleObject
 * would, and the thread calls the block's fired().  Threads exist only for
 * armed blocks: arming fills the first thread with room (its system thread
 * started if it has none, see below), and a thread with nothing armed exits
 * after WAIT_THREAD_IDLE_MS.  So the process has at most one thread per 63
 * armed waits at their peak, and none for waits that are not set.
 *
 * Arming never allocates: os_wait_create keeps room for every block that
 * exists (a struct wait_thread, with its control event, per 63 blocks; they
 * are reused, never freed).  Disarming a block that its thread is waiting
 * for asks the thread, through the control event, to drop it, and waits
 * for the answer: whether it dropped it, or the handle was signalled first.
 * A block disarmed before its thread waited for it is looked at once
 * (WaitForSingleObject with no timeout) and fired if signalled.
 *
 * Every change of a thread's blocks costs a system call (the control event)
 * and a new WaitForMultipleObjects; under Wine, server requests whose cost
 * grows with the handles waited for.  A burst of arms (a program setting
 * many waits in a row) would pay them per arm: a thread woken by an arm
 * that comes within WAIT_BURST_NS of the arms it last read gathers the
 * burst first, sleeping on a condition variable (no system call under
 * Wine, futexes) while arms keep coming, WAIT_GATHER_QUIET_NS at a time and
 * WAIT_GATHER_MAX_NS at most, and then waits for them all at once; arms in
 * the meantime find it poked and set nothing.  A lone arm, a disarm and a
 * signal are answered at once.  While it gathers, the handles it already
 * waited for are not watched: a signal then is seen up to
 * WAIT_GATHER_MAX_NS late, as a wait armed during the burst is.
 *
 * Starting a system thread is the dearest step of all (under Wine about a
 * millisecond): only the first wait thread is started by the arming
 * caller.  An arm that needs another one lists it in wait_starts and pokes
 * a running wait thread, which starts it; the blocks armed on it meanwhile
 * wait in its structure, as they would for its first read.
 *
 * A mutex is refused as Windows refuses it: the object's type is read with
 * NtQueryObject (looked up at run time: the DLL imports kernel32 only),
 * once per handle a block is armed with.
 *
 * Knows nothing about pools.  Locks: wait_lock (L), held neither around
 * WaitForMultipleObjects nor around fired().
 */
#include <windows.h>
#include <stdlib.h>
#include <string.h>

#include "os_win32.h"

#define WAIT_SLOTS (MAXIMUM_WAIT_OBJECTS - 1)   /* and the control event, last */
#define WAIT_THREAD_IDLE_MS 2000
#define WAIT_THREAD_STACK (64 * 1024)
#define WAIT_BURST_NS 1000000ull        /* an arm this soon after the last read: a burst */
#define WAIT_GATHER_QUIET_NS 50000ull   /* a burst ends when no arm came for this long */
#define WAIT_GATHER_MAX_NS 1000000ull   /* and gathering it lasts at most this */

#define TP_STATUS_THREADPOOL_HANDLE_EXCEPTION 0xC000070Au
#define TP_STATUS_INVALID_PARAMETER_3 0xC00000F1u
#define TP_STATUS_INVALID_HANDLE 0xC0000008u
#define TP_OBJECT_TYPE_INFORMATION 2

enum block_state {
    BLOCK_IDLE,         /* nothing armed, or fired and done */
    BLOCK_ARMED,        /* in a thread's blocks */
    BLOCK_FIRING,       /* signalled: its thread is calling fired() */
};

struct wait_thread;

struct os_wait_block {
    os_wait_fired_fn fired;         /* (c) */
    void *context;                  /* (c) */
    HANDLE checked;                 /* (X, the arming caller) last handle whose type was read */
    HANDLE handle;                  /* (L) what it waits for while armed */
    enum block_state state;         /* (L) */
    BOOL in_set;                    /* (L) in its thread's WaitForMultipleObjects now */
    BOOL cancel;                    /* (L) a disarm asks its thread to drop it */
    BOOL dropped;                   /* (L) its thread dropped it unsatisfied */
    struct wait_thread *thread;     /* (L) while armed */
    DWORD slot;                     /* (L) its index in thread->blocks while armed */
};

struct wait_thread {
    HANDLE control;                 /* (c) auto-reset: its blocks changed */
    struct os_wait_block *blocks[WAIT_SLOTS];   /* (L) armed, packed */
    DWORD count;                    /* (L) */
    BOOL running;                   /* (L) its system thread exists, or is in wait_starts */
    BOOL poked;                     /* (L) control set since the thread last read its blocks */
    DWORD arms;                     /* (L) blocks ever armed on it */
    DWORD arms_read;                /* (L) arms when it last read its blocks */
    ULONGLONG arms_read_ns;         /* (L) when it last read its blocks after arms */
    struct wait_thread *next;       /* (c) after it is listed */
    struct wait_thread *start_next; /* (L) in wait_starts */
};

static SRWLOCK wait_lock = SRWLOCK_INIT;                        /* L */
static CONDITION_VARIABLE wait_changed = CONDITION_VARIABLE_INIT; /* (L) disarms sleep here */
static struct wait_thread *wait_threads;                        /* (L) */
static DWORD wait_thread_count;                                 /* (L) */
static DWORD wait_blocks;                                       /* (L) blocks that exist */
static struct wait_thread *wait_starts;     /* (L) threads armed on, for a wait thread to start */

typedef LONG (WINAPI *query_object_fn)(HANDLE handle, int info_class, void *info, ULONG size,
                                       ULONG *returned);
/* ntdll's form of SleepConditionVariableSRW: the timeout in 100 ns units. */
typedef LONG (WINAPI *sleep_cv_srw_fn)(CONDITION_VARIABLE *cv, SRWLOCK *lock,
                                       const LARGE_INTEGER *timeout, ULONG flags);

/* ---- the wait threads ---------------------------------------------------------- */

/* Takes block out of its thread's blocks.  Locking: L. */
static void thread_remove_locked(struct wait_thread *thread, struct os_wait_block *block)
{
    struct os_wait_block *last = thread->blocks[--thread->count];

    thread->blocks[block->slot] = last;
    last->slot = block->slot;
    block->thread = NULL;
    block->in_set = FALSE;
}

/* Drops the blocks whose disarm asked for it.  Locking: L. */
static BOOL thread_drop_cancelled_locked(struct wait_thread *thread)
{
    BOOL any = FALSE;
    DWORD i = 0;

    while (i < thread->count) {
        struct os_wait_block *block = thread->blocks[i];

        if (!block->cancel) {
            i++;
            continue;
        }
        thread_remove_locked(thread, block);
        block->cancel = FALSE;
        block->dropped = TRUE;
        block->state = BLOCK_IDLE;
        any = TRUE;
    }
    return any;
}

/*
 * After WaitForMultipleObjects failed: drops the blocks whose handle was
 * closed while armed (undefined behaviour on Windows; here they never fire).
 * Locking: L.
 */
static BOOL thread_drop_invalid_locked(struct wait_thread *thread)
{
    BOOL any = FALSE;
    DWORD i = 0, flags;

    while (i < thread->count) {
        struct os_wait_block *block = thread->blocks[i];

        if (GetHandleInformation(block->handle, &flags)
            || block->handle == GetCurrentProcess() || block->handle == GetCurrentThread()) {
            i++;
            continue;
        }
        thread_remove_locked(thread, block);
        block->state = BLOCK_IDLE;
        any = TRUE;
    }
    return any;
}

/* Sleeps on wait_changed for about timeout_ns.  Locking: L. */
static void gather_sleep_locked(ULONGLONG timeout_ns)
{
    static os_win32_proc proc;
    static LONG looked_up;
    sleep_cv_srw_fn precise = (sleep_cv_srw_fn)os_win32_ntdll_proc(
        "RtlSleepConditionVariableSRW", &proc, &looked_up);
    LARGE_INTEGER timeout;

    if (precise) {
        timeout.QuadPart = -(LONGLONG)(timeout_ns / 100);
        precise(&wait_changed, &wait_lock, &timeout, 0);
    } else {
        SleepConditionVariableSRW(&wait_changed, &wait_lock, 1, 0);
    }
}

/* Whether a disarm asked the thread to drop a block.  Locking: L. */
static BOOL thread_cancel_asked_locked(const struct wait_thread *thread)
{
    DWORD i;

    for (i = 0; i < thread->count; i++)
        if (thread->blocks[i]->cancel)
            return TRUE;
    return FALSE;
}

/*
 * Woken by its control event: when arms woke it within WAIT_BURST_NS of the
 * arms it last read, waits while more come (see the header).  A wake-up on
 * wait_changed (a block fired or was dropped elsewhere) only ends a quiet
 * period early.  Locking: L.
 */
static void thread_gather_locked(struct wait_thread *thread)
{
    ULONGLONG start_ns, now_ns;
    DWORD seen;

    /* A disarm waits for the answer.  (Blocks are out of the set while it
     * gathers: a disarm then needs no answer from the thread.) */
    if (thread->arms == thread->arms_read || thread_cancel_asked_locked(thread))
        return;
    start_ns = os_clock_monotonic_ns();
    if (start_ns - thread->arms_read_ns > WAIT_BURST_NS)
        return;     /* a lone arm */
    do {
        seen = thread->arms;
        gather_sleep_locked(WAIT_GATHER_QUIET_NS);
        now_ns = os_clock_monotonic_ns();
    } while (thread->arms != seen && thread->count < WAIT_SLOTS && !wait_starts
             && !os_process_exiting() && now_ns - start_ns < WAIT_GATHER_MAX_NS);
}

static DWORD WINAPI wait_thread_main(void *arg);

/* Starts the system thread of a wait thread.  Locking: none. */
static void thread_start(struct wait_thread *thread)
{
    HANDLE system_thread = CreateThread(NULL, WAIT_THREAD_STACK, wait_thread_main, thread,
                                        STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);

    if (!system_thread)
        os_panic("cannot start a wait thread: error %lu", (unsigned long)GetLastError());
    CloseHandle(system_thread);
}

/* Starts the threads listed in wait_starts.  Locking: L, released meanwhile. */
static void thread_start_listed_locked(void)
{
    struct wait_thread *list, *next;

    while ((list = wait_starts)) {
        wait_starts = NULL;
        ReleaseSRWLockExclusive(&wait_lock);
        for (; list; list = next) {
            next = list->start_next;
            thread_start(list);
        }
        AcquireSRWLockExclusive(&wait_lock);
    }
}

static DWORD WINAPI wait_thread_main(void *arg)
{
    struct wait_thread *thread = arg;
    struct os_wait_block *set[WAIT_SLOTS], *block;
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    DWORD count, i, ret;

    AcquireSRWLockExclusive(&wait_lock);
    for (;;) {
        thread_start_listed_locked();
        /* Everything below reads the blocks anew: later changes poke again. */
        thread->poked = FALSE;
        if (thread->arms != thread->arms_read) {
            thread->arms_read = thread->arms;
            thread->arms_read_ns = os_clock_monotonic_ns();
        }
        if (thread_drop_cancelled_locked(thread))
            WakeAllConditionVariable(&wait_changed);
        if (!thread->count) {
            ReleaseSRWLockExclusive(&wait_lock);
            ret = WaitForSingleObject(thread->control, WAIT_THREAD_IDLE_MS);
            AcquireSRWLockExclusive(&wait_lock);
            if (ret == WAIT_TIMEOUT && !thread->count && !wait_starts)
                break;
            continue;
        }
        count = thread->count;
        for (i = 0; i < count; i++) {
            set[i] = thread->blocks[i];
            set[i]->in_set = TRUE;
            handles[i] = set[i]->handle;
        }
        /* The control event last: the lowest signalled index is returned, so
         * a block whose handle is signalled is taken before a disarm of it
         * is seen, and a dropped block was not signalled. */
        handles[count] = thread->control;
        ReleaseSRWLockExclusive(&wait_lock);
        ret = WaitForMultipleObjects(count + 1, handles, FALSE, INFINITE);
        AcquireSRWLockExclusive(&wait_lock);
        /* Blocks in the set are removed by this thread only: all still here. */
        for (i = 0; i < count; i++)
            set[i]->in_set = FALSE;
        if (ret < WAIT_OBJECT_0 + count) {
            /* Consumed for it: delivered even if a disarm asked to drop it. */
            block = set[ret - WAIT_OBJECT_0];
            thread_remove_locked(thread, block);
            block->cancel = FALSE;
            block->state = BLOCK_FIRING;
            ReleaseSRWLockExclusive(&wait_lock);
            block->fired(block->context);
            AcquireSRWLockExclusive(&wait_lock);
            block->state = BLOCK_IDLE;
            WakeAllConditionVariable(&wait_changed);
        } else if (ret == WAIT_OBJECT_0 + count) {
            thread_gather_locked(thread);
        } else if (ret == WAIT_FAILED) {
            /* Only a handle closed while armed makes the wait fail. */
            if (!thread_drop_invalid_locked(thread))
                os_panic("wait thread: WaitForMultipleObjects failed: error %lu",
                         (unsigned long)GetLastError());
            WakeAllConditionVariable(&wait_changed);
        }
    }
    thread->running = FALSE;
    ReleaseSRWLockExclusive(&wait_lock);
    return 0;
}

/*
 * A change of thread's blocks needs it to read them again: TRUE when the
 * caller must set its control event.  Once set, and until the thread reads
 * its blocks, further changes are seen by that same wake-up: a burst of
 * arms costs one system call per wake-up, not one per arm.  Locking: L.
 */
static BOOL thread_poke_locked(struct wait_thread *thread)
{
    if (thread->poked)
        return FALSE;
    thread->poked = TRUE;
    return TRUE;
}

/* A running thread other than thread, to start it.  Locking: L. */
static struct wait_thread *thread_starter_locked(const struct wait_thread *thread)
{
    struct wait_thread *other;

    for (other = wait_threads; other; other = other->next)
        if (other != thread && other->running)
            return other;
    return NULL;
}

/* A thread with room for one more block: a running one first.  Locking: L. */
static struct wait_thread *thread_with_room_locked(void)
{
    struct wait_thread *thread, *idle = NULL;

    for (thread = wait_threads; thread; thread = thread->next) {
        if (thread->count == WAIT_SLOTS)
            continue;
        if (thread->running)
            return thread;
        if (!idle)
            idle = thread;
    }
    return idle;
}

/* ---- blocks -------------------------------------------------------------------- */

DWORD os_wait_create(os_wait_fired_fn fired, void *context, struct os_wait_block **out)
{
    struct os_wait_block *block = calloc(1, sizeof(*block));
    struct wait_thread *thread = NULL;
    DWORD err = ERROR_SUCCESS;

    if (!block)
        return ERROR_NOT_ENOUGH_MEMORY;
    block->fired = fired;
    block->context = context;
    AcquireSRWLockExclusive(&wait_lock);
    if (wait_blocks + 1 > wait_thread_count * WAIT_SLOTS) {
        /* Room for this block: a thread structure, started only when armed. */
        if (!(thread = calloc(1, sizeof(*thread)))
            || !(thread->control = CreateEventW(NULL, FALSE, FALSE, NULL))) {
            err = thread ? GetLastError() : ERROR_NOT_ENOUGH_MEMORY;
            free(thread);
            goto done;
        }
        thread->next = wait_threads;
        wait_threads = thread;
        wait_thread_count++;
    }
    wait_blocks++;
done:
    ReleaseSRWLockExclusive(&wait_lock);
    if (err != ERROR_SUCCESS) {
        free(block);
        return err;
    }
    *out = block;
    return ERROR_SUCCESS;
}

void os_wait_destroy(struct os_wait_block *block)
{
    AcquireSRWLockExclusive(&wait_lock);
    if (block->state != BLOCK_IDLE)
        os_panic("thread-pool wait block %p destroyed while armed", (void *)block);
    wait_blocks--;
    ReleaseSRWLockExclusive(&wait_lock);
    free(block);
}

/*
 * ERROR_NOT_SUPPORTED for a mutex, ERROR_INVALID_HANDLE for a handle that is
 * not open.  Pseudo-handles name the process and the thread.
 */
static DWORD handle_check(HANDLE handle)
{
    static query_object_fn query;
    static const WCHAR mutant[] = L"Mutant";
    union {
        struct {
            USHORT length;          /* bytes */
            USHORT maximum_length;
            WCHAR *buffer;
        } name;                     /* the type's name comes first */
        char bytes[512];
        ULONGLONG align;
    } info;
    HMODULE ntdll;
    LONG status;

    if (handle == GetCurrentProcess() || handle == GetCurrentThread())
        return ERROR_SUCCESS;
    if (!query && (ntdll = GetModuleHandleW(L"ntdll.dll")))
        query = (query_object_fn)(void *)GetProcAddress(ntdll, "NtQueryObject");
    if (!query)
        return ERROR_SUCCESS;
    status = query(handle, TP_OBJECT_TYPE_INFORMATION, &info, sizeof(info), NULL);
    if ((ULONG)status == TP_STATUS_INVALID_HANDLE)
        return ERROR_INVALID_HANDLE;
    if (status < 0)
        return ERROR_SUCCESS;   /* no answer: the wait thread finds out */
    if (info.name.length == sizeof(mutant) - sizeof(WCHAR)
        && !memcmp(info.name.buffer, mutant, info.name.length))
        return ERROR_NOT_SUPPORTED;
    return ERROR_SUCCESS;
}

DWORD os_wait_arm(struct os_wait_block *block, HANDLE handle)
{
    struct wait_thread *thread, *starter = NULL;
    BOOL start, poke;
    DWORD err;

    /* Reading the type costs a system call: once per handle a block sees. */
    if (handle != block->checked) {
        if ((err = handle_check(handle)) != ERROR_SUCCESS)
            return err;
        block->checked = handle;
    }
    AcquireSRWLockExclusive(&wait_lock);
    if (block->state != BLOCK_IDLE)
        os_panic("thread-pool wait block %p armed twice", (void *)block);
    /* os_wait_create made room for every block: there is a thread with room. */
    if (!(thread = thread_with_room_locked()))
        os_panic("no wait thread has room for block %p", (void *)block);
    block->handle = handle;
    block->state = BLOCK_ARMED;
    block->dropped = FALSE;
    block->cancel = FALSE;
    block->in_set = FALSE;
    block->thread = thread;
    block->slot = thread->count;
    thread->blocks[thread->count++] = block;
    thread->arms++;
    start = !thread->running;
    thread->running = TRUE;
    poke = !start && thread_poke_locked(thread);
    if (start) {
        /* It reads its blocks when it starts: later arms need no poke. */
        thread->poked = TRUE;
        if ((starter = thread_starter_locked(thread))) {
            thread->start_next = wait_starts;
            wait_starts = thread;
            start = FALSE;
            if (!thread_poke_locked(starter))
                starter = NULL;     /* poked already: it reads wait_starts soon */
        }
    }
    ReleaseSRWLockExclusive(&wait_lock);
    if (poke)
        SetEvent(thread->control);
    if (starter)
        SetEvent(starter->control);
    if (start)
        thread_start(thread);
    return ERROR_SUCCESS;
}

BOOL os_wait_disarm(struct os_wait_block *block)
{
    BOOL dropped = FALSE;

    AcquireSRWLockExclusive(&wait_lock);
    if (block->state == BLOCK_ARMED && !block->in_set) {
        /* Its thread is not waiting for it yet: nothing to ask, but the
         * handle is looked at once, as the thread would have done (a zero
         * timeout arms and disarms at once). */
        thread_remove_locked(block->thread, block);
        block->state = BLOCK_FIRING;
        ReleaseSRWLockExclusive(&wait_lock);
        dropped = WaitForSingleObject(block->handle, 0) != WAIT_OBJECT_0;
        if (!dropped)
            block->fired(block->context);
        AcquireSRWLockExclusive(&wait_lock);
        block->state = BLOCK_IDLE;
        WakeAllConditionVariable(&wait_changed);
    } else if (block->state == BLOCK_ARMED) {
        block->cancel = TRUE;
        if (thread_poke_locked(block->thread))
            SetEvent(block->thread->control);
    }
    /* Dropped by its thread, or signalled first (then fired() returns). */
    while (block->state != BLOCK_IDLE) {
        if (os_process_exiting()) {
            /* Its thread is gone and never answers, and so is any fired()
             * it was running: the block is the exiting thread's to reset,
             * so that it can be destroyed. */
            if (block->state == BLOCK_ARMED)
                thread_remove_locked(block->thread, block);
            block->state = BLOCK_IDLE;
            break;
        }
        SleepConditionVariableSRW(&wait_changed, &wait_lock, INFINITE, 0);
    }
    if (block->dropped) {
        block->dropped = FALSE;
        dropped = TRUE;
    }
    ReleaseSRWLockExclusive(&wait_lock);
    return dropped;
}

void os_wait_raise_refused(const char *func, HANDLE handle, DWORD err)
{
    ULONG_PTR status = err == ERROR_NOT_SUPPORTED ? TP_STATUS_INVALID_PARAMETER_3
                                                  : TP_STATUS_INVALID_HANDLE;

    (void)func;
    (void)handle;
    RaiseException(TP_STATUS_THREADPOOL_HANDLE_EXCEPTION, 0, 1, &status);
}

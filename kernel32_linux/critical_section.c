/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: critical sections, in the fields of Windows'
 * RTL_CRITICAL_SECTION, and os_critical_section_leave for completion
 * actions.
 *
 * The fields keep their Windows meaning: LockCount is -1 when free and
 * counts the entering threads beyond the first (the classic encoding);
 * OwningThread holds the owner's thread id, RecursionCount its depth.
 * An uncontended enter or leave is one atomic operation, no system call.
 * Threads that find the section owned sleep on a futex kept in the low
 * 32 bits of LockSemaphore, used as a counting semaphore: a leave that
 * sees waiters posts one unit and wakes one sleeper.  No kernel object is
 * ever created, so InitializeCriticalSection cannot fail.
 *
 * Blocking in EnterCriticalSection does not call the pool's block hook:
 * the sections are meant for short holds; the pool's monitor covers a
 * callback that is stuck anyway.  No locks other than the section itself.
 */
#include <string.h>

#include "handle.h"

/*
 * The fields are plain Win32 types, in the caller's memory; the section
 * reaches them through C11 atomic views of the same objects, which have
 * the same size and alignment (asserted).
 */
_Static_assert(sizeof(_Atomic LONG) == sizeof(LONG), "LockCount as an atomic");
_Static_assert(sizeof(_Atomic(HANDLE)) == sizeof(HANDLE), "OwningThread as an atomic");

static _Atomic LONG *critsec_lock_count(CRITICAL_SECTION *cs)
{
    return (_Atomic LONG *)&cs->LockCount;
}

static _Atomic(HANDLE) *critsec_owner_word(CRITICAL_SECTION *cs)
{
    return (_Atomic(HANDLE) *)&cs->OwningThread;
}

/* LockSemaphore's first 32 bits: posts not yet taken by a sleeper. */
static _Atomic unsigned int *critsec_futex(CRITICAL_SECTION *cs)
{
    return (_Atomic unsigned int *)(void *)&cs->LockSemaphore;
}

static DWORD critsec_owner(CRITICAL_SECTION *cs)
{
    return (DWORD)(ULONG_PTR)atomic_load_explicit(critsec_owner_word(cs), memory_order_relaxed);
}

static void critsec_set_owner(CRITICAL_SECTION *cs, DWORD tid)
{
    atomic_store_explicit(critsec_owner_word(cs), (HANDLE)(ULONG_PTR)tid, memory_order_relaxed);
}

/* Sleeps until a leaving owner posts a unit, then takes it. */
static void critsec_wait(CRITICAL_SECTION *cs)
{
    _Atomic unsigned int *futex = critsec_futex(cs);
    unsigned int posts;

    for (;;) {
        posts = atomic_load_explicit(futex, memory_order_acquire);
        if (posts && atomic_compare_exchange_strong_explicit(futex, &posts, posts - 1,
                                                             memory_order_acq_rel,
                                                             memory_order_acquire))
            return;
        if (!posts)
            os_futex_wait(futex, 0, 0);
    }
}

static void critsec_post(CRITICAL_SECTION *cs)
{
    atomic_fetch_add_explicit(critsec_futex(cs), 1, memory_order_release);
    os_futex_wake(critsec_futex(cs), 1);
}

static void critsec_init(CRITICAL_SECTION *cs, DWORD spin_count)
{
    memset(cs, 0, sizeof(*cs));
    /* Windows 8 and later keep no debug information by default. */
    cs->DebugInfo = (RTL_CRITICAL_SECTION_DEBUG *)~(ULONG_PTR)0;
    cs->LockCount = -1;
    cs->SpinCount = spin_count & 0x00ffffff;
}

static BOOL critsec_try_enter(CRITICAL_SECTION *cs, DWORD tid)
{
    LONG free_count = -1;

    if (atomic_compare_exchange_strong_explicit(critsec_lock_count(cs), &free_count, 0,
                                                memory_order_acquire, memory_order_relaxed)) {
        critsec_set_owner(cs, tid);
        cs->RecursionCount = 1;
        return TRUE;
    }
    if (critsec_owner(cs) == tid) {
        atomic_fetch_add_explicit(critsec_lock_count(cs), 1, memory_order_relaxed);
        cs->RecursionCount++;
        return TRUE;
    }
    return FALSE;
}

static void critsec_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void critsec_enter(CRITICAL_SECTION *cs)
{
    DWORD tid = os_thread_current_id();
    ULONG_PTR spins;

    /* With a spin count, poll a while for the owner to leave, as long as
     * nobody queues (then sleeping is the fair thing to do). */
    for (spins = cs->SpinCount; spins > 0; spins--) {
        if (critsec_try_enter(cs, tid))
            return;
        if (atomic_load_explicit(critsec_lock_count(cs), memory_order_relaxed) > 0)
            break;
        critsec_pause();
    }
    if (atomic_fetch_add_explicit(critsec_lock_count(cs), 1, memory_order_acquire) != -1) {
        if (critsec_owner(cs) == tid) {
            cs->RecursionCount++;
            return;
        }
        critsec_wait(cs);
    }
    critsec_set_owner(cs, tid);
    cs->RecursionCount = 1;
}

static void critsec_leave(CRITICAL_SECTION *cs)
{
    if (--cs->RecursionCount > 0) {
        atomic_fetch_sub_explicit(critsec_lock_count(cs), 1, memory_order_release);
        return;
    }
    critsec_set_owner(cs, 0);
    /* Still >= 0: another thread entered meanwhile and sleeps (or will). */
    if (atomic_fetch_sub_explicit(critsec_lock_count(cs), 1, memory_order_release) > 0)
        critsec_post(cs);
}

void os_critical_section_leave(CRITICAL_SECTION *cs)
{
    critsec_leave(cs);
}

/***********************************************************************
 *           InitializeCriticalSection   (kernel32_tp.@)
 */
void WINAPI InitializeCriticalSection(CRITICAL_SECTION *cs)
{
    HANDLE_TRACE("%p", (void *)cs);
    critsec_init(cs, 0);
}

/***********************************************************************
 *           InitializeCriticalSectionAndSpinCount   (kernel32_tp.@)
 */
BOOL WINAPI InitializeCriticalSectionAndSpinCount(CRITICAL_SECTION *cs, DWORD spin_count)
{
    HANDLE_TRACE("%p %u", (void *)cs, (unsigned int)spin_count);
    critsec_init(cs, spin_count);
    return TRUE;
}

/***********************************************************************
 *           InitializeCriticalSectionEx   (kernel32_tp.@)
 *
 * The flags change nothing here (there is no debug information to omit)
 * and, as in Wine, unknown flags are ignored.
 */
BOOL WINAPI InitializeCriticalSectionEx(CRITICAL_SECTION *cs, DWORD spin_count, DWORD flags)
{
    HANDLE_TRACE("%p %u %#x", (void *)cs, (unsigned int)spin_count, (unsigned int)flags);
    critsec_init(cs, spin_count);
    return TRUE;
}

/***********************************************************************
 *           EnterCriticalSection   (kernel32_tp.@)
 */
void WINAPI EnterCriticalSection(CRITICAL_SECTION *cs)
{
    HANDLE_TRACE("%p", (void *)cs);
    critsec_enter(cs);
}

/***********************************************************************
 *           TryEnterCriticalSection   (kernel32_tp.@)
 */
BOOL WINAPI TryEnterCriticalSection(CRITICAL_SECTION *cs)
{
    HANDLE_TRACE("%p", (void *)cs);
    return critsec_try_enter(cs, os_thread_current_id());
}

/***********************************************************************
 *           LeaveCriticalSection   (kernel32_tp.@)
 */
void WINAPI LeaveCriticalSection(CRITICAL_SECTION *cs)
{
    HANDLE_TRACE("%p", (void *)cs);
    critsec_leave(cs);
}

/***********************************************************************
 *           DeleteCriticalSection   (kernel32_tp.@)
 */
void WINAPI DeleteCriticalSection(CRITICAL_SECTION *cs)
{
    HANDLE_TRACE("%p", (void *)cs);
    /* Nothing to free: the futex lives inside the structure. */
    memset(cs, 0, sizeof(*cs));
    cs->LockCount = -1;
}

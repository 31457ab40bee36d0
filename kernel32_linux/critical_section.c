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

/* LockSemaphore's first 32 bits: posts not yet taken by a sleeper. */
static unsigned int *critsec_futex(CRITICAL_SECTION *cs)
{
    return (unsigned int *)(void *)&cs->LockSemaphore;
}

static DWORD critsec_owner(CRITICAL_SECTION *cs)
{
    return (DWORD)(ULONG_PTR)__atomic_load_n(&cs->OwningThread, __ATOMIC_RELAXED);
}

static void critsec_set_owner(CRITICAL_SECTION *cs, DWORD tid)
{
    __atomic_store_n(&cs->OwningThread, (HANDLE)(ULONG_PTR)tid, __ATOMIC_RELAXED);
}

/* Sleeps until a leaving owner posts a unit, then takes it. */
static void critsec_wait(CRITICAL_SECTION *cs)
{
    unsigned int *futex = critsec_futex(cs);
    unsigned int posts;

    for (;;) {
        posts = __atomic_load_n(futex, __ATOMIC_ACQUIRE);
        if (posts && __atomic_compare_exchange_n(futex, &posts, posts - 1, FALSE,
                                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
        if (!posts)
            os_futex_wait(futex, 0, 0);
    }
}

static void critsec_post(CRITICAL_SECTION *cs)
{
    __atomic_add_fetch(critsec_futex(cs), 1, __ATOMIC_RELEASE);
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

    if (__atomic_compare_exchange_n(&cs->LockCount, &free_count, 0, FALSE,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        critsec_set_owner(cs, tid);
        cs->RecursionCount = 1;
        return TRUE;
    }
    if (critsec_owner(cs) == tid) {
        __atomic_add_fetch(&cs->LockCount, 1, __ATOMIC_RELAXED);
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
        if (__atomic_load_n(&cs->LockCount, __ATOMIC_RELAXED) > 0)
            break;
        critsec_pause();
    }
    if (__atomic_add_fetch(&cs->LockCount, 1, __ATOMIC_ACQUIRE) != 0) {
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
        __atomic_sub_fetch(&cs->LockCount, 1, __ATOMIC_RELEASE);
        return;
    }
    critsec_set_owner(cs, 0);
    /* Still >= 0: another thread entered meanwhile and sleeps (or will). */
    if (__atomic_sub_fetch(&cs->LockCount, 1, __ATOMIC_RELEASE) >= 0)
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

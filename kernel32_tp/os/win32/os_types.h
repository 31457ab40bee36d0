/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Complete platform types for Windows (mingw-w64), embedded by value in core
 * structs.  Both are built on the system's slim primitives: no allocation, no
 * handle, nothing to destroy, and they cannot fail (a cond's alertable
 * waiters bring their own event, see os_cond_wait_until_alertable).  Also the few Win32 constants
 * the core uses that mingw-w64's headers lack.
 */
#ifndef KERNEL32_TP_WIN32_OS_TYPES_H
#define KERNEL32_TP_WIN32_OS_TYPES_H

/* The Windows SDK's winerror.h has it; mingw-w64's does not. */
#ifndef ERROR_TOO_MANY_THREADS
#define ERROR_TOO_MANY_THREADS 565L
#endif

/* os_thread_current_id (os.h), inline: a read of the thread's TEB. */
static inline DWORD os_thread_current_id(void)
{
    return GetCurrentThreadId();
}

/* The system lock under struct os_lock (os.h). */
struct os_sys_lock {
    SRWLOCK srw;                /* taken exclusively only: os_lock is not a reader lock */
};
#define OS_SYS_LOCK_INITIALIZER { SRWLOCK_INIT }

/* One-time initialisation (os.h, os_once.c). */
struct os_once {
    INIT_ONCE init_once;
};
#define OS_ONCE_INIT { INIT_ONCE_STATIC_INIT }

struct os_alert_waiter;

struct os_cond {
    CONDITION_VARIABLE cv;      /* slept on with SleepConditionVariableSRW */
    SRWLOCK alert_lock;         /* guards alert_waiters */
    struct os_alert_waiter *alert_waiters; /* (alert_lock) in os_cond_wait_until_alertable */
    LONG alert_count;           /* entries of alert_waiters; read without alert_lock */
    LONG yielders;              /* (a) threads that finish a timed wait yielding, lock released */
    LONG signals;               /* (a) signals and broadcasts counted while yielders > 0 */
};

/* A static cond (os.h). */
#define OS_COND_INITIALIZER { CONDITION_VARIABLE_INIT, SRWLOCK_INIT, NULL, 0, 0, 0 }

/*
 * The ownership stamp (os.h): a per-process secret mixed with the stamp's
 * own address, so that neither a stale copy nor a structure of another pool
 * matches it by accident (one chance in 2^31).  32 bits, so that a work
 * object keeps to 120 bytes (tp_private.h, struct tp_object).  The secret
 * is set when the DLL starts (os_stamp.c).
 */
struct os_stamp {
    ULONG value;                /* os_stamp_of(its own address); 0 once freed */
};

extern ULONG os_stamp_secret;

static inline ULONG os_stamp_of(const void *addr)
{
    ULONG_PTR bits = (ULONG_PTR)addr;

    /* Odd: a cleared stamp (0) never matches. */
    return (os_stamp_secret ^ (ULONG)bits ^ (ULONG)(bits >> 32)) | 1;
}

static inline void os_stamp_set(struct os_stamp *stamp)
{
    stamp->value = os_stamp_of(stamp);
}

static inline void os_stamp_clear(struct os_stamp *stamp)
{
    stamp->value = 0;
}

/* TRUE when addr starts with a stamp of ours (addr must be readable). */
static inline BOOL os_stamp_owns(const void *addr)
{
    return ((const struct os_stamp *)addr)->value == os_stamp_of(addr);
}

/* os_thread_count_add (os.h): a call (os_thread.c). */
void os_thread_count_add(unsigned int which, LONG delta);

#endif

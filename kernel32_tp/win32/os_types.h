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

struct os_lock {
    SRWLOCK srw;                /* taken exclusively only: os_lock is not a reader lock */
    DWORD owner;                /* thread id of the holder, 0 when free; under srw */
};

struct os_alert_waiter;

struct os_cond {
    CONDITION_VARIABLE cv;      /* slept on with SleepConditionVariableSRW */
    SRWLOCK alert_lock;         /* guards alert_waiters */
    struct os_alert_waiter *alert_waiters; /* (alert_lock) in os_cond_wait_until_alertable */
    LONG alert_count;           /* entries of alert_waiters; read without alert_lock */
};

#endif

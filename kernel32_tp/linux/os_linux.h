/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to kernel32_tp/linux/: what the Linux files share among
 * themselves (the handle layer's hooks into the thread and clock code).
 */
#ifndef KERNEL32_TP_LINUX_OS_LINUX_H
#define KERNEL32_TP_LINUX_OS_LINUX_H

#include <time.h>
#include "os.h"

/* Tell the current thread's block hook (if any) that it sleeps or wakes. */
void os_thread_notify_block(BOOL blocking);

/* Absolute CLOCK_MONOTONIC time timeout_ms from now (INFINITE: not used). */
struct timespec os_timespec_after_ms(DWORD timeout_ms);
struct timespec os_timespec_from_ns(ULONGLONG ns);

/* Futexes (private to the process). */
void os_futex_wake(unsigned int *addr, int count);
/* Sleeps while *addr == expected; deadline_ns monotonic, 0 = none.
 * FALSE when the deadline passed. */
BOOL os_futex_wait(unsigned int *addr, unsigned int expected, ULONGLONG deadline_ns);

/* errno -> ERROR_*, the one table. */
DWORD os_error_from_errno(int errnum);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to Linux: what kernel32_tp/os/linux/ offers the Linux kernel32
 * emulation (kernel32_linux/) beyond os.h (the handle layer's hooks into the
 * thread and clock code).
 */
#ifndef KERNEL32_TP_LINUX_OS_LINUX_H
#define KERNEL32_TP_LINUX_OS_LINUX_H

#include <stdatomic.h>
#include <time.h>
#include "os.h"

/* Tell the current thread's block hook (if any) that it sleeps or wakes. */
void os_thread_notify_block(BOOL blocking);

/* Absolute CLOCK_MONOTONIC time timeout_ms from now (INFINITE: not used). */
struct timespec os_timespec_after_ms(DWORD timeout_ms);
struct timespec os_timespec_from_ns(ULONGLONG ns);

/* Futexes (private to the process). */
void os_futex_wake(_Atomic unsigned int *addr, int count);
/* Sleeps while *addr == expected; deadline_ns monotonic, 0 = none.
 * FALSE when the deadline passed. */
BOOL os_futex_wait(_Atomic unsigned int *addr, unsigned int expected, ULONGLONG deadline_ns);

/*
 * Alertable cond waits (os_cond_wait_until_alertable).  The APCs belong to
 * the handle layer (QueueUserAPC, win_thread.c); this side knows only a
 * futex word and the hooks the handle layer installs once, at load:
 *   arm(alert): publishes the calling thread's alertable wait; from then
 *     on an APC queued to the thread calls os_alert_wake(alert).  TRUE when
 *     APCs are queued already (nothing published: do not sleep).  FALSE
 *     with alert->owner NULL when it cannot (no memory): a plain wait.
 *   finish(alert): unpublishes it (no os_alert_wake for it after this),
 *     then runs the thread's queued APCs on the calling thread, in FIFO
 *     order, holding no lock; TRUE when any ran.
 * Both are called with no lock of the caller held.
 */
struct os_alert {
    _Atomic unsigned int *word;     /* the futex word the thread sleeps on */
    unsigned int bitset;    /* its futex bitset: os_alert_wake wakes only such sleepers */
    void *owner;            /* the hooks', from arm to finish */
};
struct os_alert_hooks {
    BOOL (*arm)(struct os_alert *alert);
    BOOL (*finish)(struct os_alert *alert);
};
void os_thread_set_alert_hooks(const struct os_alert_hooks *hooks);
/* Wakes the published alertable wait: changes its word, then wakes it.
 * Never blocks; takes no lock (callable under the handle layer's locks). */
void os_alert_wake(struct os_alert *alert);

/*
 * os_io_poll (os.h) calls the hook the Linux file layer installs once, when
 * its event loop starts (io_loop.c); before that there is nothing to poll.
 * os_io_poller_active counts the workers looking for work here, hooks or
 * not (os_io_pollers); when the count falls to 0, stopped() is called (no
 * lock held but possibly P; must not block).
 */
struct os_io_poll_hooks {
    BOOL (*poll)(void);
    void (*stopped)(void);
};
void os_io_set_poll_hooks(const struct os_io_poll_hooks *hooks);
/* The workers looking for work now (seq_cst). */
int os_io_pollers(void);

/* errno -> ERROR_*, the one table. */
DWORD os_error_from_errno(int errnum);

#endif

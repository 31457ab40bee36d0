/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A spin lock for sections of a few instructions that a worker enters on
 * its fast path, where even an uncontended os_lock costs more than the
 * section (a worker's run of posts, an I/O object's packet FIFO).  Only for
 * leaves: nothing is taken, and nothing blocks, while it is held.  Waiters
 * spin with os_cpu_relax; a holder kept off the processor makes them spin.
 */
#ifndef KERNEL32_TP_SPIN_LOCK_H
#define KERNEL32_TP_SPIN_LOCK_H

#include <stdatomic.h>

#include "os.h"

static inline void tp_spin_lock_take(_Atomic LONG *lock)
{
    while (atomic_exchange_explicit(lock, 1, memory_order_acquire))
        while (atomic_load_explicit(lock, memory_order_relaxed))
            os_cpu_relax();
}

static inline void tp_spin_lock_drop(_Atomic LONG *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
}

#endif

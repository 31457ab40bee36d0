/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one lock legend of kernel32_tp: every os_lock of the core
 * (tp_private.h and the core's .c files) and of the Linux kernel32
 * emulation (kernel32_linux/: handle.h, file.h and their .c files) has one
 * letter here, and its rank is its place in the acquisition order.
 * Included by os.h, so both layers see it; docs/architecture.md
 * ("Locking") explains it.
 *
 * Field tags (each shared field's trailing comment carries exactly one)
 *   (c) constant after creation      (a) atomic, C11 atomics only
 *   (X) private to one thread (an instance on a worker's stack, ...)
 *
 * Locks, in acquisition order (a lock may be taken only while every lock
 * the thread holds comes earlier in this list):
 *   (G) group->lock: a cleanup group's members (group.c)
 *   (R) the registered waits' lock (wait_legacy.c)
 *   (T) the legacy timer queues' lock (timer_queue.c)
 *   (W) wait->lock: a thread-pool wait's arming (wait.c)
 *   (J) the pipe-name table's lock (emulation: file_pipe.c)
 *   (N) the name table's lock (emulation: sync_objects.c)
 *   (I) a file core's lock (emulation: file.h, core->lock), which is also
 *       the platform's I/O binding lock of os.h: completions are delivered
 *       under it.  (On win32 the binding lock is os_io.c's own SRW lock,
 *       not an os_lock, and takes no other lock.)
 *   (O) obj->lock of a kernel object (emulation: handle.h).  Several are
 *       taken in ascending address order only (handle_objects_lock_all); a
 *       signaller that holds one takes others with os_lock_try_acquire
 *       only.  A waiter's wake function runs under it.
 *   (D) ts->lock: a thread record's owned mutexes (emulation: handle.h)
 *   (Q) the timer service's lock (timer_service.c)
 *   (C) the live pools' list lock (stats.c): a pool's figures are read
 *       holding it, then P
 *   (P) pool->lock (pool.c and the files it shares struct tp_pool with)
 *   (M) the injection monitor's lock (scheduler.c)
 *   (K) a stripe of the misuse check's handle registry (check.c, the
 *       checked mode of KERNEL32_TP_CHECK), a leaf
 *   (A) the misuse check's quarantine of freed blocks (check.c), a leaf
 *   (H) the disk helpers' lock (emulation: io_loop.c)
 *   (L) the event loop's lock (emulation: io_loop.c)
 *   (Y) the thread registry's lock (emulation: win_thread.c)
 *   (U) the unhandled-exception filter's lock (emulation: process.c)
 *   (V) the standard handles' lock (emulation: console.c)
 *   (Z) the TLS slot bitmap's lock (emulation: tls.c)
 *   (E) the virtual-memory regions' lock (emulation: memory.c)
 *   (B) heap->lock of a Win32 heap (emulation: win_heap.c)
 *   (S) a stripe lock of the handle table (emulation: handle_table.c)
 *   (F) the handle table's free-list lock (emulation: handle_table.c)
 * Never hold two pools', two groups', two waits' or two file cores' locks
 * (two O locks: see above).  No lock is held while user code runs
 * (callbacks, finalization and cancel callbacks, completion actions, APCs,
 * the unhandled-exception filter).
 *
 * Debug and sanitizer builds (KERNEL32_TP_LOCK_RANKS) check the order: each
 * os_lock records its rank, each thread the locks it holds, and taking one
 * out of order stops the process naming both (lock_rank.c).  Release builds
 * carry neither.
 */
#ifndef KERNEL32_TP_LOCK_ORDER_H
#define KERNEL32_TP_LOCK_ORDER_H

/* The ranks, in the order above: a thread takes only ranks above all it holds. */
enum os_lock_rank {
    OS_LOCK_RANK_UNSET = 0,     /* a lock never initialised: the check stops on it */
    OS_LOCK_RANK_G,
    OS_LOCK_RANK_R,
    OS_LOCK_RANK_T,
    OS_LOCK_RANK_W,
    OS_LOCK_RANK_J,
    OS_LOCK_RANK_N,
    OS_LOCK_RANK_I,
    OS_LOCK_RANK_O,
    OS_LOCK_RANK_D,
    OS_LOCK_RANK_Q,
    OS_LOCK_RANK_C,
    OS_LOCK_RANK_P,
    OS_LOCK_RANK_M,
    OS_LOCK_RANK_K,
    OS_LOCK_RANK_A,
    OS_LOCK_RANK_H,
    OS_LOCK_RANK_L,
    OS_LOCK_RANK_Y,
    OS_LOCK_RANK_U,
    OS_LOCK_RANK_V,
    OS_LOCK_RANK_Z,
    OS_LOCK_RANK_E,
    OS_LOCK_RANK_B,
    OS_LOCK_RANK_S,
    OS_LOCK_RANK_F,
    OS_LOCK_RANK_COUNT
};

#endif

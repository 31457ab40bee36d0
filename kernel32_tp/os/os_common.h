/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the platform layers write the same way, in one body for all: the
 * half of os_lock (os.h) kept beside the system lock (the holder's id, and
 * with KERNEL32_TP_LOCK_RANKS the rank bookkeeping of lock_rank.c), and the
 * block that carries a new thread's function into it (os_thread_start).
 *
 * The platform's os_thread.c includes it once, after it defines these on
 * its system lock (struct os_sys_lock, os_types.h):
 *   sys_lock_init(lock)       makes lock->sys; cannot fail
 *   sys_lock_take(lock)       blocks until lock->sys is ours
 *   sys_lock_try_take(lock)   takes lock->sys if it is free: TRUE; never blocks
 *   sys_lock_give(lock)       releases lock->sys
 * as static inline functions, so that a release build's os_lock_acquire
 * stays one call into the system and a store, with no call in between.
 * Knows nothing about pools.  Takes no lock of its own.
 */
#ifndef KERNEL32_TP_OS_COMMON_H
#define KERNEL32_TP_OS_COMMON_H

#include <stdatomic.h>
#include <stdlib.h>

/* ---- locks ---------------------------------------------------------------- */

void os_lock_init(struct os_lock *lock, enum os_lock_rank rank)
{
    sys_lock_init(lock);
    __atomic_store_n(&lock->owner, 0, __ATOMIC_RELAXED);
#ifdef KERNEL32_TP_LOCK_RANKS
    lock->rank = rank;
#else
    (void)rank;
#endif
}

static inline __attribute__((always_inline)) void lock_take(struct os_lock *lock)
{
    sys_lock_take(lock);
    __atomic_store_n(&lock->owner, os_thread_current_id(), __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) BOOL lock_try_take(struct os_lock *lock)
{
    if (!sys_lock_try_take(lock))
        return FALSE;
    __atomic_store_n(&lock->owner, os_thread_current_id(), __ATOMIC_RELAXED);
    return TRUE;
}

static inline __attribute__((always_inline)) void lock_give(struct os_lock *lock)
{
    __atomic_store_n(&lock->owner, 0, __ATOMIC_RELAXED);
    sys_lock_give(lock);
}

#ifdef KERNEL32_TP_LOCK_RANKS
/* The rank check (lock_rank.c) before blocking, the bookkeeping after. */
void os_lock_acquire_at(struct os_lock *lock, const char *file, int line)
{
    os_lock_rank_check(lock, file, line);
    lock_take(lock);
    os_lock_rank_push(lock, file, line);
}

/* Cannot deadlock, so it may go out of order; what it takes is recorded. */
BOOL os_lock_try_acquire_at(struct os_lock *lock, const char *file, int line)
{
    if (!lock_try_take(lock))
        return FALSE;
    os_lock_rank_push(lock, file, line);
    return TRUE;
}

void os_lock_release(struct os_lock *lock)
{
    os_lock_rank_pop(lock);
    lock_give(lock);
}
#else
void os_lock_acquire(struct os_lock *lock)
{
    lock_take(lock);
}

BOOL os_lock_try_acquire(struct os_lock *lock)
{
    return lock_try_take(lock);
}

void os_lock_release(struct os_lock *lock)
{
    lock_give(lock);
}
#endif

/* ---- thread starts -------------------------------------------------------- */

/* What a thread that os_thread_start makes runs: fn(arg). */
struct thread_start {
    void (*fn)(void *arg);
    void *arg;
};

/* The block for a new thread, which the thread frees; NULL when memory is short. */
static struct thread_start *thread_start_new(void (*fn)(void *arg), void *arg)
{
    struct thread_start *start = malloc(sizeof(*start));

    if (start) {
        start->fn = fn;
        start->arg = arg;
    }
    return start;
}

/* In the new thread: frees the block param (thread_start_new) and runs its function. */
static void thread_start_run(void *param)
{
    struct thread_start start = *(struct thread_start *)param;

    free(param);
    start.fn(start.arg);
}

/* ---- per-thread counts (os_thread_count_add) ----------------------------- */

/*
 * One thread's shares, kept for the life of the process in the list of all
 * of them; a thread that ends gives its block up (owned = 0), and the next
 * new thread to count takes it over, values and all, so the sum stays right
 * and the list only grows with the number of threads alive at once.
 */
struct os_thread_counts {
    char pad_before[64];                /* (c) unused: no other block's line */
    _Atomic LONG shares[OS_THREAD_COUNTS]; /* (a) written by the owner only */
    _Atomic int owned;                  /* (a) a live thread counts here */
    struct os_thread_counts *next;      /* (c) in thread_counts_all */
    char pad_after[64];                 /* (c) unused */
};

/* (a) every block ever made, newest first; blocks are never freed. */
static _Atomic(struct os_thread_counts *) thread_counts_all;
/* (a) the shares of threads that could not get a block of their own. */
static struct os_thread_counts thread_counts_shared;

/* A block given up by a thread that ended, or a new one: owned by the
 * caller.  NULL when memory is short. */
static struct os_thread_counts *thread_counts_claim(void)
{
    struct os_thread_counts *counts, *head;
    int free_mark;

    for (counts = atomic_load_explicit(&thread_counts_all, memory_order_acquire); counts;
         counts = counts->next) {
        free_mark = 0;
        /* Acquire: the shares as the thread that gave it up left them. */
        if (!atomic_load_explicit(&counts->owned, memory_order_relaxed)
            && atomic_compare_exchange_strong_explicit(&counts->owned, &free_mark, 1,
                                                       memory_order_acquire,
                                                       memory_order_relaxed))
            return counts;
    }
    if (!(counts = calloc(1, sizeof(*counts))))
        return NULL;
    atomic_store_explicit(&counts->owned, 1, memory_order_relaxed);
    head = atomic_load_explicit(&thread_counts_all, memory_order_relaxed);
    do
        counts->next = head;
    while (!atomic_compare_exchange_weak_explicit(&thread_counts_all, &head, counts,
                                                  memory_order_release, memory_order_relaxed));
    return counts;
}

/* The thread that owned counts ended: the next one takes it over. */
static void thread_counts_give_up(struct os_thread_counts *counts)
{
    atomic_store_explicit(&counts->owned, 0, memory_order_release);
}

/* Adds delta to counts' share (the caller's block), or to the shared one
 * when the caller has none (counts NULL). */
static void thread_counts_add(struct os_thread_counts *counts, unsigned int which, LONG delta)
{
    if (__builtin_expect(!counts, 0)) {
        atomic_fetch_add_explicit(&thread_counts_shared.shares[which], delta,
                                  memory_order_relaxed);
        return;
    }
    /* The owner is the only writer: no read-modify-write needed. */
    atomic_store_explicit(&counts->shares[which],
                          atomic_load_explicit(&counts->shares[which], memory_order_relaxed)
                          + delta, memory_order_relaxed);
}

LONG os_thread_count_sum(unsigned int which)
{
    struct os_thread_counts *counts;
    LONG sum = atomic_load_explicit(&thread_counts_shared.shares[which], memory_order_relaxed);

    for (counts = atomic_load_explicit(&thread_counts_all, memory_order_acquire); counts;
         counts = counts->next)
        sum += atomic_load_explicit(&counts->shares[which], memory_order_relaxed);
    return sum;
}

#endif /* KERNEL32_TP_OS_COMMON_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Complete platform types for Linux, embedded by value in core structs. */
#ifndef KERNEL32_TP_LINUX_OS_TYPES_H
#define KERNEL32_TP_LINUX_OS_TYPES_H

#include <pthread.h>
#include <stdatomic.h>

/* The system lock under struct os_lock (os.h). */
struct os_sys_lock {
    pthread_mutex_t mutex;
};

/* A static one (OS_LOCK_INITIALIZER): a plain pthread mutex, as a static one can only be. */
#define OS_SYS_LOCK_INITIALIZER { PTHREAD_MUTEX_INITIALIZER }

/* One-time initialisation (os.h, os_once.c). */
struct os_once {
    pthread_once_t once;
};
#define OS_ONCE_INIT { PTHREAD_ONCE_INIT }

/* A condition variable on a futex (os_thread.c). */
struct os_cond {
    _Atomic unsigned int seq;   /* (a) bumped by every signal and broadcast: the futex word */
    _Atomic unsigned int waiters; /* (a) threads between deciding to sleep and waking */
};

/* A static cond (os.h). */
#define OS_COND_INITIALIZER { 0, 0 }

/*
 * The ownership stamp (os.h): no other thread pool shares a Linux process
 * with ours, so there is nothing to tell apart and the stamp takes no room
 * (a work object stays at 120 bytes: tp_private.h, struct tp_object).
 */
struct os_stamp {
    char none[0];
};

static inline void os_stamp_set(struct os_stamp *stamp)
{
    (void)stamp;
}

static inline void os_stamp_clear(struct os_stamp *stamp)
{
    (void)stamp;
}

/*
 * os_thread_current_id (os.h), inline: every lock take stores it and every
 * TP_ASSERT_LOCKED compares it, so it is a load of a thread-local after
 * the thread's first call (os_thread_current_id_first, os_thread.c).
 */
extern _Thread_local DWORD os_thread_id_cached __attribute__((tls_model("initial-exec")));
DWORD os_thread_current_id_first(void);

static inline DWORD os_thread_current_id(void)
{
    DWORD id = os_thread_id_cached;

    return __builtin_expect(id != 0, 1) ? id : os_thread_current_id_first();
}

/*
 * os_thread_count_add (os.h), inline: the calling thread's shares, NULL
 * until its first add, which os_thread_count_add_first makes (os_thread.c),
 * and again once the thread ended.
 */
extern _Thread_local _Atomic LONG *os_thread_count_shares
    __attribute__((tls_model("initial-exec")));
void os_thread_count_add_first(unsigned int which, LONG delta);

static inline void os_thread_count_add(unsigned int which, LONG delta)
{
    _Atomic LONG *shares = os_thread_count_shares;

    if (__builtin_expect(shares == NULL, 0)) {
        os_thread_count_add_first(which, delta);
        return;
    }
    /* The owner is the only writer: no read-modify-write needed. */
    atomic_store_explicit(&shares[which],
                          atomic_load_explicit(&shares[which], memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

#endif

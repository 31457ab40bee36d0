/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: locks, condition variables and futexes, clocks, detached threads,
 * block hooks, alertable cond waits, diagnostics.
 * Knows nothing about pools, nor about the handle layer's APCs: an
 * alertable wait reaches them through the hooks the handle layer installs
 * (os_linux.h), as a blocking wait reaches the pool through the block hook.
 * Takes no lock of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os_linux.h"

/* initial-exec: no __tls_get_addr call on the hot path (lock owner checks). */
_Thread_local DWORD os_thread_id_cached __attribute__((tls_model("initial-exec")));
static _Thread_local os_block_hook block_hook;
static _Thread_local void *block_hook_arg;
/* The handle layer's APC hooks; NULL until it installs them at load. */
static const struct os_alert_hooks *alert_hooks;   /* (a) */
static const struct os_io_poll_hooks *io_poll_hooks;   /* (a) */
static _Atomic int io_pollers;      /* (a) workers looking for work (os_io_poller_active) */

/* The system lock under os_lock; the rest of os_lock is os/os_common.h. */
static void sys_lock_init(struct os_lock *lock)
{
    pthread_mutexattr_t attr;

    /* Adaptive: spin briefly before sleeping.  Pool locks are held for a few
     * instructions, so a contended acquire usually succeeds while spinning,
     * sparing two system calls. */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    if (pthread_mutex_init(&lock->sys.mutex, &attr))
        os_panic("pthread_mutex_init failed");
    pthread_mutexattr_destroy(&attr);
}

static inline __attribute__((always_inline)) void sys_lock_take(struct os_lock *lock)
{
    pthread_mutex_lock(&lock->sys.mutex);
}

static inline __attribute__((always_inline)) BOOL sys_lock_try_take(struct os_lock *lock)
{
    return !pthread_mutex_trylock(&lock->sys.mutex);
}

static inline __attribute__((always_inline)) void sys_lock_give(struct os_lock *lock)
{
    pthread_mutex_unlock(&lock->sys.mutex);
}

#include "os/os_common.h"

void os_lock_destroy(struct os_lock *lock)
{
    pthread_mutex_destroy(&lock->sys.mutex);
}

/*
 * Condition variables on a futex rather than glibc's: a thread woken from
 * pthread_cond_wait re-takes the mutex in its "contended" state, so its next
 * unlock makes a FUTEX_WAKE system call that wakes nobody, before every
 * callback a woken worker runs.  Here a woken thread takes the mutex like
 * any other.
 *
 * A waiter counts itself in waiters and reads seq while it holds the mutex,
 * then sleeps while seq is unchanged.  A signaller changes the predicate
 * under the mutex, then (holding it or not) bumps seq and, when somebody
 * waits, wakes one thread (all, for a broadcast).  Both sides use
 * sequentially consistent operations, so a waiter either sees the new seq
 * or is counted when the signaller looks: no wake-up is lost.  Wake-ups may
 * be spurious, as with any condition variable: callers loop on their
 * predicate.
 */
void os_cond_init(struct os_cond *cond)
{
    cond->seq = 0;
    cond->waiters = 0;
}

void os_cond_destroy(struct os_cond *cond)
{
    /* A futex word owns no resource. */
    (void)cond;
}

void os_futex_wake(_Atomic unsigned int *addr, int count)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

BOOL os_futex_wait(_Atomic unsigned int *addr, unsigned int expected, ULONGLONG deadline_ns)
{
    struct timespec ts;
    long ret;

    if (!deadline_ns) {
        syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
        return TRUE;
    }
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
    ts = os_timespec_from_ns(deadline_ns);
    ret = syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, expected, &ts, NULL,
                  FUTEX_BITSET_MATCH_ANY);
    return !(ret == -1 && errno == ETIMEDOUT);
}

/* Sleeps until signalled or deadline_ns (0: none); FALSE on timeout. */
static BOOL cond_sleep(struct os_cond *cond, struct os_lock *lock, ULONGLONG deadline_ns)
{
    unsigned int seq;
    BOOL woken;

    __atomic_add_fetch(&cond->waiters, 1, __ATOMIC_SEQ_CST);
    seq = __atomic_load_n(&cond->seq, __ATOMIC_SEQ_CST);
    os_lock_release(lock);
    woken = os_futex_wait(&cond->seq, seq, deadline_ns);
    __atomic_sub_fetch(&cond->waiters, 1, __ATOMIC_SEQ_CST);
    os_lock_acquire(lock);
    return woken;
}

void os_cond_wait(struct os_cond *cond, struct os_lock *lock)
{
    cond_sleep(cond, lock, 0);
}

BOOL os_cond_wait_until(struct os_cond *cond, struct os_lock *lock, ULONGLONG deadline_ns)
{
    if (os_clock_monotonic_ns() >= deadline_ns)
        return FALSE;
    return cond_sleep(cond, lock, deadline_ns);
}

void os_thread_set_alert_hooks(const struct os_alert_hooks *hooks)
{
    __atomic_store_n(&alert_hooks, hooks, __ATOMIC_RELEASE);
}

/* The futex bit of the calling thread's alertable waits: an APC for one
 * thread wakes only the alertable sleepers that share its bit. */
static unsigned int alert_bit(void)
{
    return 1u << (os_thread_current_id() & 31);
}

void os_alert_wake(struct os_alert *alert)
{
    /* Changed first: a thread between arming and sleeping sees the new
     * value and does not sleep.  For the cond's other waiters this is a
     * spurious wake-up, which they allow. */
    __atomic_add_fetch(alert->word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, alert->word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL,
            alert->bitset);
}

/*
 * A cond wait that the thread's APCs end.  The thread counts itself as a
 * waiter and reads seq under the caller's lock, as cond_sleep does, so a
 * signal is never lost; it arms its alert after reading seq, so an APC
 * queued before it sleeps changes seq and the sleep returns at once.  It
 * sleeps with a bitset of its own: signals (plain FUTEX_WAKE, any bit)
 * wake it like any waiter, an APC wakes it without waking the others.  The
 * APCs run after the sleep, with the caller's lock released.
 */
BOOL os_cond_wait_until_alertable(struct os_cond *cond, struct os_lock *lock,
                                  ULONGLONG deadline_ns)
{
    const struct os_alert_hooks *hooks = __atomic_load_n(&alert_hooks, __ATOMIC_ACQUIRE);
    struct os_alert alert;
    struct timespec ts;
    unsigned int seq;
    BOOL woken = TRUE, ran;

    if (!hooks)
        return os_cond_wait_until(cond, lock, deadline_ns);
    if (os_clock_monotonic_ns() >= deadline_ns)
        return FALSE;
    alert.word = &cond->seq;
    alert.bitset = alert_bit();
    alert.owner = NULL;
    __atomic_add_fetch(&cond->waiters, 1, __ATOMIC_SEQ_CST);
    seq = __atomic_load_n(&cond->seq, __ATOMIC_SEQ_CST);
    os_lock_release(lock);
    if (!hooks->arm(&alert)) {
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
        ts = os_timespec_from_ns(deadline_ns);
        woken = !(syscall(SYS_futex, &cond->seq, FUTEX_WAIT_BITSET_PRIVATE, seq, &ts, NULL,
                          alert.bitset) == -1 && errno == ETIMEDOUT);
    }
    __atomic_sub_fetch(&cond->waiters, 1, __ATOMIC_SEQ_CST);
    /* User code: the caller's lock stays released. */
    ran = hooks->finish(&alert);
    os_lock_acquire(lock);
    return woken || ran;
}

void os_cond_signal(struct os_cond *cond)
{
    __atomic_add_fetch(&cond->seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&cond->waiters, __ATOMIC_SEQ_CST))
        os_futex_wake(&cond->seq, 1);
}

void os_cond_broadcast(struct os_cond *cond)
{
    __atomic_add_fetch(&cond->seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&cond->waiters, __ATOMIC_SEQ_CST))
        os_futex_wake(&cond->seq, INT_MAX);
}

ULONGLONG os_clock_monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ULONGLONG)ts.tv_sec * 1000000000ull + (ULONGLONG)ts.tv_nsec;
}

/* Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01. */
#define TP_FILETIME_UNIX_EPOCH_S 11644473600ull

ULONGLONG os_clock_system_100ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ((ULONGLONG)ts.tv_sec + TP_FILETIME_UNIX_EPOCH_S) * 10000000ull
           + (ULONGLONG)ts.tv_nsec / 100;
}

struct timespec os_timespec_from_ns(ULONGLONG ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / 1000000000ull);
    ts.tv_nsec = (long)(ns % 1000000000ull);
    return ts;
}

struct timespec os_timespec_after_ms(DWORD timeout_ms)
{
    return os_timespec_from_ns(os_clock_monotonic_ns() + (ULONGLONG)timeout_ms * 1000000ull);
}

static void *thread_trampoline(void *param)
{
    thread_start_run(param);
    return NULL;
}

void os_fork_child_register(void (*fn)(void))
{
    if (pthread_atfork(NULL, NULL, fn))
        os_panic("pthread_atfork failed");
}

DWORD os_thread_start(void (*fn)(void *arg), void *arg, SIZE_T stack_size)
{
    struct thread_start *start = thread_start_new(fn, arg);
    pthread_attr_t attr;
    pthread_t thread;
    int ret;

    if (!start)
        return ERROR_NOT_ENOUGH_MEMORY;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size && pthread_attr_setstacksize(&attr, stack_size) != 0)
        pthread_attr_setstacksize(&attr, (size_t)PTHREAD_STACK_MIN);
    ret = pthread_create(&thread, &attr, thread_trampoline, start);
    pthread_attr_destroy(&attr);
    if (ret) {
        free(start);
        return os_error_from_errno(ret);
    }
    return ERROR_SUCCESS;
}

/* The calling thread's counts (os_thread_count_add), and their shares for
 * the inline add (os_types.h); the key gives them up when the thread ends. */
static _Thread_local struct os_thread_counts *thread_counts
    __attribute__((tls_model("initial-exec")));
_Thread_local _Atomic LONG *os_thread_count_shares __attribute__((tls_model("initial-exec")));
static pthread_key_t thread_counts_key;
static pthread_once_t thread_counts_key_once = PTHREAD_ONCE_INIT;
static BOOL thread_counts_keyed;        /* (c) after the once: the key exists */

static void thread_counts_end(void *counts)
{
    thread_counts = NULL;
    os_thread_count_shares = NULL;
    thread_counts_give_up(counts);
}

static void thread_counts_key_create(void)
{
    /* No key left: every thread counts in the shared share. */
    thread_counts_keyed = !pthread_key_create(&thread_counts_key, thread_counts_end);
}

/* The thread's first count: its block, and the key that gives it up. */
static struct os_thread_counts *thread_counts_register(void)
{
    struct os_thread_counts *counts;

    pthread_once(&thread_counts_key_once, thread_counts_key_create);
    if (!thread_counts_keyed || !(counts = thread_counts_claim()))
        return NULL;
    if (pthread_setspecific(thread_counts_key, counts)) {
        thread_counts_give_up(counts);
        return NULL;
    }
    os_thread_count_shares = counts->shares;
    return thread_counts = counts;
}

/* os_thread_count_add (os_types.h) on a thread with no shares yet. */
void os_thread_count_add_first(unsigned int which, LONG delta)
{
    struct os_thread_counts *counts = thread_counts;

    thread_counts_add(counts ? counts : thread_counts_register(), which, delta);
}

DWORD os_thread_current_id_first(void)
{
    return os_thread_id_cached = (DWORD)syscall(SYS_gettid);
}

unsigned int os_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned int)n : 1;
}

ULONGLONG os_process_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (ULONGLONG)ts.tv_sec * 1000000000ull + (ULONGLONG)ts.tv_nsec;
}

void os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void os_io_set_poll_hooks(const struct os_io_poll_hooks *hooks)
{
    __atomic_store_n(&io_poll_hooks, hooks, __ATOMIC_RELEASE);
}

BOOL os_io_poll(void)
{
    const struct os_io_poll_hooks *hooks = __atomic_load_n(&io_poll_hooks, __ATOMIC_ACQUIRE);

    return hooks ? hooks->poll() : FALSE;
}

BOOL os_io_pollable(void)
{
    return __atomic_load_n(&io_poll_hooks, __ATOMIC_RELAXED) != NULL;
}

void os_io_poller_active(BOOL active)
{
    const struct os_io_poll_hooks *hooks;

    if (active) {
        atomic_fetch_add(&io_pollers, 1);
        return;
    }
    /* Seq_cst against the hooks' owner, which reads the count after
     * publishing that it relies on the pollers (io_loop.c). */
    if (atomic_fetch_sub(&io_pollers, 1) == 1
        && (hooks = __atomic_load_n(&io_poll_hooks, __ATOMIC_ACQUIRE)))
        hooks->stopped();
}

int os_io_pollers(void)
{
    return atomic_load(&io_pollers);
}

void os_thread_set_block_hook(os_block_hook hook, void *arg)
{
    block_hook = hook;
    block_hook_arg = arg;
}

void os_thread_notify_block(BOOL blocking)
{
    if (block_hook)
        block_hook(block_hook_arg, blocking);
}

DWORD os_error_from_errno(int errnum)
{
    switch (errnum) {
    case 0: return ERROR_SUCCESS;
    case ENOMEM: return ERROR_NOT_ENOUGH_MEMORY;
    case EAGAIN: return ERROR_TOO_MANY_THREADS;
    case EINVAL: return ERROR_INVALID_PARAMETER;
    case ENOENT: return ERROR_FILE_NOT_FOUND;
    case ENOTDIR: return ERROR_PATH_NOT_FOUND;
    case EACCES: case EPERM: return ERROR_ACCESS_DENIED;
    case EEXIST: return ERROR_FILE_EXISTS;
    case EBADF: return ERROR_INVALID_HANDLE;
    case EMFILE: case ENFILE: return ERROR_TOO_MANY_OPEN_FILES;
    case ENOSPC: return ERROR_DISK_FULL;
    case EPIPE: return ERROR_BROKEN_PIPE;
    case ETIMEDOUT: return ERROR_TIMEOUT;
    case EISDIR: return ERROR_ACCESS_DENIED;
    case ENAMETOOLONG: return ERROR_FILENAME_EXCED_RANGE;
    default: return ERROR_GEN_FAILURE;
    }
}

const char *os_getenv(const char *name)
{
    return getenv(name);
}

void os_vlog(const char *fmt, va_list args)
{
    char line[512];

    vsnprintf(line, sizeof(line), fmt, args);
    fprintf(stderr, "kernel32_tp:%04x: %s", (unsigned int)os_thread_current_id(), line);
}

void os_panic(const char *fmt, ...)
{
    va_list args;

    fputs("kernel32_tp: fatal: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    abort();
}

/* glibc's default for new threads; Linux commits stack pages on first touch. */
void os_thread_default_stack(SIZE_T *reserve, SIZE_T *commit)
{
    pthread_attr_t attr;
    size_t size = 0;

    if (pthread_getattr_default_np(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
    }
    *reserve = size ? size : 8u << 20;
    *commit = (SIZE_T)sysconf(_SC_PAGESIZE);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: locks, conds, clocks, threads, block hooks and diagnostics for
 * kernel32_tp.dll, on the system's own primitives (SRW locks, condition
 * variables, QueryPerformanceCounter, CreateThread).  Knows nothing about
 * pools.  Takes no lock of its own.
 */
#include <stdio.h>
#include <stdlib.h>

#include "os_win32.h"
#include <winternl.h>

/*
 * The hook is stored per thread, as the contract asks, but never called:
 * on Windows every wait (WaitForSingleObject, SleepConditionVariableSRW,
 * I/O, a window message loop...) happens inside the system, which offers
 * no notification when a thread blocks.  The pool's monitor covers a
 * callback that blocks by starting a worker when the queue stalls.
 */
static _Thread_local os_block_hook block_hook;
static _Thread_local void *block_hook_arg;

/* The system lock under os_lock; the rest of os_lock is os/os_common.h. */
static void sys_lock_init(struct os_lock *lock)
{
    InitializeSRWLock(&lock->sys.srw);
}

static inline __attribute__((always_inline)) void sys_lock_take(struct os_lock *lock)
{
    /*
     * Contended while the process exits: the holder was one of the threads
     * the exit ended, so the lock would never come free.  The exiting thread
     * is the only one left and goes on as the holder; its release frees the
     * lock (SRW locks do not record their owner).  What the dead holder
     * left half done is as it was when the process began to exit.
     */
    if (!TryAcquireSRWLockExclusive(&lock->sys.srw) && !os_process_exiting())
        AcquireSRWLockExclusive(&lock->sys.srw);
}

static inline __attribute__((always_inline)) BOOL sys_lock_try_take(struct os_lock *lock)
{
    return TryAcquireSRWLockExclusive(&lock->sys.srw) != 0;
}

static inline __attribute__((always_inline)) void sys_lock_give(struct os_lock *lock)
{
    ReleaseSRWLockExclusive(&lock->sys.srw);
}

#include "os/os_common.h"

void os_lock_destroy(struct os_lock *lock)
{
    /* An SRW lock owns no resource. */
    (void)lock;
}

void os_cond_init(struct os_cond *cond)
{
    InitializeConditionVariable(&cond->cv);
    InitializeSRWLock(&cond->alert_lock);
    cond->alert_waiters = NULL;
    cond->alert_count = 0;
    cond->yielders = 0;
    cond->signals = 0;
}

void os_cond_destroy(struct os_cond *cond)
{
    /* A condition variable owns no resource. */
    (void)cond;
}

/* Sleeps on cond for at most timeout_ms; FALSE when the system says it timed out. */
static BOOL cond_sleep(struct os_cond *cond, struct os_lock *lock, DWORD timeout_ms)
{
    BOOL woken;

    __atomic_store_n(&lock->owner, 0, __ATOMIC_RELAXED);
    woken = SleepConditionVariableSRW(&cond->cv, &lock->sys.srw, timeout_ms, 0);
    /* The lock is held again whether the wait succeeded or timed out. */
    __atomic_store_n(&lock->owner, GetCurrentThreadId(), __ATOMIC_RELAXED);
    if (!woken && GetLastError() != ERROR_TIMEOUT)
        os_panic("SleepConditionVariableSRW failed: error %lu", GetLastError());
    return woken;
}

void os_cond_wait(struct os_cond *cond, struct os_lock *lock)
{
    cond_sleep(cond, lock, INFINITE);
}

/* ntdll's form of SleepConditionVariableSRW: the timeout in 100 ns units. */
typedef LONG (WINAPI *sleep_cv_srw_fn)(CONDITION_VARIABLE *cv, SRWLOCK *lock,
                                       const LARGE_INTEGER *timeout, ULONG flags);
#define TP_STATUS_SUCCESS 0
#define TP_STATUS_TIMEOUT 0x102

os_win32_proc os_win32_ntdll_proc(const char *name, os_win32_proc *slot, LONG *looked_up)
{
    HMODULE ntdll;

    if (__atomic_load_n(looked_up, __ATOMIC_ACQUIRE))
        return __atomic_load_n(slot, __ATOMIC_RELAXED);
    if ((ntdll = GetModuleHandleW(L"ntdll.dll")))
        __atomic_store_n(slot, (os_win32_proc)GetProcAddress(ntdll, name), __ATOMIC_RELAXED);
    __atomic_store_n(looked_up, 1, __ATOMIC_RELEASE);
    return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

/* RtlSleepConditionVariableSRW, looked up once; NULL when ntdll lacks it. */
static sleep_cv_srw_fn precise_cond_sleep_fn(void)
{
    static os_win32_proc fn;
    static LONG looked_up;

    return (sleep_cv_srw_fn)os_win32_ntdll_proc("RtlSleepConditionVariableSRW", &fn, &looked_up);
}

/*
 * Timed waits that end on time.  Under Wine a timed sleep ends some 50 to
 * 70 us after its deadline (the Linux timer slack of a normal thread, then
 * Wine's way back to the caller), and the timer service, which sleeps to
 * each timer's due time, passed all of it on as lateness.  So each thread
 * measures how late its timed sleeps end (cond_timing_note), and a wait of
 * at most COND_SHORT_WAIT_NS sleeps that much less and yields the processor
 * for the rest, with the lock released, until the deadline or a signal of
 * the cond (cond_yield_until).  Longer waits (idle workers' timeouts, the
 * monitor's ticks) need no such precision and sleep as before.
 *
 * A system whose sleeps end more than COND_LATE_MAX_NS late (Windows, whose
 * timer ticks every 1 to 15.6 ms) is beyond what yielding can mend: the
 * average passes the limit within its first few sleeps and stays above it,
 * and nothing changes there after that.  A thread
 * kept off the processor for COND_PREEMPTED_NS, while it yields or past
 * the end of a sleep, is on a busy machine.  There yielding loses more than
 * it gains: a thread that yields goes behind the others that want its
 * processor, and one that wakes from a sleep goes ahead of them.  So it
 * sleeps plainly for COND_BACKOFF_NS, twice as long each time the machine
 * is still busy within that much of the last back-off's end, up to
 * COND_BACKOFF_MAX_NS.
 */
#define COND_SHORT_WAIT_NS 2000000ull       /* longer waits are never shortened */
#define COND_LATE_MAX_NS 200000ull          /* a later average turns shortening off */
#define COND_LATE_SAMPLE_MAX_NS 400000ull   /* one sample counts for at most this */
#define COND_PREEMPTED_NS 500000ull         /* off the processor this long... */
#define COND_BACKOFF_NS 200000000ull        /* ...stops the shortening this long */
#define COND_BACKOFF_MAX_NS 6400000000ull   /* the longest back-off (after 5 doublings) */

/* The calling thread's record; its own, so no lock. */
struct cond_timing {
    ULONGLONG late_ns;          /* average lateness of its timed sleeps, 1/8 per sample */
    ULONGLONG backoff_until_ns; /* no shortened wait before this time */
    ULONGLONG backoff_ns;       /* the last back-off's length; 0 before the first */
};
static _Thread_local struct cond_timing cond_timing;

/* Stops the shortening for a while: the machine is busy (see above). */
static void cond_timing_back_off(struct cond_timing *timing, ULONGLONG now_ns)
{
    ULONGLONG since_ns = now_ns > timing->backoff_until_ns ? now_ns - timing->backoff_until_ns : 0;

    if (timing->backoff_ns && since_ns < timing->backoff_ns) {
        if (timing->backoff_ns < COND_BACKOFF_MAX_NS)
            timing->backoff_ns *= 2;
    } else {
        timing->backoff_ns = COND_BACKOFF_NS;
    }
    timing->backoff_until_ns = now_ns + timing->backoff_ns;
}

/* Adds one timed sleep's lateness to the thread's average. */
static void cond_timing_note(struct cond_timing *timing, ULONGLONG late_ns)
{
    if (late_ns > COND_LATE_SAMPLE_MAX_NS)
        late_ns = COND_LATE_SAMPLE_MAX_NS;  /* one preemption moves it by 50 us at most */
    timing->late_ns = timing->late_ns - timing->late_ns / 8 + late_ns / 8;
}

/*
 * Yields the processor until deadline_ns, with lock released; TRUE when the
 * cond was signalled meanwhile (the caller looks at its predicate again),
 * or when the thread was kept off the processor and the deadline is still
 * ahead (the caller waits again, then with a plain sleep).
 * A signaller that changed the caller's state after this thread released
 * the lock took the lock after it, so it sees yielders raised and counts
 * its signal: no wake-up is lost.
 */
static BOOL cond_yield_until(struct os_cond *cond, struct os_lock *lock, ULONGLONG deadline_ns,
                             struct cond_timing *timing)
{
    ULONGLONG now_ns, last_ns;
    LONG signals;
    BOOL woken = FALSE;

    __atomic_add_fetch(&cond->yielders, 1, __ATOMIC_SEQ_CST);
    signals = __atomic_load_n(&cond->signals, __ATOMIC_SEQ_CST);
    os_lock_release(lock);
    last_ns = os_clock_monotonic_ns();
    for (;;) {
        SwitchToThread();
        if (__atomic_load_n(&cond->signals, __ATOMIC_SEQ_CST) != signals) {
            woken = TRUE;
            break;
        }
        now_ns = os_clock_monotonic_ns();
        if (now_ns >= deadline_ns)
            break;
        if (now_ns - last_ns >= COND_PREEMPTED_NS) {
            cond_timing_back_off(timing, now_ns);
            woken = TRUE;
            break;
        }
        last_ns = now_ns;
    }
    __atomic_sub_fetch(&cond->yielders, 1, __ATOMIC_SEQ_CST);
    os_lock_acquire(lock);
    return woken;
}

BOOL os_cond_wait_until(struct os_cond *cond, struct os_lock *lock, ULONGLONG deadline_ns)
{
    ULONGLONG now_ns = os_clock_monotonic_ns();
    ULONGLONG timeout_ms, wake_ns;
    sleep_cv_srw_fn precise = precise_cond_sleep_fn();
    struct cond_timing *timing;
    LARGE_INTEGER timeout;
    LONG status;

    if (now_ns >= deadline_ns)
        return FALSE;
    if (precise) {
        timing = &cond_timing;
        wake_ns = deadline_ns;
        if (deadline_ns - now_ns <= COND_SHORT_WAIT_NS && timing->late_ns <= COND_LATE_MAX_NS
            && now_ns >= timing->backoff_until_ns)
            wake_ns -= timing->late_ns;
        if (wake_ns > now_ns) {
            /*
             * SleepConditionVariableSRW takes whole milliseconds: rounded
             * up, every timed wait (the timer service's above all) would end
             * up to a millisecond late.  ntdll's call takes 100 ns units,
             * and systems that wait on a finer clock (Wine on Linux) honour
             * them.
             */
            timeout.QuadPart = -(LONGLONG)((wake_ns - now_ns + 99) / 100);
            __atomic_store_n(&lock->owner, 0, __ATOMIC_RELAXED);
            status = precise(&cond->cv, &lock->sys.srw, &timeout, 0);
            __atomic_store_n(&lock->owner, GetCurrentThreadId(), __ATOMIC_RELAXED);
            if (status == TP_STATUS_SUCCESS)
                return TRUE;
            if (status != TP_STATUS_TIMEOUT)
                os_panic("RtlSleepConditionVariableSRW failed: status %#lx",
                         (unsigned long)status);
            now_ns = os_clock_monotonic_ns();
            cond_timing_note(timing, now_ns > wake_ns ? now_ns - wake_ns : 0);
            if (now_ns > wake_ns + COND_PREEMPTED_NS && wake_ns < deadline_ns)
                cond_timing_back_off(timing, now_ns);
            if (now_ns >= deadline_ns)
                return FALSE;
            /* Ended before the deadline on the system's own account: a
             * wake-up, and the caller, which loops on its predicate, waits
             * for the rest. */
            if (wake_ns == deadline_ns)
                return TRUE;
        }
        return cond_yield_until(cond, lock, deadline_ns, timing);
    }
    /* Round up, so that a timeout never ends before the deadline on its own
     * account; cap below INFINITE (the caller loops and waits again). */
    timeout_ms = (deadline_ns - now_ns + 999999) / 1000000;
    if (timeout_ms >= INFINITE)
        timeout_ms = INFINITE - 1;
    if (cond_sleep(cond, lock, (DWORD)timeout_ms))
        return TRUE;
    /* The system's timer may end a wait a little before our clock reaches
     * the deadline: report that as a wake-up, and the caller, which loops
     * on its predicate, waits for the rest. */
    return os_clock_monotonic_ns() < deadline_ns;
}

/*
 * Alertable waits.  A condition variable cannot be waited for alertably, so
 * a thread that must run APCs while it waits (the legacy I/O threads) sleeps
 * on an event of its own in WaitForSingleObjectEx(..., TRUE), listed on the
 * cond; signal and broadcast set the events of listed waiters.  A waiter
 * lists itself while it holds the caller's lock, so a signal that follows a
 * change made under that lock finds it listed: no wake-up is lost.
 */
struct os_alert_waiter {
    struct os_alert_waiter *next;   /* (alert_lock) */
    HANDLE event;                   /* the waiting thread's, auto-reset */
    BOOL listed;                    /* (alert_lock) still on the cond's list */
};

/* The thread's event for alertable waits, made on first use; closed when a
 * thread started by os_thread_start ends (thread_trampoline). */
static _Thread_local HANDLE alert_event;

static void alert_unlink_locked(struct os_cond *cond, struct os_alert_waiter *waiter)
{
    struct os_alert_waiter **link;

    for (link = &cond->alert_waiters; *link; link = &(*link)->next) {
        if (*link == waiter) {
            *link = waiter->next;
            waiter->listed = FALSE;
            __atomic_sub_fetch(&cond->alert_count, 1, __ATOMIC_SEQ_CST);
            return;
        }
    }
}

BOOL os_cond_wait_until_alertable(struct os_cond *cond, struct os_lock *lock,
                                  ULONGLONG deadline_ns)
{
    struct os_alert_waiter waiter;
    ULONGLONG now_ns = os_clock_monotonic_ns(), timeout_ms;
    DWORD ret;

    if (now_ns >= deadline_ns)
        return FALSE;
    if (!alert_event && !(alert_event = CreateEventW(NULL, FALSE, FALSE, NULL))) {
        /* No event, no alertable wait: a plain one still keeps the caller's
         * promises, only without running APCs this time. */
        return os_cond_wait_until(cond, lock, deadline_ns);
    }
    waiter.event = alert_event;
    AcquireSRWLockExclusive(&cond->alert_lock);
    waiter.next = cond->alert_waiters;
    waiter.listed = TRUE;
    cond->alert_waiters = &waiter;
    __atomic_add_fetch(&cond->alert_count, 1, __ATOMIC_SEQ_CST);
    ReleaseSRWLockExclusive(&cond->alert_lock);

    timeout_ms = (deadline_ns - now_ns + 999999) / 1000000;
    if (timeout_ms >= INFINITE)
        timeout_ms = INFINITE - 1;
    os_lock_release(lock);
    /* WAIT_IO_COMPLETION: APCs ran; the caller sees a wake-up and looks
     * at its predicate again. */
    ret = WaitForSingleObjectEx(waiter.event, (DWORD)timeout_ms, TRUE);
    os_lock_acquire(lock);

    AcquireSRWLockExclusive(&cond->alert_lock);
    if (waiter.listed)
        alert_unlink_locked(cond, &waiter);
    ReleaseSRWLockExclusive(&cond->alert_lock);
    /* A signal that unlinked us after the wait ended left the event set:
     * the next wait of this thread returns at once, a spurious wake-up. */
    if (ret == WAIT_OBJECT_0 || ret == WAIT_IO_COMPLETION)
        return TRUE;
    if (ret != WAIT_TIMEOUT)
        os_panic("WaitForSingleObjectEx failed: error %lu", GetLastError());
    return os_clock_monotonic_ns() < deadline_ns;
}

/* Wakes one listed alertable waiter (all with all); FALSE if there was none. */
static BOOL alert_wake(struct os_cond *cond, BOOL all)
{
    struct os_alert_waiter *waiter;
    BOOL woke = FALSE;

    if (!__atomic_load_n(&cond->alert_count, __ATOMIC_SEQ_CST))
        return FALSE;
    AcquireSRWLockExclusive(&cond->alert_lock);
    while ((waiter = cond->alert_waiters)) {
        alert_unlink_locked(cond, waiter);
        SetEvent(waiter->event);
        woke = TRUE;
        if (!all)
            break;
    }
    ReleaseSRWLockExclusive(&cond->alert_lock);
    return woke;
}

/* Tells the threads that yield out a timed wait (cond_yield_until), if any. */
static void cond_wake_yielders(struct os_cond *cond)
{
    if (__atomic_load_n(&cond->yielders, __ATOMIC_SEQ_CST))
        __atomic_add_fetch(&cond->signals, 1, __ATOMIC_SEQ_CST);
}

void os_cond_signal(struct os_cond *cond)
{
    /* A yielding thread takes the signal too: it may be the one whose
     * deadline the signaller's change moved, and it is awake anyway. */
    cond_wake_yielders(cond);
    /* One wake-up is enough: an alertable waiter if there is one. */
    if (!alert_wake(cond, FALSE))
        WakeConditionVariable(&cond->cv);
}

void os_cond_broadcast(struct os_cond *cond)
{
    cond_wake_yielders(cond);
    alert_wake(cond, TRUE);
    WakeAllConditionVariable(&cond->cv);
}

ULONGLONG os_clock_monotonic_ns(void)
{
    static LONGLONG freq;   /* constant for the life of the system; 0 until read */
    LONGLONG f = __atomic_load_n(&freq, __ATOMIC_RELAXED);
    LARGE_INTEGER count;

    if (!f) {
        LARGE_INTEGER qpf;

        /* Cannot fail on Windows XP and later.  Racing threads store the same value. */
        QueryPerformanceFrequency(&qpf);
        f = qpf.QuadPart;
        __atomic_store_n(&freq, f, __ATOMIC_RELAXED);
    }
    QueryPerformanceCounter(&count);
    /* Split, so that count * 10^9 cannot overflow. */
    return (ULONGLONG)(count.QuadPart / f) * 1000000000ull
           + (ULONGLONG)(count.QuadPart % f) * 1000000000ull / (ULONGLONG)f;
}

typedef void (WINAPI *get_time_fn)(FILETIME *ft);

ULONGLONG os_clock_system_100ns(void)
{
    /* GetSystemTimePreciseAsFileTime exists from Windows 8 on: look it up
     * once, so that the DLL still loads on Windows 7 (then 1-16 ms steps). */
    static get_time_fn get_time;
    get_time_fn fn = __atomic_load_n(&get_time, __ATOMIC_ACQUIRE);
    FILETIME ft;

    if (!fn) {
        HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
        FARPROC proc = kernel32 ? GetProcAddress(kernel32, "GetSystemTimePreciseAsFileTime")
                                : NULL;

        fn = proc ? (get_time_fn)(void (*)(void))proc : GetSystemTimeAsFileTime;
        __atomic_store_n(&get_time, fn, __ATOMIC_RELEASE);
    }
    fn(&ft);
    return ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

static DWORD WINAPI thread_trampoline(void *param)
{
    thread_start_run(param);
    if (alert_event)
        CloseHandle(alert_event);
    return 0;
}

/* Windows has no fork(). */
void os_fork_child_register(void (*fn)(void))
{
    (void)fn;
}

DWORD os_thread_start(void (*fn)(void *arg), void *arg, SIZE_T stack_size)
{
    struct thread_start *start = thread_start_new(fn, arg);
    HANDLE thread;
    DWORD err;

    if (!start)
        return ERROR_NOT_ENOUGH_MEMORY;
    /* stack_size is the reservation (SetThreadpoolStackInformation's
     * StackReserve); the system commits pages as the stack grows. */
    thread = CreateThread(NULL, stack_size, thread_trampoline, start,
                          stack_size ? STACK_SIZE_PARAM_IS_A_RESERVATION : 0, NULL);
    if (!thread) {
        err = GetLastError();
        free(start);
        switch (err) {
        case ERROR_TOO_MANY_THREADS:
            return ERROR_TOO_MANY_THREADS;
        default:
            /* ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY, ERROR_COMMITMENT_LIMIT... */
            return ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    /* Detached: nobody joins a worker; the thread lives on without its handle. */
    CloseHandle(thread);
    return ERROR_SUCCESS;
}

/*
 * The calling thread's counts (os_thread_count_add) live in a TLS slot of
 * our own, which the loader's thread-detach callback below clears when it
 * gives them up: an add on that thread after it (another module's detach
 * code) finds no block and takes a new one, never the one given up.  The
 * slot is read from the thread's TEB, as TlsGetValue does but without
 * clearing the last error (above the TEB's 64 slots, through TlsGetValue).
 */
static DWORD thread_counts_slot = TLS_OUT_OF_INDEXES;  /* (c) after the once */
static INIT_ONCE thread_counts_slot_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK thread_counts_slot_alloc(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    /* TLS_OUT_OF_INDEXES: every thread counts in the shared share. */
    thread_counts_slot = TlsAlloc();
    return TRUE;
}

/* The calling thread's block, or NULL.  (GCC takes mingw-w64's TEB read,
 * a segment load at offset 0x30, for an access past an empty array.) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
static struct os_thread_counts *thread_counts_mine(DWORD slot)
{
    struct os_thread_counts *counts;
    DWORD err;

    if (slot < 64)
        return NtCurrentTeb()->TlsSlots[slot];
    err = GetLastError();
    counts = TlsGetValue(slot);
    SetLastError(err);
    return counts;
}
#pragma GCC diagnostic pop

/* The thread's first count: its block, in the slot that gives it up. */
static __attribute__((noinline, cold)) struct os_thread_counts *thread_counts_register(void)
{
    struct os_thread_counts *counts = NULL;
    DWORD err = GetLastError();

    InitOnceExecuteOnce(&thread_counts_slot_once, thread_counts_slot_alloc, NULL, NULL);
    if (thread_counts_slot != TLS_OUT_OF_INDEXES && (counts = thread_counts_claim())
        && !TlsSetValue(thread_counts_slot, counts)) {
        thread_counts_give_up(counts);
        counts = NULL;
    }
    SetLastError(err);
    return counts;
}

void os_thread_count_add(unsigned int which, LONG delta)
{
    /* Before the once ran, TLS_OUT_OF_INDEXES: registering runs it. */
    DWORD slot = __atomic_load_n(&thread_counts_slot, __ATOMIC_ACQUIRE);
    struct os_thread_counts *counts = NULL;

    if (slot != TLS_OUT_OF_INDEXES)
        counts = thread_counts_mine(slot);
    if (__builtin_expect(counts == NULL, 0))
        counts = thread_counts_register();
    thread_counts_add(counts, which, delta);
}

/* A TLS callback: the loader calls it in each thread that ends. */
static void NTAPI thread_counts_detach(void *module, DWORD reason, void *reserved)
{
    struct os_thread_counts *counts;

    (void)module; (void)reserved;
    if (reason != DLL_THREAD_DETACH
        || __atomic_load_n(&thread_counts_slot, __ATOMIC_ACQUIRE) == TLS_OUT_OF_INDEXES)
        return;
    if ((counts = TlsGetValue(thread_counts_slot))) {
        TlsSetValue(thread_counts_slot, NULL);
        thread_counts_give_up(counts);
    }
}

/* The C runtime's TLS directory calls every callback in the .CRT$XL* sections. */
__attribute__((section(".CRT$XLF"), used))
static const PIMAGE_TLS_CALLBACK thread_counts_detach_callback = thread_counts_detach;

unsigned int os_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);

    if (!n) {
        SYSTEM_INFO info;

        GetSystemInfo(&info);
        n = info.dwNumberOfProcessors;
    }
    return n ? (unsigned int)n : 1;
}

void os_thread_set_block_hook(os_block_hook hook, void *arg)
{
    /* Stored only; see block_hook above for why it is never called. */
    block_hook = hook;
    block_hook_arg = arg;
}

const char *os_getenv(const char *name)
{
    return getenv(name);
}

/* Writes one whole line to the standard error handle, so that lines from
 * several threads never interleave inside a line. */
static void write_stderr(const char *text, size_t len)
{
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD written;

    if (err && err != INVALID_HANDLE_VALUE)
        WriteFile(err, text, (DWORD)len, &written, NULL);
}

static void vlog_prefixed(const char *prefix, const char *fmt, va_list args, const char *end)
{
    char line[1024];
    int len = snprintf(line, sizeof(line), "kernel32_tp:%04lx: %s", GetCurrentThreadId(), prefix);

    if (len < 0)
        return;
    if ((size_t)len < sizeof(line)) {
        int more = vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, args);

        len = more < 0 ? len : len + more;
    }
    if ((size_t)len >= sizeof(line))
        len = (int)sizeof(line) - 1;
    if (end && (size_t)len + 1 < sizeof(line))
        line[len++] = *end;
    write_stderr(line, (size_t)len);
}

void os_vlog(const char *fmt, va_list args)
{
    vlog_prefixed("", fmt, args, NULL);
}

void os_panic(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vlog_prefixed("fatal: ", fmt, args, "\n");
    va_end(args);
    /* Not ExitProcess: it would run DLL detach code that may want the very
     * lock whose state made us stop.  Exit code 3, as abort() gives. */
    TerminateProcess(GetCurrentProcess(), 3);
    abort();
}

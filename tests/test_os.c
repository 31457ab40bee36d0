/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform contract (kernel32_tp/os.h), called directly: every call the
 * core makes of the platform, on Linux (kernel32_tp/os/linux/ and the
 * os.h hooks of the kernel32 emulation, kernel32_linux/).  Not an API of
 * Windows: this file runs natively only, linked to the static library (the
 * os_* names are not exports), and uses the exports only to observe.
 *
 * os_once has a file of its own (test_os_once.c).
 *
 * Each test asserts what a caller can see: exclusion, wake-ups, deadlines
 * that have passed, values that arrive on the right thread, objects that
 * are signalled or not.  Waits are bounded by helper_timeout_ms(); lower
 * bounds only where the contract makes them (a deadline has passed).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "os.h"

#define MS_NS 1000000ull
/* The test's own locks are leaves (rank F): none is held while another is taken. */

static ULONGLONG deadline_after_ms(DWORD ms)
{
    return os_clock_monotonic_ns() + (ULONGLONG)ms * MS_NS;
}

/* Polls *flag (set by another thread) until it is non-zero; FALSE on timeout. */
static BOOL wait_flag(volatile LONG *flag)
{
    ULONGLONG deadline = deadline_after_ms(helper_timeout_ms());

    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
        if (os_clock_monotonic_ns() >= deadline)
            return FALSE;
        os_cpu_relax();
        sched_yield();
    }
    return TRUE;
}

/* ---- locks ------------------------------------------------------------ */

struct lock_probe {
    struct os_lock lock;
    volatile LONG started, acquired, held_seen, done;
    LONG counter;                   /* under lock */
    int rounds;
};

static void lock_owner_thread(void *arg)
{
    struct lock_probe *p = arg;

    /* The main thread holds the lock: it is not ours. */
    __atomic_store_n(&p->held_seen, os_lock_held_by_me(&p->lock) ? 2 : 1, __ATOMIC_RELEASE);
    __atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);
    os_lock_acquire(&p->lock);
    __atomic_store_n(&p->acquired, 1, __ATOMIC_RELEASE);
    os_lock_release(&p->lock);
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
}

static void os_lock_excludes_and_records_owner(void **state)
{
    struct lock_probe p;

    (void)state;
    memset(&p, 0, sizeof(p));
    os_lock_init(&p.lock, OS_LOCK_RANK_F);
    assert_false(os_lock_held_by_me(&p.lock));
    os_lock_acquire(&p.lock);
    assert_true(os_lock_held_by_me(&p.lock));
    assert_int_equal(os_thread_start(lock_owner_thread, &p, 0), ERROR_SUCCESS);
    assert_true(wait_flag(&p.started));
    assert_int_equal(p.held_seen, 1);
    /* However long we hold it, the other thread does not get it. */
    Sleep(50);
    assert_int_equal(__atomic_load_n(&p.acquired, __ATOMIC_ACQUIRE), 0);
    os_lock_release(&p.lock);
    assert_false(os_lock_held_by_me(&p.lock));
    assert_true(wait_flag(&p.done));
    assert_int_equal(p.acquired, 1);
    os_lock_destroy(&p.lock);
}

static void lock_count_thread(void *arg)
{
    struct lock_probe *p = arg;
    int i;

    for (i = 0; i < p->rounds; i++) {
        os_lock_acquire(&p->lock);
        p->counter++;           /* not atomic: the lock is the only guard */
        os_lock_release(&p->lock);
    }
    __atomic_add_fetch(&p->done, 1, __ATOMIC_ACQ_REL);
}

static void os_lock_serializes_increments(void **state)
{
    struct lock_probe p;
    int i;

    (void)state;
    memset(&p, 0, sizeof(p));
    os_lock_init(&p.lock, OS_LOCK_RANK_F);
    p.rounds = 100000;
    for (i = 0; i < 4; i++)
        assert_int_equal(os_thread_start(lock_count_thread, &p, 0), ERROR_SUCCESS);
    assert_true(helper_wait_count(&p.done, 4));
    os_lock_acquire(&p.lock);
    assert_int_equal(p.counter, 4 * 100000);
    os_lock_release(&p.lock);
    os_lock_destroy(&p.lock);
}

/* ---- conds ------------------------------------------------------------ */

struct cond_probe {
    struct os_lock lock;
    struct os_cond cond;
    int ready;                      /* under lock: the predicate */
    int waiting;                    /* under lock: threads inside their wait loop */
    BOOL held_after_wait;           /* under lock */
    volatile LONG woken;
};

static void cond_waiter_thread(void *arg)
{
    struct cond_probe *p = arg;

    os_lock_acquire(&p->lock);
    p->waiting++;
    while (!p->ready)
        os_cond_wait(&p->cond, &p->lock);
    if (!os_lock_held_by_me(&p->lock))
        p->held_after_wait = FALSE;
    os_lock_release(&p->lock);
    __atomic_add_fetch(&p->woken, 1, __ATOMIC_ACQ_REL);
}

static void cond_probe_init(struct cond_probe *p)
{
    memset(p, 0, sizeof(*p));
    os_lock_init(&p->lock, OS_LOCK_RANK_F);
    os_cond_init(&p->cond);
    p->held_after_wait = TRUE;
}

static void cond_probe_destroy(struct cond_probe *p)
{
    os_cond_destroy(&p->cond);
    os_lock_destroy(&p->lock);
}

/* Waits until n threads are inside their wait loop (counted under the lock). */
static void wait_waiters(struct cond_probe *p, int n)
{
    ULONGLONG deadline = deadline_after_ms(helper_timeout_ms());
    int waiting;

    for (;;) {
        os_lock_acquire(&p->lock);
        waiting = p->waiting;
        os_lock_release(&p->lock);
        if (waiting >= n)
            return;
        assert_true(os_clock_monotonic_ns() < deadline);
        Sleep(1);
    }
}

/* cond_probe_init, then n threads running fn, each inside its wait loop. */
static void cond_probe_start(struct cond_probe *p, void (*fn)(void *arg), int n)
{
    int i;

    cond_probe_init(p);
    for (i = 0; i < n; i++)
        assert_int_equal(os_thread_start(fn, p, 0), ERROR_SUCCESS);
    wait_waiters(p, n);
}

/* Sets the predicate and signals (or broadcasts) under the lock; the n
 * waiters wake, each holding the lock after its wait; then destroys p. */
static void cond_probe_wake(struct cond_probe *p, int n, BOOL broadcast)
{
    os_lock_acquire(&p->lock);
    p->ready = 1;
    if (broadcast)
        os_cond_broadcast(&p->cond);
    else
        os_cond_signal(&p->cond);
    os_lock_release(&p->lock);
    assert_true(helper_wait_count(&p->woken, n));
    assert_true(p->held_after_wait);
    cond_probe_destroy(p);
}

static void os_cond_signal_wakes_a_waiter(void **state)
{
    struct cond_probe p;

    (void)state;
    cond_probe_start(&p, cond_waiter_thread, 1);
    /* Without the predicate, the waiter stays. */
    Sleep(20);
    assert_int_equal(__atomic_load_n(&p.woken, __ATOMIC_ACQUIRE), 0);
    cond_probe_wake(&p, 1, FALSE);
}

static void os_cond_broadcast_wakes_every_waiter(void **state)
{
    struct cond_probe p;

    (void)state;
    cond_probe_start(&p, cond_waiter_thread, 4);
    cond_probe_wake(&p, 4, TRUE);
}

static void os_cond_wait_until_times_out_holding_the_lock(void **state)
{
    struct cond_probe p;
    ULONGLONG deadline;

    (void)state;
    cond_probe_init(&p);
    os_lock_acquire(&p.lock);
    /* A deadline already passed: FALSE at once. */
    assert_false(os_cond_wait_until(&p.cond, &p.lock, os_clock_monotonic_ns() - 1));
    assert_true(os_lock_held_by_me(&p.lock));
    /* Nobody signals: the wait ends FALSE, not before its deadline (a
     * spurious wake-up returns TRUE, and the caller waits again). */
    deadline = deadline_after_ms(30);
    while (os_cond_wait_until(&p.cond, &p.lock, deadline))
        ;
    assert_true(os_clock_monotonic_ns() >= deadline);
    assert_true(os_lock_held_by_me(&p.lock));
    os_lock_release(&p.lock);
    cond_probe_destroy(&p);
}

static void cond_timed_waiter_thread(void *arg)
{
    struct cond_probe *p = arg;
    ULONGLONG deadline = deadline_after_ms(helper_timeout_ms());
    BOOL in_time = TRUE;

    os_lock_acquire(&p->lock);
    p->waiting++;
    while (!p->ready && in_time)
        in_time = os_cond_wait_until(&p->cond, &p->lock, deadline);
    if (!p->ready || !os_lock_held_by_me(&p->lock))
        p->held_after_wait = FALSE;
    os_lock_release(&p->lock);
    __atomic_add_fetch(&p->woken, 1, __ATOMIC_ACQ_REL);
}

static void os_cond_wait_until_wakes_before_its_deadline(void **state)
{
    struct cond_probe p;

    (void)state;
    cond_probe_start(&p, cond_timed_waiter_thread, 1);
    /* It sees the predicate, not its deadline (helper_timeout_ms away). */
    cond_probe_wake(&p, 1, FALSE);
}

/* ---- alertable cond waits and APCs ------------------------------------- */

struct alert_probe {
    struct cond_probe c;
    HANDLE thread;
    volatile LONG apc_ran;
    volatile DWORD apc_tid;
    DWORD waiter_tid;
    BOOL result;
    BOOL lock_released_in_apc;
};

static void CALLBACK alert_apc(ULONG_PTR param)
{
    struct alert_probe *p = (struct alert_probe *)param;

    /* APCs run with the caller's lock released. */
    p->lock_released_in_apc = !os_lock_held_by_me(&p->c.lock);
    p->apc_tid = GetCurrentThreadId();
    __atomic_add_fetch(&p->apc_ran, 1, __ATOMIC_ACQ_REL);
}

static DWORD WINAPI alert_waiter_thread(void *arg)
{
    struct alert_probe *p = arg;
    ULONGLONG deadline = deadline_after_ms(helper_timeout_ms());

    p->waiter_tid = GetCurrentThreadId();
    os_lock_acquire(&p->c.lock);
    p->c.waiting++;
    /* Nothing is signalled: only the APC can end this wait early. */
    p->result = os_cond_wait_until_alertable(&p->c.cond, &p->c.lock, deadline);
    p->c.held_after_wait = os_lock_held_by_me(&p->c.lock);
    os_lock_release(&p->c.lock);
    return 0;
}

static void os_cond_wait_alertable_runs_an_apc_queued_meanwhile(void **state)
{
    struct alert_probe p;
    ULONGLONG start;

    (void)state;
    memset(&p, 0, sizeof(p));
    cond_probe_init(&p.c);
    start = os_clock_monotonic_ns();
    p.thread = CreateThread(NULL, 0, alert_waiter_thread, &p, 0, NULL);
    assert_non_null(p.thread);
    wait_waiters(&p.c, 1);
    assert_int_not_equal(QueueUserAPC(alert_apc, p.thread, (ULONG_PTR)&p), 0);
    helper_wait(p.thread);
    /* Woken by the APC, long before the deadline. */
    assert_true(os_clock_monotonic_ns() - start < (ULONGLONG)helper_timeout_ms() * MS_NS);
    assert_true(p.result);
    assert_int_equal(p.apc_ran, 1);
    assert_int_equal(p.apc_tid, p.waiter_tid);
    assert_true(p.lock_released_in_apc);
    assert_true(p.c.held_after_wait);
    CloseHandle(p.thread);
    cond_probe_destroy(&p.c);
}

static void os_cond_wait_alertable_runs_apcs_queued_before(void **state)
{
    struct alert_probe p;

    (void)state;
    memset(&p, 0, sizeof(p));
    cond_probe_init(&p.c);
    assert_int_not_equal(QueueUserAPC(alert_apc, GetCurrentThread(), (ULONG_PTR)&p), 0);
    assert_int_not_equal(QueueUserAPC(alert_apc, GetCurrentThread(), (ULONG_PTR)&p), 0);
    os_lock_acquire(&p.c.lock);
    /* Both run in this wait, on this thread, and it returns at once. */
    assert_true(os_cond_wait_until_alertable(&p.c.cond, &p.c.lock,
                                             deadline_after_ms(helper_timeout_ms())));
    assert_true(os_lock_held_by_me(&p.c.lock));
    os_lock_release(&p.c.lock);
    assert_int_equal(p.apc_ran, 2);
    assert_int_equal(p.apc_tid, GetCurrentThreadId());
    assert_true(p.lock_released_in_apc);
    /* Nothing left: an alertable wait with a passed deadline is FALSE. */
    os_lock_acquire(&p.c.lock);
    assert_false(os_cond_wait_until_alertable(&p.c.cond, &p.c.lock, os_clock_monotonic_ns()));
    os_lock_release(&p.c.lock);
    assert_int_equal(p.apc_ran, 2);
    cond_probe_destroy(&p.c);
}

/* ---- clocks --------------------------------------------------------------- */

static void os_clock_monotonic_never_goes_back(void **state)
{
    ULONGLONG before, now, prev;
    int i;

    (void)state;
    before = os_clock_monotonic_ns();
    prev = before;
    for (i = 0; i < 10000; i++) {
        now = os_clock_monotonic_ns();
        assert_true(now >= prev);
        prev = now;
    }
    /* Sleep(20) sleeps at least 20 ms of it. */
    Sleep(20);
    assert_true(os_clock_monotonic_ns() - before >= 20 * MS_NS);
}

static void os_clock_system_is_filetime_utc(void **state)
{
    FILETIME ft;
    ULONGLONG ours, theirs, diff;
    /* 2020-01-01 as a FILETIME: anything earlier is a wrong epoch or unit. */
    const ULONGLONG y2020 = 132223104000000000ull;

    (void)state;
    ours = os_clock_system_100ns();
    GetSystemTimeAsFileTime(&ft);
    theirs = ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    assert_true(ours > y2020);
    diff = theirs > ours ? theirs - ours : ours - theirs;
    /* The same clock, read twice: within ten seconds however loaded. */
    assert_true(diff < 10ull * 10000000ull);
    /* And against the C library's. */
    diff = (ULONGLONG)time(NULL) * 10000000ull + 116444736000000000ull;
    diff = diff > ours ? diff - ours : ours - diff;
    assert_true(diff < 10ull * 10000000ull);
}

/* ---- threads ------------------------------------------------------------ */

struct start_probe {
    void *arg_seen;
    DWORD tid;
    DWORD tid_again;
    DWORD kernel32_tid;
    size_t stack;
    volatile LONG done;
};

static void start_thread_fn(void *arg)
{
    struct start_probe *p = arg;
    pthread_attr_t attr;

    p->arg_seen = arg;
    p->tid = os_thread_current_id();
    p->tid_again = os_thread_current_id();
    p->kernel32_tid = GetCurrentThreadId();
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &p->stack);
        pthread_attr_destroy(&attr);
    }
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
}

static void os_thread_start_runs_fn_on_a_new_thread(void **state)
{
    struct start_probe p;

    (void)state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(os_thread_start(start_thread_fn, &p, 0), ERROR_SUCCESS);
    assert_true(wait_flag(&p.done));
    assert_ptr_equal(p.arg_seen, &p);
    assert_int_not_equal(p.tid, 0);
    assert_int_equal(p.tid, p.tid_again);
    assert_int_equal(p.tid, p.kernel32_tid);
    assert_int_not_equal(p.tid, os_thread_current_id());
    assert_int_equal(os_thread_current_id(), GetCurrentThreadId());
}

static void os_thread_start_gives_the_stack_asked(void **state)
{
    struct start_probe p;
    const SIZE_T want = 1024 * 1024;

    (void)state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(os_thread_start(start_thread_fn, &p, want), ERROR_SUCCESS);
    assert_true(wait_flag(&p.done));
    assert_true(p.stack >= want);
    /* Not the default (8 MiB or more on Linux): the size asked was used. */
    assert_true(p.stack < 4 * want);
}

static void os_thread_default_stack_is_sane(void **state)
{
    SIZE_T reserve = 0, commit = 0;

    (void)state;
    os_thread_default_stack(&reserve, &commit);
    assert_true(reserve >= 64 * 1024);
    assert_true(commit > 0);
    assert_true(commit <= reserve);
}

static void os_cpu_count_is_the_online_processors(void **state)
{
    SYSTEM_INFO info;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int i;

    (void)state;
    assert_true(os_cpu_count() >= 1);
    assert_int_equal(os_cpu_count(), online > 0 ? (unsigned int)online : 1);
    GetSystemInfo(&info);
    assert_int_equal(os_cpu_count(), info.dwNumberOfProcessors);
    /* A hint only: it returns, whatever the CPU. */
    for (i = 0; i < 1000; i++)
        os_cpu_relax();
}

/* ---- block hook ------------------------------------------------------------ */

struct block_probe {
    int calls;
    BOOL first, second;
    DWORD tid;
};

static void block_hook_fn(void *arg, BOOL blocking)
{
    struct block_probe *p = arg;

    if (p->calls == 0)
        p->first = blocking;
    else if (p->calls == 1)
        p->second = blocking;
    p->calls++;
    p->tid = GetCurrentThreadId();
}

static void os_thread_block_hook_brackets_a_blocking_wait(void **state)
{
    struct block_probe p;
    HANDLE event;

    (void)state;
    memset(&p, 0, sizeof(p));
    event = event_new(FALSE, FALSE);
    os_thread_set_block_hook(block_hook_fn, &p);
    /* A wait that does not block tells nothing. */
    SetEvent(event);
    assert_int_equal(WaitForSingleObject(event, INFINITE), WAIT_OBJECT_0);
    assert_int_equal(p.calls, 0);
    /* One that sleeps: about to sleep, then awake. */
    assert_int_equal(WaitForSingleObject(event, 20), WAIT_TIMEOUT);
    os_thread_set_block_hook(NULL, NULL);
    assert_int_equal(p.calls, 2);
    assert_true(p.first);
    assert_false(p.second);
    assert_int_equal(p.tid, GetCurrentThreadId());
    /* Removed: no more calls. */
    assert_int_equal(WaitForSingleObject(event, 5), WAIT_TIMEOUT);
    assert_int_equal(p.calls, 2);
    CloseHandle(event);
}

/* ---- handle actions ---------------------------------------------------- */

static void os_handle_set_event_signals_it(void **state)
{
    HANDLE event;
    DWORD err = 0xdead;

    (void)state;
    event = event_new(TRUE, FALSE);
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    assert_true(os_handle_set_event(event, &err));
    assert_int_equal(err, ERROR_SUCCESS);
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_OBJECT_0);
    CloseHandle(event);
    /* A closed handle fails the way SetEvent would. */
    err = 0xdead;
    assert_false(os_handle_set_event(event, &err));
    assert_int_equal(err, ERROR_INVALID_HANDLE);
}

static void os_handle_release_semaphore_adds_count(void **state)
{
    HANDLE sem;
    DWORD err = 0xdead;

    (void)state;
    sem = CreateSemaphoreA(NULL, 0, 2, NULL);
    assert_non_null(sem);
    assert_true(os_handle_release_semaphore(sem, 2, &err));
    assert_int_equal(err, ERROR_SUCCESS);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_TIMEOUT);
    /* Past the maximum: refused, count unchanged. */
    err = 0xdead;
    assert_false(os_handle_release_semaphore(sem, 3, &err));
    assert_int_equal(err, ERROR_TOO_MANY_POSTS);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_TIMEOUT);
    CloseHandle(sem);
}

static DWORD WINAPI take_mutex_thread(void *arg)
{
    HANDLE mutex = arg;
    DWORD ret = WaitForSingleObject(mutex, 0);

    if (ret == WAIT_OBJECT_0)
        ReleaseMutex(mutex);
    return ret;
}

static void os_handle_release_mutex_releases_ownership(void **state)
{
    HANDLE mutex, thread;
    DWORD err = 0xdead, code = 0xdead;

    (void)state;
    mutex = CreateMutexA(NULL, TRUE, NULL);
    assert_non_null(mutex);
    assert_true(os_handle_release_mutex(mutex, &err));
    assert_int_equal(err, ERROR_SUCCESS);
    /* Another thread can take it now. */
    thread = CreateThread(NULL, 0, take_mutex_thread, mutex, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    assert_true(GetExitCodeThread(thread, &code));
    assert_int_equal(code, WAIT_OBJECT_0);
    CloseHandle(thread);
    /* Not ours any more: refused. */
    err = 0xdead;
    assert_false(os_handle_release_mutex(mutex, &err));
    assert_int_equal(err, ERROR_NOT_OWNER);
    CloseHandle(mutex);
}

static void os_critical_section_leave_leaves_it(void **state)
{
    CRITICAL_SECTION cs;

    (void)state;
    InitializeCriticalSection(&cs);
    EnterCriticalSection(&cs);
    assert_false(other_thread_enters(&cs));     /* held by us */
    os_critical_section_leave(&cs);
    assert_true(other_thread_enters(&cs));      /* free after the leave */
    DeleteCriticalSection(&cs);
}

/* ---- modules --------------------------------------------------------------- */

static void os_library_addref_keeps_a_module_loaded(void **state)
{
    const char *path = getenv("KERNEL32_TP_TEST_MODULE");
    HMODULE module;
    int local;

    (void)state;
    if (!path) {
        printf("skip: KERNEL32_TP_TEST_MODULE is not set (tools/run-tests --module)\n");
        skip();
    }
    module = LoadLibraryA(path);
    assert_non_null(module);
    assert_int_equal(os_library_addref(module), ERROR_SUCCESS);
    /* The program's reference goes; ours keeps it. */
    assert_true(FreeLibrary(module));
    assert_ptr_equal(GetModuleHandleA(path), module);
    /* Ours goes too: unloaded. */
    os_library_free(module);
    assert_null(GetModuleHandleA(path));
    assert_int_equal(os_library_addref(module), ERROR_MOD_NOT_FOUND);
    /* Not a module at all. */
    assert_int_equal(os_library_addref((HMODULE)&local), ERROR_MOD_NOT_FOUND);
    assert_int_equal(os_library_addref(NULL), ERROR_MOD_NOT_FOUND);
}

/* ---- last error ------------------------------------------------------------ */

static DWORD WINAPI last_error_thread(void *arg)
{
    (void)arg;
    os_set_last_error(77);
    return os_get_last_error() == 77 && GetLastError() == 77 ? 0 : 1;
}

static void os_last_error_is_the_threads_win32_one(void **state)
{
    (void)state;
    os_set_last_error(1234);
    assert_int_equal(GetLastError(), 1234);
    assert_int_equal(os_get_last_error(), 1234);
    SetLastError(ERROR_ACCESS_DENIED);
    assert_int_equal(os_get_last_error(), ERROR_ACCESS_DENIED);
    /* Per thread: another thread's value does not reach ours. */
    assert_int_equal(run_thread(last_error_thread, NULL), 0);
    assert_int_equal(os_get_last_error(), ERROR_ACCESS_DENIED);
}

/* ---- thread-pool waits ----------------------------------------------------- */

struct fired_probe {
    volatile LONG fired;
};

static void fired_fn(void *context)
{
    struct fired_probe *p = context;

    __atomic_add_fetch(&p->fired, 1, __ATOMIC_ACQ_REL);
}

static void os_wait_fires_once_when_signalled_and_consumes(void **state)
{
    struct fired_probe p = { 0 };
    struct os_wait_block *block = NULL;
    HANDLE event;

    (void)state;
    event = event_new(FALSE, FALSE);
    assert_int_equal(os_wait_create(fired_fn, &p, &block), ERROR_SUCCESS);
    assert_non_null(block);
    assert_int_equal(os_wait_arm(block, event), ERROR_SUCCESS);
    Sleep(10);
    assert_int_equal(p.fired, 0);
    assert_true(SetEvent(event));
    assert_true(helper_wait_count(&p.fired, 1));
    /* The wait took the auto-reset event's signal. */
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    /* Satisfied: disarming stops nothing. */
    assert_false(os_wait_disarm(block));
    /* Armed on a signalled object: fired at once, and once. */
    assert_true(SetEvent(event));
    assert_int_equal(os_wait_arm(block, event), ERROR_SUCCESS);
    assert_true(helper_wait_count(&p.fired, 2));
    assert_false(os_wait_disarm(block));
    Sleep(10);
    assert_int_equal(p.fired, 2);
    os_wait_destroy(block);
    CloseHandle(event);
}

static void os_wait_disarm_before_the_signal_takes_nothing(void **state)
{
    struct fired_probe p = { 0 };
    struct os_wait_block *block = NULL;
    HANDLE sem = semaphore_new();

    (void)state;
    assert_int_equal(os_wait_create(fired_fn, &p, &block), ERROR_SUCCESS);
    assert_int_equal(os_wait_arm(block, sem), ERROR_SUCCESS);
    assert_true(os_wait_disarm(block));
    /* Nothing armed: FALSE, and a release is left to others. */
    assert_false(os_wait_disarm(block));
    assert_true(ReleaseSemaphore(sem, 1, NULL));
    Sleep(10);
    assert_int_equal(p.fired, 0);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    /* Armed again, a release is one unit for it. */
    assert_int_equal(os_wait_arm(block, sem), ERROR_SUCCESS);
    assert_true(ReleaseSemaphore(sem, 2, NULL));
    assert_true(helper_wait_count(&p.fired, 1));
    assert_false(os_wait_disarm(block));
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_TIMEOUT);
    assert_int_equal(p.fired, 1);
    os_wait_destroy(block);
    CloseHandle(sem);
}

static void os_wait_arm_refuses_mutexes_and_non_objects(void **state)
{
    struct fired_probe p = { 0 };
    struct os_wait_block *block = NULL;
    HANDLE mutex, event;

    (void)state;
    mutex = mutex_new();
    event = event_new(TRUE, FALSE);
    assert_true(CloseHandle(event));
    assert_int_equal(os_wait_create(fired_fn, &p, &block), ERROR_SUCCESS);
    assert_int_equal(os_wait_arm(block, mutex), ERROR_NOT_SUPPORTED);
    assert_int_equal(os_wait_arm(block, event), ERROR_INVALID_HANDLE);
    assert_int_equal(os_wait_arm(block, NULL), ERROR_INVALID_HANDLE);
    /* Refused arms leave nothing armed. */
    assert_false(os_wait_disarm(block));
    assert_int_equal(p.fired, 0);
    os_wait_destroy(block);
    CloseHandle(mutex);
}

/* ---- I/O completion -------------------------------------------------------- */

struct io_probe {
    struct os_lock lock;
    int packets;                    /* under lock */
    int ends;                       /* under lock */
    OVERLAPPED *overlapped;         /* under lock: the last packet's */
    LONG status;                    /* under lock */
    DWORD err;                      /* under lock */
    ULONG_PTR bytes;                /* under lock */
    void *key_seen;                 /* under lock */
};

static void io_complete_fn(void *key, struct os_io_packet *packet)
{
    struct io_probe *p = key;

    os_lock_acquire(&p->lock);
    p->key_seen = key;
    if (!packet) {
        p->ends++;
    } else {
        p->packets++;
        p->overlapped = packet->overlapped;
        p->status = packet->status;
        p->err = packet->err;
        p->bytes = packet->bytes;
    }
    os_lock_release(&p->lock);
    if (packet)
        os_io_packet_release(packet);
}

static int io_count(struct io_probe *p, int *ends)
{
    int n;

    os_lock_acquire(&p->lock);
    n = p->packets;
    if (ends)
        *ends = p->ends;
    os_lock_release(&p->lock);
    return n;
}

static BOOL io_wait(struct io_probe *p, int packets, int ends)
{
    ULONGLONG deadline = deadline_after_ms(helper_timeout_ms());
    int e;

    while (io_count(p, &e) < packets || e < ends) {
        if (os_clock_monotonic_ns() >= deadline)
            return FALSE;
        Sleep(1);
    }
    return TRUE;
}

static void pipe_pair(HANDLE *server, HANDLE *client, DWORD server_flags)
{
    char name[96];

    unique_pipe_name(name, sizeof(name), "test_os");
    *server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | server_flags,
                               PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    assert_true(*server != INVALID_HANDLE_VALUE);
    *client = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(*client != INVALID_HANDLE_VALUE);
}

static void os_io_bind_delivers_completions_then_the_end(void **state)
{
    struct io_probe p;
    struct os_io_binding *binding = NULL;
    HANDLE server, client;
    OVERLAPPED ov;
    char buf[16];
    DWORD written = 0;
    int ends = 0;

    (void)state;
    memset(&p, 0, sizeof(p));
    os_lock_init(&p.lock, OS_LOCK_RANK_F);
    pipe_pair(&server, &client, FILE_FLAG_OVERLAPPED);
    assert_int_equal(os_io_bind(server, io_complete_fn, &p, &binding), ERROR_SUCCESS);
    assert_non_null(binding);
    /* One binding per file, as one completion port per file. */
    assert_int_equal(os_io_bind(server, io_complete_fn, &p, NULL), ERROR_INVALID_PARAMETER);

    memset(&ov, 0, sizeof(ov));
    assert_false(ReadFile(server, buf, sizeof(buf), NULL, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    Sleep(10);
    assert_int_equal(io_count(&p, NULL), 0);
    assert_true(WriteFile(client, "hello", 5, &written, NULL));
    assert_true(io_wait(&p, 1, 0));
    os_lock_acquire(&p.lock);
    assert_ptr_equal(p.key_seen, &p);
    assert_ptr_equal(p.overlapped, &ov);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.err, ERROR_SUCCESS);
    assert_int_equal(p.bytes, 5);
    os_lock_release(&p.lock);
    /* By then the OVERLAPPED holds the result. */
    assert_int_equal(ov.InternalHigh, 5);
    assert_memory_equal(buf, "hello", 5);

    /* An event whose low bit is set keeps the completion from the binding. */
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = event_new(TRUE, FALSE);
    ov.hEvent = (HANDLE)((ULONG_PTR)ov.hEvent | 1);
    assert_false(ReadFile(server, buf, sizeof(buf), NULL, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_true(WriteFile(client, "abc", 3, &written, NULL));
    assert_int_equal(WaitForSingleObject((HANDLE)((ULONG_PTR)ov.hEvent & ~(ULONG_PTR)1),
                                         helper_timeout_ms()), WAIT_OBJECT_0);
    Sleep(10);
    assert_int_equal(io_count(&p, NULL), 1);
    CloseHandle((HANDLE)((ULONG_PTR)ov.hEvent & ~(ULONG_PTR)1));

    /* The file's last handle goes: the binding ends, once. */
    os_io_watch(binding);
    CloseHandle(server);
    assert_true(io_wait(&p, 1, 1));
    Sleep(10);
    io_count(&p, &ends);
    assert_int_equal(ends, 1);
    os_io_unbind(binding);
    CloseHandle(client);
    os_lock_destroy(&p.lock);
}

static void os_io_bind_refuses_what_is_not_an_overlapped_file(void **state)
{
    struct io_probe p;
    struct os_io_binding *binding = NULL;
    HANDLE server, client, event;

    (void)state;
    memset(&p, 0, sizeof(p));
    os_lock_init(&p.lock, OS_LOCK_RANK_F);
    event = event_new(TRUE, FALSE);
    assert_int_equal(os_io_bind(event, io_complete_fn, &p, &binding), ERROR_INVALID_HANDLE);
    CloseHandle(event);
    assert_int_equal(os_io_bind(event, io_complete_fn, &p, &binding), ERROR_INVALID_HANDLE);
    /* Opened for synchronous I/O. */
    pipe_pair(&server, &client, 0);
    assert_int_equal(os_io_bind(server, io_complete_fn, &p, &binding), ERROR_INVALID_PARAMETER);
    CloseHandle(server);
    CloseHandle(client);
    assert_int_equal(io_count(&p, NULL), 0);
    os_lock_destroy(&p.lock);
}

static void os_io_object_alloc_is_zeroed_process_heap(void **state)
{
    unsigned char *mem;
    size_t i;

    (void)state;
    mem = os_io_object_alloc(200);
    assert_non_null(mem);
    for (i = 0; i < 200; i++)
        assert_int_equal(mem[i], 0);
    memset(mem, 0xab, 200);
    /* From the process heap, where programs check it. */
    assert_true(HeapValidate(GetProcessHeap(), 0, mem));
    assert_true(HeapSize(GetProcessHeap(), 0, mem) >= 200);
    os_io_object_free(mem);
}

/* ---- process state and diagnostics ----------------------------------------- */

static void os_process_exiting_is_false_while_running(void **state)
{
    (void)state;
    /* Linux: threads end only with the process; nothing stays held. */
    assert_false(os_process_exiting());
}

static void os_getenv_reads_the_environment(void **state)
{
    (void)state;
    assert_int_equal(setenv("KERNEL32_TP_TEST_OS_VAR", "value 1", 1), 0);
    assert_non_null(os_getenv("KERNEL32_TP_TEST_OS_VAR"));
    assert_string_equal(os_getenv("KERNEL32_TP_TEST_OS_VAR"), "value 1");
    assert_int_equal(unsetenv("KERNEL32_TP_TEST_OS_VAR"), 0);
    assert_null(os_getenv("KERNEL32_TP_TEST_OS_VAR"));
}

static void log_line(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    os_vlog(fmt, args);
    va_end(args);
}

/* Runs fn with standard error going to a file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    static char text[1024];
    FILE *file = tmpfile();
    int fd, saved;
    ssize_t n;

    assert_non_null(file);
    fd = fileno(file);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) == 2);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    n = read(fd, text, sizeof(text) - 1);
    fclose(file);
    text[n > 0 ? n : 0] = 0;
    return text;
}

static void vlog_once(void)
{
    log_line("os test %d %s\n", 42, "line");
}

static void os_vlog_writes_one_line_naming_the_thread(void **state)
{
    char *text, expect[64];

    (void)state;
    text = capture_stderr(vlog_once);
    snprintf(expect, sizeof(expect), "kernel32_tp:%04x: ", (unsigned int)GetCurrentThreadId());
    assert_non_null(strstr(text, expect));
    assert_non_null(strstr(text, "os test 42 line\n"));
}

/*
 * The calls that never return: run in a child process, which must end by
 * SIGABRT (not exit normally), having said what and where on standard error.
 */
static void expect_abort(void (*fn)(void), const char *needle)
{
    int pipefd[2], status = 0;
    char text[1024];
    size_t len = 0;
    ssize_t n;
    pid_t pid;

    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);       /* it returned: the parent sees a normal exit */
    }
    close(pipefd[1]);
    while (len < sizeof(text) - 1 && (n = read(pipefd[0], text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    text[len] = 0;
    close(pipefd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    if (!strstr(text, needle))
        fail_msg("expected \"%s\" in the child's standard error: \"%s\"", needle, text);
}

static void panic_fn(void)
{
    os_panic("os test panic %d", 7);
}

static void invalid_parameter_fn(void)
{
    os_raise_invalid_parameter("TestFunction", "a second action", (void *)0x1234);
}

static void wait_refused_fn(void)
{
    os_wait_raise_refused("TestWaitFunction", (HANDLE)0x40, ERROR_NOT_SUPPORTED);
}

static void os_panic_and_misuse_stop_the_process(void **state)
{
    (void)state;
    expect_abort(panic_fn, "kernel32_tp: fatal: os test panic 7");
    expect_abort(invalid_parameter_fn, "TestFunction: a second action");
    expect_abort(wait_refused_fn, "TestWaitFunction: handle 0x40 is a mutex");
}

/* ---- per-thread counts -------------------------------------------------------- */

#define COUNT_THREADS 8
#define COUNT_ADDS 10000

struct count_run {
    pthread_t threads[COUNT_THREADS];
    LONG base[OS_THREAD_COUNTS];
    volatile LONG go;
};

/* Adds +1 to counter 0 and -2 to the last, COUNT_ADDS times each. */
static void *count_adder(void *arg)
{
    struct count_run *run = arg;
    int i;

    while (!__atomic_load_n(&run->go, __ATOMIC_ACQUIRE))
        sched_yield();
    for (i = 0; i < COUNT_ADDS; i++) {
        os_thread_count_add(0, 1);
        os_thread_count_add(OS_THREAD_COUNTS - 1, -2);
    }
    return NULL;
}

static void count_base(struct count_run *run)
{
    unsigned int which;

    for (which = 0; which < OS_THREAD_COUNTS; which++)
        run->base[which] = os_thread_count_sum(which);
}

/*
 * Threads add to their shares at once, while this thread reads the sums;
 * once they ended, the sums hold every add, theirs included.
 */
static void os_thread_count_sums_every_thread_ended_or_not(void **state)
{
    struct count_run run = { .go = 0 };
    LONG seen;
    int t, reads;

    (void)state;
    count_base(&run);
    for (t = 0; t < COUNT_THREADS; t++)
        assert_int_equal(pthread_create(&run.threads[t], NULL, count_adder, &run), 0);
    __atomic_store_n(&run.go, 1, __ATOMIC_RELEASE);
    /* Reads during the adds see a figure between the start and the end. */
    for (reads = 0; reads < 100; reads++) {
        seen = os_thread_count_sum(0) - run.base[0];
        assert_true(seen >= 0 && seen <= COUNT_THREADS * COUNT_ADDS);
    }
    for (t = 0; t < COUNT_THREADS; t++)
        assert_int_equal(pthread_join(run.threads[t], NULL), 0);
    assert_int_equal(os_thread_count_sum(0), run.base[0] + COUNT_THREADS * COUNT_ADDS);
    assert_int_equal(os_thread_count_sum(OS_THREAD_COUNTS - 1),
                     run.base[OS_THREAD_COUNTS - 1] - 2 * COUNT_THREADS * COUNT_ADDS);
}

static void *count_add_arg(void *arg)
{
    os_thread_count_add(0, (LONG)(intptr_t)arg);
    return NULL;
}

/*
 * Threads that start after others ended take their shares over: a long
 * series of threads, one at a time, each adding and ending, leaves the sum
 * exact, what the first added and the last took away included; and the
 * calling thread's own adds count at once.
 */
static void os_thread_count_keeps_shares_of_threads_that_ended(void **state)
{
    struct count_run run = { .go = 1 };
    pthread_t thread;
    int i;

    (void)state;
    count_base(&run);
    assert_int_equal(pthread_create(&thread, NULL, count_add_arg, (void *)(intptr_t)7), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(os_thread_count_sum(0), run.base[0] + 7);
    for (i = 0; i < 200; i++) {
        assert_int_equal(pthread_create(&thread, NULL, count_add_arg, (void *)(intptr_t)1), 0);
        assert_int_equal(pthread_join(thread, NULL), 0);
    }
    assert_int_equal(os_thread_count_sum(0), run.base[0] + 207);
    assert_int_equal(pthread_create(&thread, NULL, count_add_arg, (void *)(intptr_t)-207), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(os_thread_count_sum(0), run.base[0]);
    os_thread_count_add(0, 3);
    assert_int_equal(os_thread_count_sum(0), run.base[0] + 3);
    os_thread_count_add(0, -3);
    assert_int_equal(os_thread_count_sum(0), run.base[0]);
    /* The others were left as they were. */
    assert_int_equal(os_thread_count_sum(1), run.base[1]);
}

/* An add leaves the last error as it was, on a thread's first add too. */
static void os_thread_count_add_keeps_the_last_error(void **state)
{
    (void)state;
    os_set_last_error(ERROR_INVALID_HANDLE);
    os_thread_count_add(0, 1);
    os_thread_count_add(0, -1);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* ---- stamps ----------------------------------------------------------------- */

static void os_stamp_takes_no_room_on_linux(void **state)
{
    struct { struct os_stamp stamp; int after; } s;

    (void)state;
    /* No other pool shares a Linux process: nothing to tell apart. */
    assert_int_equal(sizeof(struct os_stamp), 0);
    s.after = 5;
    os_stamp_set(&s.stamp);
    os_stamp_clear(&s.stamp);
    assert_int_equal(s.after, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(os_lock_excludes_and_records_owner),
        cmocka_unit_test(os_lock_serializes_increments),
        cmocka_unit_test(os_cond_signal_wakes_a_waiter),
        cmocka_unit_test(os_cond_broadcast_wakes_every_waiter),
        cmocka_unit_test(os_cond_wait_until_times_out_holding_the_lock),
        cmocka_unit_test(os_cond_wait_until_wakes_before_its_deadline),
        cmocka_unit_test(os_cond_wait_alertable_runs_an_apc_queued_meanwhile),
        cmocka_unit_test(os_cond_wait_alertable_runs_apcs_queued_before),
        cmocka_unit_test(os_clock_monotonic_never_goes_back),
        cmocka_unit_test(os_clock_system_is_filetime_utc),
        cmocka_unit_test(os_thread_start_runs_fn_on_a_new_thread),
        cmocka_unit_test(os_thread_start_gives_the_stack_asked),
        cmocka_unit_test(os_thread_default_stack_is_sane),
        cmocka_unit_test(os_cpu_count_is_the_online_processors),
        cmocka_unit_test(os_thread_block_hook_brackets_a_blocking_wait),
        cmocka_unit_test(os_handle_set_event_signals_it),
        cmocka_unit_test(os_handle_release_semaphore_adds_count),
        cmocka_unit_test(os_handle_release_mutex_releases_ownership),
        cmocka_unit_test(os_critical_section_leave_leaves_it),
        cmocka_unit_test(os_library_addref_keeps_a_module_loaded),
        cmocka_unit_test(os_last_error_is_the_threads_win32_one),
        cmocka_unit_test(os_wait_fires_once_when_signalled_and_consumes),
        cmocka_unit_test(os_wait_disarm_before_the_signal_takes_nothing),
        cmocka_unit_test(os_wait_arm_refuses_mutexes_and_non_objects),
        cmocka_unit_test(os_io_bind_delivers_completions_then_the_end),
        cmocka_unit_test(os_io_bind_refuses_what_is_not_an_overlapped_file),
        cmocka_unit_test(os_io_object_alloc_is_zeroed_process_heap),
        cmocka_unit_test(os_process_exiting_is_false_while_running),
        cmocka_unit_test(os_getenv_reads_the_environment),
        cmocka_unit_test(os_vlog_writes_one_line_naming_the_thread),
        cmocka_unit_test(os_panic_and_misuse_stop_the_process),
        cmocka_unit_test(os_thread_count_sums_every_thread_ended_or_not),
        cmocka_unit_test(os_thread_count_keeps_shares_of_threads_that_ended),
        cmocka_unit_test(os_thread_count_add_keeps_the_last_error),
        cmocka_unit_test(os_stamp_takes_no_room_on_linux),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

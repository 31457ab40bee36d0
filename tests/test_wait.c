/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thread-pool waits: CreateThreadpoolWait, SetThreadpoolWait(Ex),
 * WaitForThreadpoolWaitCallbacks, CloseThreadpoolWait and their ntdll names
 * (TpAllocWait, TpSetWait(Ex), TpWaitForWait, TpReleaseWait).
 *
 * A wait callback only records (its result, a semaphore released); the
 * test thread asserts.  Whether a callback did *not* come is checked by
 * waiting a while for it (helper_wait_not); timeouts are measured with
 * QueryPerformanceCounter and a generous upper bound.
 */
#include <stdio.h>
#include <string.h>
#if !defined(__MINGW32__)
#include <dirent.h>
#include <winternl.h>
#else
#include <tlhelp32.h>
#endif

#include "helper.h"

/* ---- clocks and the names that may be missing ------------------------------------ */

typedef BOOL (WINAPI *set_wait_ex_fn)(PTP_WAIT, HANDLE, PFILETIME, PVOID);
typedef NTSTATUS (WINAPI *tp_alloc_wait_fn)(TP_WAIT **, PTP_WAIT_CALLBACK, PVOID,
                                            TP_CALLBACK_ENVIRON *);
typedef void (WINAPI *tp_set_wait_fn)(TP_WAIT *, HANDLE, LARGE_INTEGER *);
typedef BOOL (WINAPI *tp_set_wait_ex_fn)(TP_WAIT *, HANDLE, LARGE_INTEGER *, PVOID);
typedef void (WINAPI *tp_wait_for_wait_fn)(TP_WAIT *, BOOL);
typedef void (WINAPI *tp_release_wait_fn)(TP_WAIT *);

/* Wine 8 has no SetThreadpoolWaitEx and no TpSetWaitEx (see LOOKUP). */
static set_wait_ex_fn get_set_wait_ex(void)
{
    return LOOKUP(set_wait_ex_fn, KERNEL32_NAME, SetThreadpoolWaitEx);
}

/* Threads of this process. */
static LONG process_threads(void)
{
#if defined(__MINGW32__)
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 entry;
    LONG count = 0;

    assert_true(snap != INVALID_HANDLE_VALUE);
    entry.dwSize = sizeof(entry);
    if (Thread32First(snap, &entry)) {
        do {
            if (entry.th32OwnerProcessID == GetCurrentProcessId())
                count++;
            entry.dwSize = sizeof(entry);
        } while (Thread32Next(snap, &entry));
    }
    CloseHandle(snap);
    return count;
#else
    /* One entry per thread, besides "." and "..". */
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *entry;
    LONG count = 0;

    assert_non_null(tasks);
    while ((entry = readdir(tasks)))
        count += entry->d_name[0] != '.';
    closedir(tasks);
    assert_true(count > 0);
    return count;
#endif
}

/* ---- callback state ------------------------------------------------------------ */

/* Records the callbacks of one or more waits. */
struct watcher {
    struct cb_record rec;
    PTP_WAIT wait;               /* the object the callback must be handed, if set */
    HANDLE rearm_handle;         /* if set, the callback re-arms the wait with it */
    LONG rearm_left;             /* re-arms still to do */
    volatile LONG signalled;     /* WAIT_OBJECT_0 callbacks */
    volatile LONG timeouts;      /* WAIT_TIMEOUT callbacks */
    LONGLONG first_us;           /* when the first callback started */
};

static void watcher_init(struct watcher *w)
{
    memset(w, 0, sizeof(*w));
    cb_record_init(&w->rec);
}

static void watcher_destroy(struct watcher *w)
{
    cb_record_destroy(&w->rec);
}

/* The end of most tests: no callback's check failed; the wait, its object
 * and the watcher go. */
static void watcher_finish_at(struct watcher *w, HANDLE object, const char *file, int line)
{
    probe_assert_clean_at(&w->rec.probe, file, line);
    CloseThreadpoolWait(w->wait);
    CloseHandle(object);
    watcher_destroy(w);
}
#define watcher_finish(w, object) watcher_finish_at((w), (object), __FILE__, __LINE__)

static void CALLBACK watcher_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                TP_WAIT_RESULT result)
{
    struct watcher *w = ctx;
    LONGLONG at = now_us();

    PROBE_CHECK(&w->rec.probe, inst != NULL);
    PROBE_CHECK(&w->rec.probe, w->wait == NULL || wait == w->wait);
    PROBE_CHECK(&w->rec.probe, result == WAIT_OBJECT_0 || result == WAIT_TIMEOUT);
    if (InterlockedIncrement(&w->rec.probe.hits) == 1)
        w->first_us = at;
    cb_record_enter(&w->rec);
    if (result == WAIT_OBJECT_0)
        InterlockedIncrement(&w->signalled);
    else if (result == WAIT_TIMEOUT)
        InterlockedIncrement(&w->timeouts);
    if (w->rearm_handle && w->rearm_left > 0) {
        w->rearm_left--;
        SetThreadpoolWait(wait, w->rearm_handle, NULL);
    }
    ReleaseSemaphore(w->rec.done_sem, 1, NULL);
}

static PTP_WAIT watcher_create(struct watcher *w, PTP_CALLBACK_ENVIRON env)
{
    w->wait = CreateThreadpoolWait(watcher_cb, w, env);
    assert_non_null(w->wait);
    return w->wait;
}

/* Asserts that a timeout came in time (helper.h). */
#define assert_came_in_time(start_us, at_us, due_ms) \
    assert_in_time("timed out", (start_us), (at_us), (due_ms), CLOCK_SLACK_MS)

/* ---- signals ---------------------------------------------------------------------- */

static void wait_event_set_runs_callback_once(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, NULL);
    helper_wait_not(w.rec.done_sem, 50);
    assert_true(SetEvent(event));
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 1);
    /* The wait took the auto-reset event's signal. */
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    /* One-shot: a second signal is nobody's. */
    assert_signal_unclaimed(&w.rec, event);
    watcher_finish(&w, event);
}

static void wait_signalled_before_set_runs_at_once(void **state)
{
    struct watcher w;
    HANDLE event = event_new(TRUE, TRUE);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, NULL);
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 1);
    helper_wait_not(w.rec.done_sem, QUIET_MS);
    watcher_finish(&w, event);
}

#define SHARED_WAITS 4

/* Several waits on one auto-reset event: each signal satisfies exactly one. */
static void wait_auto_event_one_callback_per_signal(void **state)
{
    struct watcher w[SHARED_WAITS];
    HANDLE event = event_new(FALSE, FALSE), done = CreateSemaphoreW(NULL, 0, 100, NULL);
    LONG total = 0;
    int i, signal;

    assert_non_null(done);
    for (i = 0; i < SHARED_WAITS; i++) {
        watcher_init(&w[i]);
        CloseHandle(w[i].rec.done_sem);
        w[i].rec.done_sem = done;
        watcher_create(&w[i], helper_env(state));
        SetThreadpoolWait(w[i].wait, event, NULL);
    }
    for (signal = 1; signal <= SHARED_WAITS; signal++) {
        assert_true(SetEvent(event));
        helper_wait(done);
        helper_wait_not(done, QUIET_MS);
        assert_int_equal(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
        for (total = 0, i = 0; i < SHARED_WAITS; i++)
            total += count_of(&w[i].signalled);
        assert_int_equal(total, signal);
    }
    /* Every wait was satisfied once. */
    for (i = 0; i < SHARED_WAITS; i++) {
        assert_int_equal(count_of(&w[i].signalled), 1);
        probe_assert_clean(&w[i].rec.probe);
        CloseThreadpoolWait(w[i].wait);
        w[i].rec.done_sem = NULL;
    }
    CloseHandle(done);
    CloseHandle(event);
}

static void wait_manual_event_wakes_all(void **state)
{
    struct watcher w[SHARED_WAITS];
    HANDLE event = event_new(TRUE, FALSE);
    int i;

    for (i = 0; i < SHARED_WAITS; i++) {
        watcher_init(&w[i]);
        watcher_create(&w[i], helper_env(state));
        SetThreadpoolWait(w[i].wait, event, NULL);
    }
    assert_true(SetEvent(event));
    for (i = 0; i < SHARED_WAITS; i++) {
        helper_wait(w[i].rec.done_sem);
        assert_int_equal(count_of(&w[i].signalled), 1);
        probe_assert_clean(&w[i].rec.probe);
        CloseThreadpoolWait(w[i].wait);
        watcher_destroy(&w[i]);
    }
    /* A manual-reset event stays set. */
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_OBJECT_0);
    CloseHandle(event);
}

static void wait_semaphore_release_n_satisfies_n(void **state)
{
    struct watcher w;
    PTP_WAIT waits[3];
    HANDLE sem = CreateSemaphoreW(NULL, 0, 10, NULL);
    LONG previous = -1;
    int i;

    assert_non_null(sem);
    watcher_init(&w);
    for (i = 0; i < 3; i++) {
        waits[i] = CreateThreadpoolWait(watcher_cb, &w, helper_env(state));
        assert_non_null(waits[i]);
        SetThreadpoolWait(waits[i], sem, NULL);
    }
    assert_true(ReleaseSemaphore(sem, 2, NULL));
    helper_wait(w.rec.done_sem);
    helper_wait(w.rec.done_sem);
    helper_wait_not(w.rec.done_sem, QUIET_MS);
    assert_int_equal(count_of(&w.signalled), 2);
    /* Both units were taken: the count is back to zero. */
    assert_true(ReleaseSemaphore(sem, 1, &previous));
    assert_int_equal(previous, 0);
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 3);
    for (i = 0; i < 3; i++)
        CloseThreadpoolWait(waits[i]);
    probe_assert_clean(&w.rec.probe);
    CloseHandle(sem);
    watcher_destroy(&w);
}

static DWORD WINAPI gated_thread(void *arg)
{
    return gate_pass(arg) ? 7 : 8;
}

static void wait_thread_handle_end_runs_callback(void **state)
{
    struct watcher w;
    struct gate gate;
    HANDLE thread;

    watcher_init(&w);
    gate_init(&gate);
    thread = CreateThread(NULL, 0, gated_thread, &gate, 0, NULL);
    assert_non_null(thread);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, thread, NULL);
    helper_wait_not(w.rec.done_sem, 50);
    gate_open(&gate, 1);
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 1);
    probe_assert_clean(&w.rec.probe);
    CloseThreadpoolWait(w.wait);
    CloseHandle(thread);
    gate_destroy(&gate);
    watcher_destroy(&w);
}

static void wait_rearm_from_callback_runs_again(void **state)
{
    struct watcher w;
    HANDLE sem = CreateSemaphoreW(NULL, 0, 10, NULL);

    assert_non_null(sem);
    watcher_init(&w);
    w.rearm_handle = sem;
    w.rearm_left = 2;
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, sem, NULL);
    assert_true(ReleaseSemaphore(sem, 3, NULL));
    helper_wait(w.rec.done_sem);
    helper_wait(w.rec.done_sem);
    helper_wait(w.rec.done_sem);
    helper_wait_not(w.rec.done_sem, QUIET_MS);
    assert_int_equal(count_of(&w.signalled), 3);
    watcher_finish(&w, sem);
}

/* ---- timeouts ---------------------------------------------------------------------- */

static void wait_relative_timeout_times_out_never_early(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);
    FILETIME timeout = relative_ms(100);
    LONGLONG start;

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    start = now_us();
    SetThreadpoolWait(w.wait, event, &timeout);
    helper_wait(w.rec.done_sem);
    assert_came_in_time(start, w.first_us, 100);
    assert_int_equal(count_of(&w.timeouts), 1);
    assert_int_equal(count_of(&w.signalled), 0);
    /* Timed out: a later signal is nobody's. */
    assert_signal_unclaimed(&w.rec, event);
    watcher_finish(&w, event);
}

static void wait_absolute_timeout_times_out(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);
    FILETIME timeout = absolute_in_ms(100);
    LONGLONG start = now_us();

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, &timeout);
    helper_wait(w.rec.done_sem);
    /* The system clock may lag a tick behind on Windows: 20 ms of slack. */
    assert_true(w.first_us - start >= (100 - 20) * 1000);
    assert_int_equal(count_of(&w.timeouts), 1);
    watcher_finish(&w, event);
}

static void wait_signal_before_timeout_is_object_0(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);
    FILETIME timeout = relative_ms(2000);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, &timeout);
    assert_true(SetEvent(event));
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 1);
    assert_int_equal(count_of(&w.timeouts), 0);
    watcher_finish(&w, event);
}

/*
 * A zero timeout checks once, as a zero-timeout WaitForSingleObject does
 * (and as Windows documents for RegisterWaitForSingleObject): WAIT_TIMEOUT
 * unless the handle is signalled right now.
 */
static void wait_zero_timeout_checks_once(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);
    FILETIME zero = { 0, 0 };

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, &zero);
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.timeouts), 1);
    assert_true(SetEvent(event));
    SetThreadpoolWait(w.wait, event, &zero);
    helper_wait(w.rec.done_sem);
    TODO_REF("Wine times out at once without looking at the handle") {
        CHECK_EQ(count_of(&w.signalled), 1);
        CHECK_EQ(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    }
    helper_wait_not(w.rec.done_sem, QUIET_MS);
    watcher_finish(&w, event);
}

/* The current process (never signalled while it runs) is a waitable handle. */
static void wait_current_process_times_out(void **state)
{
    struct watcher w;
    FILETIME timeout = relative_ms(20);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, GetCurrentProcess(), &timeout);
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.timeouts), 1);
    probe_assert_clean(&w.rec.probe);
    CloseThreadpoolWait(w.wait);
    watcher_destroy(&w);
}

/* ---- stopping and replacing ------------------------------------------------------- */

static void wait_set_null_stops_waiting(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);
    FILETIME timeout = relative_ms(100);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, &timeout);
    /* With a NULL handle the timeout is not even read. */
    SetThreadpoolWait(w.wait, NULL, (PFILETIME)(ULONG_PTR)0xdeadbeef);
    assert_signal_unclaimed(&w.rec, event);
    assert_int_equal(probe_hits(&w.rec.probe), 0);
    CloseThreadpoolWait(w.wait);
    CloseHandle(event);
    watcher_destroy(&w);
}

static void wait_set_again_replaces_handle(void **state)
{
    struct watcher w;
    HANDLE first = event_new(FALSE, FALSE), second = event_new(FALSE, FALSE);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, first, NULL);
    SetThreadpoolWait(w.wait, second, NULL);
    assert_true(SetEvent(first));
    helper_wait_not(w.rec.done_sem, QUIET_MS);
    assert_int_equal(WaitForSingleObject(first, 0), WAIT_OBJECT_0);
    assert_true(SetEvent(second));
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 1);
    probe_assert_clean(&w.rec.probe);
    CloseThreadpoolWait(w.wait);
    CloseHandle(first);
    CloseHandle(second);
    watcher_destroy(&w);
}

static void wait_setex_reports_cancelled_wait(void **state)
{
    set_wait_ex_fn set_ex = get_set_wait_ex();
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);

    /* Wine 8's kernel32 lacks it, and the launcher redirects only names it exports. */
    TODO_ON(MODE_WINE_REF | MODE_WINE_INJECT, "Wine 8 has no SetThreadpoolWaitEx")
        CHECK(set_ex != NULL);
    if (!set_ex)
        return;
    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    /* Never set: nothing to cancel. */
    assert_false(set_ex(w.wait, NULL, NULL, NULL));
    /* Set and pending: replacing it cancels it. */
    set_ex(w.wait, event, NULL, NULL);
    assert_true(set_ex(w.wait, event, NULL, NULL));
    assert_true(set_ex(w.wait, NULL, NULL, NULL));
    assert_false(set_ex(w.wait, NULL, NULL, NULL));
    /* Satisfied: its callback came, nothing is cancelled. */
    set_ex(w.wait, event, NULL, NULL);
    assert_true(SetEvent(event));
    helper_wait(w.rec.done_sem);
    assert_false(set_ex(w.wait, NULL, NULL, NULL));
    /* Timed out: the same. */
    {
        FILETIME zero = { 0, 0 };

        assert_false(set_ex(w.wait, event, &zero, NULL));
        helper_wait(w.rec.done_sem);
        assert_false(set_ex(w.wait, NULL, NULL, NULL));
    }
    assert_int_equal(count_of(&w.signalled), 1);
    assert_int_equal(count_of(&w.timeouts), 1);
    watcher_finish(&w, event);
}

/* ---- drains, close, groups ---------------------------------------------------------- */

/* WaitForThreadpoolWaitCallbacks waits for callbacks, not for the handle. */
static void wait_waitfor_keeps_wait_armed(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, NULL);
    WaitForThreadpoolWaitCallbacks(w.wait, TRUE);
    assert_int_equal(probe_hits(&w.rec.probe), 0);
    assert_true(SetEvent(event));
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), 1);
    watcher_finish(&w, event);
}

static void wait_waitfor_waits_for_running_callback(void **state)
{
    struct watcher w;
    struct gate gate;
    HANDLE event = event_new(FALSE, TRUE);

    watcher_init(&w);
    gate_init(&gate);
    w.rec.gate = &gate;
    w.rec.started_event = event_new(TRUE, FALSE);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, NULL);
    helper_wait(w.rec.started_event);
    gate_open(&gate, 1);
    WaitForThreadpoolWaitCallbacks(w.wait, FALSE);
    assert_int_equal(count_of(&w.signalled), 1);
    probe_assert_clean(&w.rec.probe);
    CloseThreadpoolWait(w.wait);
    CloseHandle(event);
    gate_destroy(&gate);
    watcher_destroy(&w);
}

/*
 * Until a semaphore of maximum 1 has been taken, releasing it fails and
 * changes nothing: polling that way sees a wait take it without taking it.
 */
static void wait_until_taken(HANDLE sem)
{
    DWORD start = GetTickCount();

    while (!ReleaseSemaphore(sem, 1, NULL)) {
        assert_int_equal(GetLastError(), ERROR_TOO_MANY_POSTS);
        assert_true(GetTickCount() - start < helper_timeout_ms());
        Sleep(1);
    }
}

/* A queued callback (the pool's only thread is busy) is dropped by a cancel. */
static void wait_waitfor_cancel_drops_queued_callback(void **state)
{
    struct helper_pool *hp = *state;
    struct watcher busy, w;
    struct gate gate;
    HANDLE busy_event = event_new(FALSE, TRUE), sem = CreateSemaphoreW(NULL, 1, 1, NULL);

    assert_non_null(sem);
    SetThreadpoolThreadMaximum(hp->pool, 1);
    watcher_init(&busy);
    watcher_init(&w);
    gate_init(&gate);
    busy.rec.gate = &gate;
    busy.rec.started_event = event_new(TRUE, FALSE);
    watcher_create(&busy, helper_env(state));
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(busy.wait, busy_event, NULL);
    helper_wait(busy.rec.started_event);
    /* Satisfied at once; its callback waits behind the busy one. */
    SetThreadpoolWait(w.wait, sem, NULL);
    wait_until_taken(sem);
#if defined(__MINGW32__)
    /* A system wait thread queues the callback just after it took the
     * semaphore, and nothing tells when: allow it a moment. */
    Sleep(100);
#endif
    WaitForThreadpoolWaitCallbacks(w.wait, TRUE);
    gate_open(&gate, 1);
    helper_wait(busy.rec.done_sem);
    WaitForThreadpoolWaitCallbacks(busy.wait, FALSE);
    helper_wait_not(w.rec.done_sem, QUIET_MS);
    assert_int_equal(probe_hits(&w.rec.probe), 0);
    probe_assert_clean(&busy.rec.probe);
    CloseThreadpoolWait(w.wait);
    CloseThreadpoolWait(busy.wait);
    CloseHandle(sem);
    CloseHandle(busy_event);
    gate_destroy(&gate);
    watcher_destroy(&busy);
    watcher_destroy(&w);
}

static void wait_close_armed_takes_nothing(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE);
    FILETIME timeout = relative_ms(50);

    watcher_init(&w);
    watcher_create(&w, helper_env(state));
    SetThreadpoolWait(w.wait, event, &timeout);
    CloseThreadpoolWait(w.wait);
    assert_signal_unclaimed(&w.rec, event);
    assert_int_equal(probe_hits(&w.rec.probe), 0);
    CloseHandle(event);
    watcher_destroy(&w);
}

static void CALLBACK close_self_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                   TP_WAIT_RESULT result)
{
    struct watcher *w = ctx;

    (void)inst;
    PROBE_CHECK(&w->rec.probe, result == WAIT_OBJECT_0);
    CloseThreadpoolWait(wait);
    probe_hit(&w->rec.probe);
    ReleaseSemaphore(w->rec.done_sem, 1, NULL);
}

static void wait_close_in_own_callback(void **state)
{
    struct watcher w;
    HANDLE event = event_new(FALSE, TRUE);
    PTP_WAIT wait;

    watcher_init(&w);
    wait = CreateThreadpoolWait(close_self_cb, &w, helper_env(state));
    assert_non_null(wait);
    SetThreadpoolWait(wait, event, NULL);
    helper_wait(w.rec.done_sem);
    probe_assert_clean(&w.rec.probe);
    CloseHandle(event);
    watcher_destroy(&w);
}

static void CALLBACK count_cancel_cb(PVOID object_ctx, PVOID cleanup_ctx)
{
    (void)object_ctx;
    InterlockedIncrement((volatile LONG *)cleanup_ctx);
}

/* Closing the members of a group stops its armed waits; their signals stay. */
static void wait_group_close_members_stops_waits(void **state)
{
    struct helper_pool *hp = *state;
    TP_CALLBACK_ENVIRON env = hp->env;
    PTP_CLEANUP_GROUP group = CreateThreadpoolCleanupGroup();
    struct watcher w;
    HANDLE event = event_new(FALSE, FALSE), fired = event_new(FALSE, TRUE);
    PTP_WAIT armed, done;
    volatile LONG cancels = 0;

    assert_non_null(group);
    watcher_init(&w);
    SetThreadpoolCallbackCleanupGroup(&env, group, count_cancel_cb);
    armed = CreateThreadpoolWait(watcher_cb, &w, &env);
    done = CreateThreadpoolWait(watcher_cb, &w, &env);
    assert_non_null(armed);
    assert_non_null(done);
    SetThreadpoolWait(armed, event, NULL);
    SetThreadpoolWait(done, fired, NULL);
    helper_wait(w.rec.done_sem);
    CloseThreadpoolCleanupGroupMembers(group, TRUE, (PVOID)&cancels);
    assert_int_equal(count_of(&cancels), 2);
    assert_signal_unclaimed(&w.rec, event);
    assert_int_equal(count_of(&w.signalled), 1);
    probe_assert_clean(&w.rec.probe);
    CloseThreadpoolCleanupGroup(group);
    CloseHandle(event);
    CloseHandle(fired);
    watcher_destroy(&w);
}

/* A wait callback is an ordinary instance: completion actions run. */
static void CALLBACK set_event_when_returns_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx,
                                              PTP_WAIT wait, TP_WAIT_RESULT result)
{
    (void)wait;
    (void)result;
    SetEventWhenCallbackReturns(inst, ctx);
}

static void wait_callback_instance_sets_event_when_returns(void **state)
{
    HANDLE done = event_new(TRUE, FALSE), event = event_new(FALSE, TRUE);
    PTP_WAIT wait = CreateThreadpoolWait(set_event_when_returns_cb, done, helper_env(state));

    assert_non_null(wait);
    SetThreadpoolWait(wait, event, NULL);
    helper_wait(done);
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    CloseThreadpoolWait(wait);
    CloseHandle(done);
    CloseHandle(event);
}

/* Re-arms itself with a 1 ms timeout until told to stop. */
struct racer {
    struct probe probe;
    HANDLE sem;
    volatile LONG stop;
    volatile LONG signalled;
    volatile LONG timeouts;
};

static void CALLBACK racer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                              TP_WAIT_RESULT result)
{
    struct racer *r = ctx;
    FILETIME timeout = relative_ms(1);

    (void)inst;
    PROBE_CHECK(&r->probe, result == WAIT_OBJECT_0 || result == WAIT_TIMEOUT);
    InterlockedIncrement(result == WAIT_OBJECT_0 ? &r->signalled : &r->timeouts);
    if (!InterlockedCompareExchange(&r->stop, 0, 0))
        SetThreadpoolWait(wait, r->sem, &timeout);
}

#define RACE_UNITS 300

/*
 * Signals race timeouts: every semaphore unit the wait takes is delivered
 * as WAIT_OBJECT_0 (a lost one would leave the count short forever), and
 * none is taken without a callback.
 */
static void wait_timeout_races_signal_never_loses_one(void **state)
{
    struct racer r;
    struct probe zero = PROBE_INIT;
    FILETIME timeout = relative_ms(1);
    PTP_WAIT wait;
    LONG previous = -1;
    int i;

    memset(&r, 0, sizeof(r));
    r.probe = zero;
    r.sem = CreateSemaphoreW(NULL, 0, RACE_UNITS, NULL);
    assert_non_null(r.sem);
    wait = CreateThreadpoolWait(racer_cb, &r, helper_env(state));
    assert_non_null(wait);
    SetThreadpoolWait(wait, r.sem, &timeout);
    for (i = 0; i < RACE_UNITS; i++) {
        assert_true(ReleaseSemaphore(r.sem, 1, NULL));
        if (i % 2 == 0)
            Sleep(1);   /* let timeouts happen in between, racing the releases */
    }
    assert_true(helper_wait_count(&r.signalled, RACE_UNITS));
    InterlockedExchange(&r.stop, 1);
    SetThreadpoolWait(wait, NULL, NULL);
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    SetThreadpoolWait(wait, NULL, NULL);
    assert_int_equal(count_of(&r.signalled), RACE_UNITS);
    assert_true(ReleaseSemaphore(r.sem, 1, &previous));
    assert_int_equal(previous, 0);
    print_message("%d units, %ld timeouts in between\n", RACE_UNITS, (long)count_of(&r.timeouts));
    probe_assert_clean(&r.probe);
    CloseThreadpoolWait(wait);
    CloseHandle(r.sem);
}

/* ---- refused handles ---------------------------------------------------------------- */

struct mutex_call {
    PTP_WAIT wait;
    HANDLE mutex;
};

static void set_wait_mutex(void *arg)
{
    struct mutex_call *c = arg;

    SetThreadpoolWait(c->wait, c->mutex, NULL);
}

/*
 * Windows refuses a mutex: the wait would own it on a thread that never
 * releases it.  It raises STATUS_THREADPOOL_HANDLE_EXCEPTION with
 * STATUS_INVALID_PARAMETER_3; Linux has no exceptions and stops the process
 * (checked in a child process).
 */
static void wait_mutex_refused(void **state)
{
    struct mutex_call c = { NULL, CreateMutexW(NULL, FALSE, NULL) };
    struct watcher w;

    assert_non_null(c.mutex);
    watcher_init(&w);
    c.wait = watcher_create(&w, helper_env(state));
    TODO_REF("Wine waits for a mutex") {
        CHECK(helper_refused(set_wait_mutex, &c));
        /* Nothing armed (on Wine, whatever it did is stopped here). */
        SetThreadpoolWait(w.wait, NULL, NULL);
        WaitForThreadpoolWaitCallbacks(w.wait, TRUE);
        CHECK_EQ(probe_hits(&w.rec.probe), 0);
    }
#if !defined(__MINGW32__)
    /* The parent's wait is untouched and works. */
    SetThreadpoolWait(w.wait, GetCurrentProcess(), &(FILETIME){ 0, 0 });
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.timeouts), 1);
#endif
    probe_assert_clean(&w.rec.probe);
    CloseThreadpoolWait(w.wait);
    CloseHandle(c.mutex);
    watcher_destroy(&w);
}

/* ---- scale ------------------------------------------------------------------------- */

#define MANY_WAITS 1000

/*
 * Waits cost no threads: natively none at all (a signal dispatches the
 * callback from the signalling thread); the DLL at most one per 63 armed
 * waits (the system's WaitForMultipleObjects limit), and none for waits
 * that are not set.  The reference reserves threads for every 63 waits
 * created, set or not: skipped there.
 */
static void wait_many_waits_add_no_threads(void **state)
{
    struct watcher w;
    PTP_WAIT *waits = calloc(MANY_WAITS, sizeof(*waits));
    HANDLE *events = calloc(MANY_WAITS, sizeof(*events));
    HANDLE warm_event = event_new(FALSE, FALSE);
    PTP_WAIT warm;
    LONG before, created, armed;
    int i;

    if (!helper_is_kernel32_tp()) {
        print_message("skipped: Wine's pool reserves a thread for every 63 waits created\n");
        free(waits);
        free(events);
        CloseHandle(warm_event);
        skip();
    }
    assert_non_null(waits);
    assert_non_null(events);
    watcher_init(&w);
    /* The first wait of the process may start the timer thread (timeouts). */
    warm = CreateThreadpoolWait(watcher_cb, &w, helper_env(state));
    assert_non_null(warm);
    SetThreadpoolWait(warm, warm_event, NULL);
    before = process_threads();
    for (i = 0; i < MANY_WAITS; i++) {
        events[i] = event_new(FALSE, FALSE);
        waits[i] = CreateThreadpoolWait(watcher_cb, &w, helper_env(state));
        assert_non_null(waits[i]);
    }
    created = process_threads();
    for (i = 0; i < MANY_WAITS; i++)
        SetThreadpoolWait(waits[i], events[i], NULL);
    armed = process_threads();
    print_message("threads: %ld before, %ld with %d waits created, %ld with them set\n",
                  (long)before, (long)created, MANY_WAITS, (long)armed);
    /* "No thread added": an idle worker may retire meanwhile (a slow,
     * sanitized run), so the count may also drop. */
    assert_true(created <= before);
#if defined(__MINGW32__)
    assert_true(armed <= before + (MANY_WAITS + 62) / 63);
#else
    assert_true(armed <= before);
#endif
    for (i = 0; i < MANY_WAITS; i++)
        assert_true(SetEvent(events[i]));
    for (i = 0; i < MANY_WAITS; i++)
        helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.signalled), MANY_WAITS);
    probe_assert_clean(&w.rec.probe);
    for (i = 0; i < MANY_WAITS; i++) {
        CloseThreadpoolWait(waits[i]);
        CloseHandle(events[i]);
    }
    CloseThreadpoolWait(warm);
    CloseHandle(warm_event);
    free(waits);
    free(events);
    watcher_destroy(&w);
}

/*
 * Waits set in a burst, while an earlier wait is armed: a signal of the
 * earlier one in the middle of the burst is delivered, waits set and then
 * stopped within the burst never run, and every other one runs once when
 * signalled.  (The DLL gathers a burst of arms before it waits for them.)
 */
#define BURST_WAITS 150

static void wait_burst_of_sets_keeps_every_wait(void **state)
{
    struct watcher early, kept, stopped;
    PTP_WAIT *waits = calloc(BURST_WAITS, sizeof(*waits));
    HANDLE *events = calloc(BURST_WAITS, sizeof(*events));
    HANDLE early_event = event_new(FALSE, FALSE);
    int i, n_kept = 0;

    assert_non_null(waits);
    assert_non_null(events);
    watcher_init(&early);
    watcher_init(&kept);
    watcher_init(&stopped);
    watcher_create(&early, helper_env(state));
    SetThreadpoolWait(early.wait, early_event, NULL);
    for (i = 0; i < BURST_WAITS; i++) {
        events[i] = event_new(FALSE, FALSE);
        waits[i] = CreateThreadpoolWait(watcher_cb, i % 10 == 3 ? &stopped : &kept,
                                        helper_env(state));
        assert_non_null(waits[i]);
    }
    for (i = 0; i < BURST_WAITS; i++) {
        SetThreadpoolWait(waits[i], events[i], NULL);
        if (i == BURST_WAITS / 2)
            assert_true(SetEvent(early_event));
        /* Stopped a few sets later, still within the burst. */
        if (i >= 2 && (i - 2) % 10 == 3)
            SetThreadpoolWait(waits[i - 2], NULL, NULL);
    }
    for (i = 0; i < BURST_WAITS; i++)
        if (i % 10 == 3)
            SetThreadpoolWait(waits[i], NULL, NULL);   /* the last ones */
    helper_wait(early.rec.done_sem);
    assert_int_equal(count_of(&early.signalled), 1);
    for (i = 0; i < BURST_WAITS; i++) {
        assert_true(SetEvent(events[i]));
        n_kept += i % 10 != 3;
    }
    for (i = 0; i < n_kept; i++)
        helper_wait(kept.rec.done_sem);
    assert_int_equal(count_of(&kept.signalled), n_kept);
    /* The stopped ones left their signals to nobody. */
    for (i = 0; i < BURST_WAITS; i++) {
        WaitForThreadpoolWaitCallbacks(waits[i], FALSE);
        assert_int_equal(WaitForSingleObject(events[i], 0),
                         i % 10 == 3 ? WAIT_OBJECT_0 : WAIT_TIMEOUT);
    }
    assert_int_equal(probe_hits(&stopped.rec.probe), 0);
    probe_assert_clean(&kept.rec.probe);
    for (i = 0; i < BURST_WAITS; i++) {
        CloseThreadpoolWait(waits[i]);
        CloseHandle(events[i]);
    }
    watcher_finish(&early, early_event);
    watcher_destroy(&kept);
    watcher_destroy(&stopped);
    free(waits);
    free(events);
}

/* ---- ntdll names ------------------------------------------------------------------- */

static void wait_ntdll_names_roundtrip(void **state)
{
    tp_alloc_wait_fn alloc = LOOKUP(tp_alloc_wait_fn, NTDLL_NAME, TpAllocWait);
    tp_set_wait_fn set = LOOKUP(tp_set_wait_fn, NTDLL_NAME, TpSetWait);
    tp_set_wait_ex_fn set_ex = LOOKUP(tp_set_wait_ex_fn, NTDLL_NAME, TpSetWaitEx);
    tp_wait_for_wait_fn wait_for = LOOKUP(tp_wait_for_wait_fn, NTDLL_NAME, TpWaitForWait);
    tp_release_wait_fn release = LOOKUP(tp_release_wait_fn, NTDLL_NAME, TpReleaseWait);
    HANDLE event = event_new(FALSE, FALSE);
    LARGE_INTEGER timeout;
    struct watcher w;
    TP_WAIT *wait = NULL;

    SKIP_UNLESS_NTDLL_MATCHES();
    assert_non_null(alloc);
    assert_non_null(set);
    assert_non_null(wait_for);
    assert_non_null(release);
    watcher_init(&w);
    assert_int_equal(alloc(&wait, watcher_cb, &w, helper_env(state)), 0);
    assert_non_null(wait);
    w.wait = wait;
    timeout.QuadPart = -10 * 10000;
    set(wait, event, &timeout);
    helper_wait(w.rec.done_sem);
    assert_int_equal(count_of(&w.timeouts), 1);
    set(wait, event, NULL);
    assert_true(SetEvent(event));
    helper_wait(w.rec.done_sem);
    wait_for(wait, FALSE);
    assert_int_equal(count_of(&w.signalled), 1);
    TODO_ON(MODE_WINE_REF | MODE_WINE_INJECT, "Wine 8 has no TpSetWaitEx") CHECK(set_ex != NULL);
    if (set_ex) {
        set_ex(wait, event, NULL, NULL);
        assert_true(set_ex(wait, NULL, NULL, NULL));
    }
    probe_assert_clean(&w.rec.probe);
    release(wait);
    CloseHandle(event);
    watcher_destroy(&w);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(wait_event_set_runs_callback_once),
        POOL_TEST(wait_signalled_before_set_runs_at_once),
        POOL_TEST(wait_auto_event_one_callback_per_signal),
        POOL_TEST(wait_manual_event_wakes_all),
        POOL_TEST(wait_semaphore_release_n_satisfies_n),
        POOL_TEST(wait_thread_handle_end_runs_callback),
        POOL_TEST(wait_rearm_from_callback_runs_again),
        POOL_TEST(wait_relative_timeout_times_out_never_early),
        POOL_TEST(wait_absolute_timeout_times_out),
        POOL_TEST(wait_signal_before_timeout_is_object_0),
        POOL_TEST(wait_zero_timeout_checks_once),
        POOL_TEST(wait_current_process_times_out),
        POOL_TEST(wait_timeout_races_signal_never_loses_one),
        POOL_TEST(wait_set_null_stops_waiting),
        POOL_TEST(wait_set_again_replaces_handle),
        POOL_TEST(wait_setex_reports_cancelled_wait),
        POOL_TEST(wait_waitfor_keeps_wait_armed),
        POOL_TEST(wait_waitfor_waits_for_running_callback),
        POOL_TEST(wait_waitfor_cancel_drops_queued_callback),
        POOL_TEST(wait_close_armed_takes_nothing),
        POOL_TEST(wait_close_in_own_callback),
        POOL_TEST(wait_group_close_members_stops_waits),
        POOL_TEST(wait_callback_instance_sets_event_when_returns),
        POOL_TEST(wait_mutex_refused),
        POOL_TEST(wait_many_waits_add_no_threads),
        POOL_TEST(wait_burst_of_sets_keeps_every_wait),
        POOL_TEST(wait_ntdll_names_roundtrip),
    };

    return cmocka_run_group_tests_name("wait", tests, NULL, NULL);
}

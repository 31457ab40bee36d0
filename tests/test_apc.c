/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User APCs and alertable waits: QueueUserAPC to the current thread and to
 * another one, FIFO order, WAIT_IO_COMPLETION from SleepEx and the
 * WaitFor*Ex calls, APCs queued before the wait run at once unless an
 * object satisfies the wait first, non-alertable waits leave them queued, an APC wakes a thread already in an alertable
 * wait; OpenThread by id.
 */
#include <string.h>

#include "helper.h"

/* The order the APCs ran in, and on which thread. */
struct apc_log {
    volatile LONG count;
    ULONG_PTR order[8];
    DWORD tid[8];
};

static struct apc_log apc_log;

static void CALLBACK apc_record(ULONG_PTR arg)
{
    LONG n = InterlockedIncrement(&apc_log.count) - 1;

    if (n < 8) {
        apc_log.order[n] = arg;
        apc_log.tid[n] = GetCurrentThreadId();
    }
}

static void apc_reset(void)
{
    memset(&apc_log, 0, sizeof(apc_log));
}

static void apc_sleep_alertable_runs_queued_in_order(void **state)
{
    DWORD ret;

    (void)state;
    apc_reset();
    assert_int_not_equal(QueueUserAPC(apc_record, GetCurrentThread(), 1), 0);
    assert_int_not_equal(QueueUserAPC(apc_record, GetCurrentThread(), 2), 0);
    assert_int_not_equal(QueueUserAPC(apc_record, GetCurrentThread(), 3), 0);
    /* Queued, not run: nothing runs an APC outside an alertable wait. */
    assert_int_equal(apc_log.count, 0);
    ret = SleepEx(0, TRUE);
    assert_int_equal(ret, WAIT_IO_COMPLETION);
    assert_int_equal(apc_log.count, 3);
    assert_int_equal(apc_log.order[0], 1);
    assert_int_equal(apc_log.order[1], 2);
    assert_int_equal(apc_log.order[2], 3);
    assert_int_equal(apc_log.tid[0], GetCurrentThreadId());
    /* None left: an alertable sleep now just sleeps. */
    assert_int_equal(SleepEx(0, TRUE), 0);
    assert_int_equal(apc_log.count, 3);
}

static void apc_not_run_by_plain_waits(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    apc_reset();
    assert_non_null(event);
    assert_int_not_equal(QueueUserAPC(apc_record, GetCurrentThread(), 7), 0);
    assert_int_equal(WaitForSingleObject(event, 10), WAIT_TIMEOUT);
    assert_int_equal(WaitForSingleObjectEx(event, 10, FALSE), WAIT_TIMEOUT);
    assert_int_equal(SleepEx(10, FALSE), 0);
    Sleep(0);
    assert_int_equal(apc_log.count, 0);
    /* A signalled object satisfies even an alertable wait: the APC stays. */
    SetEvent(event);
    assert_int_equal(WaitForSingleObjectEx(event, 0, TRUE), WAIT_OBJECT_0);
    assert_int_equal(apc_log.count, 0);
    /* A wait that is not satisfied at once runs it, even with no time. */
    ResetEvent(event);
    assert_int_equal(WaitForSingleObjectEx(event, 0, TRUE), WAIT_IO_COMPLETION);
    assert_int_equal(apc_log.count, 1);
    CloseHandle(event);
}

static void apc_wait_multiple_alertable(void **state)
{
    HANDLE events[2];
    DWORD ret;

    (void)state;
    apc_reset();
    events[0] = CreateEventW(NULL, FALSE, FALSE, NULL);
    events[1] = CreateEventW(NULL, FALSE, FALSE, NULL);
    assert_int_not_equal(QueueUserAPC(apc_record, GetCurrentThread(), 5), 0);
    ret = WaitForMultipleObjectsEx(2, events, FALSE, INFINITE, TRUE);
    assert_int_equal(ret, WAIT_IO_COMPLETION);
    assert_int_equal(apc_log.count, 1);
    /* An auto-reset event set before the wait is still there: nothing was
     * consumed by the wait the APC ended. */
    SetEvent(events[1]);
    assert_int_not_equal(QueueUserAPC(apc_record, GetCurrentThread(), 6), 0);
    ret = WaitForMultipleObjectsEx(2, events, TRUE, 0, TRUE);
    assert_int_equal(ret, WAIT_IO_COMPLETION);
    assert_int_equal(WaitForSingleObject(events[1], 0), WAIT_OBJECT_0);
    CloseHandle(events[0]);
    CloseHandle(events[1]);
}

struct sleeper {
    HANDLE ready;           /* set just before the alertable wait */
    HANDLE never;           /* never signalled */
    DWORD result;
    DWORD tid;
};

static DWORD WINAPI sleeper_thread(void *arg)
{
    struct sleeper *s = arg;

    s->tid = GetCurrentThreadId();
    SetEvent(s->ready);
    s->result = WaitForSingleObjectEx(s->never, helper_timeout_ms(), TRUE);
    return 0;
}

static DWORD WINAPI sleepex_thread(void *arg)
{
    struct sleeper *s = arg;

    s->tid = GetCurrentThreadId();
    SetEvent(s->ready);
    s->result = SleepEx(helper_timeout_ms(), TRUE);
    return 0;
}

/* An APC queued to a thread in an alertable wait wakes it and runs there. */
static void apc_wakes_alertable_waiter(void **state)
{
    LPTHREAD_START_ROUTINE fns[2] = { sleeper_thread, sleepex_thread };
    struct sleeper s;
    HANDLE thread;
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        apc_reset();
        memset(&s, 0, sizeof(s));
        s.ready = CreateEventW(NULL, TRUE, FALSE, NULL);
        s.never = CreateEventW(NULL, TRUE, FALSE, NULL);
        thread = CreateThread(NULL, 0, fns[i], &s, 0, NULL);
        assert_non_null(thread);
        helper_wait(s.ready);
        /* Whether it already sleeps or is about to: the APC ends the wait. */
        assert_int_not_equal(QueueUserAPC(apc_record, thread, 42), 0);
        helper_wait(thread);
        assert_int_equal(s.result, WAIT_IO_COMPLETION);
        assert_int_equal(apc_log.count, 1);
        assert_int_equal(apc_log.order[0], 42);
        assert_int_equal(apc_log.tid[0], s.tid);
        CloseHandle(thread);
        CloseHandle(s.ready);
        CloseHandle(s.never);
    }
}

#define RACE_ROUNDS 2000

struct racer {
    HANDLE sem;
    volatile LONG units;        /* semaphore units the waiter got */
    volatile LONG apcs;         /* APCs that ran on the waiter */
    DWORD other;                /* an unexpected wait result, or 0 */
};

static void CALLBACK racer_apc(ULONG_PTR arg)
{
    InterlockedIncrement(&((struct racer *)arg)->apcs);
}

static DWORD WINAPI racer_thread(void *arg)
{
    struct racer *r = arg;
    DWORD deadline = GetTickCount() + helper_timeout_ms(), ret;

    while ((r->units < RACE_ROUNDS || r->apcs < RACE_ROUNDS)
           && (LONG)(deadline - GetTickCount()) > 0) {
        ret = WaitForSingleObjectEx(r->sem, 100, TRUE);
        if (ret == WAIT_OBJECT_0)
            InterlockedIncrement(&r->units);
        else if (ret != WAIT_IO_COMPLETION && ret != WAIT_TIMEOUT)
            r->other = ret;
    }
    return 0;
}

/* Units and APCs arriving together: each wait ends by exactly one of them,
 * so no unit is consumed for a wait that reports an APC (it would be lost). */
static void apc_races_with_signal_none_lost(void **state)
{
    struct racer r;
    HANDLE thread;
    int i;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.sem = CreateSemaphoreW(NULL, 0, RACE_ROUNDS, NULL);
    assert_non_null(r.sem);
    thread = CreateThread(NULL, 0, racer_thread, &r, 0, NULL);
    assert_non_null(thread);
    for (i = 0; i < RACE_ROUNDS; i++) {
        assert_true(ReleaseSemaphore(r.sem, 1, NULL));
        assert_int_not_equal(QueueUserAPC(racer_apc, thread, (ULONG_PTR)&r), 0);
    }
    helper_wait(thread);
    assert_int_equal(r.other, 0);
    assert_int_equal(r.apcs, RACE_ROUNDS);
    assert_int_equal(r.units, RACE_ROUNDS);
    assert_int_equal(WaitForSingleObject(r.sem, 0), WAIT_TIMEOUT);
    CloseHandle(thread);
    CloseHandle(r.sem);
}

static void apc_to_ended_thread_fails(void **state)
{
    struct sleeper s;
    HANDLE thread;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    s.never = CreateEventW(NULL, TRUE, TRUE, NULL);     /* signalled: no wait */
    thread = CreateThread(NULL, 0, sleeper_thread, &s, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    assert_int_equal(s.result, WAIT_OBJECT_0);
    SetLastError(0xdeadbeef);
    assert_int_equal(QueueUserAPC(apc_record, thread, 1), 0);
    assert_int_not_equal(GetLastError(), 0xdeadbeef);
    CloseHandle(thread);
    CloseHandle(s.ready);
    CloseHandle(s.never);
}

static void apc_bad_handle_invalid_handle(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    SetLastError(0xdeadbeef);
    assert_int_equal(QueueUserAPC(apc_record, event, 1), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    CloseHandle(event);
}

static DWORD WINAPI exit_at_once(void *arg)
{
    (void)arg;
    return 0;
}

/* OpenThread gives the thread itself: APCs reach it, its end signals it. */
static void apc_open_thread_by_id(void **state)
{
    struct sleeper s;
    HANDLE thread, opened, self;
    DWORD tid;

    (void)state;
    apc_reset();
    memset(&s, 0, sizeof(s));
    s.ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    s.never = CreateEventW(NULL, TRUE, FALSE, NULL);
    thread = CreateThread(NULL, 0, sleeper_thread, &s, 0, &tid);
    assert_non_null(thread);
    opened = OpenThread(THREAD_ALL_ACCESS, FALSE, tid);
    assert_non_null(opened);
    assert_ptr_not_equal(opened, thread);
    helper_wait(s.ready);
    assert_int_not_equal(QueueUserAPC(apc_record, opened, 9), 0);
    helper_wait(opened);
    assert_int_equal(s.result, WAIT_IO_COMPLETION);
    assert_int_equal(apc_log.order[0], 9);
    CloseHandle(opened);
    CloseHandle(thread);

    /* The current thread, by id. */
    self = OpenThread(THREAD_ALL_ACCESS, FALSE, GetCurrentThreadId());
    assert_non_null(self);
    assert_int_equal(WaitForSingleObject(self, 0), WAIT_TIMEOUT);
    assert_int_not_equal(QueueUserAPC(apc_record, self, 10), 0);
    assert_int_equal(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
    assert_int_equal(apc_log.order[1], 10);
    CloseHandle(self);

    /* An id that names no thread (an ended thread's, not reused yet). */
    thread = CreateThread(NULL, 0, exit_at_once, NULL, 0, &tid);
    assert_non_null(thread);
    helper_wait(thread);
    CloseHandle(thread);
    SetLastError(0xdeadbeef);
    opened = OpenThread(THREAD_ALL_ACCESS, FALSE, tid);
    if (opened) {   /* the id was taken again meanwhile: nothing to check */
        CloseHandle(opened);
    } else {
        assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    }
    SetLastError(0xdeadbeef);
    assert_null(OpenThread(THREAD_ALL_ACCESS, FALSE, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    CloseHandle(s.ready);
    CloseHandle(s.never);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apc_sleep_alertable_runs_queued_in_order),
        cmocka_unit_test(apc_not_run_by_plain_waits),
        cmocka_unit_test(apc_wait_multiple_alertable),
        cmocka_unit_test(apc_wakes_alertable_waiter),
        cmocka_unit_test(apc_races_with_signal_none_lost),
        cmocka_unit_test(apc_to_ended_thread_fails),
        cmocka_unit_test(apc_bad_handle_invalid_handle),
        cmocka_unit_test(apc_open_thread_by_id),
    };

    return cmocka_run_group_tests_name("apc", tests, NULL, NULL);
}

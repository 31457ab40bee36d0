/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Registered waits: RegisterWaitForSingleObject(Ex), UnregisterWait and
 * UnregisterWaitEx, with the WT_ flags and the completion-event rules
 * (NULL, INVALID_HANDLE_VALUE, an event), also from the wait's own
 * callback.  Callbacks only record; the test thread asserts.  Where Wine's
 * pool is known to differ from Windows, the check is marked TODO_REF.
 */
#include <stdio.h>
#include <string.h>

#include "helper.h"

#if defined(__MINGW32__)
/* The Windows 2000 form, exported by kernel32; mingw-w64 does not declare it. */
HANDLE WINAPI RegisterWaitForSingleObjectEx(HANDLE handle, WAITORTIMERCALLBACK callback,
                                            PVOID context, ULONG timeout_ms, ULONG flags);
#endif

/* ---- callback state ------------------------------------------------------------ */

enum unregister_kind {
    UNREGISTER_NONE,
    UNREGISTER_NULL,            /* UnregisterWait(own) */
    UNREGISTER_BLOCKING,        /* UnregisterWaitEx(own, INVALID_HANDLE_VALUE) */
    UNREGISTER_EVENT,           /* UnregisterWaitEx(own, completion) */
};

/* Records the callbacks of one registered wait. */
struct reg {
    struct cb_record rec;        /* done_sem is released last */
    HANDLE wait;                 /* the registered wait (for unregistering from its callback) */
    BOOL check_wait;             /* record r->wait in seen_wait (the call stored it) */
    HANDLE seen_wait;            /* r->wait as the first callback found it on entry */
    volatile LONG thread;        /* the thread of the last callback */
    volatile LONG signalled;     /* TimerOrWaitFired FALSE */
    volatile LONG timeouts;      /* TimerOrWaitFired TRUE */
    LONGLONG first_us;
    enum unregister_kind unregister;    /* what the first callback does */
    HANDLE completion;           /* for UNREGISTER_EVENT */
    BOOL unregister_ret;
    DWORD unregister_err;
    DWORD completion_in_callback;   /* WaitForSingleObject(completion, 0) after unregistering */
};

static void reg_init(struct reg *r)
{
    memset(r, 0, sizeof(*r));
    cb_record_init(&r->rec);
}

static void reg_destroy(struct reg *r)
{
    cb_record_destroy(&r->rec);
    if (r->completion)
        CloseHandle(r->completion);
}

static void CALLBACK reg_cb(PVOID ctx, BOOLEAN timed_out)
{
    struct reg *r = ctx;
    LONGLONG at = now_us();

    if (InterlockedIncrement(&r->rec.probe.hits) == 1) {
        /* Atomic: RegisterWaitForSingleObjectEx's caller stores the handle
         * it returns while the callback may run already. */
        HANDLE wait = __atomic_load_n(&r->wait, __ATOMIC_ACQUIRE);

        r->first_us = at;
        /* Only where the registering call itself stores r->wait: the Ex form
         * returns it, and the test stores it, racing with the callback. */
        if (r->check_wait)
            r->seen_wait = wait;
        if (r->unregister != UNREGISTER_NONE) {
            SetLastError(0xdeadbeef);
            if (r->unregister == UNREGISTER_NULL)
                r->unregister_ret = UnregisterWait(wait);
            else
                r->unregister_ret = UnregisterWaitEx(wait,
                                                     r->unregister == UNREGISTER_EVENT
                                                     ? r->completion : INVALID_HANDLE_VALUE);
            r->unregister_err = GetLastError();
            if (r->completion)
                r->completion_in_callback = WaitForSingleObject(r->completion, 0);
        }
    }
    InterlockedExchange(&r->thread, (LONG)GetCurrentThreadId());
    cb_record_enter(&r->rec);
    if (timed_out)
        InterlockedIncrement(&r->timeouts);
    else
        InterlockedIncrement(&r->signalled);
    ReleaseSemaphore(r->rec.done_sem, 1, NULL);
}

/*
 * Unregisters and waits until the wait is gone (its event is set): the end
 * of most tests.  Outstanding callbacks make it ERROR_IO_PENDING.
 */
static void reg_unregister_done(HANDLE wait)
{
    HANDLE completion = CreateEventW(NULL, TRUE, FALSE, NULL);
    BOOL ret;

    assert_non_null(completion);
    SetLastError(0xdeadbeef);
    ret = UnregisterWaitEx(wait, completion);
    if (!ret)
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    helper_wait(completion);
    CloseHandle(completion);
}

static void reg_register(struct reg *r, HANDLE handle, DWORD timeout_ms, ULONG flags)
{
    assert_true(RegisterWaitForSingleObject(&r->wait, handle, reg_cb, r, timeout_ms, flags));
    assert_non_null(r->wait);
}

/* ---- signals and timeouts ---------------------------------------------------------- */

static void registerwait_signal_runs_callback(void **state)
{
    struct reg r;
    HANDLE event = event_new(FALSE, FALSE);

    (void)state;
    reg_init(&r);
    reg_register(&r, event, INFINITE, WT_EXECUTEONLYONCE);
    helper_wait_not(r.rec.done_sem, 50);
    assert_true(SetEvent(event));
    helper_wait(r.rec.done_sem);
    assert_int_equal(count_of(&r.signalled), 1);
    assert_int_equal(count_of(&r.timeouts), 0);
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    /* Only once: the next signal is nobody's. */
    assert_true(SetEvent(event));
    helper_wait_not(r.rec.done_sem, QUIET_MS);
    reg_unregister_done(r.wait);
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_OBJECT_0);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    reg_destroy(&r);
}

static void registerwait_timeout_runs_callback_timed_out(void **state)
{
    struct reg r;
    HANDLE event = event_new(FALSE, FALSE);
    LONGLONG start, elapsed_us;

    (void)state;
    reg_init(&r);
    start = now_us();
    reg_register(&r, event, 100, WT_EXECUTEONLYONCE);
    helper_wait(r.rec.done_sem);
    elapsed_us = r.first_us - start;
    assert_true(elapsed_us >= (100 - CLOCK_SLACK_MS) * 1000);
    assert_true(elapsed_us <= (100 + LATE_BOUND_MS) * 1000);
    assert_int_equal(count_of(&r.timeouts), 1);
    assert_int_equal(count_of(&r.signalled), 0);
    reg_unregister_done(r.wait);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    reg_destroy(&r);
}

/* A zero timeout tests the object once. */
static void registerwait_zero_timeout_tests_once(void **state)
{
    struct reg r, s;
    HANDLE event = event_new(FALSE, FALSE), set = event_new(FALSE, TRUE);

    (void)state;
    reg_init(&r);
    reg_init(&s);
    reg_register(&r, event, 0, WT_EXECUTEONLYONCE);
    helper_wait(r.rec.done_sem);
    assert_int_equal(count_of(&r.timeouts), 1);
    reg_register(&s, set, 0, WT_EXECUTEONLYONCE);
    helper_wait(s.rec.done_sem);
    TODO_REF("Wine times out at once without looking at the handle")
        CHECK_EQ(count_of(&s.signalled), 1);
    reg_unregister_done(r.wait);
    reg_unregister_done(s.wait);
    probe_assert_clean(&r.rec.probe);
    probe_assert_clean(&s.rec.probe);
    CloseHandle(event);
    CloseHandle(set);
    reg_destroy(&r);
    reg_destroy(&s);
}

/* Without WT_EXECUTEONLYONCE the wait goes on after each callback. */
static void registerwait_without_onlyonce_waits_again(void **state)
{
    struct reg r;
    HANDLE event = event_new(FALSE, FALSE);
    int i;

    (void)state;
    reg_init(&r);
    reg_register(&r, event, INFINITE, WT_EXECUTEDEFAULT);
    for (i = 1; i <= 3; i++) {
        assert_true(SetEvent(event));
        helper_wait(r.rec.done_sem);
        assert_int_equal(count_of(&r.signalled), i);
    }
    reg_unregister_done(r.wait);
    assert_true(SetEvent(event));
    helper_wait_not(r.rec.done_sem, QUIET_MS);
    assert_int_equal(count_of(&r.signalled), 3);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    reg_destroy(&r);
}

static void registerwait_without_onlyonce_times_out_again(void **state)
{
    struct reg r;
    HANDLE event = event_new(FALSE, FALSE);

    (void)state;
    reg_init(&r);
    reg_register(&r, event, 20, WT_EXECUTEDEFAULT);
    helper_wait(r.rec.done_sem);
    TODO_REF("Wine does not restart the timeout of a wait without WT_EXECUTEONLYONCE") {
        CHECK(WaitForSingleObject(r.rec.done_sem, helper_timeout_ms()) == WAIT_OBJECT_0 &&
              WaitForSingleObject(r.rec.done_sem, helper_timeout_ms()) == WAIT_OBJECT_0);
        CHECK(count_of(&r.timeouts) >= 3);
    }
    reg_unregister_done(r.wait);
    assert_int_equal(count_of(&r.signalled), 0);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    reg_destroy(&r);
}

static void registerwait_ex_returns_wait_handle(void **state)
{
    struct reg r;
    HANDLE event = event_new(TRUE, TRUE);

    (void)state;
    reg_init(&r);
    InterlockedExchangePointer(&r.wait, RegisterWaitForSingleObjectEx(
        event, reg_cb, &r, INFINITE, WT_EXECUTEONLYONCE | WT_EXECUTELONGFUNCTION));
    assert_non_null(r.wait);
    helper_wait(r.rec.done_sem);
    assert_int_equal(count_of(&r.signalled), 1);
    reg_unregister_done(r.wait);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    reg_destroy(&r);
}

/* The thread-choosing flags change nothing that can be seen. */
static void registerwait_thread_flags_accepted(void **state)
{
    static const ULONG flags[] = {
        WT_EXECUTEINIOTHREAD, WT_EXECUTEINPERSISTENTTHREAD, WT_EXECUTELONGFUNCTION,
        WT_EXECUTEINWAITTHREAD,
    };
    struct reg r;
    HANDLE event = event_new(TRUE, TRUE);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        reg_init(&r);
        reg_register(&r, event, INFINITE, flags[i] | WT_EXECUTEONLYONCE);
        helper_wait(r.rec.done_sem);
        assert_int_equal(count_of(&r.signalled), 1);
        reg_unregister_done(r.wait);
        probe_assert_clean(&r.rec.probe);
        reg_destroy(&r);
    }
    CloseHandle(event);
}

/* ---- unregistering ------------------------------------------------------------------ */

static void registerwait_unregister_null_invalid_handle(void **state)
{
    (void)state;
    SetLastError(0xdeadbeef);
    assert_false(UnregisterWait(NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(UnregisterWaitEx(NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* Nothing outstanding: TRUE, nothing ever comes, the event is left alone. */
static void registerwait_unregister_idle_succeeds(void **state)
{
    struct reg r;
    HANDLE event = event_new(FALSE, FALSE);

    (void)state;
    reg_init(&r);
    reg_register(&r, event, INFINITE, WT_EXECUTEONLYONCE);
    assert_true(UnregisterWait(r.wait));
    assert_signal_unclaimed(&r.rec, event);
    assert_int_equal(probe_hits(&r.rec.probe), 0);
    CloseHandle(event);
    reg_destroy(&r);
}

static void registerwait_unregister_running_io_pending(void **state)
{
    struct reg r;
    struct gate gate;
    HANDLE event = event_new(FALSE, TRUE);

    (void)state;
    reg_init(&r);
    gate_init(&gate);
    r.rec.gate = &gate;
    r.rec.started_event = event_new(TRUE, FALSE);
    reg_register(&r, event, INFINITE, WT_EXECUTEONLYONCE);
    helper_wait(r.rec.started_event);
    SetLastError(0xdeadbeef);
    assert_false(UnregisterWait(r.wait));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    gate_open(&gate, 1);
    helper_wait(r.rec.done_sem);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    gate_destroy(&gate);
    reg_destroy(&r);
}

struct opener {
    struct gate *gate;
    DWORD delay_ms;
};

static DWORD WINAPI open_later(void *arg)
{
    struct opener *o = arg;

    Sleep(o->delay_ms);
    ReleaseSemaphore(o->gate->sem, 1, NULL);
    return 0;
}

/*
 * INVALID_HANDLE_VALUE waits for the running callback.  The gate opens from
 * another thread a little later; whenever it opens, the call must return
 * only after the callback did.
 */
static void registerwait_unregister_blocking_waits_for_callback(void **state)
{
    struct reg r;
    struct gate gate;
    struct opener opener;
    HANDLE event = event_new(FALSE, TRUE), thread;
    BOOL ret;

    (void)state;
    reg_init(&r);
    gate_init(&gate);
    r.rec.gate = &gate;
    r.rec.started_event = event_new(TRUE, FALSE);
    reg_register(&r, event, INFINITE, WT_EXECUTEONLYONCE);
    helper_wait(r.rec.started_event);
    opener.gate = &gate;
    opener.delay_ms = 100;
    thread = CreateThread(NULL, 0, open_later, &opener, 0, NULL);
    assert_non_null(thread);
    ret = UnregisterWaitEx(r.wait, INVALID_HANDLE_VALUE);
    /* Returned after the callback's last step. */
    assert_int_equal(WaitForSingleObject(r.rec.done_sem, 0), WAIT_OBJECT_0);
    assert_int_equal(count_of(&r.signalled), 1);
    assert_true(ret);
    helper_wait(thread);
    CloseHandle(thread);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    gate_destroy(&gate);
    reg_destroy(&r);
}

static void registerwait_unregister_event_set_when_done(void **state)
{
    struct reg r;
    struct gate gate;
    HANDLE event = event_new(FALSE, TRUE), completion = event_new(TRUE, FALSE);

    (void)state;
    reg_init(&r);
    gate_init(&gate);
    r.rec.gate = &gate;
    r.rec.started_event = event_new(TRUE, FALSE);
    reg_register(&r, event, INFINITE, WT_EXECUTEONLYONCE);
    helper_wait(r.rec.started_event);
    SetLastError(0xdeadbeef);
    assert_false(UnregisterWaitEx(r.wait, completion));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    helper_wait_not(completion, 50);
    gate_open(&gate, 1);
    helper_wait(completion);
    assert_int_equal(count_of(&r.signalled), 1);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    CloseHandle(completion);
    gate_destroy(&gate);
    reg_destroy(&r);
}

static void registerwait_unregister_idle_event_set(void **state)
{
    struct reg r;
    HANDLE event = event_new(FALSE, FALSE), completion = event_new(TRUE, FALSE);

    (void)state;
    reg_init(&r);
    reg_register(&r, event, INFINITE, WT_EXECUTEDEFAULT);
    assert_true(UnregisterWaitEx(r.wait, completion));
    helper_wait(completion);
    assert_int_equal(probe_hits(&r.rec.probe), 0);
    CloseHandle(event);
    CloseHandle(completion);
    reg_destroy(&r);
}

/* ---- unregistering from the wait's own callback ----------------------------------- */

/*
 * What the callback's own unregister returned: from the wait thread it
 * succeeds (the wait thread's callback is not outstanding); from a worker
 * it fails with ERROR_IO_PENDING (the calling callback is still running).
 */
static void assert_unregister_from_callback_result(const struct reg *r, ULONG flags)
{
    if (flags & WT_EXECUTEINWAITTHREAD) {
        TODO_REF("Wine counts the wait thread's callback as outstanding")
            CHECK(r->unregister_ret);
    } else {
        assert_false(r->unregister_ret);
        assert_int_equal(r->unregister_err, ERROR_IO_PENDING);
    }
}

/* What the first callback does, and the flags (the rows of PARAM_TEST). */
struct unregister_row {
    enum unregister_kind kind;
    ULONG flags;
};
static const struct unregister_row unregister_null = { UNREGISTER_NULL, WT_EXECUTEDEFAULT };
static const struct unregister_row unregister_blocking = { UNREGISTER_BLOCKING, WT_EXECUTEDEFAULT };
static const struct unregister_row unregister_event = { UNREGISTER_EVENT, WT_EXECUTEDEFAULT };
static const struct unregister_row unregister_null_wait_thread = {
    UNREGISTER_NULL, WT_EXECUTEINWAITTHREAD
};

static void registerwait_unregister_from_callback(void **state)
{
    const struct unregister_row *row = (const struct unregister_row *)helper_param(state);
    enum unregister_kind kind = row->kind;
    ULONG flags = row->flags;
    struct reg r;
    HANDLE event;

    /* Wine's pool would wait for the calling callback itself, forever. */
    if (kind == UNREGISTER_BLOCKING
        && helper_not_run(MODES_REF, "Wine deadlocks: a blocking unregistration waits for its "
                          "own callback", __FILE__, __LINE__))
        return;
    event = event_new(FALSE, FALSE);
    reg_init(&r);
    r.unregister = kind;
    r.completion = event_new(TRUE, FALSE);
    reg_register(&r, event, INFINITE, flags);
    assert_true(SetEvent(event));
    helper_wait(r.rec.done_sem);
    /* Unregistered: never armed again, even without WT_EXECUTEONLYONCE. */
    assert_true(SetEvent(event));
    helper_wait_not(r.rec.done_sem, QUIET_MS);
    assert_int_equal(count_of(&r.signalled), 1);
    assert_unregister_from_callback_result(&r, flags);
    if (kind == UNREGISTER_EVENT) {
        /* Set once the callback returned, not from inside it. */
        assert_int_equal(r.completion_in_callback, WAIT_TIMEOUT);
        helper_wait(r.completion);
    }
    probe_assert_clean(&r.rec.probe);
    CloseHandle(event);
    reg_destroy(&r);
}

/* ---- WT_EXECUTEINWAITTHREAD ------------------------------------------------------- */

struct serial {
    HANDLE trigger;              /* the second wait's object, set by the first callback */
    HANDLE second_ran;           /* set by the second wait's callback */
    volatile DWORD first_saw;    /* the first callback's wait for second_ran */
    HANDLE done;                 /* released by each callback */
};

static void CALLBACK serial_first_cb(PVOID ctx, BOOLEAN timed_out)
{
    struct serial *s = ctx;

    (void)timed_out;
    /* Satisfies the second wait, whose callback must wait for this one. */
    SetEvent(s->trigger);
    s->first_saw = WaitForSingleObject(s->second_ran, 200);
    ReleaseSemaphore(s->done, 1, NULL);
}

static void CALLBACK serial_second_cb(PVOID ctx, BOOLEAN timed_out)
{
    struct serial *s = ctx;

    (void)timed_out;
    SetEvent(s->second_ran);
    ReleaseSemaphore(s->done, 1, NULL);
}

/* Callbacks run in the wait thread run one at a time. */
static void registerwait_in_wait_thread_one_at_a_time(void **state)
{
    struct serial s;
    HANDLE start = event_new(FALSE, FALSE), w1, w2;

    (void)state;
    s.trigger = event_new(FALSE, FALSE);
    s.second_ran = event_new(TRUE, FALSE);
    s.done = CreateSemaphoreW(NULL, 0, 10, NULL);
    s.first_saw = 0;
    assert_non_null(s.done);
    assert_true(RegisterWaitForSingleObject(&w2, s.trigger, serial_second_cb, &s, INFINITE,
                                            WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD));
    assert_true(RegisterWaitForSingleObject(&w1, start, serial_first_cb, &s, INFINITE,
                                            WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD));
    assert_true(SetEvent(start));
    helper_wait(s.done);
    helper_wait(s.done);
    assert_int_equal(s.first_saw, WAIT_TIMEOUT);
    assert_int_equal(WaitForSingleObject(s.second_ran, 0), WAIT_OBJECT_0);
    reg_unregister_done(w1);
    reg_unregister_done(w2);
    CloseHandle(start);
    CloseHandle(s.trigger);
    CloseHandle(s.second_ran);
    CloseHandle(s.done);
}

/* ---- refused handles -------------------------------------------------------------- */

struct mutex_call {
    struct reg *r;
    HANDLE mutex;
    BOOL ret;
};

static void register_mutex(void *arg)
{
    struct mutex_call *c = arg;

    c->ret = RegisterWaitForSingleObject(&c->r->wait, c->mutex, reg_cb, c->r, INFINITE,
                                         WT_EXECUTEONLYONCE);
}

/* A mutex is refused as by SetThreadpoolWait (see test_wait.c). */
static void registerwait_mutex_refused(void **state)
{
    struct reg r;
    struct mutex_call c = { &r, CreateMutexW(NULL, FALSE, NULL), FALSE };

    (void)state;
    assert_non_null(c.mutex);
    reg_init(&r);
    TODO_REF("Wine waits for a mutex") CHECK(helper_refused(register_mutex, &c));
    if (c.ret)
        UnregisterWaitEx(r.wait, INVALID_HANDLE_VALUE);
    CloseHandle(c.mutex);
    reg_destroy(&r);
}

/* ---- the wait handle and the callback ------------------------------------------ */

/*
 * The handle is in the caller's variable before the callback can run, even
 * for an object already signalled, and the callback may unregister with
 * it: from the wait thread that succeeds, from a worker it is
 * ERROR_IO_PENDING (the callback itself is still running).
 */
static void registerwait_handle_stored_before_callback(void **state)
{
    ULONG flags = (ULONG)helper_param(state);
    HANDLE event = event_new(TRUE, TRUE);
    struct reg r;
    int i;

    for (i = 0; i < 20; i++) {
        reg_init(&r);
        r.unregister = UNREGISTER_NULL;
        r.check_wait = TRUE;
        r.wait = INVALID_HANDLE_VALUE;
        assert_true(RegisterWaitForSingleObject(&r.wait, event, reg_cb, &r, INFINITE,
                                                WT_EXECUTEONLYONCE | flags));
        helper_wait(r.rec.done_sem);
        assert_ptr_equal(r.seen_wait, r.wait);
        assert_unregister_from_callback_result(&r, flags);
        probe_assert_clean(&r.rec.probe);
        reg_destroy(&r);
    }
    CloseHandle(event);
}

/*
 * A value that is no registered wait: garbage, an address that is not a
 * wait, a wait already gone.  kernel32_tp looks every handle up before
 * using it; Windows and Wine read through it (garbage may crash them), so
 * the reference does not run this.
 */
static void registerwait_unregister_garbage_invalid_handle(void **state)
{
    HANDLE event = event_new(FALSE, FALSE);
    HANDLE bad[3];
    struct reg r;
    size_t i;

    (void)state;
    /* Under the launcher a handle our pool did not make goes to Wine's. */
    if (helper_not_run(MODE_WINE_REF | MODE_WINE_INJECT,
                       "Wine reads through whatever handle it is given", __FILE__, __LINE__)) {
        CloseHandle(event);
        return;
    }
    reg_init(&r);
    reg_register(&r, event, INFINITE, WT_EXECUTEONLYONCE);
    reg_unregister_done(r.wait);
    bad[0] = (HANDLE)(ULONG_PTR)0xdeadbee0;
    bad[1] = &r;
    bad[2] = r.wait;        /* destroyed once its completion event was set */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        SetLastError(0xdeadbeef);
        assert_false(UnregisterWait(bad[i]));
        assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
        SetLastError(0xdeadbeef);
        assert_false(UnregisterWaitEx(bad[i], INVALID_HANDLE_VALUE));
        assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    }
    CloseHandle(event);
    reg_destroy(&r);
}

static void CALLBACK apc_fn(ULONG_PTR param)
{
    ReleaseSemaphore((HANDLE)param, 1, NULL);
}

/*
 * WT_EXECUTEINIOTHREAD: the callback's thread waits alertably once it is
 * idle, so an APC queued to it runs.
 */
static void registerwait_io_thread_runs_apc_when_idle(void **state)
{
    HANDLE event = event_new(FALSE, FALSE), sem = CreateSemaphoreW(NULL, 0, 1, NULL), thread;
    struct reg r;

    (void)state;
    assert_non_null(sem);
    reg_init(&r);
    reg_register(&r, event, INFINITE, WT_EXECUTEINIOTHREAD);
    assert_true(SetEvent(event));
    helper_wait(r.rec.done_sem);
    thread = OpenThread(THREAD_SET_CONTEXT, FALSE, (DWORD)r.thread);
    assert_non_null(thread);
    assert_true(QueueUserAPC(apc_fn, thread, (ULONG_PTR)sem));
    helper_wait(sem);
    /* And it still serves the wait. */
    assert_true(SetEvent(event));
    helper_wait(r.rec.done_sem);
    assert_int_equal(count_of(&r.signalled), 2);
    reg_unregister_done(r.wait);
    probe_assert_clean(&r.rec.probe);
    CloseHandle(thread);
    CloseHandle(sem);
    CloseHandle(event);
    reg_destroy(&r);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(registerwait_signal_runs_callback),
        POOL_TEST(registerwait_timeout_runs_callback_timed_out),
        POOL_TEST(registerwait_zero_timeout_tests_once),
        POOL_TEST(registerwait_without_onlyonce_waits_again),
        POOL_TEST(registerwait_without_onlyonce_times_out_again),
        POOL_TEST(registerwait_ex_returns_wait_handle),
        POOL_TEST(registerwait_thread_flags_accepted),
        POOL_TEST(registerwait_unregister_null_invalid_handle),
        POOL_TEST(registerwait_unregister_idle_succeeds),
        POOL_TEST(registerwait_unregister_running_io_pending),
        POOL_TEST(registerwait_unregister_blocking_waits_for_callback),
        POOL_TEST(registerwait_unregister_event_set_when_done),
        POOL_TEST(registerwait_unregister_idle_event_set),
        PARAM_TEST(registerwait_unregister_from_callback_no_event,
                   registerwait_unregister_from_callback, &unregister_null),
        PARAM_TEST(registerwait_unregister_from_callback_blocking_returns,
                   registerwait_unregister_from_callback, &unregister_blocking),
        PARAM_TEST(registerwait_unregister_from_callback_event_set_after,
                   registerwait_unregister_from_callback, &unregister_event),
        PARAM_TEST(registerwait_unregister_from_wait_thread_callback_succeeds,
                   registerwait_unregister_from_callback, &unregister_null_wait_thread),
        POOL_TEST(registerwait_in_wait_thread_one_at_a_time),
        POOL_TEST(registerwait_mutex_refused),
        PARAM_TEST(registerwait_handle_stored_before_callback,
                   registerwait_handle_stored_before_callback, WT_EXECUTEDEFAULT),
        PARAM_TEST(registerwait_handle_stored_before_wait_thread_callback,
                   registerwait_handle_stored_before_callback, WT_EXECUTEINWAITTHREAD),
        POOL_TEST(registerwait_unregister_garbage_invalid_handle),
        POOL_TEST(registerwait_io_thread_runs_apc_when_idle),
    };

    return cmocka_run_group_tests_name("registerwait", tests, NULL, NULL);
}

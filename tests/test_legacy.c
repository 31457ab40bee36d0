/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QueueUserWorkItem: each documented WT_ flag queues the function on a pool
 * thread with its context; long functions do not hold up other items; an
 * I/O thread runs the APCs queued to it once it is idle.
 */
#include <stdlib.h>

#include "helper.h"

struct item_ctx {
    struct cb_state cb;
    DWORD test_thread;
    volatile LONG thread;        /* the thread that ran the item */
};

static struct item_ctx *item_new(void)
{
    struct item_ctx *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    cb_state_init(&c->cb);
    c->test_thread = GetCurrentThreadId();
    return c;
}

static void item_free(struct item_ctx *c)
{
    cb_state_destroy(&c->cb);
    free(c);
}

static DWORD WINAPI item_fn(LPVOID param)
{
    struct item_ctx *c = param;

    PROBE_CHECK(&c->cb.probe, GetCurrentThreadId() != c->test_thread);
    InterlockedExchange(&c->thread, (LONG)GetCurrentThreadId());
    cb_state_enter(&c->cb);
    InterlockedIncrement(&c->cb.done);
    return 0;
}

static void queue_and_wait(ULONG flags)
{
    struct item_ctx *c = item_new();

    assert_true(QueueUserWorkItem(item_fn, c, flags));
    assert_true(helper_wait_count(&c->cb.done, 1));
    probe_assert_hits(&c->cb.probe, 1);
    item_free(c);
}

/* Each flag (PARAM_TEST); WT_EXECUTEINIOTHREAD is obsolete but still runs
 * the item. */
static void legacy_flags_run_with_context(void **state)
{
    queue_and_wait((ULONG)helper_param(state));
}

/*
 * A thread limit in the high 16 bits (what the SDK's
 * WT_SET_MAX_THREADPOOL_THREADS macro stores) is accepted.
 */
static void legacy_max_threads_hint_runs_with_context(void **state)
{
    (void)state;
    queue_and_wait(WT_EXECUTEDEFAULT | (8u << 16));
    queue_and_wait(WT_EXECUTELONGFUNCTION | (2u << 16));
}

/* Many items: each runs exactly once. */
static void legacy_many_items_each_run_once(void **state)
{
    struct item_ctx *c = item_new();
    int i;

    (void)state;
    for (i = 0; i < 200; i++)
        assert_true(QueueUserWorkItem(item_fn, c, i % 2 ? WT_EXECUTELONGFUNCTION : 0));
    assert_true(helper_wait_count(&c->cb.done, 200));
    probe_assert_hits(&c->cb.probe, 200);
    item_free(c);
}

/* Blocked long functions do not hold up the items queued after them. */
static void legacy_long_functions_do_not_block_others(void **state)
{
    struct item_ctx *blocked = item_new(), *quick = item_new();
    int i;

    (void)state;
    blocked->cb.block = TRUE;
    for (i = 1; i <= 4; i++) {
        assert_true(QueueUserWorkItem(item_fn, blocked, WT_EXECUTELONGFUNCTION));
        assert_true(helper_wait_count(&blocked->cb.started_count, i));
    }
    for (i = 0; i < 10; i++)
        assert_true(QueueUserWorkItem(item_fn, quick, WT_EXECUTEDEFAULT));
    assert_true(helper_wait_count(&quick->cb.done, 10));
    assert_int_equal(InterlockedCompareExchange(&blocked->cb.done, 0, 0), 0);
    gate_open(&blocked->cb.gate, 4);
    assert_true(helper_wait_count(&blocked->cb.done, 4));
    probe_assert_clean(&blocked->cb.probe);
    probe_assert_clean(&quick->cb.probe);
    item_free(blocked);
    item_free(quick);
}

static void CALLBACK apc_fn(ULONG_PTR param)
{
    ReleaseSemaphore((HANDLE)param, 1, NULL);
}

/*
 * Runs c on an I/O thread (WT_EXECUTEINIOTHREAD) and waits for it.  FALSE
 * on the reference, where such items run on workers that never wait
 * alertably: an APC queued to one would stay queued and might run after
 * the test, so the test ends there.
 */
static BOOL io_thread_item_run(struct item_ctx *c)
{
    BOOL run = FALSE;

    assert_true(QueueUserWorkItem(item_fn, c, WT_EXECUTEINIOTHREAD));
    assert_true(helper_wait_count(&c->cb.done, 1));
    NOT_RUN_ON(MODES_REF, "Wine runs I/O-thread work items on workers that never wait alertably")
        run = TRUE;
    return run;
}

/*
 * WT_EXECUTEINIOTHREAD: the thread waits alertably once the item returned,
 * so an APC queued to it runs.
 */
static void legacy_io_thread_runs_apc_when_idle(void **state)
{
    struct item_ctx *c = item_new();
    HANDLE sem = CreateSemaphoreW(NULL, 0, 1, NULL), thread;

    (void)state;
    assert_non_null(sem);
    if (!io_thread_item_run(c)) {
        CloseHandle(sem);
        item_free(c);
        return;
    }
    thread = OpenThread(THREAD_SET_CONTEXT, FALSE, (DWORD)c->thread);
    assert_non_null(thread);
    assert_true(QueueUserAPC(apc_fn, thread, (ULONG_PTR)sem));
    helper_wait(sem);
    CloseHandle(thread);
    CloseHandle(sem);
    probe_assert_clean(&c->cb.probe);
    item_free(c);
}

/* What the APCs of legacy_io_thread_runs_apcs_in_order_on_itself saw. */
struct apc_log {
    struct probe probe;
    DWORD thread;               /* the I/O thread they must run on */
    volatile LONG next;         /* how many ran */
    HANDLE done;                /* released by each */
};

static struct apc_log *apc_log_current;

static void CALLBACK apc_log_fn(ULONG_PTR param)
{
    struct apc_log *log = apc_log_current;

    PROBE_CHECK(&log->probe, GetCurrentThreadId() == log->thread);
    /* FIFO: the n-th APC queued is the n-th to run. */
    PROBE_CHECK(&log->probe, InterlockedIncrement(&log->next) == (LONG)param);
    probe_hit(&log->probe);
    ReleaseSemaphore(log->done, 1, NULL);
}

/*
 * Several APCs queued to an idle I/O thread run there, on the thread
 * itself, in the order they were queued, and the thread still serves new
 * items afterwards.
 */
static void legacy_io_thread_runs_apcs_in_order_on_itself(void **state)
{
    struct item_ctx *c = item_new(), *after = item_new();
    struct apc_log log = { 0 };
    HANDLE thread;
    ULONG_PTR i;

    (void)state;
    if (!io_thread_item_run(c)) {
        item_free(c);
        item_free(after);
        return;
    }
    log.thread = c->thread;
    log.done = CreateSemaphoreW(NULL, 0, 3, NULL);
    assert_non_null(log.done);
    apc_log_current = &log;
    thread = OpenThread(THREAD_SET_CONTEXT, FALSE, c->thread);
    assert_non_null(thread);
    for (i = 1; i <= 3; i++)
        assert_true(QueueUserAPC(apc_log_fn, thread, i));
    for (i = 1; i <= 3; i++)
        helper_wait(log.done);
    probe_assert_hits(&log.probe, 3);
    assert_true(QueueUserWorkItem(item_fn, after, WT_EXECUTEINIOTHREAD));
    assert_true(helper_wait_count(&after->cb.done, 1));
    probe_assert_clean(&after->cb.probe);
    apc_log_current = NULL;
    CloseHandle(thread);
    CloseHandle(log.done);
    probe_assert_clean(&c->cb.probe);
    item_free(c);
    item_free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARAM_TEST(legacy_default_runs_with_context, legacy_flags_run_with_context,
                   WT_EXECUTEDEFAULT),
        PARAM_TEST(legacy_long_function_runs_with_context, legacy_flags_run_with_context,
                   WT_EXECUTELONGFUNCTION),
        PARAM_TEST(legacy_io_thread_runs_with_context, legacy_flags_run_with_context,
                   WT_EXECUTEINIOTHREAD),
        PARAM_TEST(legacy_persistent_thread_runs_with_context, legacy_flags_run_with_context,
                   WT_EXECUTEINPERSISTENTTHREAD),
        PARAM_TEST(legacy_transfer_impersonation_runs_with_context,
                   legacy_flags_run_with_context, WT_TRANSFER_IMPERSONATION),
        cmocka_unit_test(legacy_max_threads_hint_runs_with_context),
        cmocka_unit_test(legacy_many_items_each_run_once),
        cmocka_unit_test(legacy_long_functions_do_not_block_others),
        cmocka_unit_test(legacy_io_thread_runs_apc_when_idle),
        cmocka_unit_test(legacy_io_thread_runs_apcs_in_order_on_itself),
    };

    return cmocka_run_group_tests_name("legacy", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pools: CreateThreadpool/CloseThreadpool, the thread minimum and maximum,
 * stack information, the default pool, many blocking callbacks running at
 * once up to the maximum, and chains of callbacks that wait for each other.
 */
#include <stdlib.h>

#include "helper.h"

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

/* ---- shared state ------------------------------------------------------------ */

struct blockers {
    struct cb_state cb;          /* block is not used: each start passes the gate */
    volatile LONG running;       /* started and not yet past the gate */
    volatile LONG max_running;   /* the most seen at once */
};

static struct blockers *blockers_new(void)
{
    struct blockers *b = calloc(1, sizeof(*b));

    assert_non_null(b);
    cb_state_init(&b->cb);
    return b;
}

static void blockers_free(struct blockers *b)
{
    cb_state_destroy(&b->cb);
    free(b);
}

static void CALLBACK blocker_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct blockers *b = ctx;
    LONG now = InterlockedIncrement(&b->running), seen;

    (void)inst;
    while ((seen = InterlockedCompareExchange(&b->max_running, 0, 0)) < now)
        if (InterlockedCompareExchange(&b->max_running, now, seen) == seen)
            break;
    InterlockedIncrement(&b->cb.started_count);
    SetEvent(b->cb.started);
    PROBE_CHECK(&b->cb.probe, gate_pass(&b->cb.gate));
    InterlockedDecrement(&b->running);
    probe_hit(&b->cb.probe);
    InterlockedIncrement(&b->cb.done);
}

static LONG read_long(volatile LONG *value)
{
    return InterlockedCompareExchange(value, 0, 0);
}

/* FALSE if *value moves away from target within ms milliseconds. */
static BOOL count_stays(volatile LONG *value, LONG target, DWORD ms)
{
    DWORD start = GetTickCount();

    do {
        if (read_long(value) != target)
            return FALSE;
        Sleep(5);
    } while (GetTickCount() - start < ms);
    return read_long(value) == target;
}

/* ---- creation --------------------------------------------------------------------- */

static void pool_create_close(void **state)
{
    PTP_POOL pool;
    int i;

    (void)state;
    for (i = 0; i < 10; i++) {
        pool = CreateThreadpool(NULL);
        assert_non_null(pool);
        CloseThreadpool(pool);
    }
}

/* Callbacks run on the pool's own threads, not on the caller's. */
static void pool_private_pool_runs_callbacks(void **state)
{
    struct blockers *b = blockers_new();
    int i;

    for (i = 1; i <= 3; i++) {
        gate_open(&b->cb.gate, 1);
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, helper_env(state)));
        assert_true(helper_wait_count(&b->cb.done, i));
    }
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/*
 * Closing a pool does not wait for the callbacks of its objects; they still
 * run, and the objects stay usable until closed.
 */
static void pool_close_with_running_callback_returns_at_once(void **state)
{
    struct blockers *b = blockers_new();
    TP_CALLBACK_ENVIRON env;
    PTP_POOL pool;

    (void)state;
    pool = pool_with_env(&env);
    assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &env));
    helper_wait(b->cb.started);
    CloseThreadpool(pool);
    assert_int_equal(read_long(&b->cb.done), 0);
    gate_open(&b->cb.gate, 1);
    assert_true(helper_wait_count(&b->cb.done, 1));
    DestroyThreadpoolEnvironment(&env);
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* ---- maximum ------------------------------------------------------------------------ */

/* With a maximum of one thread, callbacks run one at a time. */
static void pool_max_one_runs_one_at_a_time(void **state)
{
    struct helper_pool *hp = *state;
    struct blockers *b = blockers_new();
    int i;

    SetThreadpoolThreadMaximum(hp->pool, 1);
    for (i = 0; i < 3; i++)
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    assert_true(helper_wait_count(&b->cb.started_count, 1));
    assert_true(count_stays(&b->cb.started_count, 1, 100));
    gate_open(&b->cb.gate, 3);
    assert_true(helper_wait_count(&b->cb.done, 3));
    assert_int_equal(read_long(&b->max_running), 1);
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

#define MANY 16

/*
 * Blocking callbacks posted one after another all run at once up to the
 * maximum; the ones beyond it wait for a free thread.
 */
static void pool_blocking_callbacks_run_concurrently_up_to_max(void **state)
{
    struct helper_pool *hp = *state;
    struct blockers *b = blockers_new();
    int i;

    SetThreadpoolThreadMaximum(hp->pool, MANY);
    for (i = 1; i <= MANY; i++) {
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
        assert_true(helper_wait_count(&b->cb.started_count, i));
    }
    for (i = 0; i < 4; i++)
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    assert_true(count_stays(&b->cb.started_count, MANY, 200));
    assert_int_equal(read_long(&b->max_running), MANY);
    gate_open(&b->cb.gate, MANY + 4);
    assert_true(helper_wait_count(&b->cb.done, MANY + 4));
    assert_int_equal(read_long(&b->max_running), MANY);
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* The same, all posted at once: the pool adds threads while callbacks block. */
static void pool_blocking_callbacks_posted_at_once_reach_max(void **state)
{
    struct helper_pool *hp = *state;
    struct blockers *b = blockers_new();
    int i;

    SetThreadpoolThreadMaximum(hp->pool, MANY);
    for (i = 0; i < MANY + 4; i++)
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    /* Wine starts a thread when a submit finds every thread busy: how many
     * start depends on how soon each one takes its first callback. */
    NOT_RUN_ON(MODES_REF, "Wine adds a thread only when a submit finds every thread busy: "
               "timing-dependent") {
        assert_true(helper_wait_count(&b->cb.started_count, MANY));
        assert_true(count_stays(&b->cb.started_count, MANY, 200));
    }
    assert_true(read_long(&b->max_running) <= MANY);
    gate_open(&b->cb.gate, MANY + 4);
    assert_true(helper_wait_count(&b->cb.done, MANY + 4));
    assert_true(read_long(&b->max_running) <= MANY);
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* Lowering the maximum below the running count lets no new callback start. */
static void pool_max_lowered_holds_new_callbacks(void **state)
{
    struct helper_pool *hp = *state;
    struct blockers *b = blockers_new();
    int i;

    SetThreadpoolThreadMaximum(hp->pool, 4);
    for (i = 1; i <= 4; i++) {
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
        assert_true(helper_wait_count(&b->cb.started_count, i));
    }
    SetThreadpoolThreadMaximum(hp->pool, 2);
    assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    assert_true(count_stays(&b->cb.started_count, 4, 100));
    gate_open(&b->cb.gate, 5);
    assert_true(helper_wait_count(&b->cb.done, 5));
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* ---- minimum --------------------------------------------------------------------- */

/*
 * SetThreadpoolThreadMinimum creates the threads at once: that many
 * blocking callbacks posted together all run concurrently.
 */
static void pool_min_creates_threads(void **state)
{
    struct helper_pool *hp = *state;
    struct blockers *b = blockers_new();
    int i;

    assert_true(SetThreadpoolThreadMinimum(hp->pool, 4));
#ifndef KERNEL32_TP_TEST_REFERENCE
    assert_true(tp_debug_pool_threads(hp->pool) >= 4);
#endif
    for (i = 0; i < 4; i++)
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    assert_true(helper_wait_count(&b->cb.started_count, 4));
    assert_int_equal(read_long(&b->max_running), 4);
    gate_open(&b->cb.gate, 4);
    assert_true(helper_wait_count(&b->cb.done, 4));
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* Raising and lowering the minimum, with and without work, always succeeds. */
static void pool_min_set_repeatedly_succeeds(void **state)
{
    struct helper_pool *hp = *state;
    struct blockers *b = blockers_new();

    SetThreadpoolThreadMaximum(hp->pool, 8);
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 2));
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 8));
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 1));
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 0));
    gate_open(&b->cb.gate, 1);
    assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    assert_true(helper_wait_count(&b->cb.done, 1));
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* ---- stack information ----------------------------------------------------------- */

static void pool_stack_information_default_is_sane(void **state)
{
    struct helper_pool *hp = *state;
    TP_POOL_STACK_INFORMATION info;

    memset(&info, 0xcc, sizeof(info));
    assert_true(QueryThreadpoolStackInformation(hp->pool, &info));
    assert_true(info.StackReserve > 0);
    assert_true(info.StackCommit <= info.StackReserve);
}

static void pool_stack_information_set_then_query(void **state)
{
    struct helper_pool *hp = *state;
    TP_POOL_STACK_INFORMATION info, out;
    struct blockers *b = blockers_new();

    info.StackReserve = 1024 * 1024;
    info.StackCommit = 64 * 1024;
    assert_true(SetThreadpoolStackInformation(hp->pool, &info));
    memset(&out, 0, sizeof(out));
    assert_true(QueryThreadpoolStackInformation(hp->pool, &out));
    assert_int_equal(out.StackReserve, info.StackReserve);
    assert_int_equal(out.StackCommit, info.StackCommit);
    /* Workers started afterwards run callbacks normally. */
    gate_open(&b->cb.gate, 1);
    assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &hp->env));
    assert_true(helper_wait_count(&b->cb.done, 1));
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

static void expect_stack_call_rejected(BOOL ret)
{
    assert_false(ret);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* A missing structure or pool is ERROR_INVALID_PARAMETER. */
static void pool_stack_information_null_rejected(void **state)
{
    struct helper_pool *hp = *state;
    TP_POOL_STACK_INFORMATION info;

    SetLastError(0xdeadbeef);
    expect_stack_call_rejected(SetThreadpoolStackInformation(hp->pool, NULL));
    SetLastError(0xdeadbeef);
    expect_stack_call_rejected(QueryThreadpoolStackInformation(hp->pool, NULL));
    info.StackReserve = 1024 * 1024;
    info.StackCommit = 64 * 1024;
    SetLastError(0xdeadbeef);
    NOT_RUN_ON(MODES_REF, "Wine dereferences a NULL pool")
        expect_stack_call_rejected(SetThreadpoolStackInformation(NULL, &info));
    SetLastError(0xdeadbeef);
    NOT_RUN_ON(MODES_REF, "Wine dereferences a NULL pool")
        expect_stack_call_rejected(QueryThreadpoolStackInformation(NULL, &info));
}

/* ---- the default pool ------------------------------------------------------------ */

static void CALLBACK blocker_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)work;
    blocker_cb(inst, ctx);
}

static void pool_default_runs_work_and_simple_callbacks(void **state)
{
    struct blockers *b = blockers_new();
    TP_CALLBACK_ENVIRON env;
    PTP_WORK work;

    (void)state;
    gate_open(&b->cb.gate, 4);
    assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, NULL));
    InitializeThreadpoolEnvironment(&env);
    assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, &env));
    work = CreateThreadpoolWork(blocker_work_cb, b, NULL);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    assert_true(helper_wait_count(&b->cb.done, 4));
    DestroyThreadpoolEnvironment(&env);
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* The default pool also runs several blocking callbacks at once. */
static void pool_default_runs_blocking_callbacks_concurrently(void **state)
{
    struct blockers *b = blockers_new();
    int i;

    (void)state;
    for (i = 1; i <= 8; i++) {
        assert_true(TrySubmitThreadpoolCallback(blocker_cb, b, NULL));
        assert_true(helper_wait_count(&b->cb.started_count, i));
    }
    assert_int_equal(read_long(&b->max_running), 8);
    gate_open(&b->cb.gate, 8);
    assert_true(helper_wait_count(&b->cb.done, 8));
    probe_assert_clean(&b->cb.probe);
    blockers_free(b);
}

/* ---- callbacks waiting for each other ---------------------------------------------- */

#define CHAIN 12

struct chain {
    struct probe probe;
    PTP_CALLBACK_ENVIRON env;
    HANDLE done[CHAIN];          /* link i sets done[i] as it finishes */
    volatile LONG next;          /* the next link to start */
    BOOL post_next;              /* each link posts the next one itself */
    volatile LONG finished;
};

static void CALLBACK chain_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct chain *c = ctx;
    LONG i = InterlockedIncrement(&c->next) - 1;

    (void)inst;
    if (i < CHAIN - 1) {
        if (c->post_next)
            PROBE_CHECK(&c->probe, TrySubmitThreadpoolCallback(chain_cb, c, c->env));
        /* Link i finishes only after link i + 1 did. */
        PROBE_CHECK(&c->probe,
                    WaitForSingleObject(c->done[i + 1], helper_timeout_ms()) == WAIT_OBJECT_0);
    }
    probe_hit(&c->probe);
    SetEvent(c->done[i]);
    InterlockedIncrement(&c->finished);
}

static void run_chain(void **state, BOOL post_next)
{
    struct helper_pool *hp = *state;
    struct chain *c = calloc(1, sizeof(*c));
    int i;

    assert_non_null(c);
    SetThreadpoolThreadMaximum(hp->pool, CHAIN + 4);
    c->env = &hp->env;
    c->post_next = post_next;
    for (i = 0; i < CHAIN; i++) {
        c->done[i] = event_new(TRUE, FALSE);
    }
    if (post_next)
        assert_true(TrySubmitThreadpoolCallback(chain_cb, c, &hp->env));
    else
        for (i = 0; i < CHAIN; i++)
            assert_true(TrySubmitThreadpoolCallback(chain_cb, c, &hp->env));
    helper_wait(c->done[0]);
    assert_true(helper_wait_count(&c->finished, CHAIN));
    probe_assert_hits(&c->probe, CHAIN);
    for (i = 0; i < CHAIN; i++)
        CloseHandle(c->done[i]);
    free(c);
}

/* Each callback posts the next and waits for it: the chain completes. */
static void pool_chain_posted_by_callbacks_completes(void **state)
{
    run_chain(state, TRUE);
}

/*
 * All links posted up front; each waits for the one posted after it.
 * Below the maximum this never deadlocks: the pool adds threads for the
 * queued links while the earlier ones block.
 */
static void pool_chain_posted_up_front_completes(void **state)
{
    NOT_RUN_ON(MODES_REF, "Wine adds no thread while callbacks block: how many threads it "
               "started while the links were posted depends on timing")
        run_chain(state, FALSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_create_close),
        POOL_TEST(pool_private_pool_runs_callbacks),
        cmocka_unit_test(pool_close_with_running_callback_returns_at_once),
        POOL_TEST(pool_max_one_runs_one_at_a_time),
        POOL_TEST(pool_blocking_callbacks_run_concurrently_up_to_max),
        POOL_TEST(pool_blocking_callbacks_posted_at_once_reach_max),
        POOL_TEST(pool_max_lowered_holds_new_callbacks),
        POOL_TEST(pool_min_creates_threads),
        POOL_TEST(pool_min_set_repeatedly_succeeds),
        POOL_TEST(pool_stack_information_default_is_sane),
        POOL_TEST(pool_stack_information_set_then_query),
        POOL_TEST(pool_stack_information_null_rejected),
        cmocka_unit_test(pool_default_runs_work_and_simple_callbacks),
        cmocka_unit_test(pool_default_runs_blocking_callbacks_concurrently),
        POOL_TEST(pool_chain_posted_by_callbacks_completes),
        POOL_TEST(pool_chain_posted_up_front_completes),
    };

    return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}

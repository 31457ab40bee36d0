/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cleanup groups: membership through the environment,
 * CloseThreadpoolCleanupGroupMembers with and without cancel, the group's
 * cancel callback, disassociated callbacks, simple callbacks as members,
 * reuse, and many groups released while their callbacks run.
 *
 * Facts proven here (Windows, as Wine's conformance tests record too): the
 * cancel callback runs on the thread that closes the members, once per
 * member still open, after that member's callbacks have finished, with the
 * member's context and the caller's context; members the program closed
 * itself, and simple callbacks that already ran, get no cancel callback.
 */
#include <stdlib.h>

#include "helper.h"

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

/* ---- shared state ------------------------------------------------------------ */

struct member {
    struct cb_state cb;
    BOOL disassociate;
    BOOL close_self;             /* CloseThreadpoolWork from the callback */
    PTP_WORK work;
};

static struct member *member_new(BOOL block)
{
    struct member *m = calloc(1, sizeof(*m));

    assert_non_null(m);
    cb_state_init(&m->cb);
    m->cb.block = block;
    return m;
}

static void member_free(struct member *m)
{
    cb_state_destroy(&m->cb);
    free(m);
}

static void member_body(PTP_CALLBACK_INSTANCE inst, struct member *m)
{
    PTP_WORK work = m->work;

    PROBE_CHECK(&m->cb.probe, inst != NULL);
    if (m->disassociate)
        DisassociateCurrentThreadFromCallback(inst);
    cb_state_enter(&m->cb);
    if (m->close_self)
        CloseThreadpoolWork(work);
    InterlockedIncrement(&m->cb.done);
}

static void CALLBACK member_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)work;
    member_body(inst, ctx);
}

static void CALLBACK member_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    member_body(inst, ctx);
}

/* The group's cancel callback records each call. */
#define CANCEL_MAX 16

static struct {
    volatile LONG calls;
    PVOID object_ctx[CANCEL_MAX];
    PVOID cleanup_ctx[CANCEL_MAX];
    DWORD thread[CANCEL_MAX];
} cancels;

static void CALLBACK cancel_cb(PVOID object_ctx, PVOID cleanup_ctx)
{
    LONG i = InterlockedIncrement(&cancels.calls) - 1;

    if (i < CANCEL_MAX) {
        cancels.object_ctx[i] = object_ctx;
        cancels.cleanup_ctx[i] = cleanup_ctx;
        cancels.thread[i] = GetCurrentThreadId();
    }
}

static void cancels_reset(void)
{
    memset(&cancels, 0, sizeof(cancels));
}

static LONG cancels_calls(void)
{
    return InterlockedCompareExchange(&cancels.calls, 0, 0);
}

/* How many cancel calls named object_ctx. */
static int cancels_for(PVOID object_ctx)
{
    LONG i, n = 0;

    for (i = 0; i < cancels.calls && i < CANCEL_MAX; i++)
        if (cancels.object_ctx[i] == object_ctx)
            n++;
    return n;
}

/* A group and the pool's environment naming it (with the cancel callback). */
struct group_env {
    PTP_CLEANUP_GROUP group;
    TP_CALLBACK_ENVIRON env;
};

static void group_env_init(void **state, struct group_env *g)
{
    struct helper_pool *hp = *state;

    g->group = CreateThreadpoolCleanupGroup();
    assert_non_null(g->group);
    InitializeThreadpoolEnvironment(&g->env);
    SetThreadpoolCallbackPool(&g->env, hp->pool);
    SetThreadpoolCallbackCleanupGroup(&g->env, g->group, cancel_cb);
}

static void group_env_destroy(struct group_env *g)
{
    DestroyThreadpoolEnvironment(&g->env);
    CloseThreadpoolCleanupGroup(g->group);
}

static PTP_WORK member_work(struct group_env *g, struct member *m)
{
    m->work = CreateThreadpoolWork(member_work_cb, m, &g->env);
    assert_non_null(m->work);
    return m->work;
}

/* CloseThreadpoolCleanupGroupMembers on another thread. */
struct closer {
    PTP_CLEANUP_GROUP group;
    BOOL cancel;
    PVOID cleanup_ctx;
    HANDLE thread;
    DWORD tid;
};

static DWORD WINAPI closer_thread(LPVOID param)
{
    struct closer *c = param;

    c->tid = GetCurrentThreadId();
    CloseThreadpoolCleanupGroupMembers(c->group, c->cancel, c->cleanup_ctx);
    return 0;
}

static void closer_start(struct closer *c, PTP_CLEANUP_GROUP group, BOOL cancel, PVOID ctx)
{
    c->group = group;
    c->cancel = cancel;
    c->cleanup_ctx = ctx;
    c->thread = CreateThread(NULL, 0, closer_thread, c, 0, NULL);
    assert_non_null(c->thread);
}

static void closer_join(struct closer *c)
{
    helper_wait(c->thread);
    CloseHandle(c->thread);
}

/* Runs a non-member work item through the pool: the queue ahead of it is empty. */
static void flush_pool(void **state)
{
    struct member *m = member_new(FALSE);
    PTP_WORK work = CreateThreadpoolWork(member_work_cb, m, helper_env(state));

    assert_non_null(work);
    m->work = work;
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    member_free(m);
}

/* ---- basics ------------------------------------------------------------------ */

static void group_create_close_empty(void **state)
{
    PTP_CLEANUP_GROUP group = CreateThreadpoolCleanupGroup();

    (void)state;
    assert_non_null(group);
    CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    CloseThreadpoolCleanupGroupMembers(group, TRUE, NULL);
    CloseThreadpoolCleanupGroup(group);
    /* A group that never had members can be closed directly. */
    group = CreateThreadpoolCleanupGroup();
    assert_non_null(group);
    CloseThreadpoolCleanupGroup(group);
}

/* Members run normally; closing the members waits for the posted ones. */
static void group_close_members_runs_posted_callbacks(void **state)
{
    struct group_env g;
    struct member *a = member_new(FALSE), *b = member_new(FALSE);
    int i;

    cancels_reset();
    group_env_init(state, &g);
    member_work(&g, a);
    member_work(&g, b);
    for (i = 0; i < 5; i++) {
        SubmitThreadpoolWork(a->work);
        SubmitThreadpoolWork(b->work);
    }
    CloseThreadpoolCleanupGroupMembers(g.group, FALSE, NULL);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 5);
    assert_int_equal(InterlockedCompareExchange(&b->cb.done, 0, 0), 5);
    /* Without cancel, no cancel callback. */
    assert_int_equal(cancels_calls(), 0);
    probe_assert_clean(&a->cb.probe);
    probe_assert_clean(&b->cb.probe);
    group_env_destroy(&g);
    member_free(a);
    member_free(b);
}

/* Closing the members waits for every running callback of every member. */
static void group_close_members_waits_for_running_callbacks(void **state)
{
    struct group_env g;
    struct member *a = member_new(TRUE), *b = member_new(TRUE);
    struct closer closer;

    cancels_reset();
    group_env_init(state, &g);
    member_work(&g, a);
    member_work(&g, b);
    SubmitThreadpoolWork(a->work);
    helper_wait(a->cb.started);
    SubmitThreadpoolWork(b->work);
    helper_wait(b->cb.started);
    closer_start(&closer, g.group, FALSE, NULL);
    helper_wait_not(closer.thread, 100);
    gate_open(&a->cb.gate, 1);
    helper_wait_not(closer.thread, 100);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 1);
    gate_open(&b->cb.gate, 1);
    closer_join(&closer);
    assert_int_equal(InterlockedCompareExchange(&b->cb.done, 0, 0), 1);
    assert_int_equal(cancels_calls(), 0);
    probe_assert_clean(&a->cb.probe);
    probe_assert_clean(&b->cb.probe);
    group_env_destroy(&g);
    member_free(a);
    member_free(b);
}

/* Without cancel, queued callbacks of members still run before it returns. */
static void group_close_members_without_cancel_runs_queued(void **state)
{
    struct member *a = member_new(FALSE);
    struct group_env g;
    struct closer closer;
    struct occupant busy;

    cancels_reset();
    occupy_pool(state, &busy);
    group_env_init(state, &g);
    member_work(&g, a);
    submit_times(a->work, 5);
    closer_start(&closer, g.group, FALSE, NULL);
    helper_wait_not(closer.thread, 100);
    occupant_release(&busy);
    closer_join(&closer);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 5);
    assert_int_equal(cancels_calls(), 0);
    probe_assert_clean(&a->cb.probe);
    group_env_destroy(&g);
    member_free(a);
}

/* ---- disassociated callbacks ---------------------------------------------------- */

/*
 * A disassociated callback no longer holds up WaitForThreadpoolWorkCallbacks,
 * but closing the group's members still waits until it has returned.
 */
static void group_close_members_waits_for_disassociated_work(void **state)
{
    struct group_env g;
    struct member *a = member_new(TRUE);
    struct closer closer;

    group_env_init(state, &g);
    a->disassociate = TRUE;
    member_work(&g, a);
    SubmitThreadpoolWork(a->work);
    helper_wait(a->cb.started);
    WaitForThreadpoolWorkCallbacks(a->work, FALSE);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 0);
    closer_start(&closer, g.group, FALSE, NULL);
    helper_wait_not(closer.thread, 100);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 0);
    gate_open(&a->cb.gate, 1);
    closer_join(&closer);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 1);
    probe_assert_clean(&a->cb.probe);
    group_env_destroy(&g);
    member_free(a);
}

/* The same for a simple callback posted with the group, and with cancel. */
static void group_close_members_waits_for_disassociated_simple(void **state)
{
    struct group_env g;
    struct member *a = member_new(TRUE);
    struct closer closer;

    cancels_reset();
    group_env_init(state, &g);
    a->disassociate = TRUE;
    assert_true(TrySubmitThreadpoolCallback(member_simple_cb, a, &g.env));
    helper_wait(a->cb.started);
    closer_start(&closer, g.group, TRUE, NULL);
    helper_wait_not(closer.thread, 100);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 0);
    gate_open(&a->cb.gate, 1);
    closer_join(&closer);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 1);
    /* It ran: no cancel callback for it. */
    assert_int_equal(cancels_calls(), 0);
    probe_assert_clean(&a->cb.probe);
    group_env_destroy(&g);
    member_free(a);
}

/* A simple callback posted with a group is a member: closing waits for it. */
static void group_simple_callback_is_member(void **state)
{
    struct group_env g;
    struct member *a = member_new(TRUE);
    struct closer closer;

    group_env_init(state, &g);
    assert_true(TrySubmitThreadpoolCallback(member_simple_cb, a, &g.env));
    helper_wait(a->cb.started);
    closer_start(&closer, g.group, FALSE, NULL);
    helper_wait_not(closer.thread, 100);
    gate_open(&a->cb.gate, 1);
    closer_join(&closer);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 1);
    probe_assert_clean(&a->cb.probe);
    group_env_destroy(&g);
    member_free(a);
}

/* ---- cancel ----------------------------------------------------------------------- */

static int cleanup_marker;

/*
 * Cancel drops every queued callback of every member and calls the cancel
 * callback once per member, on the calling thread, with the member's and the
 * caller's contexts.  Members that never ran still get their call.
 */
static void group_cancel_drops_queued_calls_cancel_per_member(void **state)
{
    struct member *a = member_new(FALSE), *b = member_new(FALSE), *s = member_new(FALSE);
    struct group_env g;
    struct occupant busy;
    LONG i;

    cancels_reset();
    occupy_pool(state, &busy);
    group_env_init(state, &g);
    member_work(&g, a);
    member_work(&g, b);
    submit_times(a->work, 10);
    assert_true(TrySubmitThreadpoolCallback(member_simple_cb, s, &g.env));
    CloseThreadpoolCleanupGroupMembers(g.group, TRUE, &cleanup_marker);
    assert_int_equal(cancels_calls(), 3);
    assert_int_equal(cancels_for(a), 1);
    assert_int_equal(cancels_for(b), 1);
    assert_int_equal(cancels_for(s), 1);
    for (i = 0; i < 3; i++) {
        assert_ptr_equal(cancels.cleanup_ctx[i], &cleanup_marker);
        assert_int_equal(cancels.thread[i], GetCurrentThreadId());
    }
    occupant_release(&busy);
    flush_pool(state);
    /* Nothing that was queued ran, before or after. */
    assert_int_equal(probe_hits(&a->cb.probe), 0);
    assert_int_equal(probe_hits(&s->cb.probe), 0);
    assert_int_equal(probe_hits(&b->cb.probe), 0);
    group_env_destroy(&g);
    member_free(a);
    member_free(b);
    member_free(s);
}

/*
 * Cancel never interrupts a running callback: closing waits for it, drops
 * the queued ones (fewer than posted ran), and calls the cancel callback
 * only after the member's running callback has returned.
 */
static void group_cancel_waits_for_running_callback(void **state)
{
    struct helper_pool *hp = *state;
    struct member *a = member_new(TRUE);
    struct group_env g;
    struct closer closer;

    cancels_reset();
    SetThreadpoolThreadMaximum(hp->pool, 1);
    group_env_init(state, &g);
    member_work(&g, a);
    submit_times(a->work, 10);
    helper_wait(a->cb.started);
    closer_start(&closer, g.group, TRUE, &cleanup_marker);
    helper_wait_not(closer.thread, 100);
    assert_int_equal(cancels_calls(), 0);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 0);
    /* Enough permits for every post: only cancellation keeps them from running. */
    gate_open(&a->cb.gate, 10);
    closer_join(&closer);
    assert_int_equal(cancels_calls(), 1);
    assert_ptr_equal(cancels.object_ctx[0], a);
    assert_ptr_equal(cancels.cleanup_ctx[0], &cleanup_marker);
    assert_int_equal(cancels.thread[0], closer.tid);
    flush_pool(state);
    assert_true(probe_hits(&a->cb.probe) >= 1);
    assert_true(probe_hits(&a->cb.probe) < 10);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), probe_hits(&a->cb.probe));
    probe_assert_clean(&a->cb.probe);
    group_env_destroy(&g);
    member_free(a);
}

/* A member the program closed itself gets no cancel callback. */
static void group_cancel_skips_members_closed_by_program(void **state)
{
    struct member *a = member_new(FALSE), *b = member_new(FALSE);
    struct group_env g;

    cancels_reset();
    group_env_init(state, &g);
    member_work(&g, a);
    member_work(&g, b);
    SubmitThreadpoolWork(a->work);
    WaitForThreadpoolWorkCallbacks(a->work, FALSE);
    CloseThreadpoolWork(a->work);
    CloseThreadpoolCleanupGroupMembers(g.group, TRUE, &cleanup_marker);
    assert_int_equal(cancels_calls(), 1);
    assert_int_equal(cancels_for(b), 1);
    assert_int_equal(cancels_for(a), 0);
    group_env_destroy(&g);
    member_free(a);
    member_free(b);
}

/*
 * A member that closes itself from its callback while the group's members
 * are being closed: no double close, no cancel callback for it.
 */
static void group_member_closing_itself_during_release(void **state)
{
    struct member *a = member_new(TRUE);
    struct group_env g;
    struct closer closer;

    cancels_reset();
    group_env_init(state, &g);
    a->close_self = TRUE;
    member_work(&g, a);
    SubmitThreadpoolWork(a->work);
    helper_wait(a->cb.started);
    closer_start(&closer, g.group, TRUE, &cleanup_marker);
    helper_wait_not(closer.thread, 100);
    gate_open(&a->cb.gate, 1);
    closer_join(&closer);
    assert_int_equal(InterlockedCompareExchange(&a->cb.done, 0, 0), 1);
    assert_int_equal(cancels_calls(), 0);
    probe_assert_clean(&a->cb.probe);
    group_env_destroy(&g);
    member_free(a);
}

/* ---- reuse and stress ---------------------------------------------------------------- */

/* After its members are released, the group takes new members. */
static void group_reusable_after_close_members(void **state)
{
    struct group_env g;
    struct member *m;
    int round;

    cancels_reset();
    group_env_init(state, &g);
    for (round = 0; round < 3; round++) {
        m = member_new(FALSE);
        member_work(&g, m);
        SubmitThreadpoolWork(m->work);
        SubmitThreadpoolWork(m->work);
        assert_true(TrySubmitThreadpoolCallback(member_simple_cb, m, &g.env));
        CloseThreadpoolCleanupGroupMembers(g.group, FALSE, NULL);
        assert_int_equal(InterlockedCompareExchange(&m->cb.done, 0, 0), 3);
        probe_assert_clean(&m->cb.probe);
        member_free(m);
    }
    assert_int_equal(cancels_calls(), 0);
    group_env_destroy(&g);
}

#define STRESS_THREADS 4
#define STRESS_ROUNDS 25
#define STRESS_MEMBERS 4
#define STRESS_POSTS 4

struct stress {
    PTP_POOL pool;
    volatile LONG ran;
    volatile LONG failures;
};

struct stress_item {
    struct stress *stress;
    volatile LONG ran;
};

static void CALLBACK stress_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct stress_item *item = ctx;
    int i;

    (void)work;
    if (InterlockedIncrement(&item->ran) % 3 == 0)
        DisassociateCurrentThreadFromCallback(inst);
    for (i = 0; i < 100; i++)
        InterlockedIncrement(&item->stress->ran);
}

static void CALLBACK stress_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    stress_work_cb(inst, ctx, NULL);
}

static void CALLBACK stress_cancel_cb(PVOID object_ctx, PVOID cleanup_ctx)
{
    (void)object_ctx;
    (void)cleanup_ctx;
}

static DWORD WINAPI stress_thread(LPVOID param)
{
    struct stress *stress = param;
    struct stress_item items[STRESS_MEMBERS + 1];
    TP_CALLBACK_ENVIRON env;
    PTP_CLEANUP_GROUP group;
    PTP_WORK work;
    int round, i;
    LONG expected;

    for (round = 0; round < STRESS_ROUNDS; round++) {
        BOOL cancel = round % 2;

        group = CreateThreadpoolCleanupGroup();
        if (!group) {
            InterlockedIncrement(&stress->failures);
            return 1;
        }
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackPool(&env, stress->pool);
        SetThreadpoolCallbackCleanupGroup(&env, group, stress_cancel_cb);
        for (i = 0; i <= STRESS_MEMBERS; i++) {
            items[i].stress = stress;
            items[i].ran = 0;
        }
        for (i = 0; i < STRESS_MEMBERS; i++) {
            work = CreateThreadpoolWork(stress_work_cb, &items[i], &env);
            if (!work) {
                InterlockedIncrement(&stress->failures);
                continue;
            }
            submit_times(work, STRESS_POSTS);
        }
        if (!TrySubmitThreadpoolCallback(stress_simple_cb, &items[STRESS_MEMBERS], &env))
            InterlockedIncrement(&stress->failures);
        CloseThreadpoolCleanupGroupMembers(group, cancel, NULL);
        /* Every callback has returned: without cancel, all of them ran. */
        for (i = 0, expected = 0; i <= STRESS_MEMBERS; i++)
            expected += InterlockedCompareExchange(&items[i].ran, 0, 0);
        if (!cancel && expected != STRESS_MEMBERS * STRESS_POSTS + 1)
            InterlockedIncrement(&stress->failures);
        if (expected > STRESS_MEMBERS * STRESS_POSTS + 1)
            InterlockedIncrement(&stress->failures);
        CloseThreadpoolCleanupGroup(group);
        DestroyThreadpoolEnvironment(&env);
    }
    return 0;
}

/* Many groups released, with and without cancel, while their callbacks run. */
static void group_stress_many_groups_released_while_running(void **state)
{
    struct helper_pool *hp = *state;
    HANDLE threads[STRESS_THREADS];
    struct stress stress;
    int i;

    memset(&stress, 0, sizeof(stress));
    stress.pool = hp->pool;
    SetThreadpoolThreadMaximum(hp->pool, 8);
    for (i = 0; i < STRESS_THREADS; i++) {
        threads[i] = CreateThread(NULL, 0, stress_thread, &stress, 0, NULL);
        assert_non_null(threads[i]);
    }
    for (i = 0; i < STRESS_THREADS; i++) {
        helper_wait(threads[i]);
        CloseHandle(threads[i]);
    }
    assert_int_equal(stress.failures, 0);
    assert_true(stress.ran > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_create_close_empty),
        POOL_TEST(group_close_members_runs_posted_callbacks),
        POOL_TEST(group_close_members_waits_for_running_callbacks),
        POOL_TEST(group_close_members_without_cancel_runs_queued),
        POOL_TEST(group_close_members_waits_for_disassociated_work),
        POOL_TEST(group_close_members_waits_for_disassociated_simple),
        POOL_TEST(group_simple_callback_is_member),
        POOL_TEST(group_cancel_drops_queued_calls_cancel_per_member),
        POOL_TEST(group_cancel_waits_for_running_callback),
        POOL_TEST(group_cancel_skips_members_closed_by_program),
        POOL_TEST(group_member_closing_itself_during_release),
        POOL_TEST(group_reusable_after_close_members),
        POOL_TEST(group_stress_many_groups_released_while_running),
    };

    return cmocka_run_group_tests_name("group", tests, NULL, NULL);
}

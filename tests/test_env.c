/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Callback environments: version 1 and version 3 layouts, the pool they
 * name, RaceDll, the finalization callback, LongFunction, Persistent, and how
 * a bad Version or CallbackPriority is rejected.
 *
 * Windows validates the environment when an object is created or a simple
 * callback is posted: the call fails with ERROR_INVALID_PARAMETER
 * (STATUS_INVALID_PARAMETER from the ntdll names; see test_ntdll.c) and
 * nothing runs.
 */
#include <stdlib.h>

#include "helper.h"

/* ---- shared callback state ------------------------------------------------ */

struct simple_ctx {
    struct probe probe;
    HANDLE done;
};

static void CALLBACK simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct simple_ctx *s = ctx;

    PROBE_CHECK(&s->probe, inst != NULL);
    probe_hit(&s->probe);
    SetEvent(s->done);
}

static void simple_init(struct simple_ctx *s)
{
    struct probe zero = PROBE_INIT;

    s->probe = zero;
    s->done = event_new(FALSE, FALSE);
}

/* Waits for the one callback that records in probe and sets done, checks
 * that it ran once and cleanly, and closes done. */
static void wait_one_clean_run(struct probe *probe, HANDLE done)
{
    helper_wait(done);
    probe_assert_hits(probe, 1);
    CloseHandle(done);
}

static void CALLBACK simple_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)work;
    simple_cb(inst, ctx);
}

/* One simple callback and one work item on env, each waited for: two more
 * hits of s's probe. */
static void run_simple_and_work(struct simple_ctx *s, PTP_CALLBACK_ENVIRON env)
{
    PTP_WORK work;

    assert_true(TrySubmitThreadpoolCallback(simple_cb, s, env));
    helper_wait(s->done);
    work = CreateThreadpoolWork(simple_work_cb, s, env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    /* The work callback set done too: taken here, so that the next call's
     * wait is for its own simple callback, not this leftover. */
    helper_wait(s->done);
    CloseThreadpoolWork(work);
}

/* ---- the helpers and layouts -------------------------------------------------- */

static void env_initialize_sets_version_3_normal_priority(void **state)
{
    TP_CALLBACK_ENVIRON env;

    (void)state;
    memset(&env, 0xcc, sizeof(env));
    InitializeThreadpoolEnvironment(&env);
    assert_int_equal(env.Version, 3);
    assert_null(env.Pool);
    assert_null(env.CleanupGroup);
    assert_null(env.CleanupGroupCancelCallback);
    assert_null(env.RaceDll);
    assert_null(env.FinalizationCallback);
    assert_int_equal(env.u.Flags, 0);
    assert_int_equal(env.CallbackPriority, TP_CALLBACK_PRIORITY_NORMAL);
    assert_int_equal(env.Size, sizeof(env));
    DestroyThreadpoolEnvironment(&env);
}

/*
 * A version 1 environment (no CallbackPriority, no Size) names a private
 * pool: callbacks run on that pool.  The bytes after the V1 fields are
 * filled with garbage: a V1 environment must not be read as a V3 one.
 */
static void env_v1_runs_on_named_pool(void **state)
{
    struct helper_pool *hp = *state;
    union {
        TP_CALLBACK_ENVIRON_V1 v1;     /* tests/win32_compat.h under mingw-w64 */
        unsigned char bytes[sizeof(TP_CALLBACK_ENVIRON_V3) + 16];
    } buf;
    struct simple_ctx s;
    struct occupant busy;
    PTP_WORK work;

    simple_init(&s);
    occupy_pool(state, &busy);
    memset(&buf, 0xff, sizeof(buf));
    buf.v1.Version = 1;
    buf.v1.Pool = hp->pool;
    buf.v1.CleanupGroup = NULL;
    buf.v1.CleanupGroupCancelCallback = NULL;
    buf.v1.RaceDll = NULL;
    buf.v1.ActivationContext = NULL;
    buf.v1.FinalizationCallback = NULL;
    buf.v1.u.Flags = 0;
    work = CreateThreadpoolWork(simple_work_cb, &s, (PTP_CALLBACK_ENVIRON)&buf.v1);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    assert_true(TrySubmitThreadpoolCallback(simple_cb, &s, (PTP_CALLBACK_ENVIRON)&buf.v1));
    /* The named pool's only thread is busy: nothing ran elsewhere. */
    helper_wait_not(s.done, 100);
    assert_int_equal(probe_hits(&s.probe), 0);
    occupant_release(&busy);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_true(helper_wait_count(&s.probe.hits, 2));
    probe_assert_clean(&s.probe);
    CloseThreadpoolWork(work);
    CloseHandle(s.done);
}

static void env_v3_runs_on_named_pool(void **state)
{
    struct simple_ctx s;
    struct occupant busy;

    simple_init(&s);
    occupy_pool(state, &busy);
    assert_true(TrySubmitThreadpoolCallback(simple_cb, &s, helper_env(state)));
    helper_wait_not(s.done, 100);
    occupant_release(&busy);
    wait_one_clean_run(&s.probe, s.done);
}

/* An environment without a pool uses the default pool. */
static void env_without_pool_uses_default_pool(void **state)
{
    TP_CALLBACK_ENVIRON env;
    struct simple_ctx s;
    struct occupant busy;

    simple_init(&s);
    occupy_pool(state, &busy);
    InitializeThreadpoolEnvironment(&env);
    assert_true(TrySubmitThreadpoolCallback(simple_cb, &s, &env));
    /* Runs although the private pool is blocked. */
    helper_wait(s.done);
    assert_int_equal(probe_hits(&s.probe), 1);
    occupant_release(&busy);
    DestroyThreadpoolEnvironment(&env);
    probe_assert_clean(&s.probe);
    CloseHandle(s.done);
}

/* ---- rejected environments --------------------------------------------------- */

static void CALLBACK never_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    (void)inst;
    probe_hit(ctx);
}

static void CALLBACK never_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)work;
    probe_hit(ctx);
}

/* Both kernel32 entry points reject env with ERROR_INVALID_PARAMETER. */
static void expect_rejected(PTP_CALLBACK_ENVIRON env, struct probe *p)
{
    PTP_WORK work;

    SetLastError(0xdeadbeef);
    assert_false(TrySubmitThreadpoolCallback(never_cb, p, env));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    work = CreateThreadpoolWork(never_work_cb, p, env);
    assert_null(work);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

/*
 * The same for a known difference: whether both entry points reject env
 * with ERROR_INVALID_PARAMETER.  What they accepted is undone, and a
 * callback submitted by mistake has run before this returns.
 */
static BOOL env_rejected(PTP_CALLBACK_ENVIRON env)
{
    struct probe ran = PROBE_INIT;
    DWORD submit_err, create_err;
    BOOL submitted;
    PTP_WORK work;

    SetLastError(0xdeadbeef);
    submitted = TrySubmitThreadpoolCallback(never_cb, &ran, env);
    submit_err = GetLastError();
    SetLastError(0xdeadbeef);
    work = CreateThreadpoolWork(never_work_cb, &ran, env);
    create_err = GetLastError();
    if (work)
        CloseThreadpoolWork(work);
    if (submitted)
        assert_true(helper_wait_count(&ran.hits, 1));
    return !submitted && submit_err == ERROR_INVALID_PARAMETER &&
           !work && create_err == ERROR_INVALID_PARAMETER;
}

/* CallbackPriority beyond TP_CALLBACK_PRIORITY_LOW is rejected. */
static void env_bad_priority_rejected_invalid_parameter(void **state)
{
    static const DWORD bad[] = { TP_CALLBACK_PRIORITY_INVALID, 10, 0xffffffff };
    struct probe p = PROBE_INIT;
    TP_CALLBACK_ENVIRON env;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackPool(&env, ((struct helper_pool *)*state)->pool);
        env.CallbackPriority = (TP_CALLBACK_PRIORITY)bad[i];
        expect_rejected(&env, &p);
        /* The default pool checks the same way. */
        SetThreadpoolCallbackPool(&env, NULL);
        expect_rejected(&env, &p);
        DestroyThreadpoolEnvironment(&env);
    }
    assert_int_equal(probe_hits(&p), 0);
}

/* The three valid priorities are accepted by both entry points. */
static void env_valid_priorities_accepted(void **state)
{
    static const TP_CALLBACK_PRIORITY good[] = {
        TP_CALLBACK_PRIORITY_HIGH, TP_CALLBACK_PRIORITY_NORMAL, TP_CALLBACK_PRIORITY_LOW,
    };
    TP_CALLBACK_ENVIRON env;
    struct simple_ctx s;
    size_t i;

    simple_init(&s);
    for (i = 0; i < 3; i++) {
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackPool(&env, ((struct helper_pool *)*state)->pool);
        SetThreadpoolCallbackPriority(&env, good[i]);
        run_simple_and_work(&s, &env);
        DestroyThreadpoolEnvironment(&env);
    }
    probe_assert_hits(&s.probe, 6);
    CloseHandle(s.done);
}

/*
 * A Version that is neither 1 nor 3 is rejected with
 * ERROR_INVALID_PARAMETER (Windows 7 and later; Wine's conformance tests
 * record STATUS_INVALID_PARAMETER from TpSimpleTryPost).
 */
static void env_bad_version_rejected_invalid_parameter(void **state)
{
    static const DWORD bad[] = { 9999, 0x7fffffff };
    TP_CALLBACK_ENVIRON env;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackPool(&env, ((struct helper_pool *)*state)->pool);
        env.Version = bad[i];
        TODO_REF("Wine accepts any environment version") CHECK(env_rejected(&env));
        DestroyThreadpoolEnvironment(&env);
    }
}

/* A bad version together with a bad priority: rejected on every Windows. */
static void env_bad_version_and_priority_rejected(void **state)
{
    TP_CALLBACK_ENVIRON env;

    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, ((struct helper_pool *)*state)->pool);
    env.Version = 9999;
    env.CallbackPriority = (TP_CALLBACK_PRIORITY)9999;
    TODO_REF("Wine checks CallbackPriority only when Version is 3") CHECK(env_rejected(&env));
    DestroyThreadpoolEnvironment(&env);
}

/* ---- finalization callback ------------------------------------------------------ */

struct final_ctx {
    struct probe probe;
    PTP_CALLBACK_INSTANCE inst;
    DWORD thread;
    volatile LONG step;          /* 1: callback returned; 2: finalization returned */
    HANDLE done;
};

static void CALLBACK final_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct final_ctx *f = ctx;

    PROBE_CHECK(&f->probe, InterlockedCompareExchange(&f->step, 0, 0) == 0);
    f->inst = inst;
    f->thread = GetCurrentThreadId();
    /* Give a finalization callback that ran too early a chance to be seen. */
    Sleep(20);
    InterlockedExchange(&f->step, 1);
}

static void CALLBACK final_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)work;
    final_simple_cb(inst, ctx);
}

static void CALLBACK finalization_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct final_ctx *f = ctx;

    PROBE_CHECK(&f->probe, InterlockedCompareExchange(&f->step, 0, 0) == 1);
    PROBE_CHECK(&f->probe, inst == f->inst);
    PROBE_CHECK(&f->probe, GetCurrentThreadId() == f->thread);
    probe_hit(&f->probe);
    Sleep(20);
    InterlockedExchange(&f->step, 2);
    if (f->done)
        SetEvent(f->done);
}

/*
 * The finalization callback runs after the callback, on the same thread,
 * with the same instance and context; WaitForThreadpoolWorkCallbacks
 * returns only after it has returned.
 */
static void env_finalization_runs_after_work_callback(void **state)
{
    struct final_ctx f;
    TP_CALLBACK_ENVIRON *env = helper_env(state);
    PTP_WORK work;

    memset(&f, 0, sizeof(f));
    env->FinalizationCallback = finalization_cb;
    work = CreateThreadpoolWork(final_work_cb, &f, env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(InterlockedCompareExchange(&f.step, 0, 0), 2);
    probe_assert_hits(&f.probe, 1);
    CloseThreadpoolWork(work);
}

static void env_finalization_runs_after_simple_callback(void **state)
{
    struct final_ctx f;
    TP_CALLBACK_ENVIRON *env = helper_env(state);

    memset(&f, 0, sizeof(f));
    f.done = event_new(TRUE, FALSE);
    env->FinalizationCallback = finalization_cb;
    assert_true(TrySubmitThreadpoolCallback(final_simple_cb, &f, env));
    helper_wait(f.done);
    probe_assert_hits(&f.probe, 1);
    CloseHandle(f.done);
}

/* Posted twice: one finalization per callback. */
static void env_finalization_runs_once_per_callback(void **state)
{
    struct probe p = PROBE_INIT;
    TP_CALLBACK_ENVIRON *env = helper_env(state);
    PTP_WORK work;

    env->FinalizationCallback = never_cb;   /* counts into the context's probe */
    work = CreateThreadpoolWork(never_work_cb, &p, env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    SubmitThreadpoolWork(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    /* 3 callbacks + 3 finalizations. */
    assert_int_equal(probe_hits(&p), 6);
    CloseThreadpoolWork(work);
}

/* ---- LongFunction and Persistent --------------------------------------------------- */

static void env_long_function_runs(void **state)
{
    TP_CALLBACK_ENVIRON *env = helper_env(state);
    struct simple_ctx s;
    PTP_WORK work;

    simple_init(&s);
    SetThreadpoolCallbackRunsLong(env);
    assert_int_equal(env->u.s.LongFunction, 1);
    assert_true(TrySubmitThreadpoolCallback(simple_cb, &s, env));
    helper_wait(s.done);
    work = CreateThreadpoolWork(simple_work_cb, &s, env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    probe_assert_hits(&s.probe, 2);
    CloseThreadpoolWork(work);
    CloseHandle(s.done);
}

struct long_ctx {
    struct probe probe;
    HANDLE done;
};

static void CALLBACK long_may_run_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct long_ctx *l = ctx;

    /* The other thread is free: CallbackMayRunLong must succeed. */
    PROBE_CHECK(&l->probe, CallbackMayRunLong(inst));
    probe_hit(&l->probe);
    SetEvent(l->done);
}

/* A LongFunction callback may still declare itself long-running. */
static void env_long_function_may_run_long_succeeds(void **state)
{
    struct helper_pool *hp = *state;
    struct long_ctx l = { PROBE_INIT, NULL };

    SetThreadpoolThreadMaximum(hp->pool, 4);
    l.done = event_new(TRUE, FALSE);
    SetThreadpoolCallbackRunsLong(&hp->env);
    assert_true(TrySubmitThreadpoolCallback(long_may_run_cb, &l, &hp->env));
    wait_one_clean_run(&l.probe, l.done);
}

static void env_persistent_default_pool_runs(void **state)
{
    TP_CALLBACK_ENVIRON env;
    struct simple_ctx s;

    (void)state;
    simple_init(&s);
    InitializeThreadpoolEnvironment(&env);
    /* SetThreadpoolCallbackPersistent (an SDK inline mingw-w64 lacks). */
    env.u.s.Persistent = 1;
    run_simple_and_work(&s, &env);
    probe_assert_hits(&s.probe, 2);
    DestroyThreadpoolEnvironment(&env);
    CloseHandle(s.done);
}

/* ---- RaceDll ------------------------------------------------------------------------ */

static const char *test_module(void)
{
    const char *path = getenv("KERNEL32_TP_TEST_MODULE");

    return path && *path ? path : NULL;
}

struct race_ctx {
    struct cb_state cb;          /* the callback blocks at its gate */
    const char *path;
};

static void CALLBACK race_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct race_ctx *r = ctx;

    (void)inst;
    (void)work;
    cb_state_enter(&r->cb);
    /* The test dropped its own reference: the object's keeps it loaded. */
    PROBE_CHECK(&r->cb.probe, GetModuleHandleA(r->path) != NULL);
}

/*
 * SetThreadpoolCallbackLibrary: the library stays loaded while callbacks of
 * the object run, even when the program's own reference is gone, and is
 * released once the object is closed and its callbacks have returned.
 */
static void env_race_dll_keeps_library_loaded(void **state)
{
    TP_CALLBACK_ENVIRON *env = helper_env(state);
    struct race_ctx r;
    HMODULE module;
    PTP_WORK work;
    DWORD start;

    if (!test_module())
        skip();
    cb_state_init(&r.cb);
    r.cb.block = TRUE;
    r.path = test_module();
    assert_null(GetModuleHandleA(r.path));
    module = LoadLibraryA(r.path);
    assert_non_null(module);
    SetThreadpoolCallbackLibrary(env, module);
    work = CreateThreadpoolWork(race_work_cb, &r, env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(r.cb.started);
    assert_true(FreeLibrary(module));
    gate_open(&r.cb.gate, 1);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    probe_assert_hits(&r.cb.probe, 1);
    CloseThreadpoolWork(work);
    /* Released after the close, once nothing of the object runs. */
    start = GetTickCount();
    while (GetModuleHandleA(r.path) && GetTickCount() - start < helper_timeout_ms())
        Sleep(1);
    assert_null(GetModuleHandleA(r.path));
    cb_state_destroy(&r.cb);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_initialize_sets_version_3_normal_priority),
        POOL_TEST(env_v1_runs_on_named_pool),
        POOL_TEST(env_v3_runs_on_named_pool),
        POOL_TEST(env_without_pool_uses_default_pool),
        POOL_TEST(env_bad_priority_rejected_invalid_parameter),
        POOL_TEST(env_valid_priorities_accepted),
        POOL_TEST(env_bad_version_rejected_invalid_parameter),
        POOL_TEST(env_bad_version_and_priority_rejected),
        POOL_TEST(env_finalization_runs_after_work_callback),
        POOL_TEST(env_finalization_runs_after_simple_callback),
        POOL_TEST(env_finalization_runs_once_per_callback),
        POOL_TEST(env_long_function_runs),
        POOL_TEST(env_long_function_may_run_long_succeeds),
        cmocka_unit_test(env_persistent_default_pool_runs),
        POOL_TEST(env_race_dll_keeps_library_loaded),
    };

    return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Callback instances: the *WhenCallbackReturns completion actions, their
 * order against the callback and the finalization callback,
 * DisassociateCurrentThreadFromCallback and CallbackMayRunLong.
 *
 * Orders proven here (Windows):
 *   callback -> finalization callback -> leave critical section ->
 *   release mutex -> set event -> release semaphore -> the object's
 *   callbacks count drops (WaitForThreadpoolWorkCallbacks returns) ->
 *   free library.
 * A second registration of the same action kind, a zero semaphore count and
 * a second disassociation raise STATUS_INVALID_PARAMETER in the callback;
 * the first registration stays in force.  Those checks need vectored
 * exception handling, so they run in the Windows builds only.
 */
#include <stdlib.h>

#include "helper.h"

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

/* ---- shared state ------------------------------------------------------------ */

struct inst_ctx {
    struct probe probe;
    struct gate gate;
    struct gate gate2;
    HANDLE started;              /* auto-reset: set when the callback starts */
    struct action_objects obj;   /* obj.event: SetEventWhenCallbackReturns's */
    HANDLE event2;
    DWORD count;                 /* the semaphore release count to ask for */
    const char *module_path;
    volatile LONG done;          /* the callback's very last statement sets it */
    volatile LONG final_done;    /* the finalization callback's last statement */
    volatile LONG misuse;        /* exceptions caught in the callback */
    volatile LONG count_started;
    BOOL may_run_long;
};

static struct inst_ctx *ctx_new(void)
{
    struct inst_ctx *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    gate_init(&c->gate);
    gate_init(&c->gate2);
    c->started = event_new(FALSE, FALSE);
    c->event2 = event_new(TRUE, FALSE);
    action_objects_init(&c->obj);
    return c;
}

/*
 * Frees a context.  Callers make sure no callback still uses it: every
 * callback's last access is its final statement, which the test waits for.
 */
static void ctx_free(struct inst_ctx *c)
{
    gate_destroy(&c->gate);
    gate_destroy(&c->gate2);
    CloseHandle(c->started);
    CloseHandle(c->event2);
    action_objects_destroy(&c->obj);
    free(c);
}

/* A delay before the last statement widens the window in which an early
 * completion action would be seen. */
#define LATE_MS 30

static void finish(struct inst_ctx *c)
{
    Sleep(LATE_MS);
    InterlockedExchange(&c->done, 1);
}

static LONG done_of(struct inst_ctx *c)
{
    return InterlockedCompareExchange(&c->done, 0, 0);
}

/* Runs cb once as a work object on the test's pool and waits for it. */
static void run_work(void **state, PTP_WORK_CALLBACK cb, struct inst_ctx *c)
{
    PTP_WORK work = CreateThreadpoolWork(cb, c, helper_env(state));

    assert_non_null(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
}

/* ---- SetEventWhenCallbackReturns -------------------------------------------------- */

static void CALLBACK set_event_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    SetEventWhenCallbackReturns(inst, c->obj.event);
    finish(c);
}

static void CALLBACK set_event_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    set_event_work_cb(inst, ctx, NULL);
}

/* A thread woken by the event never sees the callback still running. */
static void instance_set_event_waiter_sees_callback_over(void **state)
{
    struct inst_ctx *c;
    PTP_WORK work;
    int i;

    for (i = 0; i < 5; i++) {
        c = ctx_new();
        work = CreateThreadpoolWork(set_event_work_cb, c, helper_env(state));
        assert_non_null(work);
        SubmitThreadpoolWork(work);
        helper_wait(c->obj.event);
        assert_int_equal(done_of(c), 1);
        WaitForThreadpoolWorkCallbacks(work, FALSE);
        CloseThreadpoolWork(work);
        ctx_free(c);
    }
}

static void instance_set_event_from_simple_callback(void **state)
{
    struct inst_ctx *c;
    int i;

    for (i = 0; i < 5; i++) {
        c = ctx_new();
        assert_true(TrySubmitThreadpoolCallback(set_event_simple_cb, c, helper_env(state)));
        helper_wait(c->obj.event);
        assert_int_equal(done_of(c), 1);
        /* The event was the instance's last use of c. */
        ctx_free(c);
    }
}

/* ---- ReleaseSemaphoreWhenCallbackReturns ------------------------------------------- */

static void CALLBACK release_sem_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, c->count);
    finish(c);
}

static LONG drain_semaphore(HANDLE sem)
{
    LONG n = 0;

    while (WaitForSingleObject(sem, 0) == WAIT_OBJECT_0)
        n++;
    return n;
}

/* The semaphore is released by exactly the count asked, after the return. */
static void instance_release_semaphore_releases_count(void **state)
{
    static const DWORD counts[] = { 1, 3, 7 };
    struct inst_ctx *c;
    PTP_WORK work;
    size_t i;

    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        c = ctx_new();
        c->count = counts[i];
        work = CreateThreadpoolWork(release_sem_work_cb, c, helper_env(state));
        assert_non_null(work);
        SubmitThreadpoolWork(work);
        helper_wait(c->obj.sem);
        assert_int_equal(done_of(c), 1);
        WaitForThreadpoolWorkCallbacks(work, FALSE);
        assert_int_equal(drain_semaphore(c->obj.sem), (LONG)counts[i] - 1);
        CloseThreadpoolWork(work);
        ctx_free(c);
    }
}

/* ---- ReleaseMutexWhenCallbackReturns ------------------------------------------------- */

static void CALLBACK release_mutex_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    PROBE_CHECK(&c->probe,
                WaitForSingleObject(c->obj.mutex, helper_timeout_ms()) == WAIT_OBJECT_0);
    ReleaseMutexWhenCallbackReturns(inst, c->obj.mutex);
    SetEvent(c->started);
    finish(c);
}

/*
 * The callback owns the mutex; the pool releases it on the callback's own
 * thread after the return (a release from another thread would fail and the
 * test's wait would end in WAIT_ABANDONED or a timeout instead).
 */
static void instance_release_mutex_on_callback_thread_after_return(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work;

    work = CreateThreadpoolWork(release_mutex_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    assert_int_equal(WaitForSingleObject(c->obj.mutex, helper_timeout_ms()), WAIT_OBJECT_0);
    assert_int_equal(done_of(c), 1);
    assert_true(ReleaseMutex(c->obj.mutex));
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    probe_assert_clean(&c->probe);
    CloseThreadpoolWork(work);
    ctx_free(c);
}

/* ---- LeaveCriticalSectionWhenCallbackReturns ------------------------------------------ */

static void CALLBACK leave_cs_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    EnterCriticalSection(&c->obj.cs);
    LeaveCriticalSectionWhenCallbackReturns(inst, &c->obj.cs);
    SetEvent(c->started);
    finish(c);
}

static void instance_leave_critical_section_after_return(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work;

    work = CreateThreadpoolWork(leave_cs_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    EnterCriticalSection(&c->obj.cs);
    assert_int_equal(done_of(c), 1);
    LeaveCriticalSection(&c->obj.cs);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    /* Left exactly once: the test thread can take it again at once. */
    assert_true(TryEnterCriticalSection(&c->obj.cs));
    LeaveCriticalSection(&c->obj.cs);
    CloseThreadpoolWork(work);
    ctx_free(c);
}

/* ---- order of the actions ----------------------------------------------------------- */

static void CALLBACK all_actions_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    EnterCriticalSection(&c->obj.cs);
    PROBE_CHECK(&c->probe,
                WaitForSingleObject(c->obj.mutex, helper_timeout_ms()) == WAIT_OBJECT_0);
    /* Registered in the reverse of the order they run in. */
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, 1);
    SetEventWhenCallbackReturns(inst, c->obj.event);
    ReleaseMutexWhenCallbackReturns(inst, c->obj.mutex);
    LeaveCriticalSectionWhenCallbackReturns(inst, &c->obj.cs);
    finish(c);
}

/* Woken by the event: the critical section is free, the mutex released. */
static void instance_actions_lock_releases_before_event(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work;

    work = CreateThreadpoolWork(all_actions_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->obj.event);
    assert_int_equal(done_of(c), 1);
    assert_true(TryEnterCriticalSection(&c->obj.cs));
    LeaveCriticalSection(&c->obj.cs);
    assert_int_equal(WaitForSingleObject(c->obj.mutex, 0), WAIT_OBJECT_0);
    assert_true(ReleaseMutex(c->obj.mutex));
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(drain_semaphore(c->obj.sem), 1);
    probe_assert_clean(&c->probe);
    CloseThreadpoolWork(work);
    ctx_free(c);
}

/* Woken by the semaphore: the event is already set. */
static void instance_actions_event_before_semaphore(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work;

    work = CreateThreadpoolWork(all_actions_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->obj.sem);
    assert_int_equal(done_of(c), 1);
    /* Wine releases the semaphore first: the check passes whenever its
     * worker sets the event before this thread looks, so it cannot say. */
    NOT_RUN_ON(MODES_REF, "Wine releases the semaphore before it sets the event: "
               "timing-dependent")
        assert_int_equal(WaitForSingleObject(c->obj.event, 0), WAIT_OBJECT_0);
    assert_true(TryEnterCriticalSection(&c->obj.cs));
    LeaveCriticalSection(&c->obj.cs);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    probe_assert_clean(&c->probe);
    CloseThreadpoolWork(work);
    ctx_free(c);
}

/* WaitForThreadpoolWorkCallbacks returns only after the actions ran. */
static void instance_actions_done_when_wait_returns(void **state)
{
    struct inst_ctx *c = ctx_new();

    run_work(state, all_actions_work_cb, c);
    assert_int_equal(done_of(c), 1);
    assert_int_equal(WaitForSingleObject(c->obj.event, 0), WAIT_OBJECT_0);
    assert_int_equal(drain_semaphore(c->obj.sem), 1);
    assert_true(TryEnterCriticalSection(&c->obj.cs));
    LeaveCriticalSection(&c->obj.cs);
    assert_int_equal(WaitForSingleObject(c->obj.mutex, 0), WAIT_OBJECT_0);
    assert_true(ReleaseMutex(c->obj.mutex));
    probe_assert_clean(&c->probe);
    ctx_free(c);
}

/* ---- the finalization callback against the actions ----------------------------------- */

static void CALLBACK final_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct inst_ctx *c = ctx;

    (void)inst;
    PROBE_CHECK(&c->probe, done_of(c) == 1);
    /* Not yet: the event is set only after this returns. */
    PROBE_CHECK(&c->probe, WaitForSingleObject(c->obj.event, 0) == WAIT_TIMEOUT);
    Sleep(LATE_MS);
    InterlockedExchange(&c->final_done, 1);
}

/* The finalization callback runs after the callback, before the actions. */
static void instance_finalization_before_completion_actions(void **state)
{
    TP_CALLBACK_ENVIRON *env = helper_env(state);
    struct inst_ctx *c;
    PTP_WORK work;
    int i;

    env->FinalizationCallback = final_cb;
    for (i = 0; i < 3; i++) {
        c = ctx_new();
        work = CreateThreadpoolWork(set_event_work_cb, c, env);
        assert_non_null(work);
        SubmitThreadpoolWork(work);
        helper_wait(c->obj.event);
        assert_int_equal(done_of(c), 1);
        assert_int_equal(InterlockedCompareExchange(&c->final_done, 0, 0), 1);
        WaitForThreadpoolWorkCallbacks(work, FALSE);
        probe_assert_clean(&c->probe);
        CloseThreadpoolWork(work);
        ctx_free(c);
    }
}

/* ---- FreeLibraryWhenCallbackReturns ------------------------------------------------------ */

static const char *test_module(void)
{
    const char *path = getenv("KERNEL32_TP_TEST_MODULE");

    return path && *path ? path : NULL;
}

static void CALLBACK free_library_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;
    HMODULE module = LoadLibraryA(c->module_path);

    (void)work;
    PROBE_CHECK(&c->probe, module != NULL);
    if (module)
        FreeLibraryWhenCallbackReturns(inst, module);
    /* Still loaded while the callback runs. */
    PROBE_CHECK(&c->probe, GetModuleHandleA(c->module_path) == module);
    finish(c);
}

static BOOL module_unloaded(const char *path)
{
    DWORD start = GetTickCount();

    while (GetModuleHandleA(path)) {
        if (GetTickCount() - start > helper_timeout_ms())
            return FALSE;
        Sleep(1);
    }
    return TRUE;
}

/* A module loaded only for the callback is unloaded after it returns. */
static void instance_free_library_unloads_module(void **state)
{
    struct inst_ctx *c;

    if (!test_module())
        skip();
    c = ctx_new();
    c->module_path = test_module();
    assert_null(GetModuleHandleA(c->module_path));
    run_work(state, free_library_work_cb, c);
    assert_int_equal(done_of(c), 1);
    /* Windows frees the library after the wait is released: allow for it. */
    assert_true(module_unloaded(c->module_path));
    probe_assert_clean(&c->probe);
    ctx_free(c);
}

/* ---- DisassociateCurrentThreadFromCallback --------------------------------------------- */

static void CALLBACK disassociate_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    DisassociateCurrentThreadFromCallback(inst);
    SetEvent(c->started);
    PROBE_CHECK(&c->probe, gate_pass(&c->gate));
    InterlockedExchange(&c->done, 1);
}

/* The wait returns while the disassociated callback is still blocked. */
static void instance_disassociate_wait_returns_while_running(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work;

    work = CreateThreadpoolWork(disassociate_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(done_of(c), 0);
    gate_open(&c->gate, 1);
    assert_true(helper_wait_count(&c->done, 1));
    CloseThreadpoolWork(work);
    probe_assert_clean(&c->probe);
    /* done is the callback's last access to c. */
    ctx_free(c);
}

static void CALLBACK disassociate_late_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx,
                                               PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    SetEvent(c->started);
    PROBE_CHECK(&c->probe, gate_pass(&c->gate));
    DisassociateCurrentThreadFromCallback(inst);
    PROBE_CHECK(&c->probe, gate_pass(&c->gate2));
    InterlockedExchange(&c->done, 1);
}

struct waiter_arg {
    PTP_WORK work;
};

static DWORD WINAPI waiter_thread(LPVOID param)
{
    struct waiter_arg *arg = param;

    WaitForThreadpoolWorkCallbacks(arg->work, FALSE);
    return 0;
}

/* A thread already blocked in the wait is released by the disassociation. */
static void instance_disassociate_releases_blocked_waiter(void **state)
{
    struct inst_ctx *c = ctx_new();
    struct waiter_arg arg;
    HANDLE thread;
    PTP_WORK work;

    work = CreateThreadpoolWork(disassociate_late_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    arg.work = work;
    thread = CreateThread(NULL, 0, waiter_thread, &arg, 0, NULL);
    assert_non_null(thread);
    helper_wait_not(thread, 100);
    gate_open(&c->gate, 1);
    helper_wait(thread);
    assert_int_equal(done_of(c), 0);
    gate_open(&c->gate2, 1);
    assert_true(helper_wait_count(&c->done, 1));
    CloseHandle(thread);
    CloseThreadpoolWork(work);
    probe_assert_clean(&c->probe);
    ctx_free(c);
}

static void CALLBACK disassociate_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    disassociate_work_cb(inst, ctx, NULL);
}

/* A simple callback may disassociate too; it keeps running. */
static void instance_disassociate_simple_callback_keeps_running(void **state)
{
    struct inst_ctx *c = ctx_new();

    assert_true(TrySubmitThreadpoolCallback(disassociate_simple_cb, c, helper_env(state)));
    helper_wait(c->started);
    assert_int_equal(done_of(c), 0);
    gate_open(&c->gate, 1);
    assert_true(helper_wait_count(&c->done, 1));
    probe_assert_clean(&c->probe);
    ctx_free(c);
}

/* Completion actions still run, after the return, for a disassociated callback. */
static void CALLBACK disassociate_event_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx,
                                                PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    SetEventWhenCallbackReturns(inst, c->obj.event);
    DisassociateCurrentThreadFromCallback(inst);
    SetEvent(c->started);
    PROBE_CHECK(&c->probe, gate_pass(&c->gate));
    finish(c);
}

static void instance_disassociate_keeps_completion_actions(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work;

    work = CreateThreadpoolWork(disassociate_event_work_cb, c, helper_env(state));
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(WaitForSingleObject(c->obj.event, 0), WAIT_TIMEOUT);
    gate_open(&c->gate, 1);
    helper_wait(c->obj.event);
    assert_int_equal(done_of(c), 1);
    CloseThreadpoolWork(work);
    probe_assert_clean(&c->probe);
    ctx_free(c);
}

/* ---- CallbackMayRunLong --------------------------------------------------------------- */

static void CALLBACK may_run_long_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    c->may_run_long = CallbackMayRunLong(inst);
    SetEvent(c->started);
    PROBE_CHECK(&c->probe, gate_pass(&c->gate));
    InterlockedExchange(&c->done, 1);
}

/* Sets the pool's maximum, starts may_run_long_work_cb on c and waits until
 * it has asked: its work object. */
static PTP_WORK may_run_long_started(struct helper_pool *hp, struct inst_ctx *c, DWORD maximum)
{
    PTP_WORK work;

    SetThreadpoolThreadMaximum(hp->pool, maximum);
    work = CreateThreadpoolWork(may_run_long_work_cb, c, &hp->env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    return work;
}

/* Lets the callback of may_run_long_started() go, then closes work and c. */
static void may_run_long_finish(PTP_WORK work, struct inst_ctx *c)
{
    gate_open(&c->gate, 1);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    probe_assert_clean(&c->probe);
    ctx_free(c);
}

/* With threads to spare, CallbackMayRunLong returns TRUE. */
static void instance_may_run_long_true_with_free_threads(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work = may_run_long_started(*state, c, 8);

    assert_true(c->may_run_long);
    may_run_long_finish(work, c);
}

/* At the pool's maximum (one thread, taken by the caller), it returns FALSE. */
static void instance_may_run_long_false_at_maximum(void **state)
{
    struct inst_ctx *c = ctx_new();
    PTP_WORK work = may_run_long_started(*state, c, 1);

    assert_false(c->may_run_long);
    may_run_long_finish(work, c);
}

/* A long-running callback does not hold up queued work. */
static void instance_may_run_long_lets_queued_work_run(void **state)
{
    struct helper_pool *hp = *state;
    struct inst_ctx *c = ctx_new();
    PTP_WORK work = may_run_long_started(hp, c, 4), quick;
    volatile LONG quick_runs = 0;

    assert_true(c->may_run_long);
    quick = CreateThreadpoolWork(count_runs_cb, (PVOID)&quick_runs, &hp->env);
    assert_non_null(quick);
    submit_times(quick, 10);
    WaitForThreadpoolWorkCallbacks(quick, FALSE);
    assert_int_equal(count_of(&quick_runs), 10);
    assert_int_equal(done_of(c), 0);
    CloseThreadpoolWork(quick);
    may_run_long_finish(work, c);
}

/* ---- misuse Windows reports with an exception (Windows builds only) ------------------ */

#ifdef __MINGW32__
/* The callback thread that expects STATUS_INVALID_PARAMETER, and the count. */
static volatile DWORD misuse_thread;
static volatile LONG misuse_hits;

static LONG CALLBACK misuse_handler(EXCEPTION_POINTERS *info)
{
    if (info->ExceptionRecord->ExceptionCode == STATUS_INVALID_PARAMETER &&
        GetCurrentThreadId() == misuse_thread) {
        InterlockedIncrement(&misuse_hits);
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static void misuse_arm(void)
{
    misuse_thread = GetCurrentThreadId();
}

static LONG misuse_disarm(void)
{
    misuse_thread = 0;
    return InterlockedExchange(&misuse_hits, 0);
}

static void *misuse_install(void)
{
    void *handler = AddVectoredExceptionHandler(1, misuse_handler);

    assert_non_null(handler);
    /* The handler itself works: a raised, continuable exception resumes. */
    misuse_arm();
    RaiseException(STATUS_INVALID_PARAMETER, 0, 0, NULL);
    assert_int_equal(misuse_disarm(), 1);
    return handler;
}

static void CALLBACK second_event_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    SetEventWhenCallbackReturns(inst, c->obj.event);
    misuse_arm();
    SetEventWhenCallbackReturns(inst, c->event2);
    InterlockedExchange(&c->misuse, misuse_disarm());
}

static void CALLBACK second_sem_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;
    LONG hits;

    (void)work;
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, 2);
    misuse_arm();
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, 5);
    hits = misuse_disarm();
    InterlockedExchange(&c->misuse, hits);
}

/*
 * A second registration of the same action kind raises
 * STATUS_INVALID_PARAMETER in the callback; the first one stays in force.
 */
static void instance_second_registration_raises_first_kept(void **state)
{
    void *handler = misuse_install();
    struct inst_ctx *c = ctx_new();

    run_work(state, second_event_work_cb, c);
    assert_int_equal(WaitForSingleObject(c->obj.event, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(c->event2, 0), WAIT_TIMEOUT);
    TODO_REF("Wine ignores a second registration silently")
        CHECK_EQ(c->misuse, 1);
    ctx_free(c);

    c = ctx_new();
    run_work(state, second_sem_work_cb, c);
    assert_int_equal(drain_semaphore(c->obj.sem), 2);
    TODO_REF("Wine ignores a second registration silently")
        CHECK_EQ(c->misuse, 1);
    ctx_free(c);
    RemoveVectoredExceptionHandler(handler);
}

static void CALLBACK zero_count_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    misuse_arm();
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, 0);
    InterlockedExchange(&c->misuse, misuse_disarm());
    /* Not registered: a later valid registration is accepted. */
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, 1);
}

/* A zero release count is rejected the same way. */
static void instance_release_semaphore_zero_count_raises(void **state)
{
    void *handler = misuse_install();
    struct inst_ctx *c = ctx_new();

    run_work(state, zero_count_work_cb, c);
    TODO_REF("Wine accepts a zero release count")
        CHECK_EQ(c->misuse, 1);
    TODO_REF("Wine keeps the zero-count registration")
        CHECK_EQ(drain_semaphore(c->obj.sem), 1);
    ctx_free(c);
    RemoveVectoredExceptionHandler(handler);
}

static void CALLBACK null_handle_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    misuse_arm();
    SetEventWhenCallbackReturns(inst, NULL);
    ReleaseSemaphoreWhenCallbackReturns(inst, NULL, 1);
    InterlockedExchange(&c->misuse, misuse_disarm());
    /* Nothing was registered: valid registrations are accepted. */
    SetEventWhenCallbackReturns(inst, c->obj.event);
    ReleaseSemaphoreWhenCallbackReturns(inst, c->obj.sem, 1);
}

/* A NULL event or semaphore is rejected the same way, and not registered. */
static void instance_null_handle_raises(void **state)
{
    void *handler = misuse_install();
    struct inst_ctx *c = ctx_new();

    run_work(state, null_handle_work_cb, c);
    TODO_REF("Wine accepts NULL handles silently")
        CHECK_EQ(c->misuse, 2);
    assert_int_equal(WaitForSingleObject(c->obj.event, 0), WAIT_OBJECT_0);
    assert_int_equal(drain_semaphore(c->obj.sem), 1);
    ctx_free(c);
    RemoveVectoredExceptionHandler(handler);
}

static void CALLBACK disassociate_twice_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx,
                                                PTP_WORK work)
{
    struct inst_ctx *c = ctx;

    (void)work;
    if (InterlockedIncrement(&c->count_started) == 1) {
        DisassociateCurrentThreadFromCallback(inst);
        misuse_arm();
        DisassociateCurrentThreadFromCallback(inst);
        InterlockedExchange(&c->misuse, misuse_disarm());
        SetEvent(c->started);
        PROBE_CHECK(&c->probe, gate_pass(&c->gate));
    } else {
        SetEvent(c->obj.event);
        PROBE_CHECK(&c->probe, gate_pass(&c->gate2));
    }
    InterlockedIncrement(&c->done);
}

/*
 * A second disassociation raises STATUS_INVALID_PARAMETER and does not
 * count twice: the wait still waits for the other, associated callback.
 */
static void instance_disassociate_twice_raises_counts_once(void **state)
{
    struct helper_pool *hp = *state;
    void *handler = misuse_install();
    struct inst_ctx *c = ctx_new();
    struct waiter_arg arg;
    HANDLE thread;
    PTP_WORK work;

    SetThreadpoolThreadMaximum(hp->pool, 4);
    work = CreateThreadpoolWork(disassociate_twice_work_cb, c, &hp->env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    helper_wait(c->started);
    SubmitThreadpoolWork(work);
    helper_wait(c->obj.event);
    arg.work = work;
    thread = CreateThread(NULL, 0, waiter_thread, &arg, 0, NULL);
    assert_non_null(thread);
    helper_wait_not(thread, 100);
    gate_open(&c->gate2, 1);
    helper_wait(thread);
    gate_open(&c->gate, 1);
    assert_true(helper_wait_count(&c->done, 2));
    TODO_REF("Wine ignores a second disassociation silently")
        CHECK_EQ(c->misuse, 1);
    CloseHandle(thread);
    CloseThreadpoolWork(work);
    probe_assert_clean(&c->probe);
    ctx_free(c);
    RemoveVectoredExceptionHandler(handler);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(instance_set_event_waiter_sees_callback_over),
        POOL_TEST(instance_set_event_from_simple_callback),
        POOL_TEST(instance_release_semaphore_releases_count),
        POOL_TEST(instance_release_mutex_on_callback_thread_after_return),
        POOL_TEST(instance_leave_critical_section_after_return),
        POOL_TEST(instance_actions_lock_releases_before_event),
        POOL_TEST(instance_actions_event_before_semaphore),
        POOL_TEST(instance_actions_done_when_wait_returns),
        POOL_TEST(instance_finalization_before_completion_actions),
        POOL_TEST(instance_free_library_unloads_module),
        POOL_TEST(instance_disassociate_wait_returns_while_running),
        POOL_TEST(instance_disassociate_releases_blocked_waiter),
        POOL_TEST(instance_disassociate_simple_callback_keeps_running),
        POOL_TEST(instance_disassociate_keeps_completion_actions),
        POOL_TEST(instance_may_run_long_true_with_free_threads),
        POOL_TEST(instance_may_run_long_false_at_maximum),
        POOL_TEST(instance_may_run_long_lets_queued_work_run),
#ifdef __MINGW32__
        POOL_TEST(instance_second_registration_raises_first_kept),
        POOL_TEST(instance_release_semaphore_zero_count_raises),
        POOL_TEST(instance_null_handle_raises),
        POOL_TEST(instance_disassociate_twice_raises_counts_once),
#endif
    };

    return cmocka_run_group_tests_name("instance", tests, NULL, NULL);
}

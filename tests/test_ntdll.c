/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ntdll's Tp* names: the same objects as the kernel32 calls, with NTSTATUS
 * results instead of the last error.  Error statuses are the ones Windows
 * returns (STATUS_INVALID_PARAMETER for bad arguments and environments,
 * STATUS_TOO_MANY_THREADS from TpCallbackMayRunLong at the maximum).
 */
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "ntdll_tp.h"

#define assert_status(status, expected) \
    assert_int_equal((DWORD)(status), (DWORD)(expected))

/* ---- shared state ------------------------------------------------------------ */

struct nt_ctx {
    struct cb_state cb;
    struct action_objects obj;
    const char *module_path;
    BOOL disassociate;
    LONG may_run_long;           /* TpCallbackMayRunLong's status */
};

static struct nt_ctx *ctx_new(void)
{
    struct nt_ctx *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    cb_state_init(&c->cb);
    action_objects_init(&c->obj);
    return c;
}

static void ctx_free(struct nt_ctx *c)
{
    cb_state_destroy(&c->cb);
    action_objects_destroy(&c->obj);
    free(c);
}

/* Lets n callbacks held at c's gate go, waits for them, checks the probe
 * and frees c. */
static void ctx_release_free(struct nt_ctx *c, LONG n)
{
    gate_open(&c->cb.gate, n);
    assert_true(helper_wait_count(&c->cb.done, n));
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
}

static void CALLBACK nt_simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct nt_ctx *c = ctx;

    PROBE_CHECK(&c->cb.probe, inst != NULL);
    if (c->disassociate)
        TpDisassociateCallback(inst);
    cb_state_enter(&c->cb);
    InterlockedIncrement(&c->cb.done);
}

/* The same callback for a work object. */
static void CALLBACK nt_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)work;
    nt_simple_cb(inst, ctx);
}

/* A private pool through TpAllocPool and a V3 environment naming it. */
struct nt_pool {
    PTP_POOL pool;
    TP_CALLBACK_ENVIRON env;
    void *param;                 /* NT_PARAM_TEST's */
};

static int nt_setup(void **state)
{
    struct nt_pool *p = calloc(1, sizeof(*p));

    if (!p)
        return -1;
    if (TpAllocPool(&p->pool, NULL) != TP_TEST_STATUS_SUCCESS || !p->pool) {
        free(p);
        return -1;
    }
    InitializeThreadpoolEnvironment(&p->env);
    SetThreadpoolCallbackPool(&p->env, p->pool);
    p->param = *state;
    *state = p;
    return 0;
}

static int nt_teardown(void **state)
{
    struct nt_pool *p = *state;

    TpReleasePool(p->pool);
    DestroyThreadpoolEnvironment(&p->env);
    free(p);
    *state = NULL;
    return 0;
}

static struct nt_pool *nt_pool_of(void **state)
{
    return *state;
}

#define NT_TEST(f) cmocka_unit_test_setup_teardown(f, nt_setup, nt_teardown)
/* A test named NAME running FN with PARAM (the address of a static row). */
#define NT_PARAM_TEST(name, fn, param) { #name, (fn), nt_setup, nt_teardown, (param) }

/* ---- pools --------------------------------------------------------------------- */

static void ntdll_alloc_release_pool(void **state)
{
    PTP_POOL pool = NULL;
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        assert_status(TpAllocPool(&pool, NULL), TP_TEST_STATUS_SUCCESS);
        assert_non_null(pool);
        TpReleasePool(pool);
    }
}

static void ntdll_pool_max_one_serializes(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *c = ctx_new();

    c->cb.block = TRUE;
    TpSetPoolMaxThreads(p->pool, 1);
    assert_status(TpSimpleTryPost(nt_simple_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_status(TpSimpleTryPost(nt_simple_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    helper_wait(c->cb.started);
    helper_wait_not(c->cb.started, 100);
    ctx_release_free(c, 2);
}

/* TpSetPoolMinThreads succeeds with STATUS_SUCCESS and creates the threads. */
static void ntdll_pool_min_threads_success(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *c = ctx_new();
    LONG status;
    int i;

    c->cb.block = TRUE;
    status = (LONG)TpSetPoolMinThreads(p->pool, 3);
    assert_true(status >= 0);
    TODO_REF("Wine returns TRUE, not STATUS_SUCCESS")
        CHECK_EQ((DWORD)status, (DWORD)TP_TEST_STATUS_SUCCESS);
    for (i = 0; i < 3; i++)
        assert_status(TpSimpleTryPost(nt_simple_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_true(helper_wait_count(&c->cb.started_count, 3));
    ctx_release_free(c, 3);
}

static void ntdll_pool_stack_information(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    TP_POOL_STACK_INFORMATION info, out;

    info.StackReserve = 512 * 1024;
    info.StackCommit = 16 * 1024;
    assert_status(TpSetPoolStackInformation(p->pool, &info), TP_TEST_STATUS_SUCCESS);
    memset(&out, 0, sizeof(out));
    assert_status(TpQueryPoolStackInformation(p->pool, &out), TP_TEST_STATUS_SUCCESS);
    assert_int_equal(out.StackReserve, info.StackReserve);
    assert_int_equal(out.StackCommit, info.StackCommit);
    assert_status(TpSetPoolStackInformation(p->pool, NULL), TP_TEST_STATUS_INVALID_PARAMETER);
    assert_status(TpQueryPoolStackInformation(p->pool, NULL), TP_TEST_STATUS_INVALID_PARAMETER);
    NOT_RUN_ON(MODES_REF, "Wine dereferences a NULL pool")
        assert_status(TpSetPoolStackInformation(NULL, &info), TP_TEST_STATUS_INVALID_PARAMETER);
    NOT_RUN_ON(MODES_REF, "Wine dereferences a NULL pool")
        assert_status(TpQueryPoolStackInformation(NULL, &out), TP_TEST_STATUS_INVALID_PARAMETER);
}

/* ---- work --------------------------------------------------------------------- */

static void ntdll_work_post_wait_release(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *c = ctx_new();
    PTP_WORK work = NULL;
    int i;

    assert_status(TpAllocWork(&work, nt_work_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_non_null(work);
    for (i = 0; i < 3; i++)
        TpPostWork(work);
    TpWaitForWork(work, FALSE);
    assert_int_equal(probe_hits(&c->cb.probe), 3);
    TpReleaseWork(work);
    /* A NULL environment means the default pool. */
    assert_status(TpAllocWork(&work, nt_work_cb, c, NULL), TP_TEST_STATUS_SUCCESS);
    TpPostWork(work);
    TpWaitForWork(work, FALSE);
    assert_int_equal(probe_hits(&c->cb.probe), 4);
    TpReleaseWork(work);
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
}

/* TpWaitForWork with cancel drops the callbacks still queued. */
static void ntdll_wait_for_work_cancel_drops_pending(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *blocker = ctx_new(), *c = ctx_new();
    PTP_WORK busy = NULL, work = NULL;
    int i;

    TpSetPoolMaxThreads(p->pool, 1);
    blocker->cb.block = TRUE;
    assert_status(TpAllocWork(&busy, nt_work_cb, blocker, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_status(TpAllocWork(&work, nt_work_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    TpPostWork(busy);
    helper_wait(blocker->cb.started);
    for (i = 0; i < 5; i++)
        TpPostWork(work);
    TpWaitForWork(work, TRUE);
    gate_open(&blocker->cb.gate, 1);
    TpWaitForWork(busy, FALSE);
    TpPostWork(work);
    TpWaitForWork(work, FALSE);
    assert_int_equal(probe_hits(&c->cb.probe), 1);
    TpReleaseWork(work);
    TpReleaseWork(busy);
    ctx_free(c);
    ctx_free(blocker);
}

/* A bad priority is STATUS_INVALID_PARAMETER from both allocation calls. */
static void ntdll_bad_priority_invalid_parameter(void **state)
{
    static struct probe never = PROBE_INIT;
    struct nt_pool *p = nt_pool_of(state);
    TP_CALLBACK_ENVIRON env = p->env;
    PTP_WORK work = NULL;

    env.CallbackPriority = (TP_CALLBACK_PRIORITY)10;
    assert_status(TpSimpleTryPost(nt_simple_cb, &never, &env), TP_TEST_STATUS_INVALID_PARAMETER);
    assert_status(TpAllocWork(&work, nt_work_cb, &never, &env), TP_TEST_STATUS_INVALID_PARAMETER);
    assert_int_equal(probe_hits(&never), 0);
}

/* A bad version is STATUS_INVALID_PARAMETER (Windows 7 and later). */
static void ntdll_bad_version_invalid_parameter(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    TP_CALLBACK_ENVIRON env = p->env;
    struct nt_ctx *c = ctx_new();
    LONG status;

    env.Version = 9999;
    status = TpSimpleTryPost(nt_simple_cb, c, &env);
    TODO_REF("Wine accepts any environment version")
        CHECK_EQ((DWORD)status, (DWORD)TP_TEST_STATUS_INVALID_PARAMETER);
    if (status == TP_TEST_STATUS_SUCCESS)
        assert_true(helper_wait_count(&c->cb.done, 1));
    ctx_free(c);
}

/* ---- simple callbacks --------------------------------------------------------------- */

static void ntdll_simple_try_post_runs(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *c = ctx_new();

    assert_status(TpSimpleTryPost(nt_simple_cb, c, NULL), TP_TEST_STATUS_SUCCESS);
    assert_true(helper_wait_count(&c->cb.done, 1));
    assert_status(TpSimpleTryPost(nt_simple_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_true(helper_wait_count(&c->cb.done, 2));
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
}

/* ---- cleanup groups ------------------------------------------------------------------ */

static volatile LONG cancel_calls;
static PVOID cancel_object_ctx, cancel_cleanup_ctx;

static void CALLBACK nt_cancel_cb(PVOID object_ctx, PVOID cleanup_ctx)
{
    cancel_object_ctx = object_ctx;
    cancel_cleanup_ctx = cleanup_ctx;
    InterlockedIncrement(&cancel_calls);
}

static void ntdll_cleanup_group_release_members(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *blocker = ctx_new(), *c = ctx_new();
    PTP_CLEANUP_GROUP group = NULL;
    TP_CALLBACK_ENVIRON env, one_env;
    PTP_WORK busy = NULL, work = NULL;
    PTP_POOL one = NULL;
    int marker, i;

    InitializeThreadpoolEnvironment(&one_env);
    assert_status(TpAllocCleanupGroup(&group), TP_TEST_STATUS_SUCCESS);
    assert_non_null(group);
    env = p->env;
    SetThreadpoolCallbackCleanupGroup(&env, group, nt_cancel_cb);

    /* Without cancel: waits for the member's callbacks. */
    assert_status(TpAllocWork(&work, nt_work_cb, c, &env), TP_TEST_STATUS_SUCCESS);
    for (i = 0; i < 3; i++)
        TpPostWork(work);
    assert_status(TpSimpleTryPost(nt_simple_cb, c, &env), TP_TEST_STATUS_SUCCESS);
    TpReleaseCleanupGroupMembers(group, FALSE, &marker);
    assert_int_equal(InterlockedCompareExchange(&c->cb.done, 0, 0), 4);
    assert_int_equal(cancel_calls, 0);

    /*
     * With cancel: queued callbacks dropped, one cancel call per member.  A
     * fresh one-thread pool, kept busy by a non-member, holds them queued.
     */
    assert_status(TpAllocPool(&one, NULL), TP_TEST_STATUS_SUCCESS);
    TpSetPoolMaxThreads(one, 1);
    SetThreadpoolCallbackPool(&one_env, one);
    SetThreadpoolCallbackPool(&env, one);
    blocker->cb.block = TRUE;
    assert_status(TpAllocWork(&busy, nt_work_cb, blocker, &one_env), TP_TEST_STATUS_SUCCESS);
    TpPostWork(busy);
    helper_wait(blocker->cb.started);
    assert_status(TpAllocWork(&work, nt_work_cb, c, &env), TP_TEST_STATUS_SUCCESS);
    for (i = 0; i < 3; i++)
        TpPostWork(work);
    TpReleaseCleanupGroupMembers(group, TRUE, &marker);
    assert_int_equal(cancel_calls, 1);
    assert_ptr_equal(cancel_object_ctx, c);
    assert_ptr_equal(cancel_cleanup_ctx, &marker);
    gate_open(&blocker->cb.gate, 1);
    TpWaitForWork(busy, FALSE);
    TpReleaseWork(busy);
    assert_int_equal(InterlockedCompareExchange(&c->cb.done, 0, 0), 4);
    TpReleaseCleanupGroup(group);
    TpReleasePool(one);
    DestroyThreadpoolEnvironment(&one_env);
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
    ctx_free(blocker);
}

/* ---- instance calls ------------------------------------------------------------------ */

static void CALLBACK actions_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct nt_ctx *c = ctx;

    EnterCriticalSection(&c->obj.cs);
    PROBE_CHECK(&c->cb.probe,
                WaitForSingleObject(c->obj.mutex, helper_timeout_ms()) == WAIT_OBJECT_0);
    TpCallbackLeaveCriticalSectionOnCompletion(inst, &c->obj.cs);
    TpCallbackReleaseMutexOnCompletion(inst, c->obj.mutex);
    TpCallbackReleaseSemaphoreOnCompletion(inst, c->obj.sem, 2);
    TpCallbackSetEventOnCompletion(inst, c->obj.event);
    Sleep(20);
    InterlockedExchange(&c->cb.done, 1);
}

/* The completion actions run after the callback has returned. */
static void ntdll_callback_completion_actions(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *c = ctx_new();

    assert_status(TpSimpleTryPost(actions_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    helper_wait(c->obj.event);
    assert_int_equal(InterlockedCompareExchange(&c->cb.done, 0, 0), 1);
    assert_true(TryEnterCriticalSection(&c->obj.cs));
    LeaveCriticalSection(&c->obj.cs);
    assert_int_equal(WaitForSingleObject(c->obj.mutex, 0), WAIT_OBJECT_0);
    assert_true(ReleaseMutex(c->obj.mutex));
    assert_int_equal(WaitForSingleObject(c->obj.sem, helper_timeout_ms()), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(c->obj.sem, helper_timeout_ms()), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(c->obj.sem, 0), WAIT_TIMEOUT);
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
}

static void CALLBACK unload_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct nt_ctx *c = ctx;
    HMODULE module = LoadLibraryA(c->module_path);

    PROBE_CHECK(&c->cb.probe, module != NULL);
    if (module)
        TpCallbackUnloadDllOnCompletion(inst, module);
    InterlockedExchange(&c->cb.done, 1);
}

static void ntdll_callback_unload_dll(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    const char *path = getenv("KERNEL32_TP_TEST_MODULE");
    struct nt_ctx *c;
    DWORD start;

    if (!path || !*path)
        skip();
    c = ctx_new();
    c->module_path = path;
    assert_null(GetModuleHandleA(path));
    assert_status(TpSimpleTryPost(unload_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_true(helper_wait_count(&c->cb.done, 1));
    start = GetTickCount();
    while (GetModuleHandleA(path) && GetTickCount() - start < helper_timeout_ms())
        Sleep(1);
    assert_null(GetModuleHandleA(path));
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
}

/* TpWaitForWork returns while a disassociated callback still runs. */
static void ntdll_disassociate_callback(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    struct nt_ctx *c = ctx_new();
    PTP_WORK work = NULL;

    c->cb.block = TRUE;
    c->disassociate = TRUE;
    assert_status(TpAllocWork(&work, nt_work_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    TpPostWork(work);
    helper_wait(c->cb.started);
    TpWaitForWork(work, FALSE);
    assert_int_equal(InterlockedCompareExchange(&c->cb.done, 0, 0), 0);
    gate_open(&c->cb.gate, 1);
    assert_true(helper_wait_count(&c->cb.done, 1));
    TpReleaseWork(work);
    probe_assert_clean(&c->cb.probe);
    ctx_free(c);
}

static void CALLBACK may_run_long_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    struct nt_ctx *c = ctx;

    c->may_run_long = TpCallbackMayRunLong(inst);
    InterlockedExchange(&c->cb.done, 1);
}

/* TpCallbackMayRunLong's status in a pool of at most max threads. */
struct may_run_long_row {
    DWORD max;
    LONG status;
};
/* With threads to spare, STATUS_SUCCESS; at the maximum (a one-thread
 * pool), STATUS_TOO_MANY_THREADS. */
static struct may_run_long_row may_run_long_spare = { 8, TP_TEST_STATUS_SUCCESS };
static struct may_run_long_row may_run_long_at_max = { 1, TP_TEST_STATUS_TOO_MANY_THREADS };

static void ntdll_callback_may_run_long(void **state)
{
    struct nt_pool *p = nt_pool_of(state);
    const struct may_run_long_row *row = p->param;
    struct nt_ctx *c = ctx_new();

    TpSetPoolMaxThreads(p->pool, row->max);
    assert_status(TpSimpleTryPost(may_run_long_cb, c, &p->env), TP_TEST_STATUS_SUCCESS);
    assert_true(helper_wait_count(&c->cb.done, 1));
    assert_status(c->may_run_long, row->status);
    ctx_free(c);
}

/* ---- the legacy names (Rtl*) ---------------------------------------------------- */

/* What an Rtl* callback saw; the test thread asserts. */
struct rtl_ctx {
    struct probe probe;
    struct gate gate;
    HANDLE done_sem;            /* released once per callback, last */
    HANDLE started;             /* set on entry */
    BOOL block;                 /* pass the gate before returning */
    volatile LONG signalled;    /* TimerOrWaitFired FALSE */
    volatile LONG timeouts;     /* TimerOrWaitFired TRUE */
};

static void rtl_ctx_init(struct rtl_ctx *c)
{
    memset(c, 0, sizeof(*c));         /* PROBE_INIT is all zeros */
    gate_init(&c->gate);
    c->done_sem = semaphore_new();
    c->started = event_new(TRUE, FALSE);
}

static void rtl_ctx_destroy(struct rtl_ctx *c)
{
    gate_destroy(&c->gate);
    CloseHandle(c->done_sem);
    CloseHandle(c->started);
}

static DWORD CALLBACK rtl_work_cb(PVOID ctx)
{
    struct rtl_ctx *c = ctx;

    probe_hit(&c->probe);
    ReleaseSemaphore(c->done_sem, 1, NULL);
    return 0;
}

static void CALLBACK rtl_wait_cb(PVOID ctx, BOOLEAN timed_out)
{
    struct rtl_ctx *c = ctx;

    SetEvent(c->started);
    if (c->block)
        PROBE_CHECK(&c->probe, gate_pass(&c->gate));
    if (timed_out)
        InterlockedIncrement(&c->timeouts);
    else
        InterlockedIncrement(&c->signalled);
    probe_hit(&c->probe);
    ReleaseSemaphore(c->done_sem, 1, NULL);
}

static void ntdll_rtl_queue_work_item_runs(void **state)
{
    static const ULONG flags[] = { WT_EXECUTEDEFAULT, WT_EXECUTEINIOTHREAD,
                                   WT_EXECUTEINPERSISTENTTHREAD, WT_EXECUTELONGFUNCTION,
                                   WT_TRANSFER_IMPERSONATION };
    struct rtl_ctx c;
    size_t i;

    (void)state;
    rtl_ctx_init(&c);
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        assert_status(RtlQueueWorkItem(rtl_work_cb, &c, flags[i]), TP_TEST_STATUS_SUCCESS);
        helper_wait(c.done_sem);
    }
    probe_assert_hits(&c.probe, (int)(sizeof(flags) / sizeof(flags[0])));
    rtl_ctx_destroy(&c);
}

/* STATUS_SUCCESS to deregister a wait with nothing outstanding; callbacks
 * for signals and timeouts. */
static void ntdll_rtl_register_wait_signal_and_timeout(void **state)
{
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, NULL), wait = NULL;
    struct rtl_ctx c;

    (void)state;
    assert_non_null(event);
    rtl_ctx_init(&c);
    assert_status(RtlRegisterWait(&wait, event, rtl_wait_cb, &c, INFINITE, WT_EXECUTEDEFAULT),
                  TP_TEST_STATUS_SUCCESS);
    assert_non_null(wait);
    assert_status(RtlDeregisterWait(wait), TP_TEST_STATUS_SUCCESS);
    assert_true(SetEvent(event));
    helper_wait_not(c.done_sem, 100);

    assert_status(RtlRegisterWait(&wait, event, rtl_wait_cb, &c, INFINITE, WT_EXECUTEDEFAULT),
                  TP_TEST_STATUS_SUCCESS);
    helper_wait(c.done_sem);      /* for the signal left from above */
    assert_true(SetEvent(event));
    helper_wait(c.done_sem);
    assert_int_equal(count_of(&c.signalled), 2);
    assert_status(RtlDeregisterWaitEx(wait, INVALID_HANDLE_VALUE), TP_TEST_STATUS_SUCCESS);

    assert_status(RtlRegisterWait(&wait, event, rtl_wait_cb, &c, 0, WT_EXECUTEONLYONCE),
                  TP_TEST_STATUS_SUCCESS);
    helper_wait(c.done_sem);
    assert_int_equal(count_of(&c.timeouts), 1);
    assert_status(RtlDeregisterWaitEx(wait, INVALID_HANDLE_VALUE), TP_TEST_STATUS_SUCCESS);
    probe_assert_clean(&c.probe);
    rtl_ctx_destroy(&c);
    CloseHandle(event);
}

/* A running callback: STATUS_PENDING without an event, and the event is set
 * once it returns; INVALID_HANDLE_VALUE waits for it. */
static void ntdll_rtl_deregister_wait_running_pending(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, TRUE, NULL), done = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE wait = NULL;
    struct rtl_ctx c;

    (void)state;
    assert_non_null(event);
    assert_non_null(done);
    rtl_ctx_init(&c);
    c.block = TRUE;
    assert_status(RtlRegisterWait(&wait, event, rtl_wait_cb, &c, INFINITE, WT_EXECUTEONLYONCE),
                  TP_TEST_STATUS_SUCCESS);
    helper_wait(c.started);
    assert_status(RtlDeregisterWaitEx(wait, done), TP_TEST_STATUS_PENDING);
    assert_int_equal(WaitForSingleObject(done, 0), WAIT_TIMEOUT);
    gate_open(&c.gate, 1);
    helper_wait(done);
    helper_wait(c.done_sem);

    ResetEvent(c.started);
    assert_status(RtlRegisterWait(&wait, event, rtl_wait_cb, &c, INFINITE, WT_EXECUTEONLYONCE),
                  TP_TEST_STATUS_SUCCESS);
    helper_wait(c.started);
    assert_status(RtlDeregisterWait(wait), TP_TEST_STATUS_PENDING);
    gate_open(&c.gate, 1);
    helper_wait(c.done_sem);

    ResetEvent(c.started);
    assert_status(RtlRegisterWait(&wait, event, rtl_wait_cb, &c, INFINITE, WT_EXECUTEONLYONCE),
                  TP_TEST_STATUS_SUCCESS);
    helper_wait(c.started);
    gate_open(&c.gate, 1);
    assert_status(RtlDeregisterWaitEx(wait, INVALID_HANDLE_VALUE), TP_TEST_STATUS_SUCCESS);
    /* It waited for the callback. */
    assert_int_equal(count_of(&c.signalled), 3);
    helper_wait(c.done_sem);
    probe_assert_clean(&c.probe);
    rtl_ctx_destroy(&c);
    CloseHandle(event);
    CloseHandle(done);
}

static void ntdll_rtl_deregister_wait_null_invalid_handle(void **state)
{
    (void)state;
    assert_status(RtlDeregisterWait(NULL), TP_TEST_STATUS_INVALID_HANDLE);
    assert_status(RtlDeregisterWaitEx(NULL, NULL), TP_TEST_STATUS_INVALID_HANDLE);
}

/* RtlDeleteTimerQueue is not in Wine's ntdll: the reference looks it up. */
static LONG rtl_delete_timer_queue(HANDLE queue)
{
#ifdef KERNEL32_TP_TEST_REFERENCE
    NTSTATUS (WINAPI *fn)(HANDLE) =
        (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "RtlDeleteTimerQueue");

    if (!fn)
        return RtlDeleteTimerQueueEx(queue, NULL);
    return fn(queue);
#else
    return RtlDeleteTimerQueue(queue);
#endif
}

static void ntdll_rtl_timer_queue_create_update_delete(void **state)
{
    HANDLE queue = NULL, timer = NULL, idle = NULL, done = CreateEventW(NULL, TRUE, FALSE, NULL);
    struct rtl_ctx c;
    LONG status;

    (void)state;
    assert_non_null(done);
    rtl_ctx_init(&c);
    assert_status(RtlCreateTimerQueue(&queue), TP_TEST_STATUS_SUCCESS);
    assert_non_null(queue);
    /* Due at once, then every 10 ms. */
    assert_status(RtlCreateTimer(queue, &timer, rtl_wait_cb, &c, 0, 10, WT_EXECUTEDEFAULT),
                  TP_TEST_STATUS_SUCCESS);
    assert_non_null(timer);
    helper_wait(c.done_sem);
    helper_wait(c.done_sem);
    /* Far away now: no more callbacks for a while. */
    assert_status(RtlUpdateTimer(queue, timer, 100000, 0), TP_TEST_STATUS_SUCCESS);
    assert_status(RtlDeleteTimer(queue, timer, INVALID_HANDLE_VALUE), TP_TEST_STATUS_SUCCESS);
    assert_true(count_of(&c.timeouts) >= 2);
    assert_int_equal(count_of(&c.signalled), 0);

    /* A timer that never fired, deleted with an event: set at once. */
    assert_status(RtlCreateTimer(queue, &idle, rtl_wait_cb, &c, 100000, 0, WT_EXECUTEDEFAULT),
                  TP_TEST_STATUS_SUCCESS);
    status = RtlDeleteTimer(queue, idle, done);
    assert_status(status, TP_TEST_STATUS_SUCCESS);
    helper_wait(done);

    assert_status(RtlDeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE), TP_TEST_STATUS_SUCCESS);
    /* The default queue is not the caller's to delete. */
    assert_status(RtlDeleteTimerQueueEx(NULL, NULL), TP_TEST_STATUS_INVALID_HANDLE);
    probe_assert_clean(&c.probe);
    rtl_ctx_destroy(&c);
    CloseHandle(done);
}

/* A running callback makes RtlDeleteTimer STATUS_PENDING; the queue goes
 * with RtlDeleteTimerQueue, which does not wait. */
static void ntdll_rtl_delete_timer_running_pending(void **state)
{
    HANDLE queue = NULL, timer = NULL, done = CreateEventW(NULL, TRUE, FALSE, NULL);
    struct rtl_ctx c;
    LONG status;

    (void)state;
    assert_non_null(done);
    rtl_ctx_init(&c);
    c.block = TRUE;
    assert_status(RtlCreateTimerQueue(&queue), TP_TEST_STATUS_SUCCESS);
    assert_status(RtlCreateTimer(queue, &timer, rtl_wait_cb, &c, 0, 0, WT_EXECUTEDEFAULT),
                  TP_TEST_STATUS_SUCCESS);
    helper_wait(c.started);
    assert_status(RtlDeleteTimer(queue, timer, done), TP_TEST_STATUS_PENDING);
    assert_int_equal(WaitForSingleObject(done, 0), WAIT_TIMEOUT);
    gate_open(&c.gate, 1);
    helper_wait(done);
    helper_wait(c.done_sem);
    status = rtl_delete_timer_queue(queue);
    TODO_REF("Wine has no RtlDeleteTimerQueue, and reports STATUS_PENDING")
        CHECK_EQ((DWORD)status, (DWORD)TP_TEST_STATUS_SUCCESS);
    probe_assert_clean(&c.probe);
    rtl_ctx_destroy(&c);
    CloseHandle(done);
}

/* ---- one function, two names ------------------------------------------------- */

#ifdef __MINGW32__
/* Where a name's import was bound: through a forward (kernel32's name to
 * ntdll's, in Windows and Wine), the forward's target. */
#define RESOLVED(name) (__extension__({ extern void *__imp_##name; __imp_##name; }))
#else
#define RESOLVED(name) ((void *)(name))
#endif
#define ALIAS(tp, k32) { #tp, #k32, RESOLVED(tp), RESOLVED(k32) }

/* kernel32 forwards these names to ntdll's: the caller of either reaches the
 * same function (spec/kernel32_tp.spec makes each Tp* name an alias). */
static void ntdll_twin_names_same_function(void **state)
{
    const struct { const char *tp, *k32; void *tp_addr, *k32_addr; } pairs[] = {
        ALIAS(TpCallbackLeaveCriticalSectionOnCompletion, LeaveCriticalSectionWhenCallbackReturns),
        ALIAS(TpCallbackReleaseMutexOnCompletion, ReleaseMutexWhenCallbackReturns),
        ALIAS(TpCallbackReleaseSemaphoreOnCompletion, ReleaseSemaphoreWhenCallbackReturns),
        ALIAS(TpCallbackSetEventOnCompletion, SetEventWhenCallbackReturns),
        ALIAS(TpCallbackUnloadDllOnCompletion, FreeLibraryWhenCallbackReturns),
        ALIAS(TpCancelAsyncIoOperation, CancelThreadpoolIo),
        ALIAS(TpDisassociateCallback, DisassociateCurrentThreadFromCallback),
        ALIAS(TpIsTimerSet, IsThreadpoolTimerSet),
        ALIAS(TpPostWork, SubmitThreadpoolWork),
        ALIAS(TpReleaseCleanupGroup, CloseThreadpoolCleanupGroup),
        ALIAS(TpReleaseCleanupGroupMembers, CloseThreadpoolCleanupGroupMembers),
        ALIAS(TpReleaseIoCompletion, CloseThreadpoolIo),
        ALIAS(TpReleasePool, CloseThreadpool),
        ALIAS(TpReleaseTimer, CloseThreadpoolTimer),
        ALIAS(TpReleaseWait, CloseThreadpoolWait),
        ALIAS(TpReleaseWork, CloseThreadpoolWork),
        ALIAS(TpSetPoolMaxThreads, SetThreadpoolThreadMaximum),
        ALIAS(TpSetTimer, SetThreadpoolTimer),
        ALIAS(TpSetWait, SetThreadpoolWait),
        ALIAS(TpStartAsyncIoOperation, StartThreadpoolIo),
        ALIAS(TpWaitForIoCompletion, WaitForThreadpoolIoCallbacks),
        ALIAS(TpWaitForTimer, WaitForThreadpoolTimerCallbacks),
        ALIAS(TpWaitForWait, WaitForThreadpoolWaitCallbacks),
        ALIAS(TpWaitForWork, WaitForThreadpoolWorkCallbacks),
    };
    unsigned int i, same = 0;

    (void)state;
    for (i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
        assert_non_null(pairs[i].tp_addr);
        if (pairs[i].tp_addr == pairs[i].k32_addr)
            same++;
        else
            print_message("%s %p and %s %p differ\n", pairs[i].tp, pairs[i].tp_addr,
                          pairs[i].k32, pairs[i].k32_addr);
    }
    assert_int_equal(same, sizeof(pairs) / sizeof(*pairs));
}

#define LEGACY_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ntdll_alloc_release_pool),
        NT_TEST(ntdll_pool_max_one_serializes),
        NT_TEST(ntdll_pool_min_threads_success),
        NT_TEST(ntdll_pool_stack_information),
        NT_TEST(ntdll_work_post_wait_release),
        NT_TEST(ntdll_wait_for_work_cancel_drops_pending),
        NT_TEST(ntdll_bad_priority_invalid_parameter),
        NT_TEST(ntdll_bad_version_invalid_parameter),
        NT_TEST(ntdll_simple_try_post_runs),
        NT_TEST(ntdll_cleanup_group_release_members),
        NT_TEST(ntdll_callback_completion_actions),
        NT_TEST(ntdll_callback_unload_dll),
        NT_TEST(ntdll_disassociate_callback),
        NT_PARAM_TEST(ntdll_callback_may_run_long_success, ntdll_callback_may_run_long,
                      &may_run_long_spare),
        NT_PARAM_TEST(ntdll_callback_may_run_long_too_many_threads, ntdll_callback_may_run_long,
                      &may_run_long_at_max),
        cmocka_unit_test(ntdll_twin_names_same_function),
        LEGACY_TEST(ntdll_rtl_queue_work_item_runs),
        LEGACY_TEST(ntdll_rtl_register_wait_signal_and_timeout),
        LEGACY_TEST(ntdll_rtl_deregister_wait_running_pending),
        LEGACY_TEST(ntdll_rtl_deregister_wait_null_invalid_handle),
        LEGACY_TEST(ntdll_rtl_timer_queue_create_update_delete),
        LEGACY_TEST(ntdll_rtl_delete_timer_running_pending),
    };

    return cmocka_run_group_tests_name("ntdll", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads: CreateThread's waitable handle and exit code (returned or
 * passed to ExitThread), STILL_ACTIVE, thread ids, waits on several thread
 * handles, the current-thread and current-process queries, the last error
 * per thread, stack sizes.
 */
#include <string.h>

#include "helper.h"

struct gated {
    struct gate gate;
    DWORD code;
    DWORD tid;                  /* the thread's own GetCurrentThreadId() */
    HANDLE started;
    HANDLE finishing;           /* set just before the thread returns */
    BOOL exit_thread;
};

static void gated_init(struct gated *g, DWORD code)
{
    memset(g, 0, sizeof(*g));
    gate_init(&g->gate);
    g->code = code;
    g->started = CreateEventW(NULL, TRUE, FALSE, NULL);
    g->finishing = CreateEventW(NULL, TRUE, FALSE, NULL);
}

static void gated_destroy(struct gated *g)
{
    gate_destroy(&g->gate);
    CloseHandle(g->started);
    CloseHandle(g->finishing);
}

static void __attribute__((noinline)) nested_exit(DWORD code)
{
    ExitThread(code);
}

static DWORD WINAPI gated_thread(void *arg)
{
    struct gated *g = arg;
    BOOL exit_thread = g->exit_thread;
    DWORD code = g->code;

    g->tid = GetCurrentThreadId();
    SetEvent(g->started);
    if (!gate_pass(&g->gate))
        return 0xbad;
    /* g may be gone once this is set. */
    SetEvent(g->finishing);
    if (exit_thread)
        nested_exit(code);
    return code;
}

/* gated_init(g, code), then gated_thread started on g (asserted), its id
 * stored in *tid if tid is set. */
static HANDLE gated_start(struct gated *g, DWORD code, DWORD *tid)
{
    HANDLE thread;

    gated_init(g, code);
    thread = CreateThread(NULL, 0, gated_thread, g, 0, tid);
    assert_non_null(thread);
    return thread;
}

/* Lets the thread of g end, waits for it: its exit code. */
static DWORD gated_finish(struct gated *g, HANDLE thread)
{
    gate_open(&g->gate, 1);
    return thread_exit_code(thread);
}

static void thread_exit_code_after_return(void **state)
{
    struct gated g;
    HANDLE thread;
    DWORD code = 0;

    (void)state;
    thread = gated_start(&g, 42, NULL);
    helper_wait(g.started);
    assert_int_equal(WaitForSingleObject(thread, 0), WAIT_TIMEOUT);
    assert_true(GetExitCodeThread(thread, &code));
    assert_int_equal(code, STILL_ACTIVE);
    assert_int_equal(gated_finish(&g, thread), 42);
    /* An ended thread stays signalled. */
    assert_int_equal(WaitForSingleObject(thread, 0), WAIT_OBJECT_0);
    CloseHandle(thread);
    gated_destroy(&g);
}

static void thread_exit_thread_sets_exit_code(void **state)
{
    struct gated g;
    HANDLE thread;

    (void)state;
    gated_init(&g, 7);
    g.exit_thread = TRUE;
    thread = CreateThread(NULL, 0, gated_thread, &g, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(gated_finish(&g, thread), 7);
    CloseHandle(thread);
    gated_destroy(&g);
}

static void thread_id_is_the_threads_own(void **state)
{
    struct gated g;
    HANDLE thread;
    DWORD tid = 0;

    (void)state;
    thread = gated_start(&g, 0, &tid);
    helper_wait(g.started);
    assert_int_not_equal(tid, 0);
    assert_int_equal(tid, g.tid);
    assert_int_not_equal(tid, GetCurrentThreadId());
    gate_open(&g.gate, 1);
    helper_wait(thread);
    CloseHandle(thread);
    gated_destroy(&g);
}

#define THREADS 4

static void thread_handles_wait_all_and_any(void **state)
{
    struct gated g[THREADS];
    HANDLE threads[THREADS];
    int i;

    (void)state;
    for (i = 0; i < THREADS; i++)
        threads[i] = gated_start(&g[i], (DWORD)i, NULL);
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, 0), WAIT_TIMEOUT);
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, FALSE, 0), WAIT_TIMEOUT);
    gate_open(&g[2].gate, 1);
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, FALSE, helper_timeout_ms()),
                     WAIT_OBJECT_0 + 2);
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, 50), WAIT_TIMEOUT);
    for (i = 0; i < THREADS; i++)
        gate_open(&g[i].gate, 1);
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, helper_timeout_ms()),
                     WAIT_OBJECT_0);
    /* Thread handles are not consumed by waits. */
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, FALSE, 0), WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++) {
        CloseHandle(threads[i]);
        gated_destroy(&g[i]);
    }
}

static void thread_handle_closed_while_running(void **state)
{
    struct gated g;
    HANDLE thread;

    (void)state;
    thread = gated_start(&g, 0, NULL);
    helper_wait(g.started);
    assert_true(CloseHandle(thread));
    /* The thread runs on without its handle. */
    gate_open(&g.gate, 1);
    helper_wait(g.finishing);
    gated_destroy(&g);
}

static DWORD WINAPI ids_thread(void *arg)
{
    DWORD *ids = arg;

    ids[0] = GetCurrentThreadId();
    ids[1] = GetCurrentProcessId();
    ids[2] = GetCurrentThread() == (HANDLE)~(ULONG_PTR)1;
    return 0;
}

static void thread_current_queries(void **state)
{
    DWORD ids[3] = { 0, 0, 0 };
    HANDLE thread;

    (void)state;
    assert_int_not_equal(GetCurrentThreadId(), 0);
    assert_int_not_equal(GetCurrentProcessId(), 0);
    thread = CreateThread(NULL, 0, ids_thread, ids, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    CloseHandle(thread);
    assert_int_not_equal(ids[0], GetCurrentThreadId());
    assert_int_equal(ids[1], GetCurrentProcessId());
    assert_int_equal(ids[2], 1);
    /* A thread waiting for itself never sees itself end. */
    assert_int_equal(WaitForSingleObject(GetCurrentThread(), 10), WAIT_TIMEOUT);
}

struct last_error_ctx {
    DWORD initial;
    DWORD after_set;
};

static DWORD WINAPI last_error_thread(void *arg)
{
    struct last_error_ctx *ctx = arg;

    ctx->initial = GetLastError();
    SetLastError(222);
    ctx->after_set = GetLastError();
    return 0;
}

static void thread_last_error_per_thread(void **state)
{
    struct last_error_ctx ctx = { 0xdeadbeef, 0 };
    HANDLE thread;

    (void)state;
    SetLastError(111);
    thread = CreateThread(NULL, 0, last_error_thread, &ctx, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    CloseHandle(thread);
    assert_int_equal(ctx.initial, 0);       /* a new thread starts clean */
    assert_int_equal(ctx.after_set, 222);
    SetLastError(111);
    assert_int_equal(GetLastError(), 111);
}

static DWORD WINAPI deep_stack_thread(void *arg)
{
    volatile char buf[256 * 1024];

    (void)arg;
    memset((char *)buf, 1, sizeof(buf));
    return buf[sizeof(buf) - 1];
}

static void thread_small_stack_request_still_usable(void **state)
{
    HANDLE thread;

    (void)state;
    /* Windows commits what is asked but reserves at least 1 MiB. */
    thread = CreateThread(NULL, 4096, deep_stack_thread, NULL, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(thread_exit_code(thread), 1);
    CloseHandle(thread);
}

static void thread_create_suspended_not_supported(void **state)
{
    struct gated g;
    HANDLE thread;

    (void)state;
    if (!helper_is_kernel32_tp())
        skip();
    gated_init(&g, 0);
    /* No ResumeThread on Linux: kernel32_tp refuses rather than lying. */
    SetLastError(0xdeadbeef);
    thread = CreateThread(NULL, 0, gated_thread, &g, CREATE_SUSPENDED, NULL);
    assert_null(thread);
    assert_int_equal(GetLastError(), ERROR_NOT_SUPPORTED);
    gated_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thread_exit_code_after_return),
        cmocka_unit_test(thread_exit_thread_sets_exit_code),
        cmocka_unit_test(thread_id_is_the_threads_own),
        cmocka_unit_test(thread_handles_wait_all_and_any),
        cmocka_unit_test(thread_handle_closed_while_running),
        cmocka_unit_test(thread_current_queries),
        cmocka_unit_test(thread_last_error_per_thread),
        cmocka_unit_test(thread_small_stack_request_still_usable),
        cmocka_unit_test(thread_create_suspended_not_supported),
    };

    return cmocka_run_group_tests_name("thread", tests, NULL, NULL);
}

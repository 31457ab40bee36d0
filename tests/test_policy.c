/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pool policy that programs rely on but Windows does not make observable
 * through its API: how many threads trivial callbacks get, idle workers
 * retiring down to the minimum, and submitting without allocating.  These
 * checks read kernel32_tp's introspection (include/kernel32_tp.h), so they
 * are skipped, with the reason printed, against the reference pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper.h"

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

/* Idle workers retire after this long in this binary (set in main). */
#define POLICY_IDLE_TIMEOUT_MS 100

static void skip_on_reference(const char *why)
{
    if (!helper_is_kernel32_tp()) {
        printf("skip: %s\n", why);
        skip();
    }
}

/*
 * 100,000 trivial callbacks keep the pool near one worker per CPU, however
 * high its maximum: a callback that never blocks gives no reason for more.
 */
static void policy_trivial_callbacks_keep_few_threads(void **state)
{
    struct helper_pool *hp = *state;
    volatile LONG count = 0;
    LONGLONG before;
    DWORD limit;
    PTP_WORK work;

    skip_on_reference("thread counts come from kernel32_tp's introspection");
    limit = (DWORD)helper_cpus() + 2;
    SetThreadpoolThreadMaximum(hp->pool, 500);
    before = tp_debug_callbacks_run();
    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&count, &hp->env);
    assert_non_null(work);
    submit_times(work, 100000);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(count, 100000);
    /* Other tests' pools are idle by now: the counter saw these callbacks. */
    assert_true(tp_debug_callbacks_run() - before >= 100000);
    /* The monitor may add a worker when a callback was preempted for a whole
     * tick on a loaded machine: allow two above one per CPU. */
    assert_true(helper_pool_threads(hp->pool) <= limit);
    CloseThreadpoolWork(work);
}

#define HIDDEN_WAITS 400
#define HIDDEN_WAIT_MS 2
#define HIDDEN_THREADS_MAX 64

struct hidden_waits {
    volatile LONG ran;
    volatile LONG threads;                      /* distinct threads in thread_ids */
    volatile LONG thread_ids[HIDDEN_THREADS_MAX];
};

/* Waits where the pool cannot see it: not through kernel32_tp's handle
 * layer on Linux, and the system's own Sleep for the DLL. */
static void hidden_wait(DWORD ms)
{
#ifdef __MINGW32__
    Sleep(ms);
#else
    struct timespec ts = { 0, (long)ms * 1000000L };

    nanosleep(&ts, NULL);
#endif
}

static void CALLBACK hidden_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct hidden_waits *h = ctx;
    LONG id = (LONG)GetCurrentThreadId(), i, n;

    (void)inst;
    (void)work;
    n = InterlockedCompareExchange(&h->threads, 0, 0);
    for (i = 0; i < n && h->thread_ids[i] != id; i++)
        ;
    if (i == n && (n = InterlockedIncrement(&h->threads)) <= HIDDEN_THREADS_MAX)
        InterlockedExchange(&h->thread_ids[n - 1], id);
    hidden_wait(HIDDEN_WAIT_MS);
    InterlockedIncrement(&h->ran);
}

/*
 * Callbacks that spend their time in waits the pool cannot see (a system
 * call of their own; under Wine every kernel32 call that waits is a round
 * trip to its server) leave the CPUs idle while their queue waits: the
 * pool adds workers although callbacks keep starting.  400 callbacks of
 * 2 ms each, at most 8 threads: more threads than the two a pool of
 * trivial callbacks keeps on this machine's CPUs run them.  kernel32_tp's
 * policy: Wine's pool adds a thread only when a submit finds every worker
 * busy, so a burst submitted at once runs on the few threads it started.
 */
static void policy_hidden_waits_get_more_threads(void **state)
{
    struct helper_pool *hp = *state;
    static struct hidden_waits h;
    PTP_WORK work;

    skip_on_reference("Wine's pool starts threads only when a submit finds all busy");
    memset((void *)&h, 0, sizeof(h));
    SetThreadpoolThreadMaximum(hp->pool, 8);
    work = CreateThreadpoolWork(hidden_wait_cb, (PVOID)&h, &hp->env);
    assert_non_null(work);
    submit_times(work, HIDDEN_WAITS);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(h.ran, HIDDEN_WAITS);
    assert_true(h.threads > (LONG)(helper_cpus() < 2 ? 2 : helper_cpus()));
    CloseThreadpoolWork(work);
}

/* Eight blocked callbacks need eight workers; idle, they retire to the minimum. */
static void policy_idle_workers_retire_to_minimum(void **state)
{
    struct helper_pool *hp = *state;
    struct cb_state b;
    DWORD start;
    PTP_WORK work;

    skip_on_reference("thread counts come from kernel32_tp's introspection");
    cb_state_init(&b);
    b.block = TRUE;
    SetThreadpoolThreadMaximum(hp->pool, 8);
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 1));
    work = CreateThreadpoolWork(cb_state_work_cb, &b, &hp->env);
    assert_non_null(work);
    submit_times(work, 8);
    assert_true(helper_wait_count(&b.started_count, 8));
    assert_int_equal(helper_pool_threads(hp->pool), 8);
    gate_open(&b.gate, 8);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    /* Time is under test here: retirement after POLICY_IDLE_TIMEOUT_MS, with
     * the whole test timeout as the (generous) bound. */
    start = GetTickCount();
    while (helper_pool_threads(hp->pool) > 1 && GetTickCount() - start < helper_timeout_ms())
        Sleep(10);
    assert_int_equal(helper_pool_threads(hp->pool), 1);
    CloseThreadpoolWork(work);
    probe_assert_clean(&b.probe);
    cb_state_destroy(&b);
}

/* ---- submitting never allocates (Linux, without sanitizers) ----------------------- */

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define POLICY_COUNTS_ALLOCATIONS 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
static volatile LONG allocations;
/* Only the submitting thread counts: a worker the monitor adds on a loaded
 * machine allocates its start-up record, which is not the submit path. */
static _Thread_local int counting;

/* The test binary's allocator: counts, then hands over to glibc's. */
void *malloc(size_t size)
{
    if (counting)
        InterlockedIncrement(&allocations);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    if (counting)
        InterlockedIncrement(&allocations);
    return __libc_calloc(count, size);
}

void *realloc(void *ptr, size_t size)
{
    if (counting)
        InterlockedIncrement(&allocations);
    return __libc_realloc(ptr, size);
}
#endif

/*
 * SubmitThreadpoolWork cannot fail, so it must not allocate: 10,000 posts,
 * with their callbacks running meanwhile, allocate nothing on the submitting
 * thread.
 */
static void policy_submit_never_allocates(void **state)
{
#ifdef POLICY_COUNTS_ALLOCATIONS
    struct helper_pool *hp = *state;
    volatile LONG count = 0;
    PTP_WORK work;

    assert_true(SetThreadpoolThreadMinimum(hp->pool, 2));
    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&count, &hp->env);
    assert_non_null(work);
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    InterlockedExchange(&allocations, 0);
    counting = 1;
    submit_times(work, 10000);
    counting = 0;
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    assert_int_equal(count, 10001);
    assert_int_equal(allocations, 0);
    CloseThreadpoolWork(work);
#else
    (void)state;
    printf("skip: allocations are counted only in the plain Linux build\n");
    skip();
#endif
}

int main(void)
{
    static char idle_timeout[64];
    const struct CMUnitTest tests[] = {
        POOL_TEST(policy_trivial_callbacks_keep_few_threads),
        POOL_TEST(policy_idle_workers_retire_to_minimum),
        POOL_TEST(policy_submit_never_allocates),
        POOL_TEST(policy_hidden_waits_get_more_threads),
    };

    snprintf(idle_timeout, sizeof(idle_timeout), "KERNEL32_TP_IDLE_TIMEOUT_MS=%d",
             POLICY_IDLE_TIMEOUT_MS);
    putenv(idle_timeout);
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}

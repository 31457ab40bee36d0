/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The make bench scenarios on libuv's thread pool (uv_queue_work), as a
 * libuv program would write them: requests are queued from the loop thread,
 * each needs its own uv_work_t (allocated and touched before the clock
 * starts), and completion reaches the loop through after_work callbacks, so
 * a run ends when uv_run() returns.  The pool has libuv's default size
 * (UV_THREADPOOL_SIZE, 4 threads).
 *
 *   S1, S1b  N requests (libuv has no reusable work object: both are the
 *            same code, each request with its own context)
 *   S2       pause, queue one request, time to the work callback's start
 *   S5s      each work callback posts a uv_sem_t; the loop thread waits N times
 *   S5e, S6  unsupported: no completion actions, no work objects to create
 *   S7a, S7b N uv_timer_t due at random moments within one second of the
 *            first start, each started (from the loop thread) with the
 *            milliseconds left; callbacks run on the loop thread (libuv
 *            timers have no pool); lateness from the due time asked for
 *   S8a, S8b N eventfds, each with a uv_poll_t (libuv's way to wait for a
 *            handle), all started, then all written: time from the first
 *            write to the last callback, which reads its eventfd (as an
 *            auto-reset event is consumed) and stops its poll; callbacks
 *            run on the loop thread
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include "bench.h"

#define WARMUP_SAMPLES 100

struct run {
    atomic_long count;
    atomic_ullong t_start;
    uv_sem_t sem;
};

static struct run run;

static void count_cb(uv_work_t *req)
{
    (void)req;
    bench_note_thread();
    atomic_fetch_add(&run.count, 1);
}

static void wake_cb(uv_work_t *req)
{
    (void)req;
    atomic_store(&run.t_start, bench_now_ns());
    bench_note_thread();
}

static void sem_cb(uv_work_t *req)
{
    (void)req;
    bench_note_thread();
    uv_sem_post(&run.sem);
}

static void after_cb(uv_work_t *req, int status)
{
    (void)req;
    if (status)
        bench_fail("a libuv request failed");
}

static uv_work_t *alloc_reqs(long n)
{
    uv_work_t *reqs = calloc((size_t)n, sizeof(*reqs));

    if (!reqs)
        bench_fail("out of memory");
    memset(reqs, 0, sizeof(*reqs) * (size_t)n);
    return reqs;
}

static void queue_or_fail(uv_loop_t *loop, uv_work_t *req, uv_work_cb cb)
{
    if (uv_queue_work(loop, req, cb, after_cb))
        bench_fail("uv_queue_work failed");
}

/* Starts libuv's pool outside the timed region. */
static void warm_up(uv_loop_t *loop)
{
    uv_work_t req;

    queue_or_fail(loop, &req, count_cb);
    uv_run(loop, UV_RUN_DEFAULT);
    atomic_store(&run.count, 0);
}

static void s1(uv_loop_t *loop, const char *scenario, long n)
{
    uv_work_t *reqs = alloc_reqs(n);
    uint64_t t0, t1, t2;
    long i;

    warm_up(loop);
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        queue_or_fail(loop, &reqs[i], count_cb);
    t1 = bench_now_ns();
    uv_run(loop, UV_RUN_DEFAULT);
    t2 = bench_now_ns();
    if (atomic_load(&run.count) != n)
        bench_fail("callbacks went missing");
    bench_report_throughput(scenario, n, t0, t1, t2);
    free(reqs);
}

static void s2(uv_loop_t *loop, long n, unsigned pause_us)
{
    uint64_t *lat = malloc(sizeof(*lat) * (size_t)n);
    uv_work_t req;
    long i;

    if (!lat)
        bench_fail("out of memory");
    for (i = -WARMUP_SAMPLES; i < n; i++) {
        uint64_t t0;

        bench_pause_us(pause_us);
        t0 = bench_now_ns();
        queue_or_fail(loop, &req, wake_cb);
        uv_run(loop, UV_RUN_DEFAULT);
        if (i >= 0)
            lat[i] = atomic_load(&run.t_start) - t0;
    }
    bench_report_lateness("S2", lat, (size_t)n);
    bench_result("S2", "threads", (double)bench_threads_seen());
    free(lat);
}

static void s5s(uv_loop_t *loop, long n)
{
    uv_work_t *reqs = alloc_reqs(n);
    uint64_t t0, t1, t2;
    long i;

    if (uv_sem_init(&run.sem, 0))
        bench_fail("uv_sem_init failed");
    warm_up(loop);
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        queue_or_fail(loop, &reqs[i], sem_cb);
    t1 = bench_now_ns();
    for (i = 0; i < n; i++)
        uv_sem_wait(&run.sem);
    t2 = bench_now_ns();
    uv_run(loop, UV_RUN_DEFAULT);
    bench_report_throughput("S5s", n, t0, t1, t2);
    uv_sem_destroy(&run.sem);
    free(reqs);
}

/* S7: the handle comes first, so the callback finds its slot. */
struct s7_timer {
    uv_timer_t handle;
    uint64_t due_ns;
    uint64_t late_ns;
};

static long s7_early;

static void s7_cb(uv_timer_t *handle)
{
    struct s7_timer *timer = (struct s7_timer *)handle;
    uint64_t now = bench_now_ns();

    bench_note_thread();
    if (now < timer->due_ns)
        s7_early++;
    timer->late_ns = now > timer->due_ns ? now - timer->due_ns : 0;
}

static void s7(uv_loop_t *loop, const char *scenario, long n)
{
    struct s7_timer *timers = calloc((size_t)n, sizeof(*timers));
    uint64_t *late = malloc(sizeof(*late) * (size_t)n);
    uint32_t seed = 0x2545f491u;
    uint64_t t0, t1, t2, rel_ms, last_due = 0;
    long i;

    if (!timers || !late)
        bench_fail("out of memory");
    for (i = 0; i < n; i++)
        uv_timer_init(loop, &timers[i].handle);
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        /* libuv measures from its cached loop time: refresh it, as a
         * program setting timers outside a callback must. */
        uv_update_time(loop);
        rel_ms = bench_next_delay(&seed, t0, 1000000u, &timers[i].due_ns, &last_due);
        uv_timer_start(&timers[i].handle, s7_cb, rel_ms, 0);
    }
    t1 = bench_now_ns();
    uv_run(loop, UV_RUN_DEFAULT);
    t2 = bench_now_ns();
    for (i = 0; i < n; i++)
        late[i] = timers[i].late_ns;
    bench_report_timers(scenario, n, t0, t1, t2, last_due, late, s7_early);
    for (i = 0; i < n; i++)
        uv_close((uv_handle_t *)&timers[i].handle, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    free(late);
    free(timers);
}

/* S8: the handle comes first, so the callback finds its eventfd. */
struct s8_watch {
    uv_poll_t handle;
    int fd;
};

static long s8_fired;

static void s8_cb(uv_poll_t *handle, int status, int events)
{
    struct s8_watch *watch = (struct s8_watch *)handle;
    uint64_t value;

    (void)events;
    bench_note_thread();
    if (status < 0 || read(watch->fd, &value, sizeof(value)) != sizeof(value))
        bench_fail("S8: a poll callback failed");
    uv_poll_stop(handle);
    s8_fired++;
}

static void s8(uv_loop_t *loop, const char *scenario, long n)
{
    struct s8_watch *watches = calloc((size_t)n, sizeof(*watches));
    uint64_t t0, t1, t2, t3, t4, one = 1;
    long threads0, threads1, threads2;
    double rss0;
    long i;

    if (!watches)
        bench_fail("out of memory");
    threads0 = bench_process_threads();
    rss0 = bench_rss_bytes();
    for (i = 0; i < n; i++) {
        if ((watches[i].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0
            || uv_poll_init(loop, &watches[i].handle, watches[i].fd))
            bench_fail("S8: creating the eventfds and polls failed (raise ulimit -n)");
    }
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (uv_poll_start(&watches[i].handle, UV_READABLE, s8_cb))
            bench_fail("S8: uv_poll_start failed");
    t1 = bench_now_ns();
    threads1 = bench_process_threads();
    t2 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (write(watches[i].fd, &one, sizeof(one)) != sizeof(one))
            bench_fail("S8: writing an eventfd failed");
    t3 = bench_now_ns();
    while (s8_fired < n)
        uv_run(loop, UV_RUN_ONCE);
    t4 = bench_now_ns();
    threads2 = bench_process_threads();
    {
        const uint64_t t[5] = { t0, t1, t2, t3, t4 };
        const long threads[3] = { threads0, threads1, threads2 };

        bench_report_waits(scenario, n, t, threads, rss0);
    }
    for (i = 0; i < n; i++)
        uv_close((uv_handle_t *)&watches[i].handle, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    for (i = 0; i < n; i++)
        close(watches[i].fd);
    free(watches);
}

int main(int argc, char **argv)
{
    struct bench_args args;
    uv_loop_t *loop = uv_default_loop();

    bench_parse(argc, argv, &args);
    if (!strcmp(args.scenario, "S1") || !strcmp(args.scenario, "S1b"))
        s1(loop, args.scenario, args.n);
    else if (!strcmp(args.scenario, "S2"))
        s2(loop, args.n, args.pause_us);
    else if (!strcmp(args.scenario, "S5s"))
        s5s(loop, args.n);
    else if (!strcmp(args.scenario, "S5e"))
        bench_unsupported("S5e", "libuv has no completion actions");
    else if (!strcmp(args.scenario, "S6"))
        bench_unsupported("S6", "libuv has no work objects (uv_work_t is caller storage)");
    else if (!strcmp(args.scenario, "S7a") || !strcmp(args.scenario, "S7b"))
        s7(loop, args.scenario, args.n);
    else if (!strcmp(args.scenario, "S8a") || !strcmp(args.scenario, "S8b"))
        s8(loop, args.scenario, args.n);
    else
        bench_unsupported(args.scenario, "unknown scenario");
    uv_loop_close(loop);
    return 0;
}

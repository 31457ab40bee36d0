/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The make bench scenarios on GLib's GThreadPool, as a GLib program would
 * write them: a shared (non-exclusive) pool of at most 4 threads, like
 * libuv's default; each push carries its own non-NULL data pointer.
 * Completion is a GMutex/GCond pair the last callback signals.
 *
 *   S1, S1b  N g_thread_pool_push (there is no reusable work object: both
 *            are the same code, each push with its own data)
 *   S2       pause, push one item, time to the callback's start
 *   S5s      each callback pushes to a GAsyncQueue (GLib's fan-in; it has
 *            no semaphore); the submitter pops N times
 *   S5e, S6  unsupported: no completion actions, no work objects to create
 *   S7a, S7b N timeout sources due at random moments within one second of
 *            the first, each attached with the milliseconds left, on one
 *            GMainContext the main thread iterates (GLib's timers have no
 *            pool); lateness from the due time asked for
 *   S8a, S8b N eventfds, each watched by a unix fd source (g_unix_fd_add's
 *            kind) on one GMainContext the main thread iterates, all
 *            attached, then all written: time from the first write to the
 *            last callback, which reads its eventfd and removes its source
 */
#include <glib.h>
#include <glib-unix.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define GLIB_MAX_THREADS 4
#define WARMUP_SAMPLES 100

enum mode { MODE_COUNT, MODE_WAKE, MODE_QUEUE };

struct run {
    enum mode mode;
    gint count;
    gint target;
    guint64 t_start;
    gboolean done;
    GMutex lock;
    GCond cond;
    GAsyncQueue *queue;
};

static void run_signal(struct run *run)
{
    g_mutex_lock(&run->lock);
    run->done = TRUE;
    g_cond_signal(&run->cond);
    g_mutex_unlock(&run->lock);
}

static void run_wait(struct run *run)
{
    g_mutex_lock(&run->lock);
    while (!run->done)
        g_cond_wait(&run->cond, &run->lock);
    run->done = FALSE;
    g_mutex_unlock(&run->lock);
}

static void pool_cb(gpointer data, gpointer user_data)
{
    struct run *run = user_data;

    switch (run->mode) {
    case MODE_COUNT:
        bench_note_thread();
        if (g_atomic_int_add(&run->count, 1) + 1 == run->target)
            run_signal(run);
        break;
    case MODE_WAKE:
        run->t_start = bench_now_ns();
        bench_note_thread();
        run_signal(run);
        break;
    case MODE_QUEUE:
        bench_note_thread();
        g_async_queue_push(run->queue, data);
        break;
    }
}

static GThreadPool *pool_new(struct run *run)
{
    GError *error = NULL;
    GThreadPool *pool = g_thread_pool_new(pool_cb, run, GLIB_MAX_THREADS, FALSE, &error);

    if (!pool)
        bench_fail(error ? error->message : "g_thread_pool_new failed");
    return pool;
}

static void push_or_fail(GThreadPool *pool, gpointer data)
{
    GError *error = NULL;

    if (!g_thread_pool_push(pool, data, &error))
        bench_fail(error ? error->message : "g_thread_pool_push failed");
}

static void warm_up(GThreadPool *pool, struct run *run)
{
    enum mode mode = run->mode;

    run->mode = MODE_WAKE;
    push_or_fail(pool, run);
    run_wait(run);
    run->mode = mode;
}

/* The timed burst of S1 and S5s: pushes the items 1..n; *t0_ns and *t1_ns
 * are the times before and after. */
static void push_burst(GThreadPool *pool, long n, guint64 *t0_ns, guint64 *t1_ns)
{
    long i;

    *t0_ns = bench_now_ns();
    for (i = 0; i < n; i++)
        push_or_fail(pool, GSIZE_TO_POINTER(i + 1));
    *t1_ns = bench_now_ns();
}

static void s1(const char *scenario, long n)
{
    struct run run = { MODE_COUNT, 0, (gint)n, 0, FALSE, { 0 }, { 0 }, NULL };
    GThreadPool *pool;
    guint64 t0, t1, t2;

    g_mutex_init(&run.lock);
    g_cond_init(&run.cond);
    pool = pool_new(&run);
    warm_up(pool, &run);
    push_burst(pool, n, &t0, &t1);
    run_wait(&run);
    t2 = bench_now_ns();
    bench_report_throughput(scenario, n, t0, t1, t2);
    g_thread_pool_free(pool, FALSE, TRUE);
}

static void s2(long n, unsigned pause_us)
{
    struct run run = { MODE_WAKE, 0, 0, 0, FALSE, { 0 }, { 0 }, NULL };
    guint64 *lat = malloc(sizeof(*lat) * (size_t)n);
    GThreadPool *pool;
    long i;

    if (!lat)
        bench_fail("out of memory");
    g_mutex_init(&run.lock);
    g_cond_init(&run.cond);
    pool = pool_new(&run);
    for (i = -WARMUP_SAMPLES; i < n; i++) {
        guint64 t0;

        bench_pause_us(pause_us);
        t0 = bench_now_ns();
        push_or_fail(pool, &run);
        run_wait(&run);
        if (i >= 0)
            lat[i] = run.t_start - t0;
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    bench_report_lateness("S2", lat, (size_t)n);
    bench_result("S2", "threads", (double)bench_threads_seen());
    free(lat);
}

static void s5s(long n)
{
    struct run run = { MODE_QUEUE, 0, 0, 0, FALSE, { 0 }, { 0 }, NULL };
    GThreadPool *pool;
    guint64 t0, t1, t2;
    long i;

    g_mutex_init(&run.lock);
    g_cond_init(&run.cond);
    run.queue = g_async_queue_new();
    pool = pool_new(&run);
    warm_up(pool, &run);
    push_burst(pool, n, &t0, &t1);
    for (i = 0; i < n; i++)
        g_async_queue_pop(run.queue);
    t2 = bench_now_ns();
    bench_report_throughput("S5s", n, t0, t1, t2);
    g_thread_pool_free(pool, FALSE, TRUE);
    g_async_queue_unref(run.queue);
}

/* S7: one slot per timeout source. */
struct s7_timer {
    guint64 due_ns;
    guint64 late_ns;
};

static long s7_fired, s7_early;

static gboolean s7_cb(gpointer data)
{
    struct s7_timer *timer = data;
    guint64 now = bench_now_ns();

    bench_note_thread();
    if (now < timer->due_ns)
        s7_early++;
    timer->late_ns = now > timer->due_ns ? now - timer->due_ns : 0;
    s7_fired++;
    return G_SOURCE_REMOVE;
}

static void s7(const char *scenario, long n)
{
    struct s7_timer *timers = calloc((size_t)n, sizeof(*timers));
    uint64_t *late = malloc(sizeof(*late) * (size_t)n);
    GMainContext *context = g_main_context_new();
    guint32 seed = 0x2545f491u;
    guint64 t0, t1, t2, rel_ms, last_due = 0;
    GSource *source;
    long i;

    if (!timers || !late)
        bench_fail("out of memory");
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        rel_ms = bench_next_delay(&seed, t0, 1000000u, &timers[i].due_ns, &last_due);
        source = g_timeout_source_new((guint)rel_ms);
        g_source_set_callback(source, s7_cb, &timers[i], NULL);
        g_source_attach(source, context);
        g_source_unref(source);
    }
    t1 = bench_now_ns();
    while (s7_fired < n)
        g_main_context_iteration(context, TRUE);
    t2 = bench_now_ns();
    for (i = 0; i < n; i++)
        late[i] = timers[i].late_ns;
    bench_report_timers(scenario, n, t0, t1, t2, last_due, late, s7_early);
    g_main_context_unref(context);
    free(late);
    free(timers);
}

/* S8: the callbacks count. */
static long s8_fired;

static gboolean s8_cb(gint fd, GIOCondition condition, gpointer data)
{
    guint64 value;

    (void)condition;
    (void)data;
    bench_note_thread();
    if (read(fd, &value, sizeof(value)) != sizeof(value))
        bench_fail("S8: reading an eventfd failed");
    s8_fired++;
    return G_SOURCE_REMOVE;
}

static void s8(const char *scenario, long n)
{
    int *fds = calloc((size_t)n, sizeof(*fds));
    GMainContext *context = g_main_context_new();
    guint64 t0, t1, t2, t3, t4, one = 1;
    long threads0, threads1, threads2;
    GSource *source;
    double rss0;
    long i;

    if (!fds)
        bench_fail("out of memory");
    threads0 = bench_process_threads();
    rss0 = bench_rss_bytes();
    for (i = 0; i < n; i++)
        if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
            bench_fail("S8: creating the eventfds failed (raise ulimit -n)");
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        source = g_unix_fd_source_new(fds[i], G_IO_IN);
        g_source_set_callback(source, (GSourceFunc)(void (*)(void))s8_cb, NULL, NULL);
        g_source_attach(source, context);
        g_source_unref(source);
    }
    t1 = bench_now_ns();
    threads1 = bench_process_threads();
    t2 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (write(fds[i], &one, sizeof(one)) != sizeof(one))
            bench_fail("S8: writing an eventfd failed");
    t3 = bench_now_ns();
    while (s8_fired < n)
        g_main_context_iteration(context, TRUE);
    t4 = bench_now_ns();
    threads2 = bench_process_threads();
    {
        const uint64_t t[5] = { t0, t1, t2, t3, t4 };
        const long threads[3] = { threads0, threads1, threads2 };

        bench_report_waits(scenario, n, t, threads, rss0);
    }
    g_main_context_unref(context);
    for (i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
}

int main(int argc, char **argv)
{
    struct bench_args args;

    bench_parse(argc, argv, &args);
    if (!strcmp(args.scenario, "S1") || !strcmp(args.scenario, "S1b"))
        s1(args.scenario, args.n);
    else if (!strcmp(args.scenario, "S2"))
        s2(args.n, args.pause_us);
    else if (!strcmp(args.scenario, "S5s"))
        s5s(args.n);
    else if (!strcmp(args.scenario, "S5e"))
        bench_unsupported("S5e", "GLib has no completion actions");
    else if (!strcmp(args.scenario, "S6"))
        bench_unsupported("S6", "GLib has no work objects to create");
    else if (!strcmp(args.scenario, "S7a") || !strcmp(args.scenario, "S7b"))
        s7(args.scenario, args.n);
    else if (!strcmp(args.scenario, "S8a") || !strcmp(args.scenario, "S8b"))
        s8(args.scenario, args.n);
    else
        bench_unsupported(args.scenario, "unknown scenario");
    return 0;
}

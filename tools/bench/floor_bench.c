/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of make bench: the least a thread pool could do for each
 * scenario, in plain C11 with pthreads and futexes, so every figure has a
 * limit beside it.  Not a pool anyone should use: no priorities, no
 * callback instances, no growth, two workers (the machine's CPUs).
 *
 *   S1   a counter dispatcher: submitting adds 1 to a count and wakes a
 *        sleeping worker if there is one; workers take from the count
 *   S1b  a mutex-protected queue of (function, context) items
 *   S2   a bare futex hand-off to one sleeping thread
 *   S5s  the S1 dispatcher, each callback posts a POSIX semaphore
 *   S5e  the S1 dispatcher, a batch counter whose last callback wakes the
 *        submitter through a futex
 *   S6   malloc and free of a 64-byte object, the least a work object needs
 *        (callback, context, pool, counts, queue links)
 *   S7a, S7b  one timer thread over a binary heap under a mutex; it runs
 *        the "callbacks" itself (no hand-off to workers), so its lateness
 *        is what this machine gives a thread that sleeps to each deadline
 *   XC   not a pool: a cache line handed back and forth between two
 *        threads held on CPUs 0 and 1, N round trips; the runners measure
 *        it once per round, since what a line costs to cross between the
 *        two CPUs moves every figure that hands work between threads
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define FLOOR_WORKERS 2
#define S5E_BATCH 64
#define WARMUP_SAMPLES 100
#define FLOOR_OBJECT_BYTES 64
/* How long an idle worker polls before it sleeps: a sleeping worker costs
 * the submitter a FUTEX_WAKE, and with trivial callbacks workers catch up
 * with the submitter all the time. */
#ifndef FLOOR_SPIN
#define FLOOR_SPIN 2000
#endif

static void futex_wait(atomic_uint *word, unsigned expected)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_uint *word, int count)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

struct item {
    void (*fn)(void *ctx);
    void *ctx;
};

/* The dispatcher.  Lost wake-ups: a worker announces itself in sleepers
 * before it re-checks the work, a submitter publishes work before it reads
 * sleepers (both sequentially consistent), so at least one of them sees the
 * other; the seq word makes a wake between the re-check and FUTEX_WAIT
 * return at once.  One wake at a time: while a woken worker has not run yet
 * (waking), submitters skip the FUTEX_WAKE, since that worker will find
 * their work: it clears waking before it looks. */
struct floor_pool {
    atomic_long pending;        /* S1 mode: queued posts of the one job */
    struct item job;
    pthread_mutex_t lock;       /* queue mode: guards items and writes of head/tail */
    struct item *items;
    atomic_long head, tail;     /* read without the lock only to poll */
    int queue_mode;
    atomic_int sleepers;
    atomic_int waking;
    atomic_uint seq;
    atomic_int stop;
    pthread_t threads[FLOOR_WORKERS];
};

static int pool_take(struct floor_pool *pool, struct item *out)
{
    if (pool->queue_mode) {
        int got = 0;

        pthread_mutex_lock(&pool->lock);
        if (pool->head != pool->tail) {
            *out = pool->items[pool->head++];
            got = 1;
        }
        pthread_mutex_unlock(&pool->lock);
        return got;
    } else {
        long p = atomic_load(&pool->pending);

        while (p > 0)
            if (atomic_compare_exchange_weak(&pool->pending, &p, p - 1)) {
                *out = pool->job;
                return 1;
            }
        return 0;
    }
}

static int pool_has_work(struct floor_pool *pool)
{
    if (pool->queue_mode)
        return atomic_load(&pool->head) != atomic_load(&pool->tail);
    return atomic_load(&pool->pending) > 0;
}

static void *pool_worker(void *arg)
{
    struct floor_pool *pool = arg;
    struct item item;

    for (;;) {
        unsigned seq;
        int spin;

        while (pool_take(pool, &item))
            item.fn(item.ctx);
        if (atomic_load(&pool->stop))
            return NULL;
        for (spin = 0; spin < FLOOR_SPIN && !pool_has_work(pool); spin++)
            __builtin_ia32_pause();
        if (spin < FLOOR_SPIN)
            continue;
        seq = atomic_load(&pool->seq);
        atomic_fetch_add(&pool->sleepers, 1);
        if (!pool_has_work(pool) && !atomic_load(&pool->stop))
            futex_wait(&pool->seq, seq);
        atomic_fetch_sub(&pool->sleepers, 1);
        atomic_store(&pool->waking, 0);
    }
}

static void pool_wake(struct floor_pool *pool)
{
    if (atomic_load(&pool->sleepers) > 0 && !atomic_load(&pool->waking) &&
            !atomic_exchange(&pool->waking, 1)) {
        atomic_fetch_add(&pool->seq, 1);
        futex_wake(&pool->seq, 1);
    }
}

static void pool_start(struct floor_pool *pool, void (*fn)(void *), void *ctx, long queue_items)
{
    int i;

    memset(pool, 0, sizeof(*pool));
    pool->job.fn = fn;
    pool->job.ctx = ctx;
    pthread_mutex_init(&pool->lock, NULL);
    if (queue_items) {
        pool->queue_mode = 1;
        pool->items = calloc((size_t)queue_items, sizeof(*pool->items));
        if (!pool->items)
            bench_fail("out of memory");
        /* Touch the queue outside the timed region. */
        memset(pool->items, 0xff, sizeof(*pool->items) * (size_t)queue_items);
    }
    for (i = 0; i < FLOOR_WORKERS; i++)
        if (pthread_create(&pool->threads[i], NULL, pool_worker, pool))
            bench_fail("pthread_create failed");
}

static void pool_submit(struct floor_pool *pool)
{
    atomic_fetch_add(&pool->pending, 1);
    pool_wake(pool);
}

static void pool_submit_item(struct floor_pool *pool, void (*fn)(void *), void *ctx)
{
    pthread_mutex_lock(&pool->lock);
    pool->items[pool->tail].fn = fn;
    pool->items[pool->tail].ctx = ctx;
    pool->tail++;
    pthread_mutex_unlock(&pool->lock);
    pool_wake(pool);
}

static void pool_stop(struct floor_pool *pool)
{
    int i;

    atomic_store(&pool->stop, 1);
    atomic_fetch_add(&pool->seq, 1);
    futex_wake(&pool->seq, FLOOR_WORKERS);
    for (i = 0; i < FLOOR_WORKERS; i++)
        pthread_join(pool->threads[i], NULL);
    free(pool->items);
}

/* Completion of a throughput run: the last callback wakes the submitter. */
struct run {
    atomic_long count;
    long target;
    atomic_uint done;
    sem_t sem;
    atomic_uint batch_left;
};

static void run_wait(struct run *run)
{
    while (!atomic_load(&run->done))
        futex_wait(&run->done, 0);
}

static void count_cb(void *ctx)
{
    struct run *run = ctx;

    bench_note_thread();
    if (atomic_fetch_add(&run->count, 1) + 1 == run->target) {
        atomic_store(&run->done, 1);
        futex_wake(&run->done, 1);
    }
}

static void s1(long n, int queue)
{
    struct floor_pool pool;
    struct run run = { 0 };
    uint64_t t0, t1, t2;
    long i;

    run.target = n;
    pool_start(&pool, count_cb, &run, queue ? n : 0);
    t0 = bench_now_ns();
    if (queue)
        for (i = 0; i < n; i++)
            pool_submit_item(&pool, count_cb, &run);
    else
        for (i = 0; i < n; i++)
            pool_submit(&pool);
    t1 = bench_now_ns();
    run_wait(&run);
    t2 = bench_now_ns();
    bench_report_throughput(queue ? "S1b" : "S1", n, t0, t1, t2);
    pool_stop(&pool);
}

/* S2: one thread sleeps on a futex word; the submitter sets it and wakes. */
struct handoff {
    atomic_uint go;
    atomic_uint done;
    atomic_ulong t_start;
    atomic_int stop;
};

static void *handoff_thread(void *arg)
{
    struct handoff *h = arg;

    for (;;) {
        while (!atomic_load(&h->go))
            futex_wait(&h->go, 0);
        if (atomic_load(&h->stop))
            return NULL;
        atomic_store(&h->t_start, bench_now_ns());
        bench_note_thread();
        atomic_store(&h->go, 0);
        atomic_store(&h->done, 1);
        futex_wake(&h->done, 1);
    }
}

static void s2(long n, unsigned pause_us)
{
    uint64_t *lat = malloc(sizeof(*lat) * (size_t)n);
    struct handoff h = { 0 };
    pthread_t thread;
    long i;

    if (!lat || pthread_create(&thread, NULL, handoff_thread, &h))
        bench_fail("cannot start the hand-off thread");
    for (i = -WARMUP_SAMPLES; i < n; i++) {
        uint64_t t0;

        bench_pause_us(pause_us);
        t0 = bench_now_ns();
        atomic_store(&h.go, 1);
        futex_wake(&h.go, 1);
        while (!atomic_load(&h.done))
            futex_wait(&h.done, 0);
        atomic_store(&h.done, 0);
        if (i >= 0)
            lat[i] = atomic_load(&h.t_start) - t0;
    }
    atomic_store(&h.stop, 1);
    atomic_store(&h.go, 1);
    futex_wake(&h.go, 1);
    pthread_join(thread, NULL);
    bench_report_lateness("S2", lat, (size_t)n);
    bench_result("S2", "threads", (double)bench_threads_seen());
    free(lat);
}

static void sem_cb(void *ctx)
{
    struct run *run = ctx;

    bench_note_thread();
    sem_post(&run->sem);
}

static void s5s(long n)
{
    struct floor_pool pool;
    struct run run = { 0 };
    uint64_t t0, t1, t2;
    long i;

    sem_init(&run.sem, 0, 0);
    pool_start(&pool, sem_cb, &run, 0);
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        pool_submit(&pool);
    t1 = bench_now_ns();
    for (i = 0; i < n; i++)
        while (sem_wait(&run.sem))
            ;
    t2 = bench_now_ns();
    bench_report_throughput("S5s", n, t0, t1, t2);
    pool_stop(&pool);
    sem_destroy(&run.sem);
}

static void batch_cb(void *ctx)
{
    struct run *run = ctx;

    bench_note_thread();
    if (atomic_fetch_sub(&run->batch_left, 1) == 1)
        futex_wake(&run->batch_left, 1);
}

static void s5e(long n)
{
    long batches = (n + S5E_BATCH - 1) / S5E_BATCH, b;
    struct floor_pool pool;
    struct run run = { 0 };
    uint64_t t0, t_submit = 0, t2;
    int i;

    pool_start(&pool, batch_cb, &run, 0);
    t0 = bench_now_ns();
    for (b = 0; b < batches; b++) {
        uint64_t ts = bench_now_ns();
        unsigned left;

        atomic_store(&run.batch_left, S5E_BATCH);
        for (i = 0; i < S5E_BATCH; i++)
            pool_submit(&pool);
        t_submit += bench_now_ns() - ts;
        while ((left = atomic_load(&run.batch_left)) != 0)
            futex_wait(&run.batch_left, left);
    }
    t2 = bench_now_ns();
    bench_report_throughput("S5e", batches * S5E_BATCH, t0, t0 + t_submit, t2);
    pool_stop(&pool);
}

/* Two passes, as in tp_bench.c: fresh memory first, then reused memory. */
static void s6(long n)
{
    void **objs = calloc((size_t)n, sizeof(*objs));
    double rss0, rss1;
    uint64_t t0, t1, t2;
    long i;
    int pass;

    if (!objs)
        bench_fail("out of memory");
    memset(objs, 0, sizeof(*objs) * (size_t)n);
    free(malloc(FLOOR_OBJECT_BYTES));
    for (pass = 0; pass < 2; pass++) {
        rss0 = bench_rss_bytes();
        t0 = bench_now_ns();
        for (i = 0; i < n; i++) {
            objs[i] = calloc(1, FLOOR_OBJECT_BYTES);
            if (!objs[i])
                bench_fail("out of memory");
        }
        t1 = bench_now_ns();
        rss1 = bench_rss_bytes();
        for (i = 0; i < n; i++)
            free(objs[i]);
        t2 = bench_now_ns();
        bench_report_objects(pass, n, rss1 - rss0, t0, t1, t2);
    }
    free(objs);
}

/* S7: the same due times as tp_bench.c (same generator, same seed). */
struct timer_entry {
    uint64_t due_ns;
    uint64_t *late_ns;          /* where the timer thread writes its lateness */
};

struct timer_floor {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* the timer thread sleeps here */
    struct timer_entry *heap;   /* (lock) binary min-heap by due_ns */
    long count;                 /* (lock) */
    long fired;                 /* (lock) */
    long target;
};

static void timer_heap_push(struct timer_floor *t, struct timer_entry e)
{
    long i = t->count++;

    while (i > 0 && t->heap[(i - 1) / 2].due_ns > e.due_ns) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = e;
}

static struct timer_entry timer_heap_pop(struct timer_floor *t)
{
    struct timer_entry top = t->heap[0], last = t->heap[--t->count];
    long i = 0, child;

    for (;;) {
        child = 2 * i + 1;
        if (child >= t->count)
            break;
        if (child + 1 < t->count && t->heap[child + 1].due_ns < t->heap[child].due_ns)
            child++;
        if (last.due_ns <= t->heap[child].due_ns)
            break;
        t->heap[i] = t->heap[child];
        i = child;
    }
    t->heap[i] = last;
    return top;
}

static void *timer_thread(void *arg)
{
    struct timer_floor *t = arg;
    struct timer_entry e;
    struct timespec ts;
    uint64_t now;

    bench_note_thread();
    pthread_mutex_lock(&t->lock);
    while (t->fired < t->target) {
        now = bench_now_ns();
        if (t->count && t->heap[0].due_ns <= now) {
            e = timer_heap_pop(t);
            *e.late_ns = now - e.due_ns;
            t->fired++;
            continue;
        }
        if (!t->count) {
            pthread_cond_wait(&t->cond, &t->lock);
            continue;
        }
        /* bench_now_ns() is CLOCK_MONOTONIC, the condition's clock. */
        ts.tv_sec = (time_t)(t->heap[0].due_ns / 1000000000u);
        ts.tv_nsec = (long)(t->heap[0].due_ns % 1000000000u);
        pthread_cond_timedwait(&t->cond, &t->lock, &ts);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

static void s7(const char *scenario, long n)
{
    struct timer_floor t;
    pthread_condattr_t attr;
    pthread_t thread;
    uint64_t *late = calloc((size_t)n, sizeof(*late));
    uint32_t seed = 0x2545f491u;
    uint64_t t0, t1, t2, last_due = 0;
    struct timer_entry e;
    long i;

    memset(&t, 0, sizeof(t));
    t.heap = malloc(sizeof(*t.heap) * (size_t)n);
    if (!late || !t.heap)
        bench_fail("out of memory");
    memset(t.heap, 0, sizeof(*t.heap) * (size_t)n);
    t.target = n;
    pthread_mutex_init(&t.lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t.cond, &attr);
    if (pthread_create(&thread, NULL, timer_thread, &t))
        bench_fail("pthread_create failed");
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        bench_next_delay(&seed, t0, 100u, &e.due_ns, &last_due);
        e.late_ns = &late[i];
        pthread_mutex_lock(&t.lock);
        timer_heap_push(&t, e);
        if (t.heap[0].due_ns == e.due_ns)
            pthread_cond_signal(&t.cond);
        pthread_mutex_unlock(&t.lock);
    }
    t1 = bench_now_ns();
    pthread_join(thread, NULL);
    t2 = bench_now_ns();
    /* Nothing fires before its due time here: the heap's top is taken only
     * once it is due. */
    bench_report_timers(scenario, n, t0, t1, t2, last_due, late, -1);
    free(t.heap);
    free(late);
}

/* XC: the two threads take turns writing the line's counter, each
 * waiting (spinning) for the other's value. */
struct line_pingpong {
    _Alignas(64) _Atomic long turn;
    long n;
};

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    /* On one CPU, or where pinning is refused, the threads float. */
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *line_pong(void *arg)
{
    struct line_pingpong *pp = arg;
    long i;

    pin_to_cpu(1);
    for (i = 0; i < pp->n; i++) {
        while (atomic_load_explicit(&pp->turn, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&pp->turn, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static void xc(long n)
{
    static struct line_pingpong pp;
    pthread_t thread;
    uint64_t t0, t1;
    long i;

    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        bench_unsupported("XC", "one CPU: no line crosses");
        return;
    }
    pp.n = n;
    atomic_store(&pp.turn, 0);
    pin_to_cpu(0);
    if (pthread_create(&thread, NULL, line_pong, &pp))
        bench_fail("cannot start the second thread");
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        atomic_store_explicit(&pp.turn, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&pp.turn, memory_order_acquire) != 2 * i + 2)
            ;
    }
    t1 = bench_now_ns();
    pthread_join(thread, NULL);
    bench_result("XC", "line_rt_ns", (double)(t1 - t0) / (double)n);
}

int main(int argc, char **argv)
{
    struct bench_args args;

    bench_parse(argc, argv, &args);
    if (!strcmp(args.scenario, "S1"))
        s1(args.n, 0);
    else if (!strcmp(args.scenario, "S1b"))
        s1(args.n, 1);
    else if (!strcmp(args.scenario, "S2"))
        s2(args.n, args.pause_us);
    else if (!strcmp(args.scenario, "S5s"))
        s5s(args.n);
    else if (!strcmp(args.scenario, "S5e"))
        s5e(args.n);
    else if (!strcmp(args.scenario, "S6"))
        s6(args.n);
    else if (!strcmp(args.scenario, "S7a") || !strcmp(args.scenario, "S7b"))
        s7(args.scenario, args.n);
    else if (!strcmp(args.scenario, "XC"))
        xc(args.n);
    else
        bench_unsupported(args.scenario, "unknown scenario");
    return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The make bench scenarios written against the Win32 thread-pool API.  One
 * source, four providers: our libkernel32_tp.so and WinPR natively, and,
 * built with mingw-w64 and run under Wine, Wine's own pool and our DLL.
 * Every scenario uses the default pool (a NULL environment), as most
 * programs do.  Run as  tp_bench SCENARIO N [PAUSE_US]  (see bench.h).
 *
 *   S1   one TP_WORK submitted N times: callbacks/s, submit ns, threads, RSS
 *   S1b  N TrySubmitThreadpoolCallback: the same figures
 *   S2   idle wake-up: pause, submit, time to the callback's start; N samples
 *   S5s  fan-in: N callbacks each ReleaseSemaphoreWhenCallbackReturns by 1,
 *        the submitter waits N times on the semaphore
 *   S5e  fan-in in batches of 64: each callback SetEventWhenCallbackReturns
 *        on its own event, the submitter waits for all 64
 *   S6   N work objects created, all alive, then closed: ns each, bytes each
 *   S7a, S7b  N one-shot TP_TIMERs due at random moments within one second
 *        of the first set (run-bench: N = 10,000 and 100,000), each set with
 *        the relative due time left (zero when already past): total time to
 *        the last callback, set ns per timer, lateness p50/p99 (callback
 *        start - the due time asked for), callbacks that came early
 *   S8a, S8b  N auto-reset events, each with a TP_WAIT (run-bench: N = 1,000
 *        and 10,000), all set, then all signalled: time from the first
 *        SetEvent to the last callback, set and SetEvent ns per wait, the
 *        threads the process gained (wait machinery and workers), RSS growth
 *
 * A completion action the provider does not perform (the waiter would hang)
 * is detected with one bounded probe and reported as unsupported.
 */
#include "bench_win32.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define S5E_BATCH 64
#define PROBE_TIMEOUT_MS 1500
#define WARMUP_SAMPLES 100

/* What the callbacks of one scenario share with the submitter. */
struct run {
    volatile LONG count;        /* callbacks that ran */
    LONG target;                /* the last one sets done */
    HANDLE done;                /* manual-reset event (WinPR has no auto-reset) */
    volatile LONGLONG t_start;  /* S2: when the callback started, ns */
    HANDLE sem;                 /* S5s */
};

static VOID CALLBACK count_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct run *run = ctx;

    (void)inst;
    (void)work;
    bench_note_thread();
    if (InterlockedIncrement(&run->count) == run->target)
        SetEvent(run->done);
}

static VOID CALLBACK simple_count_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    count_cb(inst, ctx, NULL);
}

static VOID CALLBACK wake_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct run *run = ctx;

    (void)inst;
    (void)work;
    run->t_start = (LONGLONG)bench_now_ns();
    bench_note_thread();
    SetEvent(run->done);
}

static VOID CALLBACK sem_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct run *run = ctx;

    (void)work;
    bench_note_thread();
    ReleaseSemaphoreWhenCallbackReturns(inst, run->sem, 1);
}

static VOID CALLBACK event_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)work;
    bench_note_thread();
    SetEventWhenCallbackReturns(inst, (HANDLE)ctx);
}

static void wait_or_fail(HANDLE handle, const char *what)
{
    if (WaitForSingleObject(handle, INFINITE) != WAIT_OBJECT_0)
        bench_fail(what);
}

static HANDLE create_event_or_fail(BOOL manual_reset)
{
    HANDLE event = CreateEventA(NULL, manual_reset, FALSE, NULL);

    if (!event)
        bench_fail("CreateEvent failed");
    return event;
}

static PTP_WORK create_work_or_fail(PTP_WORK_CALLBACK cb, PVOID ctx)
{
    PTP_WORK work = CreateThreadpoolWork(cb, ctx, NULL);

    if (!work)
        bench_fail("CreateThreadpoolWork failed");
    return work;
}

/* Starts the default pool and one worker outside the timed region. */
static void warm_up(void)
{
    struct run run = { 0, 1, NULL, 0, NULL };
    PTP_WORK work;

    run.done = create_event_or_fail(TRUE);
    work = create_work_or_fail(count_cb, &run);
    SubmitThreadpoolWork(work);
    wait_or_fail(run.done, "warm-up callback never ran");
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    CloseHandle(run.done);
}

static void s1_work(long n)
{
    struct run run = { 0, (LONG)n, NULL, 0, NULL };
    uint64_t t0, t1, t2;
    PTP_WORK work;
    long i;

    run.done = create_event_or_fail(TRUE);
    work = create_work_or_fail(count_cb, &run);
    warm_up();
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        SubmitThreadpoolWork(work);
    t1 = bench_now_ns();
    wait_or_fail(run.done, "S1: waiting for the callbacks failed");
    t2 = bench_now_ns();
    bench_report_throughput("S1", n, t0, t1, t2);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    CloseHandle(run.done);
}

static void s1b_try_submit(long n)
{
    struct run run = { 0, (LONG)n, NULL, 0, NULL };
    uint64_t t0, t1, t2;
    long i;

    run.done = create_event_or_fail(TRUE);
    warm_up();
    /* One probe, counted, so that a provider without the call says so. */
    run.target = (LONG)n + 1;
    if (!TrySubmitThreadpoolCallback(simple_count_cb, &run, NULL)) {
        bench_unsupported("S1b", "TrySubmitThreadpoolCallback fails");
        return;
    }
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (!TrySubmitThreadpoolCallback(simple_count_cb, &run, NULL))
            bench_fail("S1b: TrySubmitThreadpoolCallback failed");
    t1 = bench_now_ns();
    wait_or_fail(run.done, "S1b: waiting for the callbacks failed");
    t2 = bench_now_ns();
    bench_report_throughput("S1b", n, t0, t1, t2);
    CloseHandle(run.done);
}

static void s2_wake_latency(long n, unsigned pause_us)
{
    struct run run = { 0, 0, NULL, 0, NULL };
    uint64_t *lat = malloc(sizeof(*lat) * (size_t)n);
    PTP_WORK work;
    long i;

    if (!lat)
        bench_fail("out of memory");
    run.done = create_event_or_fail(TRUE);
    work = create_work_or_fail(wake_cb, &run);
    for (i = -WARMUP_SAMPLES; i < n; i++) {
        uint64_t t0;

        bench_pause_us(pause_us);
        t0 = bench_now_ns();
        SubmitThreadpoolWork(work);
        wait_or_fail(run.done, "S2: waiting for the callback failed");
        ResetEvent(run.done);
        if (i >= 0)
            lat[i] = (uint64_t)run.t_start - t0;
    }
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    CloseHandle(run.done);
    bench_result("S2", "p50_us", bench_percentile(lat, (size_t)n, 50) / 1000.0);
    bench_result("S2", "p99_us", bench_percentile(lat, (size_t)n, 99) / 1000.0);
    bench_result("S2", "threads", (double)bench_threads_seen());
    free(lat);
}

static void s5_semaphore(long n)
{
    struct run run = { 0, 0, NULL, 0, NULL };
    uint64_t t0, t1, t2;
    PTP_WORK work;
    long i;

    run.sem = CreateSemaphoreA(NULL, 0, MAXLONG, NULL);
    if (!run.sem)
        bench_fail("CreateSemaphore failed");
    work = create_work_or_fail(sem_cb, &run);
    SubmitThreadpoolWork(work);
    if (WaitForSingleObject(run.sem, PROBE_TIMEOUT_MS) != WAIT_OBJECT_0) {
        bench_unsupported("S5s", "ReleaseSemaphoreWhenCallbackReturns never released");
        return;
    }
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        SubmitThreadpoolWork(work);
    t1 = bench_now_ns();
    for (i = 0; i < n; i++)
        wait_or_fail(run.sem, "S5s: waiting on the semaphore failed");
    t2 = bench_now_ns();
    bench_report_throughput("S5s", n, t0, t1, t2);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    CloseHandle(run.sem);
}

static void s5_events(long n)
{
    HANDLE events[S5E_BATCH];
    PTP_WORK works[S5E_BATCH];
    long batches = (n + S5E_BATCH - 1) / S5E_BATCH, b;
    uint64_t t0, t_submit = 0, t2;
    DWORD ret;
    int i;

    for (i = 0; i < S5E_BATCH; i++) {
        events[i] = create_event_or_fail(FALSE);
        works[i] = create_work_or_fail(event_cb, events[i]);
    }
    SubmitThreadpoolWork(works[0]);
    if (WaitForSingleObject(events[0], PROBE_TIMEOUT_MS) != WAIT_OBJECT_0) {
        bench_unsupported("S5e", "SetEventWhenCallbackReturns never set the event");
        return;
    }
    t0 = bench_now_ns();
    for (b = 0; b < batches; b++) {
        uint64_t ts = bench_now_ns();

        for (i = 0; i < S5E_BATCH; i++)
            SubmitThreadpoolWork(works[i]);
        t_submit += bench_now_ns() - ts;
        if ((ret = WaitForMultipleObjects(S5E_BATCH, events, TRUE, INFINITE)) >=
                WAIT_OBJECT_0 + S5E_BATCH) {
            fprintf(stderr, "WaitForMultipleObjects returned %#lx, error %lu\n",
                    (unsigned long)ret, (unsigned long)GetLastError());
            bench_fail("S5e: waiting for a batch failed");
        }
    }
    t2 = bench_now_ns();
    bench_report_throughput("S5e", batches * S5E_BATCH, t0, t0 + t_submit, t2);
    for (i = 0; i < S5E_BATCH; i++) {
        WaitForThreadpoolWorkCallbacks(works[i], FALSE);
        CloseThreadpoolWork(works[i]);
        CloseHandle(events[i]);
    }
}

/*
 * Two passes: the first finds the memory of N live objects (RSS grows by
 * it) and pays the page faults of fresh memory; the second, timed for the
 * create and close figures, runs on memory the allocator already has, as a
 * program that keeps creating and closing objects does.
 */
static void s6_create_close(long n)
{
    PTP_WORK *works = malloc(sizeof(*works) * (size_t)n);
    struct run run = { 0, 0, NULL, 0, NULL };
    double rss0, rss1;
    uint64_t t0, t1, t2;
    long i;
    int pass;

    if (!works)
        bench_fail("out of memory");
    memset(works, 0, sizeof(*works) * (size_t)n);
    /* The pool and the allocator's first arenas exist before counting. */
    CloseThreadpoolWork(create_work_or_fail(count_cb, &run));
    for (pass = 0; pass < 2; pass++) {
        rss0 = bench_rss_bytes();
        t0 = bench_now_ns();
        for (i = 0; i < n; i++)
            works[i] = create_work_or_fail(count_cb, &run);
        t1 = bench_now_ns();
        rss1 = bench_rss_bytes();
        for (i = 0; i < n; i++)
            CloseThreadpoolWork(works[i]);
        t2 = bench_now_ns();
        bench_report_objects(pass, n, rss1 - rss0, t0, t1, t2);
    }
    free(works);
}

/* S7: one slot per timer; the callback measures its own lateness. */
struct s7_run;
struct s7_slot {
    struct s7_run *run;
    uint64_t due_ns;            /* on bench_now_ns()'s clock */
    uint64_t late_ns;
};

struct s7_run {
    volatile LONG count;
    LONG target;
    volatile LONG early;        /* callbacks that started before their due time */
    HANDLE done;
};

static VOID CALLBACK s7_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct s7_slot *slot = ctx;
    struct s7_run *run = slot->run;
    uint64_t now = bench_now_ns();

    (void)inst;
    (void)timer;
    bench_note_thread();
    if (now < slot->due_ns)
        InterlockedIncrement(&run->early);
    slot->late_ns = now > slot->due_ns ? now - slot->due_ns : 0;
    if (InterlockedIncrement(&run->count) == run->target)
        SetEvent(run->done);
}

static void s7_timers(const char *scenario, long n)
{
    struct s7_slot *slots = calloc((size_t)n, sizeof(*slots));
    PTP_TIMER *timers = calloc((size_t)n, sizeof(*timers));
    uint64_t *late = malloc(sizeof(*late) * (size_t)n);
    struct s7_run run = { 0, (LONG)n, 0, NULL };
    uint32_t seed = 0x2545f491u;
    uint64_t t0, t1, t2, now, target, rel_100ns, last_due = 0;
    ULARGE_INTEGER due;
    FILETIME ft;
    long i;

    if (!slots || !timers || !late)
        bench_fail("out of memory");
    run.done = create_event_or_fail(TRUE);
    /* All resources first: setting a timer is what is timed. */
    for (i = 0; i < n; i++) {
        slots[i].run = &run;
        if (!(timers[i] = CreateThreadpoolTimer(s7_cb, &slots[i], NULL))) {
            bench_unsupported(scenario, "CreateThreadpoolTimer fails");
            return;
        }
    }
    warm_up();
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        /* The relative due time left (negative FILETIME, 100 ns units). */
        target = bench_next_due(&seed, t0);
        now = bench_now_ns();
        rel_100ns = target > now ? (target - now) / 100u : 0;
        slots[i].due_ns = now + rel_100ns * 100u;
        if (slots[i].due_ns > last_due)
            last_due = slots[i].due_ns;
        due.QuadPart = (ULONGLONG)0 - rel_100ns;
        ft.dwLowDateTime = due.u.LowPart;
        ft.dwHighDateTime = due.u.HighPart;
        SetThreadpoolTimer(timers[i], &ft, 0, 0);
    }
    t1 = bench_now_ns();
    wait_or_fail(run.done, "S7: waiting for the timers failed");
    t2 = bench_now_ns();
    for (i = 0; i < n; i++)
        late[i] = slots[i].late_ns;
    bench_report_timers(scenario, n, t0, t1, t2, last_due, late, run.early);
    for (i = 0; i < n; i++)
        CloseThreadpoolTimer(timers[i]);
    CloseHandle(run.done);
    free(late);
    free(timers);
    free(slots);
}

/* S8: the callbacks count; the last one sets done. */
struct s8_run {
    volatile LONG count;
    LONG target;
    volatile LONG timeouts;     /* must stay 0: no timeout is set */
    HANDLE done;
};

static VOID CALLBACK s8_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                           TP_WAIT_RESULT result)
{
    struct s8_run *run = ctx;

    (void)inst;
    (void)wait;
    bench_note_thread();
    if (result != WAIT_OBJECT_0)
        InterlockedIncrement(&run->timeouts);
    if (InterlockedIncrement(&run->count) == run->target)
        SetEvent(run->done);
}

static void s8_waits(const char *scenario, long n)
{
    HANDLE *events = calloc((size_t)n, sizeof(*events)), probe_event;
    PTP_WAIT *waits = calloc((size_t)n, sizeof(*waits)), probe;
    struct s8_run run = { 0, (LONG)n, 0, NULL }, probe_run = { 0, 1, 0, NULL };
    uint64_t t0, t1, t2, t3, t4;
    long threads0, threads1, threads2;
    double rss0;
    long i;

    if (!events || !waits)
        bench_fail("out of memory");
    run.done = create_event_or_fail(TRUE);
    warm_up();
    /* One bounded probe: a provider whose waits never fire says so. */
    probe_run.done = create_event_or_fail(TRUE);
    probe_event = create_event_or_fail(TRUE);
    if (!(probe = CreateThreadpoolWait(s8_cb, &probe_run, NULL))) {
        bench_unsupported(scenario, "CreateThreadpoolWait fails");
        return;
    }
    SetEvent(probe_event);
    SetThreadpoolWait(probe, probe_event, NULL);
    if (WaitForSingleObject(probe_run.done, PROBE_TIMEOUT_MS) != WAIT_OBJECT_0) {
        bench_unsupported(scenario, "a wait on a set event never runs its callback");
        return;
    }
    WaitForThreadpoolWaitCallbacks(probe, FALSE);
    CloseThreadpoolWait(probe);
    CloseHandle(probe_event);
    CloseHandle(probe_run.done);

    threads0 = bench_process_threads();
    rss0 = bench_rss_bytes();
    for (i = 0; i < n; i++) {
        events[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
        if (!events[i] || !(waits[i] = CreateThreadpoolWait(s8_cb, &run, NULL)))
            bench_fail("S8: creating the events and waits failed");
    }
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        SetThreadpoolWait(waits[i], events[i], NULL);
    t1 = bench_now_ns();
    threads1 = bench_process_threads();
    t2 = bench_now_ns();
    for (i = 0; i < n; i++)
        SetEvent(events[i]);
    t3 = bench_now_ns();
    wait_or_fail(run.done, "S8: waiting for the callbacks failed");
    t4 = bench_now_ns();
    threads2 = bench_process_threads();
    if (run.timeouts)
        bench_fail("S8: a wait with no timeout timed out");
    {
        const uint64_t t[5] = { t0, t1, t2, t3, t4 };
        const long threads[3] = { threads0, threads1, threads2 };

        bench_report_waits(scenario, n, t, threads, rss0);
    }
    for (i = 0; i < n; i++) {
        CloseThreadpoolWait(waits[i]);
        CloseHandle(events[i]);
    }
    CloseHandle(run.done);
    free(waits);
    free(events);
}

int main(int argc, char **argv)
{
    struct bench_args args;

    bench_parse(argc, argv, &args);
    if (!strcmp(args.scenario, "S1"))
        s1_work(args.n);
    else if (!strcmp(args.scenario, "S1b"))
        s1b_try_submit(args.n);
    else if (!strcmp(args.scenario, "S2"))
        s2_wake_latency(args.n, args.pause_us);
    else if (!strcmp(args.scenario, "S5s"))
        s5_semaphore(args.n);
    else if (!strcmp(args.scenario, "S5e"))
        s5_events(args.n);
    else if (!strcmp(args.scenario, "S6"))
        s6_create_close(args.n);
    else if (!strcmp(args.scenario, "S7a") || !strcmp(args.scenario, "S7b"))
        s7_timers(args.scenario, args.n);
    else if (!strcmp(args.scenario, "S8a") || !strcmp(args.scenario, "S8b"))
        s8_waits(args.scenario, args.n);
    else
        bench_unsupported(args.scenario, "unknown scenario");
    return 0;
}

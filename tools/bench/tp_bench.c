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
 *   S9a-c   scale: N one-shot timers created, armed (half due within
 *        0.5-1.5 s, half an hour later), the later half cancelled, the
 *        first half fired, all closed: ns and bytes per timer
 *   S10a-c  scale: N registered waits on distinct events, all signalled:
 *        ns and bytes per wait, dispatch time
 *   S11a-c  scale: N private pools (min 1, max 2 threads) with some work:
 *        creation cost, memory and threads per pool
 *   S12a-c  scale: N overlapped pipe reads pending through TP_IO, then
 *        completed: ns and bytes per pending operation
 *   (run-bench runs each at three sizes: a, b, c = n/10, n/2, n)
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
    bench_report_lateness("S2", lat, (size_t)n);
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
    uint64_t t0, t1, t2, rel_100ns, last_due = 0;
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
        rel_100ns = bench_next_delay(&seed, t0, 100u, &slots[i].due_ns, &last_due);
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

/* ---- scale: S9 timers, S10 waits, S11 pools, S12 pending I/O ------------------ */

/*
 * Each scale scenario runs at one size per process; run-bench runs it at
 * three sizes (suffixes a, b, c: n/10, n/2, n of the figure), so
 * that the report shows whether the cost per object stays flat.  Memory is
 * the growth of the resident set over a phase divided by the objects that
 * phase added: the objects themselves, then what arming them adds.
 *
 * A provider whose arming is so slow, or takes so much memory, that the
 * phase would pass SCALE_BUDGET_NS or SCALE_BUDGET_BYTES (judged from the
 * first sixteenth of it on, by the rate so far) stops there and reports the
 * scenario unsupported with the rate it reached, instead of spending
 * minutes or gigabytes of a shared machine or running into run-bench's
 * timeout.
 */
#define SCALE_BUDGET_NS (20ull * 1000000000ull)
#define SCALE_BUDGET_BYTES (1024.0 * 1048576.0)

/* Every 1024 objects: stops the run if the phase started at t_phase with
 * rss_phase resident would go over budget. */
static void scale_check_budget(const char *scenario, const char *what, long done, long n,
                               uint64_t t_phase, double rss_phase)
{
    uint64_t elapsed;
    double grown, scale;
    char why[200];

    if ((done & 1023) || !done)
        return;
    elapsed = bench_now_ns() - t_phase;
    grown = bench_rss_bytes() - rss_phase;
    scale = done < n / 16 ? 1.0 : (double)n / (double)done;
    if ((double)elapsed * scale <= SCALE_BUDGET_NS && grown * scale <= SCALE_BUDGET_BYTES)
        return;
    if ((double)elapsed * scale > SCALE_BUDGET_NS)
        snprintf(why, sizeof(why), "%s %ld would take over %.0f s: %ld in %.1f s, %.0f ns each",
                 what, n, (double)SCALE_BUDGET_NS / 1e9, done, (double)elapsed / 1e9,
                 (double)elapsed / (double)done);
    else
        snprintf(why, sizeof(why), "%s %ld would take over %.0f MiB: %ld took %.0f MiB, "
                 "%.0f bytes each", what, n, SCALE_BUDGET_BYTES / 1048576.0, done,
                 grown / 1048576.0, grown / (double)done);
    bench_unsupported(scenario, why);
    /* No clean-up: closing what is left could take as long again. */
    fflush(stdout);
    exit(0);
}

static FILETIME relative_due(uint64_t ns)
{
    ULARGE_INTEGER due;
    FILETIME ft;

    due.QuadPart = (ULONGLONG)0 - (ULONGLONG)(ns / 100u);
    ft.dwLowDateTime = due.u.LowPart;
    ft.dwHighDateTime = due.u.HighPart;
    return ft;
}

/* S9: the callbacks count; the last one sets done. */
static VOID CALLBACK s9_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct run *run = ctx;

    (void)inst;
    (void)timer;
    bench_note_thread();
    if (InterlockedIncrement(&run->count) == run->target)
        SetEvent(run->done);
}

/*
 * S9: N one-shot timers created, then armed with due times spread over
 * 0.5 s to 1.5 s from the start of the sets (each set with the relative
 * time left; the odd ones an hour later); then every odd one is cancelled
 * (SetThreadpoolTimer with a NULL due time) and the even ones fire; then
 * all are closed.
 */
static void s9_timers(const char *scenario, long n)
{
    PTP_TIMER *timers = calloc((size_t)n, sizeof(*timers));
    struct run run = { 0, (LONG)((n + 1) / 2), NULL, 0, NULL };
    uint32_t seed = 0x9e3779b9u;
    uint64_t t0, t1, t2, t3, t4, t5, now, target;
    double rss0, rss1, rss2;
    FILETIME ft;
    long i;

    if (!timers)
        bench_fail("out of memory");
    run.done = create_event_or_fail(TRUE);
    warm_up();
    rss0 = bench_rss_bytes();
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (!(timers[i] = CreateThreadpoolTimer(s9_cb, &run, NULL))) {
            bench_unsupported(scenario, "CreateThreadpoolTimer fails");
            return;
        }
    t1 = bench_now_ns();
    rss1 = bench_rss_bytes();
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        target = t1 + 500000000u + (uint64_t)(seed % 10000000u) * 100u;
        /* The ones to cancel are due an hour later: cancelled, never fired,
         * however slow the arming is. */
        if (i & 1)
            target += 3600ull * 1000000000u;
        scale_check_budget(scenario, "arming", i, n, t1, rss1);
        now = bench_now_ns();
        ft = relative_due(target > now ? target - now : 0);
        SetThreadpoolTimer(timers[i], &ft, 0, 0);
    }
    t2 = bench_now_ns();
    rss2 = bench_rss_bytes();
    for (i = 1; i < n; i += 2)
        SetThreadpoolTimer(timers[i], NULL, 0, 0);
    t3 = bench_now_ns();
    wait_or_fail(run.done, "S9: waiting for the timers failed");
    t4 = bench_now_ns();
    for (i = 0; i < n; i++) {
        WaitForThreadpoolTimerCallbacks(timers[i], FALSE);
        CloseThreadpoolTimer(timers[i]);
    }
    t5 = bench_now_ns();
    if (run.count != run.target)
        bench_fail("S9: a cancelled timer fired");
    bench_result(scenario, "create_ns", (double)(t1 - t0) / (double)n);
    bench_result(scenario, "set_ns", (double)(t2 - t1) / (double)n);
    bench_result(scenario, "cancel_ns", (double)(t3 - t2) / (double)(n / 2 ? n / 2 : 1));
    bench_result(scenario, "close_ns", (double)(t5 - t4) / (double)n);
    /* The last due time is 1.5 s after the sets began. */
    bench_result(scenario, "overrun_ms",
                 t4 > t1 + 1500000000u ? (double)(t4 - t1 - 1500000000u) / 1e6 : 0);
    bench_result(scenario, "bytes_per_obj", (rss1 - rss0) / (double)n);
    bench_result(scenario, "bytes_per_armed", (rss2 - rss1) / (double)n);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
    CloseHandle(run.done);
    free(timers);
}

/*
 * S10: N manual-reset events (WinPR has no auto-reset ones), each with a
 * TP_WAIT, all armed with no timeout, then all signalled: cost and memory
 * per registered wait, and the time from the first SetEvent to the last
 * callback.
 */
static void s10_waits(const char *scenario, long n)
{
    HANDLE *events = calloc((size_t)n, sizeof(*events));
    PTP_WAIT *waits = calloc((size_t)n, sizeof(*waits));
    struct s8_run run = { 0, (LONG)n, 0, NULL };
    uint64_t t0, t1, t2, t3, t4, t5;
    long threads0, threads1;
    double rss0, rss1, rss2;
    long i;

    if (!events || !waits)
        bench_fail("out of memory");
    run.done = create_event_or_fail(TRUE);
    warm_up();
    for (i = 0; i < n; i++)
        events[i] = create_event_or_fail(TRUE);
    threads0 = bench_process_threads();
    rss0 = bench_rss_bytes();
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (!(waits[i] = CreateThreadpoolWait(s8_cb, &run, NULL))) {
            bench_unsupported(scenario, "CreateThreadpoolWait fails");
            return;
        }
    t1 = bench_now_ns();
    rss1 = bench_rss_bytes();
    for (i = 0; i < n; i++) {
        scale_check_budget(scenario, "arming", i, n, t1, rss1);
        SetThreadpoolWait(waits[i], events[i], NULL);
    }
    t2 = bench_now_ns();
    rss2 = bench_rss_bytes();
    threads1 = bench_process_threads();
    t3 = bench_now_ns();
    for (i = 0; i < n; i++)
        SetEvent(events[i]);
    wait_or_fail(run.done, "S10: waiting for the callbacks failed");
    t4 = bench_now_ns();
    if (run.timeouts)
        bench_fail("S10: a wait with no timeout timed out");
    for (i = 0; i < n; i++) {
        WaitForThreadpoolWaitCallbacks(waits[i], FALSE);
        CloseThreadpoolWait(waits[i]);
    }
    t5 = bench_now_ns();
    bench_result(scenario, "create_ns", (double)(t1 - t0) / (double)n);
    bench_result(scenario, "set_ns", (double)(t2 - t1) / (double)n);
    bench_result(scenario, "dispatch_ms", (double)(t4 - t3) / 1e6);
    bench_result(scenario, "dispatch_ns", (double)(t4 - t3) / (double)n);
    bench_result(scenario, "close_ns", (double)(t5 - t4) / (double)n);
    bench_result(scenario, "bytes_per_obj", (rss1 - rss0) / (double)n);
    bench_result(scenario, "bytes_per_armed", (rss2 - rss1) / (double)n);
    bench_result(scenario, "threads_added", (double)(threads1 - threads0));
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
    for (i = 0; i < n; i++)
        CloseHandle(events[i]);
    CloseHandle(run.done);
    free(waits);
    free(events);
}

/*
 * S11: N private pools, each with at least 1 and at most 2 threads and one
 * work object submitted S11_POSTS times: creation cost (pool, limits,
 * environment, work object), memory and threads per pool, the time until
 * every pool ran its work, and the close cost.
 */
#define S11_POSTS 100

static void s11_pools(const char *scenario, long n)
{
    PTP_POOL *pools = calloc((size_t)n, sizeof(*pools));
    PTP_WORK *works = calloc((size_t)n, sizeof(*works));
    TP_CALLBACK_ENVIRON *envs = calloc((size_t)n, sizeof(*envs));
    struct run run = { 0, (LONG)(n * S11_POSTS), NULL, 0, NULL };
    uint64_t t0, t1, t2, t3;
    long threads0, threads1, threads2;
    double rss0, rss1;
    long i, j;

    if (!pools || !works || !envs)
        bench_fail("out of memory");
    run.done = create_event_or_fail(TRUE);
    /* The library's start-up (the default pool, its services) outside the
     * figures, so that they are the private pools' own. */
    warm_up();
    threads0 = bench_process_threads();
    rss0 = bench_rss_bytes();
    t0 = bench_now_ns();
    for (i = 0; i < n; i++) {
        if (!(pools[i] = CreateThreadpool(NULL))) {
            bench_unsupported(scenario, "CreateThreadpool fails");
            return;
        }
        SetThreadpoolThreadMaximum(pools[i], 2);
        if (!SetThreadpoolThreadMinimum(pools[i], 1))
            bench_fail("S11: SetThreadpoolThreadMinimum failed");
        InitializeThreadpoolEnvironment(&envs[i]);
        SetThreadpoolCallbackPool(&envs[i], pools[i]);
        if (!(works[i] = CreateThreadpoolWork(count_cb, &run, &envs[i])))
            bench_fail("S11: CreateThreadpoolWork failed");
    }
    t1 = bench_now_ns();
    threads1 = bench_process_threads();
    for (i = 0; i < n; i++)
        for (j = 0; j < S11_POSTS; j++)
            SubmitThreadpoolWork(works[i]);
    wait_or_fail(run.done, "S11: waiting for the callbacks failed");
    t2 = bench_now_ns();
    rss1 = bench_rss_bytes();
    threads2 = bench_process_threads();
    for (i = 0; i < n; i++) {
        WaitForThreadpoolWorkCallbacks(works[i], FALSE);
        CloseThreadpoolWork(works[i]);
        DestroyThreadpoolEnvironment(&envs[i]);
        CloseThreadpool(pools[i]);
    }
    t3 = bench_now_ns();
    bench_result(scenario, "create_us", (double)(t1 - t0) / 1e3 / (double)n);
    bench_result(scenario, "run_ms", (double)(t2 - t1) / 1e6);
    bench_result(scenario, "close_us", (double)(t3 - t2) / 1e3 / (double)n);
    bench_result(scenario, "kib_per_pool", (rss1 - rss0) / 1024.0 / (double)n);
    bench_result(scenario, "threads_per_pool",
                 (double)((threads1 > threads2 ? threads1 : threads2) - threads0) / (double)n);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
    CloseHandle(run.done);
    free(envs);
    free(works);
    free(pools);
}

/*
 * S12: N overlapped 1-byte reads pending on named pipes through TP_IO,
 * S12_PER_PIPE per pipe (one pipe each would need more descriptors than a
 * process may have natively), then the client end of each pipe writes
 * S12_PER_PIPE bytes at once and every read completes: cost and memory
 * per pending operation, and the time to complete them all.
 */
#define S12_PER_PIPE 10

#ifdef BENCH_WINPR
static void s12_pending_io(const char *scenario, long n)
{
    (void)n;
    bench_unsupported(scenario, "WinPR has no CreateThreadpoolIo");
}
#else
struct s12_op {
    OVERLAPPED ov;
    char byte;
};

static VOID CALLBACK s12_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                            ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct run *run = ctx;

    (void)inst;
    (void)overlapped;
    (void)io;
    bench_note_thread();
    if (result != NO_ERROR || bytes != 1)
        bench_fail("S12: a read completed with an error");
    if (InterlockedIncrement(&run->count) == run->target)
        SetEvent(run->done);
}

static void s12_pending_io(const char *scenario, long n)
{
    long pipes = (n + S12_PER_PIPE - 1) / S12_PER_PIPE, i, k;
    HANDLE *servers = calloc((size_t)pipes, sizeof(*servers));
    HANDLE *clients = calloc((size_t)pipes, sizeof(*clients));
    PTP_IO *ios = calloc((size_t)pipes, sizeof(*ios));
    struct s12_op *ops = calloc((size_t)pipes * S12_PER_PIPE, sizeof(*ops));
    struct run run = { 0, (LONG)(pipes * S12_PER_PIPE), NULL, 0, NULL };
    char name[96], out[S12_PER_PIPE];
    uint64_t t0, t1, t2, t3, t4;
    double rss0, rss1;
    DWORD written;

    if (!servers || !clients || !ios || !ops)
        bench_fail("out of memory");
    n = pipes * S12_PER_PIPE;
    memset(out, 'x', sizeof(out));
    run.done = create_event_or_fail(TRUE);
    warm_up();
    for (i = 0; i < pipes; i++) {
        snprintf(name, sizeof(name), "\\\\.\\pipe\\tp_bench_s12_%lu_%ld",
                 (unsigned long)GetCurrentProcessId(), i);
        servers[i] = CreateNamedPipeA(name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED,
                                      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1,
                                      4096, 4096, 0, NULL);
        if (servers[i] == INVALID_HANDLE_VALUE) {
            fprintf(stderr, "CreateNamedPipe: error %lu at pipe %ld\n",
                    (unsigned long)GetLastError(), i);
            bench_fail("S12: CreateNamedPipe failed");
        }
        clients[i] = CreateFileA(name, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (clients[i] == INVALID_HANDLE_VALUE)
            bench_fail("S12: CreateFile (pipe client) failed");
        if (!(ios[i] = CreateThreadpoolIo(servers[i], s12_cb, &run, NULL))) {
            bench_unsupported(scenario, "CreateThreadpoolIo fails on a named pipe");
            return;
        }
    }
    rss0 = bench_rss_bytes();
    t0 = bench_now_ns();
    for (i = 0; i < pipes; i++)
        for (k = 0; k < S12_PER_PIPE; k++) {
            struct s12_op *op = &ops[i * S12_PER_PIPE + k];

            StartThreadpoolIo(ios[i]);
            if (ReadFile(servers[i], &op->byte, 1, NULL, &op->ov)) {
                bench_fail("S12: a read on an empty pipe completed at once");
            } else if (GetLastError() != ERROR_IO_PENDING) {
                fprintf(stderr, "ReadFile: error %lu\n", (unsigned long)GetLastError());
                bench_fail("S12: ReadFile failed");
            }
        }
    t1 = bench_now_ns();
    rss1 = bench_rss_bytes();
    if (run.count)
        bench_fail("S12: a read completed before any write");
    t2 = bench_now_ns();
    for (i = 0; i < pipes; i++)
        if (!WriteFile(clients[i], out, S12_PER_PIPE, &written, NULL) ||
                written != S12_PER_PIPE)
            bench_fail("S12: WriteFile failed");
    t3 = bench_now_ns();
    wait_or_fail(run.done, "S12: waiting for the completions failed");
    t4 = bench_now_ns();
    bench_result(scenario, "start_ns", (double)(t1 - t0) / (double)n);
    bench_result(scenario, "write_ns", (double)(t3 - t2) / (double)pipes);
    bench_result(scenario, "complete_ms", (double)(t4 - t2) / 1e6);
    bench_result(scenario, "complete_ns", (double)(t4 - t2) / (double)n);
    bench_result(scenario, "bytes_per_pending", (rss1 - rss0) / (double)n);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
    for (i = 0; i < pipes; i++) {
        WaitForThreadpoolIoCallbacks(ios[i], FALSE);
        CloseThreadpoolIo(ios[i]);
        CloseHandle(clients[i]);
        CloseHandle(servers[i]);
    }
    CloseHandle(run.done);
    free(ops);
    free(ios);
    free(clients);
    free(servers);
}
#endif

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
    else if (!strncmp(args.scenario, "S9", 2) && strlen(args.scenario) == 3)
        s9_timers(args.scenario, args.n);
    else if (!strncmp(args.scenario, "S10", 3) && strlen(args.scenario) == 4)
        s10_waits(args.scenario, args.n);
    else if (!strncmp(args.scenario, "S11", 3) && strlen(args.scenario) == 4)
        s11_pools(args.scenario, args.n);
    else if (!strncmp(args.scenario, "S12", 3) && strlen(args.scenario) == 4)
        s12_pending_io(args.scenario, args.n);
    else
        bench_unsupported(args.scenario, "unknown scenario");
    return 0;
}

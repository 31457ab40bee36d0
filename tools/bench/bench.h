/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The measuring side of make bench, shared by every provider: a monotonic
 * clock, pauses, peak and current memory, the count of distinct threads that
 * ran callbacks, and the result lines the driver (tools/bench/run-bench)
 * collects.  bench.c implements it twice: for Linux (any native provider)
 * and for Windows (the mingw-w64 build run under Wine).  No thread-pool code
 * here: each provider owns its scenarios.
 *
 * A provider program is run as  PROGRAM SCENARIO N [PAUSE_US]  and prints
 * one line per figure:  SCENARIO METRIC VALUE, or  SCENARIO unsupported WHY.
 * Each run measures one scenario in a fresh process, so that peak memory
 * and thread counts belong to that scenario alone.
 */
#ifndef KERNEL32_TP_BENCH_H
#define KERNEL32_TP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The scenario to run, from the command line. */
struct bench_args {
    const char *scenario;   /* S1 ... S8b; the scale ones S9a ... S12c */
    long n;                 /* callbacks, samples or objects */
    unsigned pause_us;      /* S2: idle time before each sample */
};

/* Parses argv; prints usage and exits on bad arguments. */
void bench_parse(int argc, char **argv, struct bench_args *args);

/* Nanoseconds on a monotonic clock (QueryPerformanceCounter on Windows). */
uint64_t bench_now_ns(void);

/* Sleeps about us microseconds (the thread really blocks). */
void bench_pause_us(unsigned us);

/* Resident memory now, and the process's peak so far, in bytes. */
double bench_rss_bytes(void);
double bench_peak_rss_bytes(void);

/* Threads the process has right now (-1 if unknown). */
long bench_process_threads(void);

/* Called at the start of every callback: counts distinct threads. */
void bench_note_thread(void);
long bench_threads_seen(void);

/* Prints "scenario metric value". */
void bench_result(const char *scenario, const char *metric, double value);

/* Prints "scenario unsupported why" (a scenario the provider lacks). */
void bench_unsupported(const char *scenario, const char *why);

/* Exits with a message on stderr (a broken run, not a slow one). */
void bench_fail(const char *what);

/* Percentile p (0..100) of n latencies; sorts the array. */
double bench_percentile(uint64_t *samples, size_t n, double p);

/* The lateness figures of S2 and S7 from n latencies in ns (sorted here):
 * p50 and p99 in us, and a log2 histogram, "lat_bNN" for bucket NN: the
 * latencies below 2 us (00), then in [2^NN, 2^(NN+1)) us, and from
 * 2^BENCH_LAT_BUCKETS-1 us (about 4 ms) on in the last. */
#define BENCH_LAT_BUCKETS 13
void bench_report_lateness(const char *scenario, uint64_t *late, size_t n);

/* The figures every throughput scenario reports, from its timestamps:
 * start, end of submission, completion of the last callback. */
void bench_report_throughput(const char *scenario, long n, uint64_t t0, uint64_t t_submitted,
                             uint64_t t_done);

/* The figures every timer scenario (S7) reports: start, end of the sets,
 * the last callback, the latest due time, each timer's lateness (sorted
 * here), and the callbacks that came early (negative: not counted). */
void bench_report_timers(const char *scenario, long n, uint64_t t0, uint64_t t_set,
                         uint64_t t_done, uint64_t last_due, uint64_t *late, long early);

/* S6's figures for one of its two passes over n objects, from the memory
 * they took and the timestamps before, between and after creating and
 * closing them: the first pass reports the memory per object and the cold
 * creation, the second the warm creation and the close. */
void bench_report_objects(int pass, long n, double rss_growth, uint64_t t0, uint64_t t_created,
                          uint64_t t_closed);

/* The I/O benches' scenarios: IO1, IO16 and IO256 echo through that many
 * pipes (at most pipes_max), IOF reads a file of n MiB; anything else is
 * unsupported. */
void bench_run_io(const struct bench_args *args, int pipes_max,
                  void (*echo)(const char *scenario, int pipes, long n),
                  void (*file)(const char *scenario, long mib));

/* The S7 schedule: the next pseudo-random due time within a second of
 * t0_ns; every bench draws the same sequence from the same seed. */
uint64_t bench_next_due(uint32_t *seed, uint64_t t0_ns);
/* That due time as a provider with a timer resolution of unit_ns sets it,
 * measured from now: returns the delay in whole units, sets *due_ns to the
 * time the delay names and raises *last_due_ns to it. */
uint64_t bench_next_delay(uint32_t *seed, uint64_t t0_ns, uint64_t unit_ns, uint64_t *due_ns,
                          uint64_t *last_due_ns);

/* The figures every wait scenario (S8) reports, from its timestamps: start,
 * end of the sets, start and end of the signals, the last callback; the
 * process's threads at the start, after the sets and at the end; and the
 * resident size at the start. */
void bench_report_waits(const char *scenario, long n, const uint64_t t[5], const long threads[3],
                        double rss0);

#ifdef __cplusplus
}
#endif

#endif

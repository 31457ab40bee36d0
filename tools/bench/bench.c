/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The measuring side of make bench (see bench.h), for Linux and for Windows.
 * It is compiled on its own, without any provider's headers: under Linux it
 * uses POSIX only, so the same object serves our library, WinPR, libuv, GLib
 * and the floor; under mingw-w64 it uses kernel32 only, so Wine's pool and
 * our DLL are measured by the same code.
 */
#if defined(_WIN32)
#define PSAPI_VERSION 2
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>
#else
#define _GNU_SOURCE
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static atomic_long threads_seen;

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s S1|S1b|S2|S5s|S5e|S6|S7a|S7b|S8a|S8b|S9a-c|S10a-c|S11a-c|S12a-c N "
            "[PAUSE_US]\n", prog);
    exit(2);
}

void bench_parse(int argc, char **argv, struct bench_args *args)
{
    char *end;

    if (argc < 3)
        usage(argv[0]);
    args->scenario = argv[1];
    args->n = strtol(argv[2], &end, 10);
    if (*end || args->n <= 0)
        usage(argv[0]);
    args->pause_us = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 200;
}

void bench_result(const char *scenario, const char *metric, double value)
{
    printf("%s %s %.6g\n", scenario, metric, value);
    fflush(stdout);
}

void bench_unsupported(const char *scenario, const char *why)
{
    printf("%s unsupported %s\n", scenario, why);
    fflush(stdout);
}

void bench_fail(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    fflush(stdout);
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

double bench_percentile(uint64_t *samples, size_t n, double p)
{
    size_t i;

    if (!n)
        return 0;
    qsort(samples, n, sizeof(*samples), cmp_u64);
    i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)samples[i < n ? i : n - 1];
}

void bench_report_lateness(const char *scenario, uint64_t *late, size_t n)
{
    long counts[BENCH_LAT_BUCKETS] = { 0 };
    char metric[16];
    size_t i;
    int b;

    bench_result(scenario, "p50_us", bench_percentile(late, n, 50) / 1000.0);
    bench_result(scenario, "p99_us", bench_percentile(late, n, 99) / 1000.0);
    for (i = 0; i < n; i++) {
        uint64_t us = late[i] / 1000;

        /* Bucket b >= 1 holds [2^b, 2^(b+1)) us: the position of the top bit. */
        for (b = 0; b < BENCH_LAT_BUCKETS - 1 && us >= 2; b++)
            us >>= 1;
        counts[b]++;
    }
    for (b = 0; b < BENCH_LAT_BUCKETS; b++) {
        snprintf(metric, sizeof(metric), "lat_b%02d", b);
        bench_result(scenario, metric, (double)counts[b]);
    }
}

void bench_report_throughput(const char *scenario, long n, uint64_t t0, uint64_t t_submitted,
                             uint64_t t_done)
{
    bench_result(scenario, "cb_per_s", (double)n * 1e9 / (double)(t_done - t0));
    bench_result(scenario, "submit_ns", (double)(t_submitted - t0) / (double)n);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
}

void bench_report_timers(const char *scenario, long n, uint64_t t0, uint64_t t_set,
                         uint64_t t_done, uint64_t last_due, uint64_t *late, long early)
{
    bench_result(scenario, "total_ms", (double)(t_done - t0) / 1e6);
    /* The last callback after the last due time: total_ms cannot go below
     * the one-second schedule, this can go down to the wake-up latency. */
    bench_result(scenario, "overrun_ms",
                 t_done > last_due ? (double)(t_done - last_due) / 1e6 : 0);
    bench_result(scenario, "set_ns", (double)(t_set - t0) / (double)n);
    bench_report_lateness(scenario, late, (size_t)n);
    if (early >= 0)
        bench_result(scenario, "early", (double)early);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
}

void bench_report_objects(int pass, long n, double rss_growth, uint64_t t0, uint64_t t_created,
                          uint64_t t_closed)
{
    if (pass == 0) {
        bench_result("S6", "bytes_per_obj", rss_growth / (double)n);
        bench_result("S6", "create_cold_ns", (double)(t_created - t0) / (double)n);
    } else {
        bench_result("S6", "create_ns", (double)(t_created - t0) / (double)n);
        bench_result("S6", "close_ns", (double)(t_closed - t_created) / (double)n);
    }
}

void bench_run_io(const struct bench_args *args, int pipes_max,
                  void (*echo)(const char *scenario, int pipes, long n),
                  void (*file)(const char *scenario, long mib))
{
    if (!strcmp(args->scenario, "IO1"))
        echo("IO1", 1, args->n);
    else if (!strcmp(args->scenario, "IO16") && pipes_max >= 16)
        echo("IO16", 16, args->n);
    else if (!strcmp(args->scenario, "IO256") && pipes_max >= 256)
        echo("IO256", 256, args->n);
    else if (!strcmp(args->scenario, "IOF"))
        file("IOF", args->n);
    else
        bench_unsupported(args->scenario, "not an I/O scenario");
}

uint64_t bench_next_due(uint32_t *seed, uint64_t t0_ns)
{
    *seed = *seed * 1664525u + 1013904223u;
    return t0_ns + (uint64_t)(*seed % 10000000u) * 100u;
}

uint64_t bench_next_delay(uint32_t *seed, uint64_t t0_ns, uint64_t unit_ns, uint64_t *due_ns,
                          uint64_t *last_due_ns)
{
    uint64_t target = bench_next_due(seed, t0_ns);
    uint64_t now = bench_now_ns();
    uint64_t delay = target > now ? (target - now) / unit_ns : 0;

    *due_ns = now + delay * unit_ns;
    if (*due_ns > *last_due_ns)
        *last_due_ns = *due_ns;
    return delay;
}

void bench_report_waits(const char *scenario, long n, const uint64_t t[5], const long threads[3],
                        double rss0)
{
    long most = threads[1] > threads[2] ? threads[1] : threads[2];

    bench_result(scenario, "total_ms", (double)(t[4] - t[2]) / 1e6);
    bench_result(scenario, "set_ns", (double)(t[1] - t[0]) / (double)n);
    bench_result(scenario, "signal_ns", (double)(t[3] - t[2]) / (double)n);
    bench_result(scenario, "threads_added", (double)(most - threads[0]));
    bench_result(scenario, "threads", (double)bench_threads_seen());
    bench_result(scenario, "rss_growth_mib", (bench_rss_bytes() - rss0) / 1048576.0);
    bench_result(scenario, "peak_rss_mib", bench_peak_rss_bytes() / 1048576.0);
}

long bench_threads_seen(void)
{
    return atomic_load(&threads_seen);
}

#if defined(_WIN32)

/* Thread ids seen, in an open-addressing set: a callback thread inserts its
 * id once; afterwards each callback costs one hashed load. */
#define SEEN_SLOTS 4096
static volatile LONG seen_ids[SEEN_SLOTS];

void bench_note_thread(void)
{
    LONG id = (LONG)GetCurrentThreadId();
    unsigned i = ((unsigned)id * 2654435761u) % SEEN_SLOTS, probes;

    for (probes = 0; probes < SEEN_SLOTS; probes++, i = (i + 1) % SEEN_SLOTS) {
        LONG cur = seen_ids[i];

        if (cur == id)
            return;
        if (!cur) {
            cur = InterlockedCompareExchange(&seen_ids[i], id, 0);
            if (!cur) {
                atomic_fetch_add(&threads_seen, 1);
                return;
            }
            if (cur == id)
                return;
        }
    }
}

uint64_t bench_now_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;

    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (uint64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
}

/* Sleep() counts in milliseconds; NtDelayExecution in 100 ns units. */
typedef LONG (WINAPI *delay_fn)(BOOLEAN alertable, const LARGE_INTEGER *interval);

void bench_pause_us(unsigned us)
{
    static delay_fn delay;
    LARGE_INTEGER interval;

    if (!delay)
        delay = (delay_fn)(void (*)(void))GetProcAddress(GetModuleHandleA("ntdll.dll"),
                                                         "NtDelayExecution");
    if (!delay) {
        Sleep((us + 999) / 1000);
        return;
    }
    interval.QuadPart = -(LONGLONG)us * 10;
    delay(FALSE, &interval);
}

double bench_rss_bytes(void)
{
    PROCESS_MEMORY_COUNTERS pmc;

    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
        return 0;
    return (double)pmc.WorkingSetSize;
}

double bench_peak_rss_bytes(void)
{
    PROCESS_MEMORY_COUNTERS pmc;

    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
        return 0;
    return (double)pmc.PeakWorkingSetSize;
}

long bench_process_threads(void)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 entry;
    long count = 0;

    if (snap == INVALID_HANDLE_VALUE)
        return -1;
    entry.dwSize = sizeof(entry);
    if (Thread32First(snap, &entry)) {
        do {
            if (entry.th32OwnerProcessID == GetCurrentProcessId())
                count++;
            entry.dwSize = sizeof(entry);
        } while (Thread32Next(snap, &entry));
    }
    CloseHandle(snap);
    return count;
}

#else

void bench_note_thread(void)
{
    static _Thread_local int seen;

    if (!seen) {
        seen = 1;
        atomic_fetch_add(&threads_seen, 1);
    }
}

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_pause_us(unsigned us)
{
    struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

    while (nanosleep(&ts, &ts))
        ;
}

double bench_rss_bytes(void)
{
    long size, resident;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

double bench_peak_rss_bytes(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;
}

long bench_process_threads(void)
{
    char line[256];
    long count = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %ld", &count) == 1)
            break;
    fclose(f);
    return count;
}

#endif

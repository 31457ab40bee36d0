/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32_tp's own extensions, beyond the Win32 API: introspection for
 * tests, benchmarks and demos.  Programs that only use the Win32 API never
 * need this header.
 */
#ifndef KERNEL32_TP_H
#define KERNEL32_TP_H

#include <windows.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The DLL's own build defines KERNEL32_TP_API empty: its .def exports. */
#ifndef KERNEL32_TP_API
#if defined(_MSC_VER) || defined(__MINGW32__)
#define KERNEL32_TP_API __declspec(dllimport)
#else
#define KERNEL32_TP_API __attribute__((visibility("default")))
#endif
#endif

/* Thread-pool objects (pools, groups, callback objects) alive right now.
 * The one-shot objects of simple callbacks with no cleanup group and no
 * finalization callback or RaceDll are not counted: nothing can name them. */
KERNEL32_TP_API LONG WINAPI tp_debug_live_objects(void);

/* Callbacks this library has run since the process started. */
KERNEL32_TP_API LONGLONG WINAPI tp_debug_callbacks_run(void);

/* Worker threads of a pool (NULL: the default pool) alive right now. */
KERNEL32_TP_API DWORD WINAPI tp_debug_pool_threads(PTP_POOL pool);

/*
 * One pool's figures, for tp_debug_pool_stats.  Versioned by its size: the
 * caller sets Size to sizeof(TP_DEBUG_POOL_STATS) of its header (at least
 * TP_DEBUG_POOL_STATS_SIZE_V1); the library fills the fields it knows that
 * fit in Size, zeroes the rest and sets Size to the bytes it filled.  New
 * fields are only ever added at the end.  Counts are since the pool was
 * created (for the default pool, since its first use).
 */
#define TP_DEBUG_LATENESS_BUCKETS 24

typedef struct _TP_DEBUG_POOL_STATS {
    DWORD Size;                 /* in: the caller's size; out: bytes filled */
    DWORD Threads;              /* worker threads alive now, or starting */
    LONGLONG CallbacksRun;      /* callbacks its workers ran to the end */
    LONGLONG ThreadsCreated;    /* worker threads started */
    LONGLONG ThreadsRetired;    /* worker threads that ended */
    /* Workers added because callbacks block: */
    LONGLONG InjectedBlocked;   /* ...in waits, seen or not, or declared long (beyond one per CPU) */
    LONGLONG InjectedMayRunLong;/* ...by CallbackMayRunLong, to keep one worker free */
    LONGLONG InjectedStall;     /* ...by the stall monitor: no progress for a tick */
    LONG QueueDepth;            /* callbacks queued, not yet started, now */
    LONG QueueDepthMax;         /* the highest QueueDepth seen */
    LONG WaitsArmed;            /* thread-pool waits armed now (set, not yet fired) */
    DWORD LatenessBuckets;      /* TP_DEBUG_LATENESS_BUCKETS */
    /*
     * Timer expiries by how late the timer service took them, past the due
     * time plus the timer's window: [0] under 1 us, [i] from 2^(i-1) to
     * 2^i - 1 us, the last one everything later.
     */
    LONGLONG TimerLateness[TP_DEBUG_LATENESS_BUCKETS];
} TP_DEBUG_POOL_STATS;

#define TP_DEBUG_POOL_STATS_SIZE_V1 sizeof(TP_DEBUG_POOL_STATS)

/*
 * Fills *stats with the figures of a pool (NULL: the default pool).
 * FALSE with ERROR_INVALID_PARAMETER when stats is NULL, its Size is below
 * TP_DEBUG_POOL_STATS_SIZE_V1, or pool is no live pool.  Reading costs the
 * pool one hold of its lock; counting costs the callbacks nothing shared.
 * KERNEL32_TP_STATS=1 prints every live pool's figures to stderr at exit.
 */
KERNEL32_TP_API BOOL WINAPI tp_debug_pool_stats(PTP_POOL pool, TP_DEBUG_POOL_STATS *stats);

#ifdef __cplusplus
}
#endif

#endif

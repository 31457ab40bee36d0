/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scheduler's side of a pool (scheduler.c): the run queue, the worker
 * threads and their idle, spinning and waking state, the stall monitor's
 * bookkeeping.  Embedded in struct tp_pool by value; only scheduler.c
 * writes these fields (pool.c reads none of them: it asks through the
 * functions below).  Included by tp_private.h.
 */
#ifndef KERNEL32_TP_SCHEDULER_H
#define KERNEL32_TP_SCHEDULER_H

#define TP_PRIORITY_COUNT 3     /* high, normal, low: TP_CALLBACK_PRIORITY */

struct tp_pool;
struct tp_object;
struct tp_worker;

struct tp_sched {
    /* What posts without P write (and workers too), in cache lines of
     * their own: the fields under P around them stay in the workers'
     * caches while a poster writes these, and a work object's poster
     * (queued) and a simple callback's (inbox) do not share one, nor with
     * linked, which workers read on every callback they run in a row. */
    char posted_pad_before[64];     /* (c) unused: keeps the cache lines apart */
    /* (a) callbacks queued: sum of obj->pending, or more while a post to an
     * object already queued is on its way (it counts here first, so that
     * the figure never falls short: a worker that sees 0 may retire).
     * Changed under P, but for those posts (tp_sched_enqueue_more). */
    _Atomic LONG queued;
    _Atomic LONG queued_max;        /* (a) the highest queued */
    char posted_pad_queued[64];     /* (c) unused */
    /* (a) simple objects posted without P, newest first (tp_sched_post):
     * moved into the queues, oldest first, under P before any object is
     * queued or taken there. */
    _Atomic(struct tp_object *) inbox;
    char posted_pad_inbox[64];      /* (c) unused */
    /* (a) objects linked in the queues, written under P: a worker alone
     * with one object may run several of its callbacks in a row. */
    _Atomic LONG linked;
    char posted_pad_after[64];      /* (c) unused */
    struct os_cond work_cond;       /* (P) idle workers sleep here */
    struct list queue[TP_PRIORITY_COUNT]; /* (P) objects with pending callbacks, FIFO */
    DWORD threads;                  /* (P) workers alive, including ones starting */
    DWORD idle;                     /* (P) workers sleeping on work_cond */
    DWORD waking;                   /* (P) idle workers signalled but not yet awake */
    DWORD inactive;                 /* (P) workers whose callback blocks or runs long */
    struct tp_worker *spinner;      /* (P) the one worker spinning before it sleeps */
    BOOL spinner_polls;             /* (P) it only polls I/O once (worker_poll_io_locked) */
    DWORD spin_misses;              /* (P) spins in a row that no submission ended */
    DWORD spin_skips;               /* (P) idle transitions that skipped spinning since */
    ULONGLONG progress;             /* (P) callbacks started: the monitor's stall detector */
    ULONGLONG progress_seen;        /* (P) progress at the monitor's last look */
    BOOL watched;                   /* (P) on the monitor's list (holds the pool alive) */
    struct list monitor_entry;      /* (M) in the monitor's list while watched */
    /* Figures for tp_debug_pool_stats (stats.c), counted where P is held
     * anyway; callbacks run are the workers' own (struct tp_worker). */
    struct list workers;            /* (P) the pool's struct tp_worker, alive */
    ULONGLONG callbacks_retired;    /* (P) callbacks run by workers that retired */
    ULONGLONG threads_created;      /* (P) workers that started */
    ULONGLONG threads_retired;      /* (P) workers that ended */
    ULONGLONG injected_blocked;     /* (P) started beyond the CPU target for blocked workers */
    ULONGLONG injected_long;        /* (P) started by CallbackMayRunLong */
    ULONGLONG injected_stall;       /* (P) started by the stall monitor */
};

/* What the caller of a _locked call that queued work must do once it drops P. */
enum tp_dispatch {
    TP_DISPATCH_NONE,           /* enough workers are coming, or a spinner was kicked */
    TP_DISPATCH_WAKE,           /* an idle worker was claimed: signal it */
    TP_DISPATCH_START_WORKER,   /* a worker was reserved: start it */
    TP_DISPATCH_WATCH,          /* all workers busy: let the monitor watch the pool */
};

void tp_sched_init(struct tp_pool *pool);
void tp_sched_destroy(struct tp_pool *pool);

/* Links obj into its priority queue (if it has no pending callback yet),
 * counts count more callbacks in obj->pending and picks a worker for them.
 * The caller acts on the result with tp_sched_dispatch_finish() once P is
 * dropped.  Locking: P. */
enum tp_dispatch tp_sched_enqueue_locked(struct tp_object *obj, LONG count);
/* Queues the one callback of obj, a new object no other thread knows and
 * that is in no group, without P but when the inbox was empty (a worker is
 * then picked under P).  obj may be gone on return.  Without P. */
void tp_sched_post(struct tp_object *obj);
/* Counts count more callbacks of obj when it is queued already (pending
 * above 0): no P, and no worker to pick, since the queued object has its
 * own.  FALSE, with nothing done, when it is not queued: the caller takes
 * P and calls tp_sched_enqueue_locked.  Without P. */
BOOL tp_sched_enqueue_more(struct tp_object *obj, LONG count);
/* Takes obj's pending callbacks off the queue; returns how many.  Locking: P. */
LONG tp_sched_unqueue_locked(struct tp_object *obj);
/* Acts on a dispatch decision.  Without P; the caller's object (or
 * reservation) keeps the pool alive. */
void tp_sched_dispatch_finish(struct tp_pool *pool, enum tp_dispatch action);

/* Starts workers until the pool has count of them.  Without P.  FALSE when
 * a thread could not be started (the workers started stay). */
BOOL tp_sched_start_workers(struct tp_pool *pool, DWORD count);
/* Idle workers look at the pool again (it was closed, or emptied after its
 * close, and they may retire).  Locking: P. */
void tp_sched_wake_idle_locked(struct tp_pool *pool);
/* TRUE while workers or the monitor still use the pool's memory, or light simple
 * callbacks (tp_object_light) are queued.  Locking: P. */
BOOL tp_sched_busy_locked(const struct tp_pool *pool);
/* The pool's worker count (tp_debug_pool_threads).  Takes P. */
DWORD tp_sched_threads(struct tp_pool *pool);

/* Fills the scheduler's figures into stats (stats.c).  Locking: P. */
void tp_sched_stats_locked(struct tp_pool *pool, TP_DEBUG_POOL_STATS *stats);
/* Callbacks the pool's workers ran, those retired included.  Locking: P. */
ULONGLONG tp_sched_callbacks_run_locked(struct tp_pool *pool);

/* CallbackMayRunLong for the callback the worker runs: ERROR_SUCCESS, or
 * ERROR_TOO_MANY_THREADS when no idle worker is free and none can start.
 * Takes P. */
DWORD tp_sched_may_run_long(struct tp_worker *worker);

/* How long idle workers above the minimum (and other idle service threads)
 * wait before they retire. */
DWORD tp_sched_idle_timeout_ms(void);

#endif

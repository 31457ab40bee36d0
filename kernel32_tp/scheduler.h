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
struct tp_instance;
struct tp_worker;
struct tp_post_chunk;

/*
 * One simple callback posted without an object (TrySubmitThreadpoolCallback,
 * QueueUserWorkItem with no cleanup group, finalization callback or RaceDll):
 * 64 bytes, handed out from a 4 KiB chunk of its pool (post.c).  A worker
 * copies it into its carrier object and gives it back before the callback
 * runs (scheduler.c).
 */
struct tp_post {
    struct tp_post *next;           /* (a) in sched.inbox, then (P) in sched.posts, or a run */
    struct tp_post_chunk *chunk;    /* (c) the chunk it came from */
    void (*invoke)(struct tp_object *obj, struct tp_instance *inst); /* (c) tp_invoke_fn */
    void *callback;                 /* (c) */
    void *userdata;                 /* (c) */
    /* (P) the object turns of its priority that come first: it runs once
     * sched.turns_taken reaches it (or no object of its priority is left),
     * so that posts and objects start in the order they were queued. */
    ULONGLONG due_turn;
    unsigned char dispatch;         /* (c) priority | TP_OBJECT_LONG_FUNCTION */
    /* (c) unused: one cache line each on 64-bit systems, so that a poster
     * filling one does not take the line a worker reads the one before in */
    unsigned char pad[64 - 6 * sizeof(void *) - 1];
};

struct tp_sched {
    /* What posts without P write (and workers too), in cache lines of
     * their own: the fields under P around them stay in the workers'
     * caches while a poster writes these, and a work object's poster
     * (queued) and a simple callback's (inbox) do not share one, nor with
     * linked, which workers read on every callback they run in a row. */
    char posted_pad_before[64];     /* (c) unused: keeps the cache lines apart */
    /* (a) callbacks queued: sum of obj->pending and of the posts in the
     * inbox and in posts, or more while a post to an object already queued
     * is on its way (it counts here first, so that the figure never falls
     * short: a worker that sees 0 may retire).  Changed under P, but for
     * those posts (tp_sched_enqueue_more, tp_sched_post). */
    _Atomic LONG queued;
    _Atomic LONG queued_max;        /* (a) the highest queued */
    char posted_pad_queued[64];     /* (c) unused */
    /* The chunk posts are handed out from (post.c): posters take one at a
     * time under post_lock, a spin lock held for a few instructions (a
     * poster that finds it held long takes a chunk of its own). */
    _Atomic LONG post_lock;         /* (a) */
    struct tp_post_chunk *post_chunk; /* (post_lock) never full */
    LONG post_taken;                /* (post_lock) posts of post_chunk handed out */
    /* (a) one chunk whose posts all ran, kept for the next one needed */
    _Atomic(struct tp_post_chunk *) post_spare;
    /* (a) simple posts made without P, newest first, one stack per
     * priority (tp_sched_post), each in a cache line of its own (a worker
     * running posts in a row reads the higher ones'): moved into posts,
     * oldest first, under P before any object is queued or taken there. */
    struct {
        _Atomic(struct tp_post *) head;
        char pad[64 - sizeof(void *)]; /* (c) unused */
    } inbox[TP_PRIORITY_COUNT];
    char posted_pad_inbox[64];      /* (c) unused */
    /* (a) objects linked in the queues and posts in posts, written under
     * P: a worker alone with one object may run several of its callbacks
     * in a row. */
    _Atomic LONG linked;
    /* (a) the same by priority, written under P: a worker running posts in
     * a row without P stops when one of a higher priority comes. */
    _Atomic LONG present[TP_PRIORITY_COUNT];
    char posted_pad_after[64];      /* (c) unused */
    /* What a simple post that finds the inbox empty reads without P to
     * know whether it may skip the dispatch (tp_sched_post), in a cache
     * line of its own, written under P: */
    /* (a) workers that will look at the inbox again before they sleep,
     * with no one to tell them: those not asleep whose callback, if any,
     * neither blocks nor runs long (the spinner watches the inbox too).
     * A worker leaves the count before its last look at the inbox. */
    _Atomic DWORD returning;
    /* (a) workers asleep or on their way to sleep, counted before they
     * leave sched.returning: a post must wake one rather than count on
     * workers that may be stuck (tp_sched_post). */
    _Atomic DWORD sleeping;
    /* (a) on the monitor's list (holds the pool alive); the monitor
     * looks at sched.queued again after it clears it (monitor_check_pool) */
    _Atomic BOOL watched;
    char posted_pad_returning[64];  /* (c) unused */
    struct os_cond work_cond;       /* (P) idle workers sleep here */
    struct list queue[TP_PRIORITY_COUNT]; /* (P) objects with pending callbacks, FIFO */
    struct tp_post *posts[TP_PRIORITY_COUNT]; /* (P) posts taken from the inbox, FIFO */
    struct tp_post **posts_tail[TP_PRIORITY_COUNT]; /* (P) where the next one is linked */
    /* (P) turns objects of the priority took (dequeued) and objects of it
     * linked now: a post queued behind n objects runs after n more turns. */
    ULONGLONG turns_taken[TP_PRIORITY_COUNT];
    LONG objects_linked[TP_PRIORITY_COUNT];
    DWORD threads;                  /* (P) workers alive, including ones starting */
    DWORD idle;                     /* (P) workers sleeping on work_cond */
    DWORD waking;                   /* (P) idle workers signalled but not yet awake */
    DWORD inactive;                 /* (P) workers whose callback blocks or runs long */
    struct tp_worker *spinner;      /* (P) the one worker spinning before it sleeps */
    BOOL spinner_polls;             /* (P) it only polls I/O once (worker_poll_io_locked) */
    /* (P) the spinning worker that one polling I/O stands in front of: the
     * spinner again once the one polling is kicked or done */
    struct tp_worker *spinner_behind;
    DWORD spin_misses;              /* (P) spins in a row that no submission ended */
    DWORD spin_skips;               /* (P) idle transitions that skipped spinning since */
    ULONGLONG progress;             /* (P) callbacks started: the monitor's stall detector */
    ULONGLONG progress_seen;        /* (P) progress at the monitor's last look */
    /* (P) since when the monitor saw callbacks queued at every look, 0 when
     * it did not at its last, and the process's CPU time then
     * (monitor_workers_wait_locked) */
    ULONGLONG backlog_since_ns;
    ULONGLONG backlog_cpu_ns;
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
 * counts count more callbacks in obj->pending and picks a worker for them
 * (none but the monitor's watch for a work object whose callback a worker
 * runs, with nothing else queued: that worker takes them next).
 * The caller acts on the result with tp_sched_dispatch_finish() once P is
 * dropped.  Locking: P. */
enum tp_dispatch tp_sched_enqueue_locked(struct tp_object *obj, LONG count);
/* Queues post, filled in, with no P but when the inbox of its priority was
 * empty (a worker is then picked under P).  The poster keeps the pool alive
 * (its user does not close it while posting).  Without P. */
void tp_sched_post(struct tp_pool *pool, struct tp_post *post);
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
/* TRUE while workers or the monitor still use the pool's memory, or simple
 * posts (struct tp_post) are queued.  Locking: P. */
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

/* Simple posts (post.c).  tp_post_take: a record of pool's for one post,
 * ERROR_NOT_ENOUGH_MEMORY.  tp_post_release: post was copied out, its slot
 * is done (its chunk is reused or freed once all of its posts are).
 * tp_post_pool_free: the chunks of a pool being freed.  Without P. */
DWORD tp_post_take(struct tp_pool *pool, struct tp_post **out);
void tp_post_release(struct tp_post *post);
void tp_post_pool_free(struct tp_pool *pool);

/* How long idle workers above the minimum (and other idle service threads)
 * wait before they retire. */
DWORD tp_sched_idle_timeout_ms(void);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The soak (make soak, docs/reliability.md): several threads do random
 * thread-pool operations for SOAK_SECONDS seconds on every object kind
 * (simple callbacks, work, timers, waits, I/O on pipes and files), on
 * several pools and cleanup groups, and keep exact books of every callback.
 *
 * Each soak thread owns the objects it creates, so its books need no lock:
 * an object's "due" counts the callbacks its operations made due (a submit,
 * a timer or wait set, an I/O started), "ran" those that ran, "cancelled"
 * those a cancel dropped (known exactly once a drain returned: due - ran).
 * A drain without cancel must find ran == due - cancelled (else lost or
 * duplicated); after an object's last drain (or, closed without one, once
 * its books settled) it is sealed, and a callback of a sealed object is
 * "late": it outlived its close.  Every callback asks for a completion
 * action (a semaphore release, and by choice an event and a critical
 * section), and the owner takes one release per callback that ran.  A timer
 * or a signalled wait that does not fire within SOAK_LOST_MS is lost.
 * At the end, with every pool closed, the library's live objects are 0, and
 * the thread count and the allocated bytes return to what they were after a
 * warm-up.  One summary line; the exit code is non-zero on any discrepancy.
 *
 * The output ends with cmocka's closing lines, so that tools/run-tests
 * counts the soak as one test.
 */
#include <windows.h>
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel32_tp.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* The sanitizers' allocator figure (their allocator_interface.h, which
 * gcc does not install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#define SOAK_SANITIZED 1
#endif

#define SOAK_THREADS 6
#define SOAK_SLOTS 24           /* objects a soak thread holds at once */
#define SOAK_LOST_MS 30000      /* a timer or signalled wait later than this is lost */
#define SOAK_SETTLE_MS 30000    /* bound on any wait for books to settle */
#define SOAK_IO_BYTES 16
#define SOAK_MEMORY_SLACK (1024 * 1024)

/* What a callback writes and another thread reads goes through atomics
 * (the Interlocked* calls, and this), so that TSan sees no plain race. */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)

enum kind { K_SIMPLE, K_WORK, K_TIMER, K_WAIT, K_PIPE, K_FILE, K_COUNT };
static const char *const kind_names[K_COUNT] = { "simple", "work", "timer", "wait", "pipe",
                                                 "file" };

/* What the callbacks ask for on return (struct sobj.actions). */
#define ACT_EVENT 1
#define ACT_CS 2
#define ACT_RUNS_LONG 4     /* not an action: the callback calls CallbackMayRunLong */

struct sthread;

struct sobj {
    enum kind kind;
    struct sthread *owner;
    void *handle;                   /* PTP_WORK, PTP_TIMER, PTP_WAIT or PTP_IO */
    int actions;
    HANDLE sem;                     /* released once per callback */
    HANDLE event;                   /* ACT_EVENT: set when a callback returns */
    CRITICAL_SECTION cs;            /* ACT_CS: left when a callback returns */
    HANDLE wait_event;              /* K_WAIT: the event it waits for */
    HANDLE server, client;          /* K_PIPE: overlapped server end, its client */
    HANDLE file;                    /* K_FILE */
    char path[MAX_PATH];
    OVERLAPPED ov;                  /* the one operation in flight */
    BYTE buf[SOAK_IO_BYTES];
    volatile LONG due;              /* owner */
    volatile LONG ran;              /* callbacks */
    volatile LONG cancelled;        /* owner, after a drain */
    volatile LONG cancel_calls;     /* the group's cancel callback */
    volatile LONG sealed;           /* owner: no callback may run from now on */
    volatile LONG bad_args;         /* a callback saw arguments it should not */
    LONG taken;                     /* owner: semaphore releases taken */
    LONG event_seen;                /* owner: ran when the event was last taken */
    int in_group;                   /* owner: a member of owner->group */
    int closed;                     /* owner */
    int io_pending;                 /* owner: a read waits for its data or a cancel */
    int io_started;                 /* owner: ov may be in use until io_quiesce() */
    int armed;                      /* owner: a timer/wait set that has not fired */
    int stopped;                    /* owner: op_stop may have cancelled a set */
    ULONGLONG armed_ms;             /* owner: when it should fire at the latest */
    struct sobj *next;              /* owner: in owner->parked */
};

struct sthread {
    int index;
    ULONGLONG rng;
    PTP_POOL private_pool;          /* this round's own pool, if any */
    PTP_CLEANUP_GROUP group;        /* this round's cleanup group */
    LONG group_token;               /* what its cancel callbacks must be given */
    struct sobj *slots[SOAK_SLOTS];
    struct sobj *parked;            /* closed without a drain: settling */
    HANDLE thread;
};

static struct {
    ULONGLONG end_ms;
    PTP_POOL pools[2];              /* a small and a larger shared pool */
    volatile LONG64 ops, callbacks, cancelled, lost, duplicated, late, actions_missing;
    volatile LONG64 bad_args, api_failures, objects, group_releases, cancel_calls;
    volatile LONG64 pools_made;
    volatile LONG failed_here;      /* first failure message printed */
} soak;

static void fail(const char *what, struct sobj *o, LONG a, LONG b)
{
    if (InterlockedIncrement(&soak.failed_here) <= 20)
        fprintf(stderr, "soak: %s: %s object %p: %ld vs %ld\n", what,
                o ? kind_names[o->kind] : "-", (void *)o, (long)a, (long)b);
}

static ULONGLONG now_ms(void)
{
    return GetTickCount64();
}

static unsigned rnd(struct sthread *t, unsigned n)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return (unsigned)(t->rng % n);
}

/* ---- callbacks -------------------------------------------------------------------- */

/* Every callback's books: a sealed object's callback is late; each asks
 * for its completion actions.  ran is the last thing read or written in
 * the object, so that its owner may free it once ran reaches due. */
static void book_callback(struct sobj *o, PTP_CALLBACK_INSTANCE inst)
{
    if (LOAD(o->sealed))
        InterlockedIncrement64(&soak.late);
    ReleaseSemaphoreWhenCallbackReturns(inst, o->sem, 1);
    if (o->actions & ACT_EVENT)
        SetEventWhenCallbackReturns(inst, o->event);
    if (o->actions & ACT_CS) {
        EnterCriticalSection(&o->cs);
        LeaveCriticalSectionWhenCallbackReturns(inst, &o->cs);
    }
    if (o->actions & ACT_RUNS_LONG)
        CallbackMayRunLong(inst);
    InterlockedIncrement64(&soak.callbacks);
    InterlockedIncrement(&o->ran);
}

static void CALLBACK simple_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    book_callback(ctx, inst);
}

static void CALLBACK work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    struct sobj *o = ctx;

    if (work != o->handle)
        InterlockedIncrement(&o->bad_args);
    book_callback(o, inst);
}

static void CALLBACK timer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    struct sobj *o = ctx;

    if (timer != o->handle)
        InterlockedIncrement(&o->bad_args);
    book_callback(o, inst);
}

static void CALLBACK wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                             TP_WAIT_RESULT result)
{
    struct sobj *o = ctx;

    if (wait != o->handle || (result != WAIT_OBJECT_0 && result != WAIT_TIMEOUT))
        InterlockedIncrement(&o->bad_args);
    book_callback(o, inst);
}

static void CALLBACK io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped, ULONG result,
                           ULONG_PTR bytes, PTP_IO io)
{
    struct sobj *o = ctx;

    if (io != o->handle || overlapped != &o->ov
        || (result != NO_ERROR && result != ERROR_OPERATION_ABORTED)
        || (result == NO_ERROR && bytes != SOAK_IO_BYTES)) {
        fprintf(stderr, "soak: %s completion: io %p/%p, overlapped %p/%p, result %lu, bytes %lu\n",
                kind_names[o->kind], (void *)io, o->handle, overlapped, (void *)&o->ov,
                (unsigned long)result, (unsigned long)bytes);
        InterlockedIncrement(&o->bad_args);
    }
    book_callback(o, inst);
}

static void CALLBACK group_cancel_cb(PVOID obj_ctx, PVOID cleanup_ctx)
{
    struct sobj *o = obj_ctx;

    if (cleanup_ctx != (PVOID)(LONG_PTR)o->owner->group_token)
        InterlockedIncrement(&o->bad_args);
    InterlockedIncrement64(&soak.cancel_calls);
    InterlockedIncrement(&o->cancel_calls);
}

/* ---- books -------------------------------------------------------------------- */

/* Takes the completion actions of the callbacks that ran since the last
 * look: one semaphore release each, the event if any ran, the critical
 * section free.  A drain returned, or ran was seen, so they are done or
 * about to be: the bound is generous. */
static void take_actions(struct sobj *o)
{
    LONG ran = LOAD(o->ran);

    while (o->taken < ran) {
        if (WaitForSingleObject(o->sem, SOAK_SETTLE_MS) != WAIT_OBJECT_0) {
            InterlockedIncrement64(&soak.actions_missing);
            fail("semaphore release missing", o, o->taken, ran);
            o->taken = ran;
            break;
        }
        o->taken++;
    }
    if ((o->actions & ACT_EVENT) && ran > o->event_seen) {
        if (WaitForSingleObject(o->event, SOAK_SETTLE_MS) != WAIT_OBJECT_0) {
            InterlockedIncrement64(&soak.actions_missing);
            fail("event not set", o, ran, o->event_seen);
        }
        o->event_seen = ran;
    }
    if ((o->actions & ACT_CS) && ran > 0) {
        ULONGLONG start = now_ms();

        while (!TryEnterCriticalSection(&o->cs)) {
            if (now_ms() - start > SOAK_SETTLE_MS) {
                InterlockedIncrement64(&soak.actions_missing);
                fail("critical section never left", o, ran, 0);
                return;
            }
            Sleep(1);
        }
        LeaveCriticalSection(&o->cs);
    }
}

/* After a drain: every due callback ran or was cancelled by it.  With
 * cancel, what did not run was dropped; without, it is lost. */
static void books_after_drain(struct sobj *o, BOOL cancel)
{
    LONG ran = LOAD(o->ran), open = o->due - o->cancelled - ran;

    if (open < 0) {
        InterlockedAdd64(&soak.duplicated, -open);
        fail("duplicated callbacks", o, ran, o->due - o->cancelled);
        o->cancelled = o->due - ran;
    } else if (open > 0 && cancel) {
        InterlockedAdd64(&soak.cancelled, open);
        o->cancelled += open;
    } else if (open > 0) {
        InterlockedAdd64(&soak.lost, open);
        fail("lost callbacks after a drain", o, ran, o->due - o->cancelled);
        o->cancelled += open;   /* counted once */
    }
    o->armed = 0;
    take_actions(o);
}

static BOOL settled(struct sobj *o)
{
    return LOAD(o->ran) + o->cancelled >= o->due;
}

/* ---- objects -------------------------------------------------------------------- */

static void env_for(struct sthread *t, TP_CALLBACK_ENVIRON *env, struct sobj *o)
{
    PTP_POOL pool = NULL;
    unsigned which = rnd(t, 4);

    InitializeThreadpoolEnvironment(env);
    if (which < 2)
        pool = soak.pools[which];
    else if (which == 2)
        pool = t->private_pool;
    if (pool)
        SetThreadpoolCallbackPool(env, pool);
    if (rnd(t, 2)) {
        SetThreadpoolCallbackCleanupGroup(env, t->group, group_cancel_cb);
        o->in_group = 1;
    }
    if (rnd(t, 8) == 0)
        SetThreadpoolCallbackRunsLong(env);
    SetThreadpoolCallbackPriority(env, (TP_CALLBACK_PRIORITY)rnd(t, 3));
}

static struct sobj *sobj_new(struct sthread *t, enum kind kind)
{
    struct sobj *o = calloc(1, sizeof(*o));

    if (!o)
        abort();
    o->kind = kind;
    o->owner = t;
    o->actions = (int)rnd(t, 8);
    o->sem = CreateSemaphoreA(NULL, 0, 0x7fffffff, NULL);
    if (o->actions & ACT_EVENT)
        o->event = CreateEventA(NULL, FALSE, FALSE, NULL);
    if (o->actions & ACT_CS)
        InitializeCriticalSection(&o->cs);
    if (!o->sem || ((o->actions & ACT_EVENT) && !o->event))
        abort();
    return o;
}

/* Waits until the operation last started on ov is over.  Its callback
 * ran or a cancelling drain dropped it, but in the second case the
 * operation itself may still be under way, its buffer and OVERLAPPED in
 * use, as on Windows, where only the operation's end frees them. */
static void io_quiesce(struct sobj *o)
{
    DWORD bytes;

    if (!o->io_started)
        return;
    GetOverlappedResult(o->kind == K_PIPE ? o->server : o->file, &o->ov, &bytes, TRUE);
    o->io_started = 0;
}

/* Frees a settled object and its handles: checks the books once more and
 * that no completion action is left over (a duplicated one would be). */
static void sobj_free(struct sobj *o)
{
    LONG ran = LOAD(o->ran), bad_args = LOAD(o->bad_args);

    if (ran > o->due - o->cancelled) {
        InterlockedAdd64(&soak.duplicated, ran - (o->due - o->cancelled));
        fail("duplicated callbacks at free", o, ran, o->due - o->cancelled);
    }
    take_actions(o);
    if (WaitForSingleObject(o->sem, 0) == WAIT_OBJECT_0) {
        InterlockedIncrement64(&soak.duplicated);
        fail("an extra semaphore release", o, ran, o->taken);
    }
    if (bad_args) {
        InterlockedAdd64(&soak.bad_args, bad_args);
        fail("a callback saw wrong arguments", o, bad_args, 0);
    }
    io_quiesce(o);
    CloseHandle(o->sem);
    if (o->event)
        CloseHandle(o->event);
    if (o->actions & ACT_CS)
        DeleteCriticalSection(&o->cs);
    if (o->wait_event)
        CloseHandle(o->wait_event);
    if (o->client)
        CloseHandle(o->client);
    if (o->server)
        CloseHandle(o->server);
    if (o->file) {
        CloseHandle(o->file);
        DeleteFileA(o->path);
    }
    free(o);
}

static void api_failed(const char *call, struct sobj *o)
{
    InterlockedIncrement64(&soak.api_failures);
    fail(call, o, (LONG)GetLastError(), 0);
}

static BOOL open_pipe(struct sobj *o)
{
    static volatile LONG serial;
    char name[96];
    OVERLAPPED ov;

    snprintf(name, sizeof(name), "\\\\.\\pipe\\kernel32_tp_soak_%lu_%ld",
             (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&serial));
    o->server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                 PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    if (o->server == INVALID_HANDLE_VALUE) {
        o->server = NULL;
        return FALSE;
    }
    o->client = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (o->client == INVALID_HANDLE_VALUE) {
        o->client = NULL;
        return FALSE;
    }
    memset(&ov, 0, sizeof(ov));
    return !ConnectNamedPipe(o->server, &ov) && GetLastError() == ERROR_PIPE_CONNECTED;
}

static BOOL open_file(struct sobj *o)
{
    char dir[MAX_PATH];

    if (!GetTempPathA(sizeof(dir), dir) || !GetTempFileNameA(dir, "kts", 0, o->path))
        return FALSE;
    o->file = CreateFileA(o->path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                          FILE_FLAG_OVERLAPPED, NULL);
    if (o->file == INVALID_HANDLE_VALUE) {
        o->file = NULL;
        DeleteFileA(o->path);
        return FALSE;
    }
    return TRUE;
}

static void op_create(struct sthread *t, int slot)
{
    enum kind kind = (enum kind)rnd(t, K_COUNT);
    TP_CALLBACK_ENVIRON env;
    struct sobj *o = sobj_new(t, kind);

    env_for(t, &env, o);
    switch (kind) {
    case K_SIMPLE:
        /* A simple callback has no handle: it is due at once and is never
         * in a slot; it settles by running or through its group's cancel. */
        o->due = 1;
        if (!TrySubmitThreadpoolCallback(simple_cb, o, &env)) {
            api_failed("TrySubmitThreadpoolCallback", o);
            o->due = 0;
        }
        o->closed = 1;
        o->next = t->parked;
        t->parked = o;
        InterlockedIncrement64(&soak.objects);
        DestroyThreadpoolEnvironment(&env);
        return;
    case K_WORK:
        o->handle = CreateThreadpoolWork(work_cb, o, &env);
        break;
    case K_TIMER:
        o->handle = CreateThreadpoolTimer(timer_cb, o, &env);
        break;
    case K_WAIT:
        o->wait_event = CreateEventA(NULL, FALSE, FALSE, NULL);
        o->handle = o->wait_event ? CreateThreadpoolWait(wait_cb, o, &env) : NULL;
        break;
    case K_PIPE:
        o->handle = open_pipe(o) ? CreateThreadpoolIo(o->server, io_cb, o, &env) : NULL;
        break;
    case K_FILE:
        o->handle = open_file(o) ? CreateThreadpoolIo(o->file, io_cb, o, &env) : NULL;
        break;
    default:
        break;
    }
    DestroyThreadpoolEnvironment(&env);
    if (!o->handle) {
        api_failed("Create*", o);
        sobj_free(o);
        return;
    }
    InterlockedIncrement64(&soak.objects);
    t->slots[slot] = o;
}

/* Completes a pipe read in flight: data from the client, or a cancel.
 * Either way a completion is queued. */
static void io_finish(struct sthread *t, struct sobj *o)
{
    BYTE data[SOAK_IO_BYTES];
    DWORD written;

    if (!o->io_pending)
        return;
    memset(data, 0x5a, sizeof(data));
    if (rnd(t, 2)) {
        if (!WriteFile(o->client, data, sizeof(data), &written, NULL) || written != sizeof(data))
            api_failed("WriteFile (client)", o);
    } else if (!CancelIoEx(o->server, &o->ov)) {
        api_failed("CancelIoEx", o);
    }
    o->io_pending = 0;
}

static void op_start(struct sthread *t, struct sobj *o)
{
    FILETIME ft;
    LARGE_INTEGER due;
    BOOL ok;

    switch (o->kind) {
    case K_WORK:
        InterlockedIncrement(&o->due);
        SubmitThreadpoolWork(o->handle);
        break;
    case K_TIMER:
        if (o->armed || !settled(o))
            return;
        /* 0 to 20 ms ahead, or a due time of 0: at once. */
        due.QuadPart = -(LONGLONG)rnd(t, 200000);
        ft.dwLowDateTime = due.u.LowPart;
        ft.dwHighDateTime = (DWORD)due.u.HighPart;
        InterlockedIncrement(&o->due);
        o->armed = 1;
        o->armed_ms = now_ms() + SOAK_LOST_MS;
        SetThreadpoolTimer(o->handle, &ft, 0, rnd(t, 2) ? rnd(t, 10) : 0);
        break;
    case K_WAIT:
        if (o->armed || !settled(o))
            return;
        InterlockedIncrement(&o->due);
        o->armed = 1;
        o->armed_ms = now_ms() + SOAK_LOST_MS;
        if (rnd(t, 3) == 0) {
            /* Times out after 0 to 10 ms unless signalled first. */
            due.QuadPart = -(LONGLONG)rnd(t, 100000);
            ft.dwLowDateTime = due.u.LowPart;
            ft.dwHighDateTime = (DWORD)due.u.HighPart;
            SetThreadpoolWait(o->handle, o->wait_event, &ft);
        } else {
            SetThreadpoolWait(o->handle, o->wait_event, NULL);
            SetEvent(o->wait_event);
        }
        break;
    case K_PIPE:
        if (o->io_pending || !settled(o))
            return;
        io_quiesce(o);
        memset(&o->ov, 0, sizeof(o->ov));
        StartThreadpoolIo(o->handle);
        ok = ReadFile(o->server, o->buf, sizeof(o->buf), NULL, &o->ov);
        if (ok || GetLastError() == ERROR_IO_PENDING) {
            InterlockedIncrement(&o->due);
            o->io_pending = !ok;
            o->io_started = 1;
        } else {
            CancelThreadpoolIo(o->handle);
            api_failed("ReadFile (pipe)", o);
        }
        break;
    case K_FILE:
        if (!settled(o))
            return;
        io_quiesce(o);
        memset(&o->ov, 0, sizeof(o->ov));
        o->ov.Offset = rnd(t, 64) * SOAK_IO_BYTES;
        memset(o->buf, 0xa5, sizeof(o->buf));
        StartThreadpoolIo(o->handle);
        ok = WriteFile(o->file, o->buf, sizeof(o->buf), NULL, &o->ov);
        if (ok || GetLastError() == ERROR_IO_PENDING) {
            InterlockedIncrement(&o->due);
            o->io_started = 1;
        } else {
            CancelThreadpoolIo(o->handle);
            api_failed("WriteFile (file)", o);
        }
        break;
    default:
        break;
    }
}

/* Stops what feeds the object (an armed timer or wait, a read in flight),
 * so that a drain sees the last of its callbacks.  Returns TRUE when a
 * timer or wait set may have been cancelled before it fired: the drain's
 * books then count what did not run as cancelled, not lost.  A read is
 * completed, never cancelled from here: its completion still comes. */
static BOOL op_stop(struct sthread *t, struct sobj *o)
{
    BOOL armed = o->armed && !settled(o);

    switch (o->kind) {
    case K_TIMER:
        SetThreadpoolTimer(o->handle, NULL, 0, 0);
        return armed;
    case K_WAIT:
        SetThreadpoolWait(o->handle, NULL, NULL);
        return armed;
    case K_PIPE:
        io_finish(t, o);
        return FALSE;
    default:
        return FALSE;
    }
}

static void wait_callbacks(struct sobj *o, BOOL cancel)
{
    switch (o->kind) {
    case K_WORK:
        WaitForThreadpoolWorkCallbacks(o->handle, cancel);
        break;
    case K_TIMER:
        WaitForThreadpoolTimerCallbacks(o->handle, cancel);
        break;
    case K_WAIT:
        WaitForThreadpoolWaitCallbacks(o->handle, cancel);
        break;
    case K_PIPE:
    case K_FILE:
        WaitForThreadpoolIoCallbacks(o->handle, cancel);
        break;
    default:
        break;
    }
}

static void close_object(struct sobj *o)
{
    switch (o->kind) {
    case K_WORK:
        CloseThreadpoolWork(o->handle);
        break;
    case K_TIMER:
        CloseThreadpoolTimer(o->handle);
        break;
    case K_WAIT:
        CloseThreadpoolWait(o->handle);
        break;
    case K_PIPE:
    case K_FILE:
        CloseThreadpoolIo(o->handle);
        break;
    default:
        break;
    }
    o->closed = 1;
}

/* Stop, then WaitFor*Callbacks with or without cancel: books must balance. */
static void op_drain(struct sthread *t, struct sobj *o)
{
    BOOL cancel = rnd(t, 2);
    BOOL stop = o->armed && rnd(t, 2);

    if (o->kind == K_PIPE || stop)
        stop = op_stop(t, o);
    else if (o->armed) {
        /* A timer or wait set and not fired: a drain does not wait for it,
         * and must not cancel it if it fired meanwhile (it would look lost). */
        wait_callbacks(o, FALSE);
        take_actions(o);
        return;
    }
    wait_callbacks(o, cancel);
    books_after_drain(o, cancel || stop);
}

/* The object's last drain and close: sealed in between, so a callback
 * after the close is late. */
static void op_close_drained(struct sthread *t, int slot)
{
    struct sobj *o = t->slots[slot];
    BOOL cancel = rnd(t, 2);
    BOOL stopped = op_stop(t, o);

    wait_callbacks(o, cancel);
    books_after_drain(o, cancel || stopped);
    InterlockedExchange(&o->sealed, 1);
    close_object(o);
    t->slots[slot] = NULL;
    /* A group member's close leaves the group; its memory may still be
     * touched by nothing of ours: free it at once. */
    sobj_free(o);
}

/* Close* with callbacks maybe still queued or running (allowed): only an
 * object with nothing armed or in flight, whose due count is then final.
 * It is parked until its books settle. */
static void op_close_now(struct sthread *t, int slot)
{
    struct sobj *o = t->slots[slot];

    if (o->armed || o->io_pending) {
        op_close_drained(t, slot);
        return;
    }
    close_object(o);
    t->slots[slot] = NULL;
    o->next = t->parked;
    t->parked = o;
}

/* Checks the armed timers and waits for lost ones. */
static void check_armed(struct sobj *o)
{
    if (!o->armed)
        return;
    if (settled(o)) {
        o->armed = 0;
        take_actions(o);
    } else if (now_ms() > o->armed_ms) {
        InterlockedIncrement64(&soak.lost);
        fail("a timer or wait never fired", o, LOAD(o->ran), o->due);
        o->cancelled = o->due - LOAD(o->ran);
        o->armed = 0;
    }
}

/* Frees the parked objects whose books settled; with wait, waits for all. */
static void reap_parked(struct sthread *t, BOOL wait)
{
    struct sobj **link = &t->parked, *o;
    ULONGLONG start = now_ms();

    while ((o = *link)) {
        if (!settled(o) && wait) {
            if (now_ms() - start > SOAK_SETTLE_MS) {
                InterlockedAdd64(&soak.lost, o->due - LOAD(o->ran) - o->cancelled);
                fail("callbacks lost after a close", o, LOAD(o->ran), o->due - o->cancelled);
                o->cancelled = o->due - LOAD(o->ran);
            } else {
                Sleep(1);
                continue;
            }
        }
        if (settled(o)) {
            InterlockedExchange(&o->sealed, 1);
            *link = o->next;
            sobj_free(o);
        } else {
            link = &o->next;
        }
    }
}

/* CloseThreadpoolCleanupGroupMembers, with or without cancel: every member
 * is drained and closed; without cancel all its due callbacks ran; with
 * cancel the group's cancel callback came once per member the user had
 * not closed, and once per dropped simple callback. */
static void op_group_release(struct sthread *t)
{
    BOOL cancel = rnd(t, 2);
    struct sobj *o;
    int i;

    /* Nothing of a member may stay in flight or armed without cancel: a
     * release does not wait for what has not fired. */
    for (i = 0; i < SOAK_SLOTS; i++) {
        if ((o = t->slots[i]) && o->in_group)
            o->stopped = op_stop(t, o);
    }
    CloseThreadpoolCleanupGroupMembers(t->group, cancel, (PVOID)(LONG_PTR)t->group_token);
    InterlockedIncrement64(&soak.group_releases);
    for (i = 0; i < SOAK_SLOTS; i++) {
        if (!(o = t->slots[i]) || !o->in_group)
            continue;
        books_after_drain(o, cancel || o->stopped);
        if (LOAD(o->cancel_calls) != (cancel ? 1 : 0)) {
            InterlockedIncrement64(&soak.duplicated);
            fail("cancel callback count of a member", o, LOAD(o->cancel_calls), cancel);
        }
        InterlockedExchange(&o->sealed, 1);
        o->closed = 1;
        t->slots[i] = NULL;
        sobj_free(o);
    }
    /* Simple callbacks of the group: ran once, or dropped and reported. */
    for (o = t->parked; o; o = o->next) {
        if (o->kind != K_SIMPLE || !o->in_group || !o->due)
            continue;
        LONG ran = LOAD(o->ran), calls = LOAD(o->cancel_calls);

        o->in_group = 0;
        if (ran + calls != 1 || (!cancel && calls)) {
            InterlockedIncrement64(ran + calls > 1 ? &soak.duplicated : &soak.lost);
            fail("simple callback books after a release", o, ran, calls);
        }
        if (calls) {
            o->cancelled = 1;
            InterlockedIncrement64(&soak.cancelled);
        }
    }
    /* Members that closed themselves meanwhile got no cancel callback. */
    for (o = t->parked; o; o = o->next) {
        if (o->kind != K_SIMPLE && LOAD(o->cancel_calls)) {
            InterlockedIncrement64(&soak.duplicated);
            fail("a cancel callback for an object closed by its user", o,
                 LOAD(o->cancel_calls), 0);
        }
    }
    t->group_token++;
}

static void round_begin(struct sthread *t)
{
    t->group = CreateThreadpoolCleanupGroup();
    if (!t->group)
        abort();
    t->private_pool = NULL;
    if (rnd(t, 3) == 0) {
        t->private_pool = CreateThreadpool(NULL);
        if (!t->private_pool)
            abort();
        InterlockedIncrement64(&soak.pools_made);
        SetThreadpoolThreadMaximum(t->private_pool, 1 + rnd(t, 4));
        if (!SetThreadpoolThreadMinimum(t->private_pool, rnd(t, 2)))
            api_failed("SetThreadpoolThreadMinimum", NULL);
    }
}

/* The round's end: the group released (with or without cancel), every
 * other object drained and closed, the parked ones settled, the group and
 * the private pool closed. */
static void round_end(struct sthread *t)
{
    int i;

    op_group_release(t);
    for (i = 0; i < SOAK_SLOTS; i++) {
        if (t->slots[i])
            op_close_drained(t, i);
    }
    reap_parked(t, TRUE);
    CloseThreadpoolCleanupGroup(t->group);
    t->group = NULL;
    if (t->private_pool) {
        CloseThreadpool(t->private_pool);
        t->private_pool = NULL;
    }
}

static DWORD WINAPI soak_thread(void *arg)
{
    struct sthread *t = arg;
    unsigned ops, i, slot;
    struct sobj *o;

    while (now_ms() < soak.end_ms) {
        round_begin(t);
        ops = 50 + rnd(t, 400);
        for (i = 0; i < ops && now_ms() < soak.end_ms; i++) {
            InterlockedIncrement64(&soak.ops);
            slot = rnd(t, SOAK_SLOTS);
            if (!(o = t->slots[slot])) {
                op_create(t, slot);
                continue;
            }
            check_armed(o);
            switch (rnd(t, 16)) {
            case 0: case 1: case 2: case 3: case 4: case 5:
                op_start(t, o);
                break;
            case 6: case 7:
                io_finish(t, o);
                break;
            case 8: case 9: case 10:
                op_drain(t, o);
                break;
            case 11:
                op_close_drained(t, (int)slot);
                break;
            case 12:
                op_close_now(t, (int)slot);
                break;
            case 13:
                if (rnd(t, 8) == 0)
                    op_group_release(t);
                break;
            default:
                reap_parked(t, FALSE);
                break;
            }
        }
        round_end(t);
    }
    return 0;
}

/* ---- the run -------------------------------------------------------------------- */

static int thread_count(void)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *entry;
    int n = 0;

    if (!dir)
        return -1;
    while ((entry = readdir(dir)))
        n += entry->d_name[0] != '.';
    closedir(dir);
    return n;
}

static size_t allocated_bytes(void)
{
#ifdef SOAK_SANITIZED
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

static void run_threads(ULONGLONG seconds, ULONGLONG seed)
{
    struct sthread threads[SOAK_THREADS];
    int i, nthreads = SOAK_THREADS;

    /* SOAK_THREADS=n runs fewer threads (replaying a failure). */
    if (getenv("SOAK_THREADS") && atoi(getenv("SOAK_THREADS")) > 0
        && atoi(getenv("SOAK_THREADS")) < SOAK_THREADS)
        nthreads = atoi(getenv("SOAK_THREADS"));

    memset(threads, 0, sizeof(threads));
    soak.end_ms = now_ms() + seconds * 1000;
    for (i = 0; i < nthreads; i++) {
        threads[i].index = i;
        threads[i].rng = seed * 2654435761u + (ULONGLONG)i * 0x9e3779b97f4a7c15ull + 1;
        threads[i].group_token = 1000 * (i + 1);
        threads[i].thread = CreateThread(NULL, 0, soak_thread, &threads[i], 0, NULL);
        if (!threads[i].thread)
            abort();
    }
    for (i = 0; i < nthreads; i++) {
        if (WaitForSingleObject(threads[i].thread, (DWORD)(seconds * 1000 + 600000))
            != WAIT_OBJECT_0) {
            fprintf(stderr, "soak: thread %d did not finish\n", i);
            abort();
        }
        CloseHandle(threads[i].thread);
    }
}

/* Waits (bounded) until f() <= limit: workers and services retire after
 * idling for a few seconds. */
static long settle_to(long (*f)(void), long limit)
{
    ULONGLONG start = now_ms();
    long v;

    while ((v = f()) > limit && now_ms() - start < 60000)
        Sleep(50);
    return v;
}

static long threads_now(void)
{
    return thread_count();
}

static long memory_now(void)
{
    return (long)allocated_bytes();
}

static long live_now(void)
{
    return tp_debug_live_objects();
}

int main(int argc, char **argv)
{
    const char *env = getenv("SOAK_SECONDS"), *seed_env = getenv("SOAK_SEED");
    ULONGLONG seconds = argc > 1 ? strtoull(argv[1], NULL, 10)
                        : env ? strtoull(env, NULL, 10) : 600;
    ULONGLONG seed = seed_env ? strtoull(seed_env, NULL, 10) : (ULONGLONG)time(NULL);
    long threads_start, threads_base, threads_end, live_end;
    size_t mem_base, mem_end;
    LONG64 leaked_bytes, mem_base_slack;
    int i, ok;

    setvbuf(stdout, NULL, _IONBF, 0);
    printf("[==========] Running 1 test(s).\n[ RUN      ] soak\n");
    printf("soak: %llu s, %d threads, seed %llu\n", (unsigned long long)seconds, SOAK_THREADS,
           (unsigned long long)seed);
    threads_start = thread_count();

    for (i = 0; i < 2; i++) {
        soak.pools[i] = CreateThreadpool(NULL);
        if (!soak.pools[i])
            abort();
    }
    SetThreadpoolThreadMaximum(soak.pools[0], 2);
    SetThreadpoolThreadMaximum(soak.pools[1], 8);
    if (!SetThreadpoolThreadMinimum(soak.pools[1], 1))
        abort();

    /* A warm-up starts every service and fills the caches the library
     * keeps for the process (handle tables and such); the baseline is
     * taken once it is idle again. */
    run_threads(2, seed ^ 0x5eed);
    settle_to(live_now, 2);     /* the two shared pools */
    /* Idle workers and services retire after 2 s (scheduler.c, io_loop.c). */
    Sleep(4000);
    threads_base = thread_count();
    mem_base = allocated_bytes();
    memset((void *)&soak.ops, 0, sizeof(soak) - offsetof(typeof(soak), ops));

    run_threads(seconds, seed);

    for (i = 0; i < 2; i++)
        CloseThreadpool(soak.pools[i]);
    live_end = settle_to(live_now, 0);
    /* Workers retire when their pool is gone, services after idling. */
    threads_end = settle_to(threads_now, threads_base);
    /* Memory too returns within the bound: threads still ending (a worker
     * of a closed pool, a service about to retire) free theirs last. */
    mem_base_slack = (LONG64)mem_base + SOAK_MEMORY_SLACK;
    settle_to(memory_now, (long)mem_base_slack);
    mem_end = allocated_bytes();
    leaked_bytes = (LONG64)mem_end - (LONG64)mem_base;

    printf("soak: ops %lld, objects %lld, callbacks %lld, cancelled %lld, lost %lld, "
           "duplicated %lld, late %lld, actions-missing %lld, bad-args %lld, api-failures %lld, "
           "group-releases %lld, cancel-callbacks %lld, pools %lld, live-objects %ld, "
           "threads %ld/%ld/%ld (start/base/end), memory %+lld bytes\n",
           (long long)soak.ops, (long long)soak.objects, (long long)soak.callbacks,
           (long long)soak.cancelled, (long long)soak.lost, (long long)soak.duplicated,
           (long long)soak.late, (long long)soak.actions_missing, (long long)soak.bad_args,
           (long long)soak.api_failures, (long long)soak.group_releases,
           (long long)soak.cancel_calls, (long long)soak.pools_made, live_end, threads_start,
           threads_base, threads_end, (long long)leaked_bytes);
    ok = !soak.lost && !soak.duplicated && !soak.late && !soak.actions_missing && !soak.bad_args
         && !soak.api_failures && live_end == 0 && threads_end <= threads_base
         && leaked_bytes <= SOAK_MEMORY_SLACK && soak.ops > 0;
    printf("[%s] soak\n", ok ? "       OK " : "  FAILED  ");
    printf("[==========] 1 test(s) run.\n");
    if (ok)
        printf("[  PASSED  ] 1 test(s).\n");
    else
        printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] soak\n");
    return ok ? 0 : 1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux file layer: the threads that complete overlapped operations.
 *
 * The event loop: one thread for the process, one epoll set, edge-triggered
 * on every pipe descriptor that has overlapped operations (connections and
 * listening sockets).  A descriptor's owner tries each operation at once
 * and queues it only when the socket would block, under its core's lock;
 * the loop's handler takes the same lock and retries the queue, so an
 * edge is never lost.  Sockets need no thread per operation.
 *
 * The disk helpers: regular files have no readiness, so their operations
 * (those the page cache could not serve at once) run on at most
 * HELPERS_MAX threads, started on demand and retired after idling.
 *
 * The pool's workers poll the same set between callbacks (os_io_poll), and
 * the loop thread leaves the polling to them while they catch events.
 *
 * Unregistering a descriptor defers its release until no poller is between
 * its epoll_wait and the end of its handlers: an event fetched before the
 * descriptor left the epoll set never reaches freed memory.
 *
 * Locks: the loop's lock (L) for its retired list; the helpers' lock (H)
 * for their queue.  Both are leaves.
 */
#define _GNU_SOURCE
/* Wine's <windows.h> would bring <winsock.h>, whose names clash with the
 * system's sockets (sys_nocancel.h). */
#define WIN32_LEAN_AND_MEAN
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "file.h"
#include "sys_nocancel.h"

#define LOOP_EVENTS 64
#define HELPERS_MAX 4
#define HELPER_IDLE_MS 2000

/* ---- the event loop ------------------------------------------------------- */

/*
 * The sources are in one edge-triggered epoll set (epoll_fd) that anyone may
 * poll without blocking: the loop thread, and the pool's workers between
 * callbacks (os_io_poll), so that an operation made ready by a callback
 * completes on the worker that looks next, with no thread woken.  The loop
 * thread blocks on a second set (wait_fd) that holds the first (level:
 * "something is ready") and its wake eventfd.  While workers look for work
 * and catch events (worker_hits moves), the loop thread parks: it takes the
 * first set out of its own, so that a callback's write does not wake it, and
 * looks every LOOP_PARK_MS whether the workers still catch events (a worker
 * stuck in a long callback must not hold up the completions of others).
 * The last worker to stop looking wakes it (loop_poller_active).
 *
 * An event fetched by a poller may name a source unregistered since: its
 * release waits until no poller is between its epoll_wait and the end of its
 * handlers (in_flight 0), checked by whoever leaves last.
 */
#define LOOP_PARK_MS 1
#define LOOP_TAG_WAKE 0                 /* wait_fd's events: data.u32 */
#define LOOP_TAG_SOURCES 1

static struct {
    struct os_lock lock;                /* L */
    pthread_once_t once;
    DWORD start_err;                    /* (c) after once */
    int epoll_fd;                       /* (c) the sources, edge-triggered */
    int wait_fd;                        /* (c) the loop thread's: epoll_fd and wake_fd */
    int wake_fd;                        /* (c) eventfd: retirements, or hand back the polling */
    struct loop_source *retired;        /* (L) released once no poller may hold them */
    _Atomic int retired_any;            /* (a) retired is not empty */
    _Atomic int in_flight;              /* (a) pollers between epoll_wait and their last handler */
    _Atomic unsigned int worker_hits;   /* (a) batches of events the workers caught */
    _Atomic int parked;                 /* (a) the loop thread leaves the polling to workers */
} loop = { OS_LOCK_INITIALIZER(OS_LOCK_RANK_L), PTHREAD_ONCE_INIT, 0, -1, -1, -1, NULL,
           0, 0, 0, 0 };

/* Releases the retired sources if no poller is in flight.  No lock held. */
static void loop_release_retired(void)
{
    struct loop_source *src, *next;

    os_lock_acquire(&loop.lock);
    src = loop.retired;
    loop.retired = NULL;
    /* A poller that came since may hold an event fetched before the last of
     * them left the set: keep them for the next one to leave. */
    if (src && atomic_load(&loop.in_flight) != 0)
        loop.retired = src, src = NULL;
    else
        atomic_store(&loop.retired_any, 0);
    os_lock_release(&loop.lock);
    for (; src; src = next) {
        next = src->retired_next;
        src->release(src);
    }
}

/* Handles what is ready now, without blocking.  Returns the number of
 * events.  No lock held. */
static int loop_poll(void)
{
    struct epoll_event events[LOOP_EVENTS];
    int count, i;

    atomic_fetch_add(&loop.in_flight, 1);
    count = file_sys_epoll_poll(loop.epoll_fd, events, LOOP_EVENTS);
    if (count < 0 && errno != EINTR)
        os_panic("event loop: epoll_wait failed: errno %d", errno);
    for (i = 0; i < count; i++) {
        struct loop_source *src = events[i].data.ptr;

        src->ready(src, events[i].events);
    }
    if (atomic_fetch_sub(&loop.in_flight, 1) == 1 && atomic_load(&loop.retired_any))
        loop_release_retired();
    return count > 0 ? count : 0;
}

/* The loop thread parks (the sources out of its set) or takes the polling
 * back.  Only the loop thread calls it.  Returns the new state. */
static BOOL loop_park(BOOL park)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LOOP_TAG_SOURCES };

    if (park) {
        /* Against loop_pollers_stopped: either the last worker to stop sees
         * parked and wakes this thread, or this thread sees no poller. */
        atomic_store(&loop.parked, 1);
        if (os_io_pollers() == 0) {
            atomic_store(&loop.parked, 0);
            return FALSE;
        }
    }
    /* Out of the set rather than disabled in it: then the sources' events
     * do not even pass through this set's wake-up callback. */
    if (epoll_ctl(loop.wait_fd, park ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, loop.epoll_fd, &ev) < 0)
        os_panic("event loop: epoll_ctl failed: errno %d", errno);
    if (!park)
        atomic_store(&loop.parked, 0);
    return park;
}

static void loop_main(void *arg)
{
    struct epoll_event events[2];
    unsigned int hits_seen = 0, hits;
    BOOL parked = FALSE, woken;
    uint64_t value;
    int count, i;

    (void)arg;
    for (;;) {
        count = epoll_wait(loop.wait_fd, events, 2, parked ? LOOP_PARK_MS : -1);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            os_panic("event loop: epoll_wait failed: errno %d", errno);
        }
        woken = FALSE;
        for (i = 0; i < count; i++)
            woken |= events[i].data.u32 == LOOP_TAG_WAKE;
        if (woken && read(loop.wake_fd, &value, sizeof(value)) < 0 && errno != EAGAIN)
            os_panic("event loop: eventfd read failed: errno %d", errno);
        loop_poll();
        /* Park while workers look and catch events themselves. */
        hits = atomic_load(&loop.worker_hits);
        if (os_io_pollers() > 0 && hits != hits_seen) {
            if (!parked)
                parked = loop_park(TRUE);
        } else if (parked) {
            parked = loop_park(FALSE);
        }
        hits_seen = hits;
    }
}

/* os_io_poll on a pool worker. */
static BOOL loop_worker_poll(void)
{
    if (!loop_poll())
        return FALSE;
    atomic_fetch_add_explicit(&loop.worker_hits, 1, memory_order_relaxed);
    return TRUE;
}

/* The last worker looking for work stopped: it hands the polling back to a
 * parked loop thread. */
static void loop_pollers_stopped(void)
{
    static const uint64_t one = 1;

    if (atomic_load(&loop.parked) && write(loop.wake_fd, &one, sizeof(one)) < 0
        && errno != EAGAIN)
        os_panic("event loop: eventfd write failed: errno %d", errno);
}

static const struct os_io_poll_hooks loop_poll_hooks = { loop_worker_poll, loop_pollers_stopped };

static void loop_start(void)
{
    struct epoll_event wake = { .events = EPOLLIN, .data.u32 = LOOP_TAG_WAKE };
    struct epoll_event sources = { .events = EPOLLIN, .data.u32 = LOOP_TAG_SOURCES };

    if ((loop.epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0
        || (loop.wait_fd = epoll_create1(EPOLL_CLOEXEC)) < 0
        || (loop.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0
        || epoll_ctl(loop.wait_fd, EPOLL_CTL_ADD, loop.wake_fd, &wake) < 0
        || epoll_ctl(loop.wait_fd, EPOLL_CTL_ADD, loop.epoll_fd, &sources) < 0) {
        loop.start_err = os_error_from_errno(errno);
        return;
    }
    loop.start_err = os_thread_start(loop_main, NULL, 0);
    if (loop.start_err == ERROR_SUCCESS)
        os_io_set_poll_hooks(&loop_poll_hooks);
}

/*
 * A source is watched for writability only once its owner asks
 * (loop_watch_writable): with EPOLLOUT in the set, every read by the peer
 * (which frees buffer space) would run the epoll callback and queue an
 * event that no queued write waits for, on each message of an echo.
 */
#define LOOP_SOURCE_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)

DWORD loop_register(struct loop_source *src)
{
    struct epoll_event ev;

    pthread_once(&loop.once, loop_start);
    if (loop.start_err != ERROR_SUCCESS)
        return loop.start_err;
    ev.events = LOOP_SOURCE_EVENTS;
    ev.data.ptr = src;
    if (epoll_ctl(loop.epoll_fd, EPOLL_CTL_ADD, src->fd, &ev) < 0)
        return os_error_from_errno(errno);
    return ERROR_SUCCESS;
}

DWORD loop_watch_writable(struct loop_source *src)
{
    struct epoll_event ev;

    /* The kernel polls the descriptor as it changes the set: a socket that
     * is writable already gets its event now, so no edge is lost. */
    ev.events = LOOP_SOURCE_EVENTS | EPOLLOUT;
    ev.data.ptr = src;
    if (epoll_ctl(loop.epoll_fd, EPOLL_CTL_MOD, src->fd, &ev) < 0)
        return os_error_from_errno(errno);
    return ERROR_SUCCESS;
}

void loop_unregister(struct loop_source *src)
{
    static const uint64_t one = 1;

    epoll_ctl(loop.epoll_fd, EPOLL_CTL_DEL, src->fd, NULL);
    os_lock_acquire(&loop.lock);
    src->retired_next = loop.retired;
    loop.retired = src;
    atomic_store(&loop.retired_any, 1);
    os_lock_release(&loop.lock);
    /* The loop thread polls once (parked or not), and releases them if no
     * other poller is in flight then. */
    if (write(loop.wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        os_panic("event loop: eventfd write failed: errno %d", errno);
}

/* ---- the disk helpers --------------------------------------------------------- */

static struct {
    struct os_lock lock;                /* H */
    struct os_cond work;                /* (H) idle helpers sleep here */
    struct list queue;                  /* (H) struct file_op.helper_entry, FIFO */
    BOOL ready;                         /* (H) queue initialised */
    int threads;                        /* (H) helpers alive */
    int idle;                           /* (H) helpers sleeping */
} helpers = { OS_LOCK_INITIALIZER(OS_LOCK_RANK_H), OS_COND_INITIALIZER, { NULL, NULL }, FALSE,
              0, 0 };

static void helper_main(void *arg)
{
    struct file_op *op;
    BOOL woken;

    (void)arg;
    os_lock_acquire(&helpers.lock);
    for (;;) {
        if (!list_empty(&helpers.queue)) {
            op = LIST_ENTRY(helpers.queue.next, struct file_op, helper_entry);
            list_remove(&op->helper_entry);
            op->on_helper = FALSE;
            os_lock_release(&helpers.lock);
            file_disk_run(op);
            os_lock_acquire(&helpers.lock);
            continue;
        }
        helpers.idle++;
        woken = os_cond_wait_until(&helpers.work, &helpers.lock,
                                   os_clock_monotonic_ns() + HELPER_IDLE_MS * 1000000ull);
        helpers.idle--;
        if (!woken && list_empty(&helpers.queue))
            break;
    }
    helpers.threads--;
    os_lock_release(&helpers.lock);
}

DWORD helpers_queue_locked(struct file_op *op)
{
    DWORD err = ERROR_SUCCESS;

    os_lock_acquire(&helpers.lock);
    if (!helpers.ready) {
        list_init(&helpers.queue);
        helpers.ready = TRUE;
    }
    if (helpers.idle == 0 && helpers.threads < HELPERS_MAX) {
        /* Starting a thread does not block; a failure matters only when no
         * helper exists to run the operation later. */
        if (os_thread_start(helper_main, NULL, 0) == ERROR_SUCCESS)
            helpers.threads++;
        else if (helpers.threads == 0)
            err = ERROR_NO_SYSTEM_RESOURCES;
    }
    if (err == ERROR_SUCCESS) {
        list_add_tail(&helpers.queue, &op->helper_entry);
        op->on_helper = TRUE;
        if (helpers.idle)
            os_cond_signal(&helpers.work);
    }
    os_lock_release(&helpers.lock);
    return err;
}

BOOL helpers_cancel_locked(struct file_op *op)
{
    BOOL taken_back;

    os_lock_acquire(&helpers.lock);
    taken_back = op->on_helper;
    if (taken_back) {
        list_remove(&op->helper_entry);
        op->on_helper = FALSE;
    }
    os_lock_release(&helpers.lock);
    return taken_back;
}

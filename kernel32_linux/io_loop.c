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
 * Unregistering a descriptor defers its release to the loop thread, after
 * the batch of events it is handling: an event fetched before the
 * descriptor left the epoll set never reaches freed memory.
 *
 * Locks: the loop's lock (L) for its retired list; the helpers' lock (H)
 * for their queue.  Both are leaves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "file.h"

#define LOOP_EVENTS 64
#define HELPERS_MAX 4
#define HELPER_IDLE_MS 2000

/* ---- the event loop ------------------------------------------------------- */

static struct {
    struct os_lock lock;                /* L */
    pthread_once_t once;
    DWORD start_err;                    /* (c) after once */
    int epoll_fd;                       /* (c) after once */
    int wake_fd;                        /* (c) eventfd: retirements to process */
    struct loop_source *retired;        /* (L) released after the current batch */
} loop = { OS_LOCK_INITIALIZER(OS_LOCK_RANK_L), PTHREAD_ONCE_INIT, 0, -1, -1, NULL };

static void loop_release_retired(void)
{
    struct loop_source *src, *next;
    uint64_t count;

    os_lock_acquire(&loop.lock);
    src = loop.retired;
    loop.retired = NULL;
    os_lock_release(&loop.lock);
    if (read(loop.wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        os_panic("event loop: eventfd read failed: errno %d", errno);
    for (; src; src = next) {
        next = src->retired_next;
        src->release(src);
    }
}

static void loop_main(void *arg)
{
    struct epoll_event events[LOOP_EVENTS];
    int count, i;

    (void)arg;
    for (;;) {
        count = epoll_wait(loop.epoll_fd, events, LOOP_EVENTS, -1);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            os_panic("event loop: epoll_wait failed: errno %d", errno);
        }
        for (i = 0; i < count; i++) {
            struct loop_source *src = events[i].data.ptr;

            if (src)
                src->ready(src, events[i].events);
        }
        /* After the batch: nothing fetched can reach a released source. */
        loop_release_retired();
    }
}

static void loop_start(void)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

    if ((loop.epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0
        || (loop.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0
        || epoll_ctl(loop.epoll_fd, EPOLL_CTL_ADD, loop.wake_fd, &ev) < 0) {
        loop.start_err = os_error_from_errno(errno);
        return;
    }
    loop.start_err = os_thread_start(loop_main, NULL, 0);
}

DWORD loop_register(struct loop_source *src)
{
    struct epoll_event ev;

    pthread_once(&loop.once, loop_start);
    if (loop.start_err != ERROR_SUCCESS)
        return loop.start_err;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = src;
    if (epoll_ctl(loop.epoll_fd, EPOLL_CTL_ADD, src->fd, &ev) < 0)
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
    os_lock_release(&loop.lock);
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

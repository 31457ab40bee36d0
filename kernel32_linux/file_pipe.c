/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux file layer: named pipes over Unix domain sockets.  A pipe name
 * ("\\.\pipe\name", case-insensitive) is a listening socket in a private
 * runtime directory, shared by all the instances CreateNamedPipe makes of
 * it; ConnectNamedPipe accepts a connection for one instance; the client's
 * CreateFile connects.  Byte pipes are SOCK_STREAM, message pipes
 * SOCK_SEQPACKET (message boundaries kept; a message longer than the read
 * buffer is kept here and read on with ERROR_MORE_DATA, as Windows does).
 * Processes that use this library reach each other's pipes by name.
 *
 * Overlapped operations try the socket at once and otherwise wait on the
 * event loop (io_loop.c); synchronous handles poll on the caller's thread,
 * telling the pool it blocks.  Byte-pipe reads read ahead, and skip the
 * socket while counters of the other end's sends show it is still empty
 * (below, "Read-ahead").
 *
 * Locks: the name table's lock (J), then a core's lock (I).
 */
#define _GNU_SOURCE
/* Wine's <windows.h> would bring <winsock.h>, whose names clash with the
 * system's sockets. */
#define WIN32_LEAN_AND_MEAN
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "file.h"
#include "sys_nocancel.h"

/* A name and the listening socket of its instances. */
struct pipe_name {
    struct list entry;              /* (J) in the table while instances exist */
    char *key;                      /* (c) the name, lower-cased */
    char *path;                     /* (c) the socket's path */
    int listen_fd;                  /* (c) closed when the last instance goes */
    BOOL message;                   /* (c) SOCK_SEQPACKET */
    DWORD max_instances;            /* (c) */
    DWORD instances;                /* (J) */
    struct list waiting;            /* (J) cores in ConnectNamedPipe, FIFO (accept_entry) */
    struct loop_source source;      /* (c) the listening socket's registration */
};

/* A connection's registration with the event loop: one per connection,
 * released by the loop after it left the epoll set. */
struct pipe_conn {
    struct loop_source source;      /* (c) first */
    struct file_core *core;         /* (c) referenced */
    BOOL watch_writable;            /* (I) loop_watch_writable done: a write blocked once */
};

static struct os_lock name_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_J);  /* J */
static struct list names = { &names, &names };                    /* (J) */

/*
 * Read-ahead.  A byte-pipe read asks the socket for up to PIPE_READ_AHEAD
 * bytes more than its caller's buffer holds and keeps them for the next
 * reads, which then complete at once without a system call.  A read that
 * got less than it asked for also learns that the socket is empty.
 */
#define PIPE_READ_AHEAD 512

/*
 * Whether a recv can find anything: when both ends of a connection are in
 * this process, every send and the close of one end move counters that
 * the other end reads.  A reader that found its socket empty while no send
 * of the other end was in flight (started == finished) notes started; as
 * long as started has not moved since, nothing came (a send counts as
 * started before its system call, and a close before its shutdown), so the
 * read waits for the event loop without trying the socket (a recv that
 * would fail with EAGAIN).  A short read takes all the data but leaves an
 * end of file there: it counts as finding the socket empty only when no
 * close of the other end began since a recv last failed with EAGAIN (which
 * no end of file does), so the closes are counted on their own too.
 * Counters are per name (a stripe chosen by the name's hash: names that
 * share one only make recvs happen that were not needed) and per
 * direction: an end's own sends do not count against its reads.  Whether
 * the other end is in this process: SO_PEERCRED.  docs/io.md.
 */
#define PIPE_TRAFFIC_STRIPES 64

struct pipe_traffic {
    _Atomic ULONG started;          /* (a) sends and closes begun */
    _Atomic ULONG finished;         /* (a) ... and done */
    _Atomic ULONG closes;           /* (a) closes begun (counted before the shutdown) */
} __attribute__((aligned(64)));     /* the ends of other names write their own lines */

/* [stripe][0]: moved by server ends, [stripe][1] by client ends. */
static struct pipe_traffic traffic[PIPE_TRAFFIC_STRIPES][2];  /* (a) */

static unsigned int pipe_traffic_stripe(const char *key)
{
    unsigned int hash = 2166136261u;

    for (; *key; key++)
        hash = (hash ^ (unsigned char)*key) * 16777619u;
    return hash % PIPE_TRAFFIC_STRIPES;
}

/* core's end begins to close (after pipe_traffic_begin_locked).  Locking: I. */
static void pipe_traffic_close_locked(struct file_core *core)
{
    if (core->send_traffic)
        atomic_fetch_add_explicit(&core->send_traffic->closes, 1, memory_order_seq_cst);
}

/* A send or close of core's end begins / ends.  Locking: I. */
static void pipe_traffic_begin_locked(struct file_core *core)
{
    if (core->send_traffic)
        atomic_fetch_add_explicit(&core->send_traffic->started, 1, memory_order_seq_cst);
}

static void pipe_traffic_end_locked(struct file_core *core)
{
    if (core->send_traffic)
        atomic_fetch_add_explicit(&core->send_traffic->finished, 1, memory_order_seq_cst);
}

/* TRUE when no send nor close of the other end began since core found its
 * socket empty: a recv would find nothing.  Locking: I. */
static BOOL pipe_known_empty_locked(struct file_core *core)
{
    return core->drained && core->recv_traffic
           && atomic_load_explicit(&core->recv_traffic->started, memory_order_seq_cst)
              == core->drained_at;
}

/* ---- names and paths ---------------------------------------------------------- */

BOOL file_pipe_path(const char *path, const char **name)
{
    static const char prefix[] = "//./pipe/";

    if (strncasecmp(path, prefix, sizeof(prefix) - 1))
        return FALSE;
    *name = path + sizeof(prefix) - 1;
    return TRUE;
}

/* The private directory of this user's pipes: created 0700 once, and
 * refused when someone else owns it or others may enter it. */
static char runtime_path[sizeof(((struct sockaddr_un *)0)->sun_path) - 24];   /* (c) */
static DWORD runtime_err;                                                     /* (c) */

static void runtime_dir_setup(void)
{
    const char *base = os_getenv("XDG_RUNTIME_DIR");
    struct stat st;
    int len;

    if (base && *base && stat(base, &st) == 0 && S_ISDIR(st.st_mode))
        len = snprintf(runtime_path, sizeof(runtime_path), "%s/kernel32_tp", base);
    else
        len = snprintf(runtime_path, sizeof(runtime_path), "%s/kernel32_tp-%u", P_tmpdir,
                       (unsigned int)getuid());
    if (len < 0 || (size_t)len >= sizeof(runtime_path)) {
        runtime_err = ERROR_FILENAME_EXCED_RANGE;
        return;
    }
    if (mkdir(runtime_path, 0700) < 0 && errno != EEXIST) {
        runtime_err = file_error_from_errno(errno);
        return;
    }
    if (lstat(runtime_path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()
        || (st.st_mode & 077))
        runtime_err = ERROR_ACCESS_DENIED;
}

static DWORD runtime_dir(const char **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, runtime_dir_setup);
    *out = runtime_path;
    return runtime_err;
}

/* The table's key: the name after the prefix, ASCII lower-cased. */
static DWORD pipe_key(const char *name, char **key)
{
    char *p;

    if (!*name)
        return ERROR_INVALID_NAME;
    if (!(*key = strdup(name)))
        return ERROR_NOT_ENOUGH_MEMORY;
    for (p = *key; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return ERROR_SUCCESS;
}

/* The socket address of a key: a hash of it in the runtime directory. */
static DWORD pipe_address(const char *key, struct sockaddr_un *addr)
{
    unsigned long long hash = 14695981039346656037ull;
    const char *dir;
    DWORD err;

    if ((err = runtime_dir(&dir)) != ERROR_SUCCESS)
        return err;
    for (; *key; key++)
        hash = (hash ^ (unsigned char)*key) * 1099511628211ull;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/pipe-%016llx", dir, hash);
    return ERROR_SUCCESS;
}

/* Locking: J. */
static struct pipe_name *pipe_name_find_locked(const char *key)
{
    struct list *entry;

    for (entry = names.next; entry != &names; entry = entry->next) {
        struct pipe_name *name = LIST_ENTRY(entry, struct pipe_name, entry);

        if (!strcmp(name->key, key))
            return name;
    }
    return NULL;
}

/* ---- connections ---------------------------------------------------------------- */

static void pipe_conn_ready(struct loop_source *src, uint32_t events);

static void pipe_conn_release(struct loop_source *src)
{
    struct pipe_conn *conn = (struct pipe_conn *)src;

    file_core_unref(conn->core);
    free(conn);
}

/* A new connection of core (fd set): the traffic counters if the other end
 * is in this process, nothing read ahead, nothing known.  Locking: I. */
static void pipe_traffic_setup_locked(struct file_core *core)
{
    struct ucred cred;
    socklen_t size = sizeof(cred);
    unsigned int dir = core->kind == FILE_KIND_PIPE_SERVER ? 0 : 1;

    core->send_traffic = core->recv_traffic = NULL;
    core->drained = core->no_end_known = FALSE;
    core->ahead_len = core->ahead_off = 0;
    if (core->message
        || getsockopt(core->fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) < 0
        || cred.pid != getpid())
        return;
    core->send_traffic = &traffic[core->traffic_stripe][dir];
    core->recv_traffic = &traffic[core->traffic_stripe][!dir];
}

/* core now talks over fd.  Overlapped handles watch it on the event loop.
 * Locking: I.  On failure fd is closed. */
static DWORD pipe_attach_locked(struct file_core *core, int fd)
{
    struct pipe_conn *conn;
    DWORD err;

    if (core->overlapped) {
        if (!(conn = calloc(1, sizeof(*conn)))) {
            close(fd);
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        conn->source.fd = fd;
        conn->source.ready = pipe_conn_ready;
        conn->source.release = pipe_conn_release;
        conn->core = core;
        if ((err = loop_register(&conn->source)) != ERROR_SUCCESS) {
            free(conn);
            close(fd);
            return err;
        }
        file_core_ref(core);
        core->conn = conn;
    }
    core->fd = fd;
    core->state = PIPE_CONNECTED;
    pipe_traffic_setup_locked(core);
    return ERROR_SUCCESS;
}

/* Ends the connection: the descriptor closes now (the peer sees the end).
 * Locking: I. */
static void pipe_detach_locked(struct file_core *core)
{
    if (core->conn) {
        loop_unregister(&core->conn->source);
        core->conn = NULL;
    }
    if (core->fd >= 0) {
        /* The other end's reads must try the socket: they find its end. */
        pipe_traffic_begin_locked(core);
        pipe_traffic_close_locked(core);
        shutdown(core->fd, SHUT_RDWR);
        close(core->fd);
        core->fd = -1;
        pipe_traffic_end_locked(core);
    }
    core->send_traffic = core->recv_traffic = NULL;
    core->drained = core->no_end_known = FALSE;
    core->ahead_len = core->ahead_off = 0;      /* unread data goes with the connection */
    free(core->rest);
    core->rest = NULL;
}

/*
 * Ends every pending operation of core whose kind matches (all when
 * all_kinds) with err.  Returns how many: the caller drops that many core
 * references after releasing I.  Locking: I.
 */
static LONG pipe_end_ops_locked(struct file_core *core, BOOL all_kinds, enum file_op_kind kind,
                                DWORD err)
{
    struct list *entry, *next;
    LONG ended = 0;

    for (entry = core->ops.next; entry != &core->ops; entry = next) {
        struct file_op *op = LIST_ENTRY(entry, struct file_op, entry);

        next = entry->next;
        if (!all_kinds && op->kind != kind)
            continue;
        list_remove(&op->entry);
        file_op_complete_locked(op, err, FALSE);
        ended++;
    }
    return ended;
}

/* ---- transfers ---------------------------------------------------------------------- */

/* Why a transfer cannot start in core's state, or ERROR_SUCCESS.  Locking: I. */
static DWORD pipe_state_error_locked(struct file_core *core, enum file_op_kind kind)
{
    switch (core->state) {
    case PIPE_LISTENING: return ERROR_PIPE_LISTENING;
    case PIPE_DISCONNECTED: return ERROR_PIPE_NOT_CONNECTED;
    case PIPE_BROKEN: return kind == FILE_OP_WRITE ? ERROR_NO_DATA : ERROR_SUCCESS;
    default: return ERROR_SUCCESS;
    }
}

/* A message longer than the buffer: all of it is read, the rest kept for
 * the next reads.  Returns the error; sets op->done.  Locking: I. */
static DWORD pipe_read_long_message_locked(struct file_core *core, struct file_op *op,
                                           size_t size)
{
    char *msg = malloc(size);
    ssize_t n;

    if (!msg)
        return ERROR_NOT_ENOUGH_MEMORY;
    if ((n = file_sys_recv(core->fd, msg, size, MSG_DONTWAIT)) < 0) {
        free(msg);
        return file_error_from_errno(errno);
    }
    memcpy(op->buf, msg, op->len);
    op->done = op->len;
    core->rest = msg;
    core->rest_len = (DWORD)n;
    core->rest_off = op->len;
    return ERROR_MORE_DATA;
}

/*
 * A byte-pipe read of op (len > 0): first what was read ahead; then, if
 * the buffer is not full yet and the socket is not known to be empty, one
 * recvmsg into the rest of op's buffer and the read-ahead buffer behind it
 * (a read returns what is there, up to its size, as on Windows).  Returns
 * op->done (> 0) when it got anything; else the recvmsg result: -1 with
 * errno (EAGAIN: nothing there), 0 at the end.  Locking: I.
 */
static ssize_t pipe_read_bytes_locked(struct file_core *core, struct file_op *op)
{
    ULONG started = 0, finished = 0, closes = 0;
    DWORD left, want;
    struct iovec iov[2];
    struct msghdr msg;
    BOOL empty;
    ssize_t n;

    if ((left = core->ahead_len - core->ahead_off)) {
        op->done = op->len < left ? op->len : left;
        memcpy(op->buf, core->ahead + core->ahead_off, op->done);
        core->ahead_off += op->done;
        if (op->done == op->len)
            return (ssize_t)op->done;
    }
    if (pipe_known_empty_locked(core)) {
        if (op->done)
            return (ssize_t)op->done;
        errno = EAGAIN;
        return -1;
    }
    want = op->len - op->done;
    if (!core->ahead && !(core->ahead = malloc(PIPE_READ_AHEAD))) {
        /* No read-ahead then: the caller's buffer alone. */
        core->drained = FALSE;
        n = file_sys_recv(core->fd, op->buf + op->done, want, MSG_DONTWAIT);
        if (n > 0)
            op->done += (DWORD)n;
        return op->done ? (ssize_t)op->done : n;
    }
    if (core->recv_traffic) {
        /* finished first: equal values mean nothing was in flight between. */
        finished = atomic_load_explicit(&core->recv_traffic->finished, memory_order_seq_cst);
        started = atomic_load_explicit(&core->recv_traffic->started, memory_order_seq_cst);
        closes = atomic_load_explicit(&core->recv_traffic->closes, memory_order_seq_cst);
    }
    iov[0].iov_base = op->buf + op->done;
    iov[0].iov_len = want;
    iov[1].iov_base = core->ahead;      /* all read: free again */
    iov[1].iov_len = PIPE_READ_AHEAD;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    n = file_sys_recvmsg(core->fd, &msg, MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
        /* Empty, no end either: no close began before closes was read. */
        empty = TRUE;
        core->no_end_known = TRUE;
        core->closes_seen = closes;
    } else if (n > 0 && (size_t)n < (size_t)want + PIPE_READ_AHEAD) {
        /* Short: no data left; an end of file is left only if a close
         * began, which moved closes since the last EAGAIN. */
        core->no_end_known = core->no_end_known && core->recv_traffic
                             && atomic_load_explicit(&core->recv_traffic->closes,
                                                     memory_order_seq_cst) == core->closes_seen;
        empty = core->no_end_known;
    } else {
        empty = FALSE;
    }
    core->drained = core->recv_traffic && started == finished && empty;
    core->drained_at = started;
    if (n <= 0)     /* the end or an error comes again to the next read */
        return op->done ? (ssize_t)op->done : n;
    if ((size_t)n <= want) {
        op->done += (DWORD)n;
    } else {
        op->done = op->len;
        core->ahead_off = 0;
        core->ahead_len = (DWORD)((size_t)n - want);
    }
    return (ssize_t)op->done;
}

/*
 * Tries op once without blocking.  Returns FALSE when the socket would
 * block (op keeps its progress in op->done), else TRUE with *err the
 * result.  Locking: I.
 */
static BOOL pipe_try_locked(struct file_core *core, struct file_op *op, DWORD *err)
{
    int saved_errno;
    ssize_t n;
    DWORD left;

    if ((*err = pipe_state_error_locked(core, op->kind)) != ERROR_SUCCESS)
        return TRUE;
    if (op->kind == FILE_OP_READ) {
        if (core->rest) {
            left = core->rest_len - core->rest_off;
            op->done = op->len < left ? op->len : left;
            memcpy(op->buf, core->rest + core->rest_off, op->done);
            core->rest_off += op->done;
            *err = ERROR_MORE_DATA;
            if (core->rest_off == core->rest_len) {
                free(core->rest);
                core->rest = NULL;
                *err = ERROR_SUCCESS;
            }
            return TRUE;
        }
        if (core->message) {
            /* The whole message's length, without taking it. */
            n = file_sys_recv(core->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
            if (n > (ssize_t)op->len) {
                *err = pipe_read_long_message_locked(core, op, (size_t)n);
                return TRUE;
            }
        }
        if (!core->message && op->len)
            n = pipe_read_bytes_locked(core, op);
        else
            n = file_sys_recv(core->fd, op->buf, op->len, MSG_DONTWAIT);
        if (n > 0 || (n == 0 && !op->len)) {
            if (n > 0 && !core->message)
                return TRUE;    /* op->done set, with what was read ahead kept */
            op->done = (DWORD)n;
            return TRUE;
        }
        if (n == 0) {
            core->state = PIPE_BROKEN;      /* the other end is gone */
            *err = ERROR_BROKEN_PIPE;
            return TRUE;
        }
    } else {
        pipe_traffic_begin_locked(core);
        while (op->done < op->len) {
            n = file_sys_send(core->fd, op->buf + op->done, op->len - op->done,
                              MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0)
                break;
            op->done += (DWORD)n;
        }
        /* errno must survive for the checks below. */
        saved_errno = errno;
        pipe_traffic_end_locked(core);
        errno = saved_errno;
        if (op->done == op->len)
            return TRUE;
    }
    if (errno == EAGAIN || errno == EINTR)
        return FALSE;
    if (errno == EPIPE || errno == ECONNRESET) {
        core->state = PIPE_BROKEN;
        *err = op->kind == FILE_OP_WRITE ? ERROR_NO_DATA : ERROR_BROKEN_PIPE;
        return TRUE;
    }
    *err = file_error_from_errno(errno);
    return TRUE;
}

/*
 * Retries the queued operations in order, reads and writes separately: a
 * read that would block keeps the later reads waiting, and likewise for
 * writes.  Locking: I.  Returns the number of operations ended.
 */
static LONG pipe_progress_locked(struct file_core *core)
{
    BOOL reads_blocked = FALSE, writes_blocked = FALSE;
    struct list *entry, *next;
    LONG ended = 0;
    DWORD err;

    for (entry = core->ops.next; entry != &core->ops; entry = next) {
        struct file_op *op = LIST_ENTRY(entry, struct file_op, entry);
        BOOL *blocked = op->kind == FILE_OP_READ ? &reads_blocked : &writes_blocked;

        next = entry->next;
        if (op->kind == FILE_OP_CONNECT || *blocked)
            continue;
        if (!pipe_try_locked(core, op, &err)) {
            *blocked = TRUE;
            continue;
        }
        list_remove(&op->entry);
        file_op_complete_locked(op, err, FALSE);
        ended++;
    }
    return ended;
}

/*
 * pipe_try_locked for an operation that is queued if it would block, with
 * its kind flagged for the event loop's handler (pipe_conn_ready) before
 * the try that precedes queueing: a read before its only try, as reads
 * usually wait (a read done at once leaves the flag to the next event,
 * which clears it); a write, which the socket usually takes at once, only
 * when that try would block, and then it tries once more.  That is also
 * when the connection starts to be watched for writability, for good:
 * until a write blocks, the peer's reads queue no events.  Locking: I.
 */
static BOOL pipe_try_flagged_locked(struct file_core *core, struct file_op *op, DWORD *err)
{
    if (op->kind == FILE_OP_READ) {
        atomic_store(&core->queued_kind[FILE_OP_READ], 1);
        return pipe_try_locked(core, op, err);
    }
    if (pipe_try_locked(core, op, err))
        return TRUE;
    atomic_store(&core->queued_kind[FILE_OP_WRITE], 1);
    if (core->conn && !core->conn->watch_writable) {
        if ((*err = loop_watch_writable(&core->conn->source)) != ERROR_SUCCESS)
            return TRUE;    /* no event would ever complete it */
        core->conn->watch_writable = TRUE;
    }
    return pipe_try_locked(core, op, err);
}

/* Clears core->queued_kind for the kinds no queued operation has.
 * Locking: I. */
static void pipe_note_queued_locked(struct file_core *core)
{
    BOOL kinds[2] = { FALSE, FALSE };
    struct list *entry;

    for (entry = core->ops.next; entry != &core->ops; entry = entry->next) {
        enum file_op_kind kind = LIST_ENTRY(entry, struct file_op, entry)->kind;

        if (kind == FILE_OP_READ || kind == FILE_OP_WRITE)
            kinds[kind] = TRUE;
    }
    if (!kinds[FILE_OP_READ])
        atomic_store_explicit(&core->queued_kind[FILE_OP_READ], 0, memory_order_relaxed);
    if (!kinds[FILE_OP_WRITE])
        atomic_store_explicit(&core->queued_kind[FILE_OP_WRITE], 0, memory_order_relaxed);
}

/*
 * The event loop's handler (on the loop thread or a polling worker).  Many
 * events wait for no operation: data that a read took at once was
 * announced by an edge all the same, and once a write blocked (the
 * connection is then watched for writability), the peer's reads make
 * this socket writable while no write is queued.  Those skip the core's
 * lock, which the thread issuing the next operation holds meanwhile (a
 * pool worker that found it taken slept on it, and woke its holder's
 * thread on the way out).  No edge is lost: an operation sets its kind's
 * flag before the try that precedes queueing it (pipe_try_flagged_locked),
 * so data that came before the flag was set is found by that try, and the
 * event of data that came after sees the flag (seq_cst both).
 */
static void pipe_conn_ready(struct loop_source *src, uint32_t events)
{
    struct pipe_conn *conn = (struct pipe_conn *)src;
    struct file_core *core = conn->core;
    LONG ended = 0;

    if (!((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
          && atomic_load(&core->queued_kind[FILE_OP_READ]))
        && !((events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
             && atomic_load(&core->queued_kind[FILE_OP_WRITE])))
        return;
    os_lock_acquire(&core->lock);
    if (core->conn == conn) {
        ended = pipe_progress_locked(core);
        pipe_note_queued_locked(core);
    }
    os_lock_release(&core->lock);
    while (ended-- > 0)
        file_core_unref(core);
}

/* A synchronous handle: the caller's thread polls until op is done. */
static DWORD pipe_sync_locked(struct file_core *core, struct file_op *op)
{
    struct pollfd pfd;
    DWORD err;
    int fd;

    while (!pipe_try_locked(core, op, &err)) {
        fd = core->fd;
        pfd.fd = fd;
        pfd.events = op->kind == FILE_OP_READ ? POLLIN : POLLOUT;
        os_lock_release(&core->lock);
        os_thread_notify_block(TRUE);
        poll(&pfd, 1, -1);
        os_thread_notify_block(FALSE);
        os_lock_acquire(&core->lock);
    }
    return err;
}

static void pipe_take_client(struct file_core *core);

DWORD file_pipe_io(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                   DWORD *bytes, OVERLAPPED *ov)
{
    struct file_op *op, sync_op;
    struct list *entry;
    BOOL queued_before = FALSE;
    DWORD err;

    os_lock_acquire(&core->lock);
    if (core->kind == FILE_KIND_PIPE_SERVER && core->state == PIPE_LISTENING) {
        /* A client that opened the pipe already is this instance's. */
        os_lock_release(&core->lock);
        pipe_take_client(core);
        os_lock_acquire(&core->lock);
    }
    if ((err = pipe_state_error_locked(core, kind)) != ERROR_SUCCESS)
        goto done;
    if (!core->overlapped) {
        memset(&sync_op, 0, sizeof(sync_op));
        sync_op.kind = kind;
        sync_op.buf = buf;
        sync_op.len = len;
        err = pipe_sync_locked(core, &sync_op);
        *bytes = sync_op.done;
        file_ov_report_sync(ov, sync_op.done, err);
        goto done;
    }
    if (!ov) {
        err = ERROR_INVALID_PARAMETER;
        goto done;
    }
    if ((err = file_op_start(core, ov, kind, buf, len, &op)) != ERROR_SUCCESS)
        goto done;
    for (entry = core->ops.next; entry != &core->ops && !queued_before; entry = entry->next)
        queued_before = LIST_ENTRY(entry, struct file_op, entry)->kind == kind;
    if (!queued_before && pipe_try_flagged_locked(core, op, &err)) {
        /* Done at once; the completion (if any) is delivered all the same. */
        *bytes = op->done;
        file_op_complete_locked(op, err, TRUE);
        os_lock_release(&core->lock);
        file_core_unref(core);
        return err;
    }
    /* Flagged by pipe_try_flagged_locked, or by the queued operation of its
     * kind it waits behind (the flag is cleared only when none is queued). */
    list_add_tail(&core->ops, &op->entry);
    err = ERROR_IO_PENDING;
done:
    os_lock_release(&core->lock);
    return err;
}

/* ---- closing ------------------------------------------------------------------------------ */

void file_pipe_close_locked(struct file_core *core)
{
    /* Windows ends a closed pipe's pending operations as broken. */
    pipe_end_ops_locked(core, TRUE, FILE_OP_READ, ERROR_BROKEN_PIPE);
    pipe_detach_locked(core);
}

static void pipe_listen_release(struct loop_source *src)
{
    struct pipe_name *name = LIST_ENTRY(src, struct pipe_name, source);

    close(name->listen_fd);
    free(name->key);
    free(name->path);
    free(name);
}

void file_pipe_release(struct file_core *core)
{
    struct pipe_name *name = core->pipe;

    if (!name)
        return;
    os_lock_acquire(&name_lock);
    if (list_linked(&core->accept_entry))
        list_remove(&core->accept_entry);
    if (--name->instances == 0) {
        /* The name goes with its last instance; clients now fail to find it. */
        list_remove(&name->entry);
        unlink(name->path);
        loop_unregister(&name->source);
    }
    os_lock_release(&name_lock);
}

/* ---- servers ---------------------------------------------------------------------------- */

/* Hands waiting connections to the instances in ConnectNamedPipe, in order.
 * Takes J, then each core's I. */
static void pipe_accept_waiting(struct pipe_name *name)
{
    struct file_core *core;
    struct list *entry;
    struct file_op *op;
    LONG ended;
    DWORD err;
    int fd;

    os_lock_acquire(&name_lock);
    while (!list_empty(&name->waiting)) {
        core = LIST_ENTRY(name->waiting.next, struct file_core, accept_entry);
        os_lock_acquire(&core->lock);
        op = NULL;
        for (entry = core->ops.next; entry != &core->ops && !op; entry = entry->next) {
            if (LIST_ENTRY(entry, struct file_op, entry)->kind == FILE_OP_CONNECT)
                op = LIST_ENTRY(entry, struct file_op, entry);
        }
        if (!op) {      /* cancelled meanwhile */
            list_remove(&core->accept_entry);
            os_lock_release(&core->lock);
            continue;
        }
        if ((fd = accept4(name->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
            os_lock_release(&core->lock);
            break;      /* nobody else is connecting: the next edge brings more */
        }
        list_remove(&core->accept_entry);
        err = pipe_attach_locked(core, fd);
        list_remove(&op->entry);
        file_op_complete_locked(op, err, FALSE);
        ended = 1 + pipe_progress_locked(core);
        os_lock_release(&core->lock);
        while (ended-- > 0)
            file_core_unref(core);
    }
    os_lock_release(&name_lock);
}

static void pipe_listen_ready(struct loop_source *src, uint32_t events)
{
    (void)events;
    pipe_accept_waiting(LIST_ENTRY(src, struct pipe_name, source));
}

/* A socket bound and listening at addr; a stale socket file left by a
 * process that ended is replaced.  ERROR_ACCESS_DENIED when a live process
 * serves the name. */
static DWORD pipe_listen(const struct sockaddr_un *addr, BOOL message, int backlog, int *out)
{
    int type = (message ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    int fd, probe, attempt;
    DWORD err;

    for (attempt = 0; attempt < 2; attempt++) {
        if ((fd = socket(AF_UNIX, type, 0)) < 0)
            return file_error_from_errno(errno);
        if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
            if (listen(fd, backlog) < 0) {
                err = file_error_from_errno(errno);
                close(fd);
                unlink(addr->sun_path);
                return err;
            }
            *out = fd;
            return ERROR_SUCCESS;
        }
        err = errno == EADDRINUSE ? ERROR_ACCESS_DENIED : file_error_from_errno(errno);
        close(fd);
        if (err != ERROR_ACCESS_DENIED)
            return err;
        /* In use: by a live server, or a leftover?  A leftover refuses. */
        if ((probe = socket(AF_UNIX, type, 0)) < 0)
            return file_error_from_errno(errno);
        if (connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) < 0
            && errno == ECONNREFUSED)
            unlink(addr->sun_path);
        else
            attempt = 2;
        close(probe);
    }
    return ERROR_ACCESS_DENIED;
}

/* A new name with its listening socket (instances 0).  Locking: J. */
static DWORD pipe_name_create_locked(char *key, BOOL message, DWORD max_instances,
                                     struct pipe_name **out)
{
    struct pipe_name *name = calloc(1, sizeof(*name));
    struct sockaddr_un addr;
    DWORD err;

    /* The key is ours from the call on, success or not. */
    if (!name) {
        free(key);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    if ((err = pipe_address(key, &addr)) != ERROR_SUCCESS)
        goto fail;
    if (!(name->path = strdup(addr.sun_path))) {
        err = ERROR_NOT_ENOUGH_MEMORY;
        goto fail;
    }
    if ((err = pipe_listen(&addr, message, max_instances >= PIPE_UNLIMITED_INSTANCES
                           ? SOMAXCONN : (int)max_instances, &name->listen_fd))
        != ERROR_SUCCESS)
        goto fail;
    name->source.fd = name->listen_fd;
    name->source.ready = pipe_listen_ready;
    name->source.release = pipe_listen_release;
    if ((err = loop_register(&name->source)) != ERROR_SUCCESS) {
        close(name->listen_fd);
        unlink(name->path);
        goto fail;
    }
    name->key = key;
    name->message = message;
    name->max_instances = max_instances;
    list_init(&name->waiting);
    list_add_tail(&names, &name->entry);
    *out = name;
    return ERROR_SUCCESS;

fail:
    free(name->path);
    free(name);
    free(key);
    return err;
}

static HANDLE pipe_create(char *path, DWORD open_mode, DWORD pipe_mode, DWORD max_instances,
                          DWORD err)
{
    DWORD access = open_mode & PIPE_ACCESS_DUPLEX;
    BOOL message = (pipe_mode & PIPE_TYPE_MESSAGE) != 0;
    struct pipe_name *name = NULL;
    struct file_core *core;
    const char *pipe_name;
    HANDLE handle;
    char *key;

    if (err != ERROR_SUCCESS)
        goto fail;
    if (!file_pipe_path(path, &pipe_name)) {
        err = ERROR_PATH_NOT_FOUND;     /* not in the pipe file system */
        goto fail;
    }
    /* Reading messages needs a message pipe. */
    if (!access || !max_instances
        || (max_instances > PIPE_UNLIMITED_INSTANCES)
        || ((pipe_mode & PIPE_READMODE_MESSAGE) && !message)) {
        err = ERROR_INVALID_PARAMETER;
        goto fail;
    }
    if ((err = pipe_key(pipe_name, &key)) != ERROR_SUCCESS)
        goto fail;
    if (!(core = file_core_alloc(FILE_KIND_PIPE_SERVER))) {
        free(key);
        err = ERROR_NOT_ENOUGH_MEMORY;
        goto fail;
    }
    os_lock_acquire(&name_lock);
    if ((name = pipe_name_find_locked(key))) {
        free(key);
        if (open_mode & FILE_FLAG_FIRST_PIPE_INSTANCE)
            err = ERROR_ACCESS_DENIED;
        else if (name->instances >= name->max_instances)
            err = ERROR_PIPE_BUSY;
    } else {
        err = pipe_name_create_locked(key, message, max_instances, &name);
    }
    if (err == ERROR_SUCCESS)
        name->instances++;
    os_lock_release(&name_lock);
    if (err != ERROR_SUCCESS) {
        file_core_unref(core);
        goto fail;
    }
    core->pipe = name;
    core->traffic_stripe = pipe_traffic_stripe(name->key);
    core->state = PIPE_LISTENING;
    core->message = name->message;
    core->overlapped = (open_mode & FILE_FLAG_OVERLAPPED) != 0;
    core->can_read = (access & PIPE_ACCESS_INBOUND) != 0;
    core->can_write = (access & PIPE_ACCESS_OUTBOUND) != 0;
    free(path);
    /* On failure the handle's destroy gives the instance back. */
    if ((err = file_handle_create(core, &handle)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return INVALID_HANDLE_VALUE;
    }
    os_set_last_error(ERROR_SUCCESS);
    return handle;

fail:
    free(path);
    os_set_last_error(err);
    return INVALID_HANDLE_VALUE;
}

/***********************************************************************
 *           CreateNamedPipeA   (kernel32_tp.@)
 *
 * Buffer sizes and the default timeout are accepted; the socket's own
 * buffers apply.  PIPE_NOWAIT is accepted and ignored (docs/io.md).
 */
HANDLE WINAPI CreateNamedPipeA(LPCSTR name, DWORD open_mode, DWORD pipe_mode, DWORD max_instances,
                               DWORD out_size, DWORD in_size, DWORD timeout_ms,
                               SECURITY_ATTRIBUTES *sa)
{
    char *path = NULL;
    DWORD err;

    HANDLE_TRACE("%s %#x %#x %u %u %u %u %p", name ? name : "(null)", (unsigned int)open_mode,
                 (unsigned int)pipe_mode, (unsigned int)max_instances, (unsigned int)out_size,
                 (unsigned int)in_size, (unsigned int)timeout_ms, (void *)sa);
    if ((err = file_path_from_a(name, &path)) == ERROR_PATH_NOT_FOUND)
        err = ERROR_INVALID_NAME;
    return pipe_create(path, open_mode, pipe_mode, max_instances, err);
}

/***********************************************************************
 *           CreateNamedPipeW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateNamedPipeW(LPCWSTR name, DWORD open_mode, DWORD pipe_mode, DWORD max_instances,
                               DWORD out_size, DWORD in_size, DWORD timeout_ms,
                               SECURITY_ATTRIBUTES *sa)
{
    char *path = NULL;
    DWORD err;

    HANDLE_TRACE("%p %#x %#x %u %u %u %u %p", (const void *)name, (unsigned int)open_mode,
                 (unsigned int)pipe_mode, (unsigned int)max_instances, (unsigned int)out_size,
                 (unsigned int)in_size, (unsigned int)timeout_ms, (void *)sa);
    if ((err = file_path_from_w(name, &path)) == ERROR_PATH_NOT_FOUND)
        err = ERROR_INVALID_NAME;
    return pipe_create(path, open_mode, pipe_mode, max_instances, err);
}

/* The server core behind handle.  ERROR_INVALID_HANDLE, ERROR_INVALID_FUNCTION. */
static DWORD server_lookup(HANDLE handle, struct file_core **core)
{
    return file_core_lookup_kind(handle, FILE_KIND_PIPE_SERVER, core);
}

/* Accepts a waiting client for core, if one is there.  Locking: J, I. */
static DWORD pipe_accept_now_locked(struct file_core *core, BOOL *accepted)
{
    int fd = accept4(core->pipe->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    *accepted = fd >= 0;
    if (fd >= 0)
        return pipe_attach_locked(core, fd);
    return errno == EAGAIN || errno == EINTR ? ERROR_SUCCESS : file_error_from_errno(errno);
}

/* core's pending ConnectNamedPipe, or NULL.  Locking: I. */
static struct file_op *pipe_connect_op_locked(struct file_core *core)
{
    struct list *entry;

    for (entry = core->ops.next; entry != &core->ops; entry = entry->next) {
        if (LIST_ENTRY(entry, struct file_op, entry)->kind == FILE_OP_CONNECT)
            return LIST_ENTRY(entry, struct file_op, entry);
    }
    return NULL;
}

/*
 * On Windows a client's CreateFile connects a listening instance at once,
 * ConnectNamedPipe or not; here the client's connection waits in the
 * listening socket until an instance accepts it.  A listening instance
 * about to transfer (or disconnect) takes a waiting client first, and its
 * pending ConnectNamedPipe, if any, completes.  Without a client it stays
 * listening.  Takes J, then I.
 */
static void pipe_take_client(struct file_core *core)
{
    struct file_op *op;
    BOOL accepted = FALSE;
    LONG ended = 0;

    os_lock_acquire(&name_lock);
    os_lock_acquire(&core->lock);
    if (core->state == PIPE_LISTENING
        && pipe_accept_now_locked(core, &accepted) == ERROR_SUCCESS && accepted) {
        if (list_linked(&core->accept_entry))
            list_remove(&core->accept_entry);
        if ((op = pipe_connect_op_locked(core))) {
            list_remove(&op->entry);
            file_op_complete_locked(op, ERROR_SUCCESS, FALSE);
            ended = 1;
        }
    }
    os_lock_release(&core->lock);
    os_lock_release(&name_lock);
    while (ended-- > 0)
        file_core_unref(core);
}

static DWORD pipe_connect(struct file_core *core, OVERLAPPED *ov)
{
    struct pipe_name *name = core->pipe;
    struct pollfd pfd;
    struct file_op *op;
    BOOL accepted, waited = FALSE;
    DWORD err;

    for (;;) {
        os_lock_acquire(&name_lock);
        os_lock_acquire(&core->lock);
        if (core->state == PIPE_CONNECTED) {
            err = ERROR_PIPE_CONNECTED;
            break;
        }
        if (core->state == PIPE_BROKEN) {
            err = ERROR_NO_DATA;        /* the client went: disconnect first */
            break;
        }
        if (pipe_connect_op_locked(core)) {
            err = ERROR_INVALID_PARAMETER;     /* one ConnectNamedPipe at a time */
            break;
        }
        if ((err = pipe_accept_now_locked(core, &accepted)) != ERROR_SUCCESS)
            break;
        if (accepted) {
            /* A client came before the call: "connected", no operation
             * started; one that came while this thread waited: success. */
            err = waited ? ERROR_SUCCESS : ERROR_PIPE_CONNECTED;
            break;
        }
        core->state = PIPE_LISTENING;
        if (core->overlapped) {
            if (!ov) {
                err = ERROR_INVALID_PARAMETER;
                break;
            }
            if ((err = file_op_start(core, ov, FILE_OP_CONNECT, NULL, 0, &op)) != ERROR_SUCCESS)
                break;
            list_add_tail(&core->ops, &op->entry);
            if (!list_linked(&core->accept_entry))
                list_add_tail(&name->waiting, &core->accept_entry);
            err = ERROR_IO_PENDING;
            break;
        }
        /* Synchronous: wait for a client on this thread. */
        os_lock_release(&core->lock);
        os_lock_release(&name_lock);
        pfd.fd = name->listen_fd;
        pfd.events = POLLIN;
        os_thread_notify_block(TRUE);
        poll(&pfd, 1, -1);
        os_thread_notify_block(FALSE);
        waited = TRUE;
    }
    os_lock_release(&core->lock);
    os_lock_release(&name_lock);
    return err;
}

/***********************************************************************
 *           ConnectNamedPipe   (kernel32_tp.@)
 *
 * A client that connected before the call: FALSE with ERROR_PIPE_CONNECTED
 * (no operation starts), on synchronous handles too (test_files.c).
 */
BOOL WINAPI ConnectNamedPipe(HANDLE handle, LPOVERLAPPED ov)
{
    struct file_core *core;
    DWORD err;

    HANDLE_TRACE("%p %p", handle, (void *)ov);
    if ((err = server_lookup(handle, &core)) == ERROR_SUCCESS) {
        err = pipe_connect(core, ov);
        file_core_unref(core);
    }
    if (err == ERROR_SUCCESS)
        return TRUE;
    os_set_last_error(err);
    return FALSE;
}

/***********************************************************************
 *           DisconnectNamedPipe   (kernel32_tp.@)
 *
 * The client's next operations see the end of the pipe (ERROR_BROKEN_PIPE;
 * Windows reports ERROR_PIPE_NOT_CONNECTED there).  Pending operations of
 * the instance end with ERROR_PIPE_NOT_CONNECTED.
 */
BOOL WINAPI DisconnectNamedPipe(HANDLE handle)
{
    struct file_core *core;
    LONG ended = 0;
    DWORD err;

    HANDLE_TRACE("%p", handle);
    if ((err = server_lookup(handle, &core)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    pipe_take_client(core);
    os_lock_acquire(&core->lock);
    if (core->state == PIPE_CONNECTED || core->state == PIPE_BROKEN) {
        ended = pipe_end_ops_locked(core, TRUE, FILE_OP_READ, ERROR_PIPE_NOT_CONNECTED);
        pipe_detach_locked(core);
        core->state = PIPE_DISCONNECTED;
    } else {
        err = ERROR_PIPE_NOT_CONNECTED;
    }
    os_lock_release(&core->lock);
    while (ended-- > 0)
        file_core_unref(core);
    file_core_unref(core);
    return os_bool_result(err);
}

/* ---- clients ------------------------------------------------------------------------------ */

DWORD file_pipe_open_client(const char *pipe_name, DWORD access, DWORD flags, HANDLE *handle)
{
    static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
    struct sockaddr_un addr;
    struct file_core *core;
    char *key;
    DWORD err;
    unsigned int stripe;
    size_t i;
    int fd = -1, errnum;

    if ((err = pipe_key(pipe_name, &key)) != ERROR_SUCCESS)
        return err == ERROR_INVALID_NAME ? ERROR_FILE_NOT_FOUND : err;
    err = pipe_address(key, &addr);
    stripe = pipe_traffic_stripe(key);
    free(key);
    if (err != ERROR_SUCCESS)
        return err;
    /* The type is the server's: a socket of the other type is refused. */
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if ((fd = socket(AF_UNIX, types[i] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
            return file_error_from_errno(errno);
        if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
            break;
        errnum = errno;
        close(fd);
        fd = -1;
        if (errnum == EPROTOTYPE)
            continue;       /* the other type */
        if (errnum == ENOENT || errnum == ECONNREFUSED)
            return ERROR_FILE_NOT_FOUND;
        return errnum == EAGAIN ? ERROR_PIPE_BUSY : file_error_from_errno(errnum);
    }
    if (fd < 0)
        return ERROR_FILE_NOT_FOUND;
    if (!(core = file_core_alloc(FILE_KIND_PIPE_CLIENT))) {
        close(fd);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    core->message = i == 1;
    core->traffic_stripe = stripe;
    core->overlapped = (flags & FILE_FLAG_OVERLAPPED) != 0;
    core->can_read = (access & (GENERIC_READ | GENERIC_ALL | FILE_READ_DATA)) != 0;
    core->can_write = (access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA)) != 0;
    os_lock_acquire(&core->lock);
    err = pipe_attach_locked(core, fd);
    os_lock_release(&core->lock);
    if (err != ERROR_SUCCESS) {
        file_core_unref(core);
        return err;
    }
    return file_handle_create(core, handle);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the Linux file layer (file_object.c, file_disk.c, file_pipe.c,
 * io_loop.c): files and named pipes as kernel objects of the handle layer,
 * their overlapped operations, and the threads that complete them.  See
 * docs/io.md.  Nothing here knows about pools: completions reach the core
 * through os_io_bind (os.h).
 *
 * A handle names a struct file (the handle object: its last reference goes
 * with the last handle); the state that operations need lives in a struct
 * file_core, which every operation in flight references: closing the last
 * handle lets a regular file's operations complete as they would have (a
 * pipe end's end with a broken pipe) and the descriptor stays open until
 * the last of them is done.
 *
 * Locking: letters of the one legend, lock_order.h, which orders them
 * with the handle layer's and the core's.  This layer's:
 *   (I) core->lock: the core's state, its operations; also the binding
 *       lock "I" of os.h: completions are delivered under it
 *   (J) the pipe-name table's lock (file_pipe.c)
 *   (H) the disk helpers' lock (io_loop.c)   (L) the event loop's lock
 * Order: J -> I -> O (an event's lock) -> P (the core's, inside a
 * completion function) -> H, L.  Never two cores' locks at once.
 */
#ifndef KERNEL32_TP_LINUX_FILE_H
#define KERNEL32_TP_LINUX_FILE_H

#include <stdint.h>

#include "handle.h"

/* winternl.h's; this layer includes only <windows.h>. */
#ifndef FILE_SKIP_COMPLETION_PORT_ON_SUCCESS
#define FILE_SKIP_COMPLETION_PORT_ON_SUCCESS 0x1
#endif
#ifndef FILE_SKIP_SET_EVENT_ON_HANDLE
#define FILE_SKIP_SET_EVENT_ON_HANDLE 0x2
#endif
#ifndef FILE_SKIP_SET_USER_EVENT_ON_FAST_IO
#define FILE_SKIP_SET_USER_EVENT_ON_FAST_IO 0x4
#endif

#define FILE_STATUS_SUCCESS         ((LONG)0x00000000)
#define FILE_STATUS_PENDING         ((LONG)0x00000103)

enum file_kind {
    FILE_KIND_DISK,             /* a regular file */
    FILE_KIND_PIPE_SERVER,      /* an instance made by CreateNamedPipe */
    FILE_KIND_PIPE_CLIENT,      /* the client end opened by CreateFile */
    FILE_KIND_STD,              /* a standard handle: synchronous only (console.c) */
};

/* The state of a pipe end (file_pipe.c). */
enum pipe_state {
    PIPE_LISTENING,             /* server: never connected, or waiting in ConnectNamedPipe */
    PIPE_CONNECTED,             /* fd is the connection */
    PIPE_BROKEN,                /* the other end went; fd still open (reads drain it) */
    PIPE_DISCONNECTED,          /* server: DisconnectNamedPipe ran; connect again */
};

enum file_op_kind {
    FILE_OP_READ,
    FILE_OP_WRITE,
    FILE_OP_CONNECT,            /* ConnectNamedPipe */
};

struct file_core;
struct pipe_name;
struct pipe_conn;

/* A watched descriptor of the event loop (io_loop.c). */
struct loop_source {
    int fd;                                             /* (c) */
    void (*ready)(struct loop_source *src, uint32_t events);   /* (c) on the loop thread */
    void (*release)(struct loop_source *src);           /* (c) after unregistering */
    struct loop_source *retired_next;                   /* (L) */
};

/*
 * One overlapped operation: allocated by ReadFile/WriteFile/ConnectNamedPipe,
 * freed when it completed and, if it was delivered, the core released its
 * packet (os_io_packet_release).  Freed records are kept in a small
 * per-thread cache for the next operations (file_object.c).
 */
struct file_op {
    struct os_io_packet packet;     /* first: the core's record of the completion */
    struct list entry;              /* (I) on the core's queue while pending */
    struct list helper_entry;       /* (H) on the helpers' queue while queued */
    struct file_core *core;         /* (c) referenced until the op completes */
    OVERLAPPED *ov;                 /* (c) the caller's */
    HANDLE event;                   /* (c) ov->hEvent as given (low bit included) */
    enum file_op_kind kind;         /* (c) */
    char *buf;                      /* (c) */
    DWORD len;                      /* (c) */
    DWORD done;                     /* (I) bytes so far; written without I only by the
                                     * thread running the op (the issuer before it is
                                     * queued, then its helper: file_disk.c) */
    ULONGLONG offset;               /* (c) disk files */
    DWORD tid;                      /* (c) the issuing thread (CancelIo) */
    BOOL on_helper;                 /* (H) queued for a helper, not yet taken */
};

struct file_core {
    struct os_lock lock;            /* I */
    _Atomic LONG refs;              /* (a) the file object, operations, loop registration */
    enum file_kind kind;            /* (c) */
    BOOL overlapped;                /* (c) FILE_FLAG_OVERLAPPED */
    BOOL can_read, can_write;       /* (c) from the access mask */
    int fd;                         /* (I) -1 for a pipe server with no connection; a disk
                                     * or standard file's never changes (read without I) */
    BOOL closed;                    /* (I) the last handle went */
    UCHAR notify_modes;             /* (I) SetFileCompletionNotificationModes */
    /* The completion function the core bound (os_io_bind), if any. */
    os_io_complete_fn complete;     /* (I) */
    void *complete_key;             /* (I) */
    BOOL bound;                     /* (I) bound once: never again, as a port */
    BOOL end_reported;              /* (I) complete(key, NULL) was called */
    struct list ops;                /* (I) pending operations, FIFO (all kinds) */
    char *delete_path;              /* (c) FILE_FLAG_DELETE_ON_CLOSE */
    /* Pipes. */
    struct pipe_name *pipe;         /* (c) a server's name */
    enum pipe_state state;          /* (I) */
    BOOL message;                   /* (c) message mode: SOCK_SEQPACKET */
    struct pipe_conn *conn;         /* (I) fd's registration with the event loop, or NULL */
    struct list accept_entry;       /* (J) on pipe->waiting while ConnectNamedPipe waits */
    char *rest;                     /* (I) the unread rest of a message (message mode) */
    DWORD rest_len, rest_off;       /* (I) */
    /* Byte pipes: what a read took beyond its caller's buffer (read-ahead,
     * file_pipe.c), served to the next reads before the socket. */
    char *ahead;                    /* (I) PIPE_READ_AHEAD bytes once a read needed it */
    DWORD ahead_len, ahead_off;     /* (I) ahead[ahead_off..ahead_len) is unread */
    unsigned int traffic_stripe;    /* (c) the name's stripe of the traffic counters */
    /* When the other end is in this process: the counters this end's sends
     * and close move, and those of the other end, which tell whether a recv
     * could find anything since the socket was last seen empty. */
    struct pipe_traffic *send_traffic;  /* (I) NULL: the other end is elsewhere */
    struct pipe_traffic *recv_traffic;  /* (I) */
    BOOL drained;                   /* (I) the socket was empty when the other end's
                                     * counters stood at drained_at, none in flight */
    ULONG drained_at;               /* (I) */
    BOOL no_end_known;              /* (I) no close of the other end began since its
                                     * closes stood at closes_seen (a recv found no
                                     * end of file then) */
    ULONG closes_seen;              /* (I) */
    /* (a) [FILE_OP_READ], [FILE_OP_WRITE]: an operation of the kind may be
     * queued on ops.  Set under I before the try that precedes queueing
     * one; cleared under I by the event loop's handler when none is
     * queued.  The handler reads it without I and skips the lock for
     * events no queued operation waits for (file_pipe.c, pipe_conn_ready). */
    _Atomic int queued_kind[2];
};

/* The kernel object behind a file or pipe handle. */
struct file {
    struct handle_object obj;       /* (c) first */
    struct file_core *core;         /* (c) one reference */
};

/* ---- cores and operations (file_object.c) ---------------------------------- */

/* A new core (refs 1) and a handle naming it.  On failure the core is
 * released.  ERROR_NOT_ENOUGH_MEMORY, ERROR_NO_SYSTEM_RESOURCES. */
DWORD file_handle_create(struct file_core *core, HANDLE *handle);
/* A zeroed core with refs 1, fd -1.  NULL: out of memory. */
struct file_core *file_core_alloc(enum file_kind kind);
void file_core_ref(struct file_core *core);
/* The last reference closes the descriptor and frees the core. */
void file_core_unref(struct file_core *core);
/* The core behind handle, referenced.  ERROR_INVALID_HANDLE. */
DWORD file_core_lookup(HANDLE handle, struct file_core **core);
/* The same for a core of the given kind only: another kind is
 * ERROR_INVALID_FUNCTION (and no reference is kept). */
DWORD file_core_lookup_kind(HANDLE handle, enum file_kind kind, struct file_core **core);

/* A new operation for core (referenced) and ov, with the event reset and
 * Internal set to STATUS_PENDING.  ERROR_NOT_ENOUGH_MEMORY. */
DWORD file_op_start(struct file_core *core, OVERLAPPED *ov, enum file_op_kind kind, void *buf,
                    DWORD len, struct file_op **op);
/*
 * Ends op: fills the OVERLAPPED, sets its event and, unless excluded,
 * delivers the completion to the bound function.  synchronous: the caller
 * returns the result itself (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS applies).
 * A synchronous failure neither sets the event nor delivers anything.
 * Locking: I (the op must be off every queue).  Drops op's core reference
 * after dropping nothing: the caller still holds its own.
 */
void file_op_complete_locked(struct file_op *op, DWORD err, BOOL synchronous);
/* The same for a caller that does not hold I. */
void file_op_complete(struct file_op *op, DWORD err, BOOL synchronous);

/* Reports an operation that ended synchronously through its OVERLAPPED:
 * InternalHigh done, Internal the status of err, the event (low bit
 * cleared) set.  ov NULL: nothing. */
void file_ov_report_sync(OVERLAPPED *ov, DWORD done, DWORD err);

/* LONG <-> Win32 error for the statuses operations end with. */
LONG file_status_from_error(DWORD err);
DWORD file_error_from_status(LONG status);
/* errno of a read/write/connect system call to a Win32 error. */
DWORD file_error_from_errno(int errnum);

/* Converts a Windows path (A: UTF-8, W: UTF-16) to a malloc'ed Linux path:
 * backslashes become slashes.  ERROR_PATH_NOT_FOUND for NULL or "",
 * ERROR_NOT_ENOUGH_MEMORY. */
DWORD file_path_from_a(const char *path, char **out);
DWORD file_path_from_w(const WCHAR *path, char **out);

/* ---- regular files (file_disk.c) --------------------------------------------- */

DWORD file_disk_open(const char *path, DWORD access, DWORD creation, DWORD flags,
                     HANDLE *handle, BOOL *existed);
/* ReadFile/WriteFile on a disk core; *bytes for a synchronous result. */
DWORD file_disk_io(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                   DWORD *bytes, OVERLAPPED *ov);
/* A helper ran op (read or write at its offset): completes it. */
void file_disk_run(struct file_op *op);

/* ---- named pipes (file_pipe.c) ------------------------------------------------- */

/* TRUE when path (Linux form) names a pipe: "//./pipe/NAME". */
BOOL file_pipe_path(const char *path, const char **name);
DWORD file_pipe_open_client(const char *name, DWORD access, DWORD flags, HANDLE *handle);
DWORD file_pipe_io(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                   DWORD *bytes, OVERLAPPED *ov);
/* The last handle of a pipe end went: ends its operations.  Locking: I. */
void file_pipe_close_locked(struct file_core *core);
/* Frees what a pipe core holds besides fd.  No lock. */
void file_pipe_release(struct file_core *core);

/* ---- standard handles (console.c) ------------------------------------------------- */

/* ReadFile/WriteFile on a standard handle: one read (what is there: a
 * line of a terminal), or the whole write.  *bytes as file_disk_io. */
DWORD file_std_io(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                  DWORD *bytes, OVERLAPPED *ov);

/* ---- the event loop and the disk helpers (io_loop.c) ----------------------------- */

/* Watches src->fd (edge-triggered; readable, and the peer's end).  ERROR_*
 * from epoll or from starting the thread. */
DWORD loop_register(struct loop_source *src);
/* From now on, writable as well: once a write would block.  Writability
 * that came before the call is reported too.  ERROR_* from epoll. */
DWORD loop_watch_writable(struct loop_source *src);
/* Stops watching; src->release runs on the loop thread once no event can
 * still reach src. */
void loop_unregister(struct loop_source *src);
/* Queues a disk operation for a helper thread.  Locking: I (takes H). */
DWORD helpers_queue_locked(struct file_op *op);
/* Takes op back if no helper took it yet.  Locking: I (takes H). */
BOOL helpers_cancel_locked(struct file_op *op);

#endif

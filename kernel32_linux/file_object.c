/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux file layer: what files and pipes share.  File objects and their
 * cores (lifetime, close), overlapped operations (start, completion: the
 * OVERLAPPED's fields, its event, delivery to the completion function the
 * thread pool bound), the I/O completion source of os.h (os_io_bind), the
 * status table, paths, and the exports that apply to both kinds: CreateFile,
 * ReadFile, WriteFile, GetOverlappedResult(Ex), CancelIo(Ex),
 * SetFileCompletionNotificationModes.
 *
 * Locks: core->lock (I), which is also the binding lock of os.h: a
 * completion function is called under it.  See file.h for the order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file.h"

/* Threads sleeping in GetOverlappedResult on an OVERLAPPED without event:
 * completions wake futex sleepers on Internal only while there are some. */
static _Atomic LONG overlapped_sleepers;    /* (a) */

/* OVERLAPPED.Internal, a plain Win32 field in the caller's memory, as the
 * C11 atomic it is used as (the same size and alignment). */
_Static_assert(sizeof(_Atomic ULONG_PTR) == sizeof(ULONG_PTR), "Internal as an atomic");

static _Atomic ULONG_PTR *overlapped_status(OVERLAPPED *ov)
{
    return (_Atomic ULONG_PTR *)&ov->Internal;
}

/* ---- statuses ------------------------------------------------------------- */

static const struct {
    DWORD err;
    LONG status;
} status_table[] = {
    { ERROR_SUCCESS,            (LONG)0x00000000 },
    { ERROR_IO_PENDING,         (LONG)0x00000103 },
    { ERROR_MORE_DATA,          (LONG)0x80000005 },     /* STATUS_BUFFER_OVERFLOW */
    { ERROR_HANDLE_EOF,         (LONG)0xC0000011 },     /* STATUS_END_OF_FILE */
    { ERROR_OPERATION_ABORTED,  (LONG)0xC0000120 },     /* STATUS_CANCELLED */
    { ERROR_BROKEN_PIPE,        (LONG)0xC000014B },     /* STATUS_PIPE_BROKEN */
    { ERROR_NO_DATA,            (LONG)0xC00000B1 },     /* STATUS_PIPE_CLOSING */
    { ERROR_PIPE_NOT_CONNECTED, (LONG)0xC00000B0 },     /* STATUS_PIPE_DISCONNECTED */
    { ERROR_PIPE_LISTENING,     (LONG)0xC00000B3 },     /* STATUS_PIPE_LISTENING */
    { ERROR_PIPE_CONNECTED,     (LONG)0xC00000B2 },     /* STATUS_PIPE_CONNECTED */
    { ERROR_PIPE_BUSY,          (LONG)0xC00000AE },     /* STATUS_PIPE_NOT_AVAILABLE */
    { ERROR_ACCESS_DENIED,      (LONG)0xC0000022 },
    { ERROR_INVALID_HANDLE,     (LONG)0xC0000008 },
    { ERROR_INVALID_PARAMETER,  (LONG)0xC000000D },
    { ERROR_NOT_ENOUGH_MEMORY,  (LONG)0xC0000017 },     /* STATUS_NO_MEMORY */
    { ERROR_NO_SYSTEM_RESOURCES, (LONG)0xC000009A },    /* STATUS_INSUFFICIENT_RESOURCES */
    { ERROR_DISK_FULL,          (LONG)0xC000007F },
    { ERROR_INVALID_FUNCTION,   (LONG)0xC0000010 },     /* STATUS_INVALID_DEVICE_REQUEST */
    { ERROR_CRC,                (LONG)0xC000003F },     /* an I/O error: STATUS_CRC_ERROR */
};

LONG file_status_from_error(DWORD err)
{
    size_t i;

    for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        if (status_table[i].err == err)
            return status_table[i].status;
    }
    return (LONG)0xC0000001;    /* STATUS_UNSUCCESSFUL */
}

void file_ov_report_sync(OVERLAPPED *ov, DWORD done, DWORD err)
{
    if (!ov)
        return;
    ov->InternalHigh = done;
    atomic_store_explicit(overlapped_status(ov), (ULONG_PTR)(ULONG)file_status_from_error(err),
                          memory_order_seq_cst);
    if ((ULONG_PTR)ov->hEvent & ~(ULONG_PTR)1)
        handle_event_change((HANDLE)((ULONG_PTR)ov->hEvent & ~(ULONG_PTR)1), TRUE);
}

DWORD file_error_from_status(LONG status)
{
    size_t i;

    for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        if (status_table[i].status == status)
            return status_table[i].err;
    }
    return ERROR_GEN_FAILURE;
}

DWORD file_error_from_errno(int errnum)
{
    switch (errnum) {
    case EPIPE: case ECONNRESET: case ENOTCONN: return ERROR_BROKEN_PIPE;
    case EIO: return ERROR_CRC;
    case EFBIG: return ERROR_DISK_FULL;
    case EAGAIN: return ERROR_PIPE_BUSY;
    case ECONNREFUSED: return ERROR_FILE_NOT_FOUND;
    case EROFS: return ERROR_ACCESS_DENIED;
    case ENOBUFS: return ERROR_NO_SYSTEM_RESOURCES;
    default: return os_error_from_errno(errnum);
    }
}

/* Errors, not warnings nor successes: NT_ERROR(). */
static BOOL status_is_error(LONG status)
{
    return ((ULONG)status >> 30) == 3;
}

/* ---- paths --------------------------------------------------------------------- */

static DWORD path_convert(char *path, char **out)
{
    char *p;

    if (!path)
        return ERROR_NOT_ENOUGH_MEMORY;
    for (p = path; *p; p++) {
        if (*p == '\\')
            *p = '/';
    }
    *out = path;
    return ERROR_SUCCESS;
}

DWORD file_path_from_a(const char *path, char **out)
{
    if (!path || !*path)
        return ERROR_PATH_NOT_FOUND;
    return path_convert(strdup(path), out);
}

DWORD file_path_from_w(const WCHAR *path, char **out)
{
    char *utf8;
    DWORD err;

    if (!path || !*path)
        return ERROR_PATH_NOT_FOUND;
    if ((err = handle_utf8_from_utf16(path, &utf8)) != ERROR_SUCCESS)
        return err;
    return path_convert(utf8, out);
}

/* ---- cores and file objects --------------------------------------------------------- */

struct file_core *file_core_alloc(enum file_kind kind)
{
    struct file_core *core = calloc(1, sizeof(*core));

    if (!core)
        return NULL;
    os_lock_init(&core->lock, OS_LOCK_RANK_I);
    core->refs = 1;
    core->kind = kind;
    core->fd = -1;
    list_init(&core->ops);
    list_init(&core->accept_entry);
    return core;
}

void file_core_ref(struct file_core *core)
{
    atomic_fetch_add_explicit(&core->refs, 1, memory_order_relaxed);
}

void file_core_unref(struct file_core *core)
{
    if (!handle_refs_release(&core->refs, "file core", core))
        return;
    if (!list_empty(&core->ops))
        os_panic("file core %p freed with operations pending", (void *)core);
    if (core->fd >= 0)
        close(core->fd);
    free(core->rest);
    free(core->ahead);
    free(core->delete_path);
    os_lock_destroy(&core->lock);
    free(core);
}

/*
 * The last handle went and the last operation completed: tell the bound
 * function, once, that nothing more will come (os.h).  Locking: I.
 */
static void file_binding_end_locked(struct file_core *core)
{
    if (!core->closed || !list_empty(&core->ops) || !core->complete || core->end_reported)
        return;
    core->end_reported = TRUE;
    core->complete(core->complete_key, NULL);
}

/*
 * The last handle went.  A disk operation issued before keeps its own
 * reference to the core and completes as it would have, its completion
 * delivered as usual: as on Windows, closing a handle cancels nothing
 * (only CancelIo/CancelIoEx do), and the descriptor is closed once the
 * last of them is done (file_core_unref).  A pipe end's pending
 * operations end with a broken pipe, as Windows ends them when the end's
 * last handle goes.  The binding's end is reported after the last
 * operation completed (file_binding_end_locked).
 */
static void file_destroy(struct handle_object *obj)
{
    struct file_core *core = ((struct file *)obj)->core;
    struct list *entry;
    LONG ended = 0;

    os_lock_acquire(&core->lock);
    core->closed = TRUE;
    if (core->kind == FILE_KIND_PIPE_SERVER || core->kind == FILE_KIND_PIPE_CLIENT) {
        for (entry = core->ops.next; entry != &core->ops; entry = entry->next)
            ended++;
        file_pipe_close_locked(core);
    }
    /* Disk operations still queued or running report it as they end. */
    file_binding_end_locked(core);
    os_lock_release(&core->lock);
    while (ended-- > 0)
        file_core_unref(core);     /* the ended operations' references */
    if (core->delete_path)
        unlink(core->delete_path);
    if (core->kind == FILE_KIND_PIPE_SERVER || core->kind == FILE_KIND_PIPE_CLIENT)
        file_pipe_release(core);
    file_core_unref(core);
}

static const struct handle_ops file_ops = {
    .type = HANDLE_TYPE_FILE,
    .destroy = file_destroy,
};

DWORD file_handle_create(struct file_core *core, HANDLE *handle)
{
    struct file *file = calloc(1, sizeof(*file));
    DWORD err;

    if (!file) {
        file_core_unref(core);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    handle_object_init(&file->obj, &file_ops);
    file->core = core;
    err = handle_alloc(&file->obj, handle);
    /* On success the handle holds the object; on failure this frees it
     * and, through file_destroy, the core. */
    handle_object_unref(&file->obj);
    return err;
}

/* Under the handle table's stripe lock: the core's reference, taken while
 * the handle keeps the file object (and so its core) alive. */
static void file_core_take(struct handle_object *obj, void *context)
{
    struct file_core *core = ((struct file *)obj)->core;

    file_core_ref(core);
    *(struct file_core **)context = core;
}

DWORD file_core_lookup(HANDLE handle, struct file_core **core)
{
    return handle_lookup_take(handle, HANDLE_TYPE_FILE, file_core_take, core);
}

DWORD file_core_lookup_kind(HANDLE handle, enum file_kind kind, struct file_core **core)
{
    DWORD err;

    if ((err = file_core_lookup(handle, core)) != ERROR_SUCCESS)
        return err;
    if ((*core)->kind == kind)
        return ERROR_SUCCESS;
    file_core_unref(*core);
    return ERROR_INVALID_FUNCTION;
}

/* ---- operations ----------------------------------------------------------------------- */

/*
 * Each thread keeps up to OP_CACHE_MAX freed operation records for its next
 * operations: a pipe echo starts and frees one per transfer, and malloc and
 * free cost more than the rest of starting it.  A record freed on one
 * thread (a worker that ran its callback) may serve another thread's next
 * operation later; each cache holds only what its own thread freed.  The
 * records are linked through packet.next (packet is the first member).  A
 * thread's cache is freed when it ends (a key destructor).
 */
#define OP_CACHE_MAX 16

static _Thread_local struct os_io_packet *op_cache;    /* (X) */
static _Thread_local unsigned int op_cache_count;      /* (X) */
static _Thread_local BOOL op_cache_armed;              /* (X) the destructor will run */
static pthread_key_t op_cache_key;                     /* (c) after op_cache_once */
static pthread_once_t op_cache_once = PTHREAD_ONCE_INIT;
static BOOL op_cache_key_ok;                           /* (c) after op_cache_once */

/* Runs in the ending thread. */
static void op_cache_free_all(void *unused)
{
    struct os_io_packet *packet;

    (void)unused;
    op_cache_armed = FALSE;
    while ((packet = op_cache)) {
        op_cache = packet->next;
        free(packet);
    }
    op_cache_count = 0;
}

static void op_cache_key_create(void)
{
    op_cache_key_ok = pthread_key_create(&op_cache_key, op_cache_free_all) == 0;
}

/* A zeroed operation record: the thread's cache's newest, or a new one. */
static struct file_op *op_alloc(void)
{
    struct os_io_packet *packet = op_cache;

    if (!packet)
        return calloc(1, sizeof(struct file_op));
    op_cache = packet->next;
    op_cache_count--;
    memset(packet, 0, sizeof(struct file_op));
    return (struct file_op *)packet;
}

/* Keeps op for the thread's next operations, or frees it. */
static void op_free(struct file_op *op)
{
    if (op_cache_count >= OP_CACHE_MAX)
        goto free_it;
    if (!op_cache_armed) {
        pthread_once(&op_cache_once, op_cache_key_create);
        if (!op_cache_key_ok || pthread_setspecific(op_cache_key, &op_cache))
            goto free_it;
        op_cache_armed = TRUE;
    }
    op->packet.next = op_cache;
    op_cache = &op->packet;
    op_cache_count++;
    return;

free_it:
    free(op);
}

static HANDLE event_of(HANDLE event)
{
    return (HANDLE)((ULONG_PTR)event & ~(ULONG_PTR)1);
}

DWORD file_op_start(struct file_core *core, OVERLAPPED *ov, enum file_op_kind kind, void *buf,
                    DWORD len, struct file_op **out)
{
    struct file_op *op = op_alloc();

    if (!op)
        return ERROR_NOT_ENOUGH_MEMORY;
    list_init(&op->entry);
    list_init(&op->helper_entry);
    op->core = core;
    file_core_ref(core);
    op->ov = ov;
    op->event = ov->hEvent;
    op->kind = kind;
    op->buf = buf;
    op->len = len;
    op->offset = ((ULONGLONG)ov->OffsetHigh << 32) | ov->Offset;
    op->tid = os_thread_current_id();
    /* Windows resets the event when the operation begins. */
    if (event_of(op->event))
        handle_event_change(event_of(op->event), FALSE);
    ov->InternalHigh = 0;
    atomic_store_explicit(overlapped_status(ov), (ULONG_PTR)(ULONG)FILE_STATUS_PENDING,
                          memory_order_seq_cst);
    *out = op;
    return ERROR_SUCCESS;
}

void file_op_complete_locked(struct file_op *op, DWORD err, BOOL synchronous)
{
    struct file_core *core = op->core;
    LONG status = file_status_from_error(err);
    OVERLAPPED *ov = op->ov;
    HANDLE event = op->event;
    BOOL deliver;

    /* Nothing after the binding's end (an operation that raced the close of
     * its handle by another thread and started after it). */
    deliver = core->complete && !core->end_reported && !((ULONG_PTR)event & 1)
              && !(synchronous && status >= 0
                   && (core->notify_modes & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));
    if (synchronous && status_is_error(status))
        deliver = FALSE;    /* a synchronous failure: the caller learns it; nothing else */
    /* From the store of Internal on, the caller may free the OVERLAPPED: read
     * everything needed before (event above). */
    ov->InternalHigh = op->done;
    atomic_store_explicit(overlapped_status(ov), (ULONG_PTR)(ULONG)status, memory_order_seq_cst);
    if (atomic_load_explicit(&overlapped_sleepers, memory_order_seq_cst))
        syscall(SYS_futex, &ov->Internal, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    if (event_of(event) && !(synchronous && status_is_error(status)))
        handle_event_change(event_of(event), TRUE);
    if (!deliver) {
        op_free(op);
    } else {
        op->packet.next = NULL;
        op->packet.overlapped = ov;
        op->packet.status = status;
        op->packet.err = err;
        op->packet.bytes = op->done;
        core->complete(core->complete_key, &op->packet);
    }
    /* Callers take the operation off core->ops before completing it. */
    file_binding_end_locked(core);
}

void file_op_complete(struct file_op *op, DWORD err, BOOL synchronous)
{
    struct file_core *core = op->core;

    os_lock_acquire(&core->lock);
    file_op_complete_locked(op, err, synchronous);
    os_lock_release(&core->lock);
}

/* ---- the I/O completion source of os.h --------------------------------------------------- */

struct os_io_binding {
    struct file_core *core;         /* (c) referenced */
};

DWORD os_io_bind(HANDLE file, os_io_complete_fn complete, void *key,
                 struct os_io_binding **out)
{
    struct os_io_binding *binding = NULL;
    struct file_core *core;
    DWORD err;

    if ((err = file_core_lookup(file, &core)) != ERROR_SUCCESS)
        return err;
    if (out && !(binding = malloc(sizeof(*binding)))) {
        file_core_unref(core);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    os_lock_acquire(&core->lock);
    if (core->bound || !core->overlapped) {
        /* As Windows refuses a completion port to a file bound to one
         * already, or opened for synchronous I/O. */
        err = ERROR_INVALID_PARAMETER;
    } else {
        core->bound = TRUE;
        core->complete = complete;
        core->complete_key = key;
    }
    os_lock_release(&core->lock);
    if (err != ERROR_SUCCESS || !out) {
        free(binding);
        file_core_unref(core);
        return err;
    }
    binding->core = core;      /* keeps the lookup's reference */
    *out = binding;
    return ERROR_SUCCESS;
}

/* The emulation's process heap, as Windows does it: HeapValidate(GetProcessHeap(), 0, io)
 * finds a live object. */
void *os_io_object_alloc(size_t size)
{
    return handle_process_heap_alloc(size);
}

void os_io_object_free(void *memory)
{
    handle_process_heap_free(memory);
}

void os_io_unbind(struct os_io_binding *binding)
{
    struct file_core *core = binding->core;

    /* Completions are delivered under I: none runs after this. */
    os_lock_acquire(&core->lock);
    core->complete = NULL;
    core->complete_key = NULL;
    os_lock_release(&core->lock);
    file_core_unref(core);
    free(binding);
}

/* Nothing to look for: every binding's end is reported (file_binding_end_locked). */
void os_io_watch(struct os_io_binding *binding)
{
    (void)binding;
}

void os_io_packet_release(struct os_io_packet *packet)
{
    /* The packet is the first member of its operation. */
    op_free((struct file_op *)packet);
}

/* ---- exports --------------------------------------------------------------------------------- */

static HANDLE file_create(char *path, DWORD access, DWORD creation, DWORD flags, DWORD err)
{
    const char *pipe_name;
    HANDLE handle = INVALID_HANDLE_VALUE;
    BOOL existed = FALSE;

    if (err == ERROR_SUCCESS) {
        if (file_pipe_path(path, &pipe_name))
            err = file_pipe_open_client(pipe_name, access, flags, &handle);
        else
            err = file_disk_open(path, access, creation, flags, &handle, &existed);
    }
    free(path);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return INVALID_HANDLE_VALUE;
    }
    /* Windows reports whether an OPEN_ALWAYS / CREATE_ALWAYS file existed. */
    os_set_last_error(existed && (creation == OPEN_ALWAYS || creation == CREATE_ALWAYS)
                      ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return handle;
}

/***********************************************************************
 *           CreateFileA   (kernel32_tp.@)
 *
 * Regular files and the client end of named pipes ("\\.\pipe\name").
 * Backslashes are path separators; share modes, security attributes and
 * templates are accepted and not enforced (docs/io.md).
 */
HANDLE WINAPI CreateFileA(LPCSTR name, DWORD access, DWORD share, SECURITY_ATTRIBUTES *sa,
                          DWORD creation, DWORD flags, HANDLE template)
{
    char *path = NULL;
    DWORD err;

    HANDLE_TRACE("%s %#x %#x %p %u %#x %p", name ? name : "(null)", (unsigned int)access,
                 (unsigned int)share, (void *)sa, (unsigned int)creation, (unsigned int)flags,
                 template);
    err = file_path_from_a(name, &path);
    return file_create(path, access, creation, flags, err);
}

/***********************************************************************
 *           CreateFileW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateFileW(LPCWSTR name, DWORD access, DWORD share, SECURITY_ATTRIBUTES *sa,
                          DWORD creation, DWORD flags, HANDLE template)
{
    char *path = NULL;
    DWORD err;

    HANDLE_TRACE("%p %#x %#x %p %u %#x %p", (const void *)name, (unsigned int)access,
                 (unsigned int)share, (void *)sa, (unsigned int)creation, (unsigned int)flags,
                 template);
    err = file_path_from_w(name, &path);
    return file_create(path, access, creation, flags, err);
}

/* ReadFile and WriteFile. */
static BOOL file_transfer(HANDLE handle, enum file_op_kind kind, void *buf, DWORD len,
                          DWORD *transferred, OVERLAPPED *ov)
{
    struct file_core *core;
    DWORD err, bytes = 0;

    if (transferred)
        *transferred = 0;
    if ((err = file_core_lookup(handle, &core)) != ERROR_SUCCESS)
        goto done;
    if (!(kind == FILE_OP_READ ? core->can_read : core->can_write))
        err = ERROR_ACCESS_DENIED;
    else if (len && !buf)
        err = ERROR_NOACCESS;
    else if (core->kind == FILE_KIND_DISK)
        err = file_disk_io(core, kind, buf, len, &bytes, ov);
    else if (core->kind == FILE_KIND_STD)
        err = file_std_io(core, kind, buf, len, &bytes, ov);
    else
        err = file_pipe_io(core, kind, buf, len, &bytes, ov);
    file_core_unref(core);
    if ((err == ERROR_SUCCESS || err == ERROR_MORE_DATA) && transferred)
        *transferred = bytes;
done:
    if (err == ERROR_SUCCESS)
        return TRUE;
    os_set_last_error(err);
    return FALSE;
}

/***********************************************************************
 *           ReadFile   (kernel32_tp.@)
 *
 * On a handle opened with FILE_FLAG_OVERLAPPED an OVERLAPPED is required
 * (ERROR_INVALID_PARAMETER without one).  At the end of a file a
 * synchronous handle reads 0 bytes and succeeds; an overlapped read reports
 * ERROR_HANDLE_EOF.
 */
BOOL WINAPI ReadFile(HANDLE handle, LPVOID buf, DWORD len, LPDWORD read, LPOVERLAPPED ov)
{
    HANDLE_TRACE("%p %p %u %p %p", handle, buf, (unsigned int)len, (void *)read, (void *)ov);
    return file_transfer(handle, FILE_OP_READ, buf, len, read, ov);
}

/***********************************************************************
 *           WriteFile   (kernel32_tp.@)
 */
BOOL WINAPI WriteFile(HANDLE handle, LPCVOID buf, DWORD len, LPDWORD written, LPOVERLAPPED ov)
{
    HANDLE_TRACE("%p %p %u %p %p", handle, buf, (unsigned int)len, (void *)written, (void *)ov);
    return file_transfer(handle, FILE_OP_WRITE, (void *)buf, len, written, ov);
}

/*
 * Waits until ov is no longer pending: on its event when it has one, else
 * on Internal itself (a futex on its low 32 bits).  deadline_ns 0: none.
 * FALSE when the deadline passed first.
 */
static BOOL overlapped_wait(OVERLAPPED *ov, DWORD timeout_ms, DWORD *err)
{
    /* The low half: x86-64 is little-endian. */
    _Atomic unsigned int *word = (_Atomic unsigned int *)(void *)&ov->Internal;
    struct handle_object *obj;
    ULONGLONG deadline_ns = 0;
    DWORD ret;

    if (timeout_ms != INFINITE)
        deadline_ns = os_clock_monotonic_ns() + (ULONGLONG)timeout_ms * 1000000ull;
    if (event_of(ov->hEvent)) {
        if ((*err = handle_lookup(event_of(ov->hEvent), HANDLE_TYPE_EVENT, &obj))
            != ERROR_SUCCESS)
            return FALSE;
        ret = handle_wait_objects(1, &obj, FALSE, timeout_ms, err);
        handle_object_unref(obj);
        if (ret == WAIT_FAILED)
            return FALSE;
        if (ret == WAIT_TIMEOUT) {
            *err = WAIT_TIMEOUT;
            return FALSE;
        }
        /* The event may be shared or set by hand: make sure. */
    }
    atomic_fetch_add_explicit(&overlapped_sleepers, 1, memory_order_seq_cst);
    os_thread_notify_block(TRUE);
    while (atomic_load_explicit(word, memory_order_seq_cst) == (unsigned int)FILE_STATUS_PENDING) {
        if (!os_futex_wait(word, (unsigned int)FILE_STATUS_PENDING, deadline_ns)
            || (deadline_ns && os_clock_monotonic_ns() >= deadline_ns)) {
            if (atomic_load_explicit(word, memory_order_seq_cst)
                != (unsigned int)FILE_STATUS_PENDING)
                break;
            os_thread_notify_block(FALSE);
            atomic_fetch_sub_explicit(&overlapped_sleepers, 1, memory_order_seq_cst);
            *err = WAIT_TIMEOUT;
            return FALSE;
        }
    }
    os_thread_notify_block(FALSE);
    atomic_fetch_sub_explicit(&overlapped_sleepers, 1, memory_order_seq_cst);
    return TRUE;
}

static BOOL overlapped_result(OVERLAPPED *ov, DWORD *bytes, DWORD timeout_ms)
{
    LONG status;
    DWORD err;

    if (!ov) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    status = (LONG)atomic_load_explicit(overlapped_status(ov), memory_order_seq_cst);
    if (status == FILE_STATUS_PENDING) {
        if (!timeout_ms) {
            os_set_last_error(ERROR_IO_INCOMPLETE);
            return FALSE;
        }
        if (!overlapped_wait(ov, timeout_ms, &err)) {
            os_set_last_error(err);
            return FALSE;
        }
        status = (LONG)atomic_load_explicit(overlapped_status(ov), memory_order_seq_cst);
    }
    if (bytes)
        *bytes = (DWORD)ov->InternalHigh;
    if (status == FILE_STATUS_SUCCESS)
        return TRUE;
    os_set_last_error(file_error_from_status(status));
    return FALSE;
}

/***********************************************************************
 *           GetOverlappedResult   (kernel32_tp.@)
 *
 * The file handle is not used: without an event the wait is on the
 * OVERLAPPED itself.
 */
BOOL WINAPI GetOverlappedResult(HANDLE handle, LPOVERLAPPED ov, LPDWORD bytes, BOOL wait)
{
    HANDLE_TRACE("%p %p %p %d", handle, (void *)ov, (void *)bytes, wait);
    return overlapped_result(ov, bytes, wait ? INFINITE : 0);
}

/***********************************************************************
 *           GetOverlappedResultEx   (kernel32_tp.@)
 *
 * No APCs on Linux: an alertable wait is an ordinary one.  A timeout gives
 * WAIT_TIMEOUT; a zero timeout on a pending operation ERROR_IO_INCOMPLETE.
 */
BOOL WINAPI GetOverlappedResultEx(HANDLE handle, LPOVERLAPPED ov, LPDWORD bytes, DWORD timeout_ms,
                                  BOOL alertable)
{
    HANDLE_TRACE("%p %p %p %u %d", handle, (void *)ov, (void *)bytes, (unsigned int)timeout_ms,
                 alertable);
    return overlapped_result(ov, bytes, timeout_ms);
}

/* Cancels the pending operations of handle that match.  ERROR_NOT_FOUND when none did. */
static DWORD file_cancel(HANDLE handle, OVERLAPPED *ov, BOOL this_thread)
{
    DWORD tid = os_thread_current_id(), err;
    struct list *entry, *next;
    struct file_core *core;
    LONG found = 0, ended = 0;

    if ((err = file_core_lookup(handle, &core)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&core->lock);
    for (entry = core->ops.next; entry != &core->ops; entry = next) {
        struct file_op *op = LIST_ENTRY(entry, struct file_op, entry);

        next = entry->next;
        if ((ov && op->ov != ov) || (this_thread && op->tid != tid))
            continue;
        found++;
        /* A disk operation that a helper runs already ends as it ends. */
        if (core->kind == FILE_KIND_DISK && !helpers_cancel_locked(op))
            continue;
        list_remove(&op->entry);
        file_op_complete_locked(op, ERROR_OPERATION_ABORTED, FALSE);
        ended++;
    }
    os_lock_release(&core->lock);
    while (ended-- > 0)
        file_core_unref(core);
    file_core_unref(core);
    return found ? ERROR_SUCCESS : ERROR_NOT_FOUND;
}

/***********************************************************************
 *           CancelIo   (kernel32_tp.@)
 *
 * The calling thread's operations on the handle; succeeds when there are
 * none.
 */
BOOL WINAPI CancelIo(HANDLE handle)
{
    DWORD err;

    HANDLE_TRACE("%p", handle);
    err = file_cancel(handle, NULL, TRUE);
    if (err != ERROR_SUCCESS && err != ERROR_NOT_FOUND) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           CancelIoEx   (kernel32_tp.@)
 */
BOOL WINAPI CancelIoEx(HANDLE handle, LPOVERLAPPED ov)
{
    HANDLE_TRACE("%p %p", handle, (void *)ov);
    return os_bool_result(file_cancel(handle, ov, FALSE));
}

/***********************************************************************
 *           SetFileCompletionNotificationModes   (kernel32_tp.@)
 *
 * FILE_SKIP_SET_EVENT_ON_HANDLE is accepted: file handles are not
 * waitable here, so there is no event of the handle to skip.  So is
 * FILE_SKIP_SET_USER_EVENT_ON_FAST_IO: the OVERLAPPED's event is always
 * set.  Other flags: ERROR_INVALID_PARAMETER (test_files.c).
 */
BOOL WINAPI SetFileCompletionNotificationModes(HANDLE handle, UCHAR flags)
{
    struct file_core *core;
    DWORD err;

    HANDLE_TRACE("%p %#x", handle, (unsigned int)flags);
    if (flags & ~(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE
                  | FILE_SKIP_SET_USER_EVENT_ON_FAST_IO)) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if ((err = file_core_lookup(handle, &core)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    os_lock_acquire(&core->lock);
    core->notify_modes = flags;
    os_lock_release(&core->lock);
    file_core_unref(core);
    return TRUE;
}

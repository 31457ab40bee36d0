/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux file layer: regular files.  Opening them (CreateFile's part),
 * synchronous and overlapped reads and writes, the exports that only make
 * sense for them (FlushFileBuffers, GetFileSize(Ex), SetFilePointer(Ex),
 * DeleteFile) and the temporary-file helpers (GetTempPath,
 * GetTempFileName).
 *
 * An overlapped read first tries the page cache without blocking
 * (preadv2 with RWF_NOWAIT): served from there it completes at once, as
 * Windows completes cached reads; otherwise, and for writes the kernel
 * cannot do without blocking, a disk helper (io_loop.c) runs it.  No thread
 * per operation.
 *
 * Locks: core->lock (I) around queueing and completing operations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* ---- opening ----------------------------------------------------------------- */

/* ENOENT: the file, or a directory on its way, is missing. */
static DWORD missing_error(const char *path)
{
    char *dir = strdup(path), *slash;
    struct stat st;
    DWORD err = ERROR_FILE_NOT_FOUND;

    if (!dir)
        return ERROR_NOT_ENOUGH_MEMORY;
    if ((slash = strrchr(dir, '/')) && slash != dir) {
        *slash = 0;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
            err = ERROR_PATH_NOT_FOUND;
    }
    free(dir);
    return err;
}

static DWORD open_error(const char *path, int errnum)
{
    switch (errnum) {
    case ENOENT: return missing_error(path);
    case EEXIST: return ERROR_FILE_EXISTS;
    case EISDIR: return ERROR_ACCESS_DENIED;
    default: return file_error_from_errno(errnum);
    }
}

static BOOL access_reads(DWORD access)
{
    return (access & (GENERIC_READ | GENERIC_ALL | FILE_READ_DATA)) != 0;
}

static BOOL access_writes(DWORD access)
{
    return (access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA | FILE_APPEND_DATA)) != 0;
}

DWORD file_disk_open(const char *path, DWORD access, DWORD creation, DWORD flags,
                     HANDLE *handle, BOOL *existed)
{
    BOOL reads = access_reads(access), writes = access_writes(access);
    int base = O_CLOEXEC, create = 0, fd;
    mode_t mode = (flags & FILE_ATTRIBUTE_READONLY) ? 0444 : 0666;
    struct file_core *core;
    struct stat st;

    *existed = FALSE;
    base |= writes ? (reads ? O_RDWR : O_WRONLY) : O_RDONLY;
    switch (creation) {
    case CREATE_NEW: create = O_CREAT | O_EXCL; break;
    case CREATE_ALWAYS: create = O_CREAT | O_TRUNC; break;
    case OPEN_EXISTING: break;
    case OPEN_ALWAYS: create = O_CREAT; break;
    case TRUNCATE_EXISTING:
        if (!writes)
            return ERROR_INVALID_PARAMETER;
        create = O_TRUNC;
        break;
    default:
        return ERROR_INVALID_PARAMETER;
    }
    if ((create & O_TRUNC) && !writes)
        base = (base & ~O_ACCMODE) | O_RDWR;    /* truncating needs write access on Linux */
    if (create & O_CREAT) {
        /* Learn whether it existed: create exclusively first. */
        fd = open(path, base | O_CREAT | O_EXCL, mode);
        if (fd < 0 && errno == EEXIST && !(create & O_EXCL)) {
            *existed = TRUE;
            fd = open(path, base | (create & O_TRUNC), mode);
        }
    } else {
        fd = open(path, base | create);
        *existed = fd >= 0;
    }
    if (fd < 0)
        return open_error(path, errno);
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && !(flags & FILE_FLAG_BACKUP_SEMANTICS)) {
        close(fd);
        return ERROR_ACCESS_DENIED;
    }
    if (!(core = file_core_alloc(FILE_KIND_DISK))) {
        close(fd);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    core->fd = fd;
    core->overlapped = (flags & FILE_FLAG_OVERLAPPED) != 0;
    core->can_read = reads;
    core->can_write = writes;
    if ((flags & FILE_FLAG_DELETE_ON_CLOSE)
        && !(core->delete_path = realpath(path, NULL))) {
        file_core_unref(core);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    return file_handle_create(core, handle);
}

/* ---- reads and writes --------------------------------------------------------------- */

/* Reads or writes [done, len) at offset + done (or at the file position when
 * offset is negative).  Returns the error; *done grows. */
static DWORD disk_transfer(int fd, enum file_op_kind kind, char *buf, DWORD len, LONGLONG offset,
                           DWORD *done)
{
    ssize_t n;

    while (*done < len) {
        if (kind == FILE_OP_READ)
            n = offset < 0 ? read(fd, buf + *done, len - *done)
                           : pread(fd, buf + *done, len - *done, offset + *done);
        else
            n = offset < 0 ? write(fd, buf + *done, len - *done)
                           : pwrite(fd, buf + *done, len - *done, offset + *done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EISDIR ? ERROR_INVALID_FUNCTION : file_error_from_errno(errno);
        }
        if (n == 0)
            return kind == FILE_OP_READ ? ERROR_SUCCESS : ERROR_DISK_FULL;
        *done += (DWORD)n;
    }
    return ERROR_SUCCESS;
}

/* A handle opened without FILE_FLAG_OVERLAPPED: the caller's thread does
 * the transfer.  With an OVERLAPPED, at its offset, and the OVERLAPPED
 * reports the result too. */
static DWORD disk_sync(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                       DWORD *bytes, OVERLAPPED *ov)
{
    LONGLONG offset = ov ? (LONGLONG)(((ULONGLONG)ov->OffsetHigh << 32) | ov->Offset) : -1;
    DWORD done = 0, err;

    err = disk_transfer(core->fd, kind, buf, len, offset, &done);
    /* A read at the end of a file: 0 bytes and success, except at an
     * explicit offset, which reports the end. */
    if (err == ERROR_SUCCESS && kind == FILE_OP_READ && ov && len && !done)
        err = ERROR_HANDLE_EOF;
    if (ov) {
        lseek(core->fd, offset + done, SEEK_SET);      /* Windows moves the position too */
        file_ov_report_sync(ov, done, err);
    }
    *bytes = done;
    return err;
}

/* One attempt that must not block: RWF_NOWAIT.  -1 and errno as preadv2. */
static ssize_t disk_try_nowait(int fd, enum file_op_kind kind, char *buf, DWORD len,
                               ULONGLONG offset)
{
    struct iovec iov = { buf, len };
    ssize_t n;

    do {
        n = kind == FILE_OP_READ ? preadv2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT)
                                 : pwritev2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
    } while (n < 0 && errno == EINTR);
    return n;
}

DWORD file_disk_io(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                   DWORD *bytes, OVERLAPPED *ov)
{
    struct file_op *op;
    ssize_t n = 0;
    DWORD err;

    if (!core->overlapped)
        return disk_sync(core, kind, buf, len, bytes, ov);
    if (!ov)
        return ERROR_INVALID_PARAMETER;
    if ((err = file_op_start(core, ov, kind, buf, len, &op)) != ERROR_SUCCESS)
        return err;
    /* On the core's queue from the start, so that a CloseHandle of another
     * thread reports the binding's end only after this operation completed
     * (a cancel leaves it: no helper has it). */
    os_lock_acquire(&core->lock);
    list_add_tail(&core->ops, &op->entry);
    os_lock_release(&core->lock);
    if (len && (n = disk_try_nowait(core->fd, kind, buf, len, op->offset)) > 0)
        op->done = (DWORD)n;
    if (!len || n == (ssize_t)len || (kind == FILE_OP_READ && n == 0)) {
        /* Done at once: all of it, or the end of the file. */
        err = len && !n ? ERROR_HANDLE_EOF : ERROR_SUCCESS;
        *bytes = op->done;
        os_lock_acquire(&core->lock);
        list_remove(&op->entry);
        file_op_complete_locked(op, err, TRUE);
        os_lock_release(&core->lock);
        file_core_unref(core);     /* the operation's reference */
        return err;
    }
    if (n < 0 && errno != EAGAIN && errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS) {
        err = errno == EISDIR ? ERROR_INVALID_FUNCTION : file_error_from_errno(errno);
        os_lock_acquire(&core->lock);
        list_remove(&op->entry);
        file_op_complete_locked(op, err, TRUE);
        os_lock_release(&core->lock);
        file_core_unref(core);
        return err;
    }
    /* Not in the page cache (or partly): a helper finishes it. */
    os_lock_acquire(&core->lock);
    if ((err = helpers_queue_locked(op)) != ERROR_SUCCESS) {
        list_remove(&op->entry);
        file_op_complete_locked(op, err, TRUE);
    }
    os_lock_release(&core->lock);
    if (err != ERROR_SUCCESS) {
        file_core_unref(core);
        return err;
    }
    return ERROR_IO_PENDING;
}

void file_disk_run(struct file_op *op)
{
    struct file_core *core = op->core;
    DWORD done = op->done, err;

    /* Nobody else touches op->done while a helper runs it. */
    err = disk_transfer(core->fd, op->kind, op->buf, op->len, (LONGLONG)op->offset, &done);
    if (err == ERROR_SUCCESS && op->kind == FILE_OP_READ && op->len && !done)
        err = ERROR_HANDLE_EOF;
    os_lock_acquire(&core->lock);
    op->done = done;
    list_remove(&op->entry);
    file_op_complete_locked(op, err, FALSE);
    os_lock_release(&core->lock);
    file_core_unref(core);         /* the operation's reference */
}

/* ---- exports of regular files --------------------------------------------------------- */

/* The disk core behind handle.  ERROR_INVALID_HANDLE, or
 * ERROR_INVALID_FUNCTION for a pipe. */
static DWORD disk_lookup(HANDLE handle, struct file_core **core)
{
    return file_core_lookup_kind(handle, FILE_KIND_DISK, core);
}

static DWORD disk_size(HANDLE handle, ULONGLONG *size)
{
    struct file_core *core;
    struct stat st;
    DWORD err;

    if ((err = disk_lookup(handle, &core)) != ERROR_SUCCESS)
        return err;
    if (fstat(core->fd, &st) < 0)
        err = file_error_from_errno(errno);
    else
        *size = (ULONGLONG)st.st_size;
    file_core_unref(core);
    return err;
}

/* How GetFileSize and SetFilePointer end: the low half of value, and its
 * high half in *high when given; on err, INVALID_FILE_SIZE (which is
 * INVALID_SET_FILE_POINTER) with the last error set.  That value can be a
 * real low half too: then the last error is set to 0, which tells. */
static DWORD split_result(DWORD err, ULONGLONG value, DWORD *high)
{
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return INVALID_FILE_SIZE;
    }
    if (high)
        *high = (DWORD)(value >> 32);
    if ((DWORD)value == INVALID_FILE_SIZE)
        os_set_last_error(ERROR_SUCCESS);
    return (DWORD)value;
}

/***********************************************************************
 *           GetFileSize   (kernel32_tp.@)
 */
DWORD WINAPI GetFileSize(HANDLE handle, LPDWORD high)
{
    ULONGLONG size = 0;
    DWORD err;

    HANDLE_TRACE("%p %p", handle, (void *)high);
    err = disk_size(handle, &size);
    return split_result(err, size, high);
}

/***********************************************************************
 *           GetFileSizeEx   (kernel32_tp.@)
 */
BOOL WINAPI GetFileSizeEx(HANDLE handle, PLARGE_INTEGER size)
{
    ULONGLONG value = 0;
    DWORD err;

    HANDLE_TRACE("%p %p", handle, (void *)size);
    if (!size)
        err = ERROR_NOACCESS;
    else
        err = disk_size(handle, &value);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    size->QuadPart = (LONGLONG)value;
    return TRUE;
}

static DWORD disk_seek(HANDLE handle, LONGLONG distance, DWORD method, ULONGLONG *position)
{
    struct file_core *core;
    off_t result;
    int whence;
    DWORD err;

    switch (method) {
    case FILE_BEGIN: whence = SEEK_SET; break;
    case FILE_CURRENT: whence = SEEK_CUR; break;
    case FILE_END: whence = SEEK_END; break;
    default: return ERROR_INVALID_PARAMETER;
    }
    if ((err = disk_lookup(handle, &core)) != ERROR_SUCCESS)
        return err;
    if ((result = lseek(core->fd, (off_t)distance, whence)) < 0)
        err = errno == EINVAL ? ERROR_NEGATIVE_SEEK : file_error_from_errno(errno);
    else
        *position = (ULONGLONG)result;
    file_core_unref(core);
    return err;
}

/***********************************************************************
 *           SetFilePointer   (kernel32_tp.@)
 *
 * Without high, distance is a signed 32-bit value.  A position whose low
 * half is INVALID_SET_FILE_POINTER sets the last error to 0.
 */
DWORD WINAPI SetFilePointer(HANDLE handle, LONG distance, PLONG high, DWORD method)
{
    LONGLONG move = high ? (LONGLONG)(((ULONGLONG)(ULONG)*high << 32) | (ULONG)distance)
                         : (LONGLONG)distance;
    ULONGLONG position = 0;
    DWORD err;

    HANDLE_TRACE("%p %ld %p %u", handle, (long)distance, (void *)high, (unsigned int)method);
    err = disk_seek(handle, move, method, &position);
    return split_result(err, position, (DWORD *)high);
}

/***********************************************************************
 *           SetFilePointerEx   (kernel32_tp.@)
 */
BOOL WINAPI SetFilePointerEx(HANDLE handle, LARGE_INTEGER distance, PLARGE_INTEGER position,
                             DWORD method)
{
    ULONGLONG result = 0;
    DWORD err;

    HANDLE_TRACE("%p %lld %p %u", handle, (long long)distance.QuadPart, (void *)position,
                 (unsigned int)method);
    if ((err = disk_seek(handle, distance.QuadPart, method, &result)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (position)
        position->QuadPart = (LONGLONG)result;
    return TRUE;
}

/***********************************************************************
 *           FlushFileBuffers   (kernel32_tp.@)
 *
 * A regular file is synced to its device; a pipe has nothing to flush
 * (Windows would wait until the other end read everything).
 */
BOOL WINAPI FlushFileBuffers(HANDLE handle)
{
    struct file_core *core;
    DWORD err;

    HANDLE_TRACE("%p", handle);
    if ((err = file_core_lookup(handle, &core)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (core->kind == FILE_KIND_DISK) {
        if (!core->can_write)
            err = ERROR_ACCESS_DENIED;
        else if (fsync(core->fd) < 0 && errno != EINVAL)
            err = file_error_from_errno(errno);
    }
    file_core_unref(core);
    return os_bool_result(err);
}

static BOOL delete_file(char *path, DWORD err)
{
    struct stat st;

    if (err == ERROR_SUCCESS && unlink(path) < 0) {
        if (errno == ENOENT)
            err = missing_error(path);
        else if (errno == EISDIR || (errno == EPERM && stat(path, &st) == 0
                                     && S_ISDIR(st.st_mode)))
            err = ERROR_ACCESS_DENIED;
        else
            err = file_error_from_errno(errno);
    }
    free(path);
    return os_bool_result(err);
}

/***********************************************************************
 *           DeleteFileA   (kernel32_tp.@)
 *
 * Open handles keep the file's data, as POSIX does; Windows would mark the
 * file for deletion at its last close instead.
 */
BOOL WINAPI DeleteFileA(LPCSTR name)
{
    char *path = NULL;
    DWORD err;

    HANDLE_TRACE("%s", name ? name : "(null)");
    err = file_path_from_a(name, &path);
    return delete_file(path, err);
}

/***********************************************************************
 *           DeleteFileW   (kernel32_tp.@)
 */
BOOL WINAPI DeleteFileW(LPCWSTR name)
{
    char *path = NULL;
    DWORD err;

    HANDLE_TRACE("%p", (const void *)name);
    err = file_path_from_w(name, &path);
    return delete_file(path, err);
}

/* ---- temporary files ------------------------------------------------------------------------ */

/* UTF-8 to UTF-16 into out (size units); returns the units needed without
 * the terminator.  Writes only when everything fits. */
static DWORD utf16_from_utf8(const char *str, WCHAR *out, DWORD size)
{
    const unsigned char *s = (const unsigned char *)str;
    DWORD n = 0, pass;
    unsigned int cp;
    size_t i;

    for (pass = 0; pass < 2; pass++) {
        if (pass == 1 && (!out || n + 1 > size))
            return n;
        n = 0;
        for (i = 0; s[i];) {
            if (s[i] < 0x80) {
                cp = s[i++];
            } else if ((s[i] & 0xe0) == 0xc0 && s[i + 1]) {
                cp = ((s[i] & 0x1fu) << 6) | (s[i + 1] & 0x3fu);
                i += 2;
            } else if ((s[i] & 0xf0) == 0xe0 && s[i + 1] && s[i + 2]) {
                cp = ((s[i] & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
                i += 3;
            } else if ((s[i] & 0xf8) == 0xf0 && s[i + 1] && s[i + 2] && s[i + 3]) {
                cp = ((s[i] & 0x07u) << 18) | ((s[i + 1] & 0x3fu) << 12)
                     | ((s[i + 2] & 0x3fu) << 6) | (s[i + 3] & 0x3fu);
                i += 4;
            } else {
                cp = 0xfffd;
                i++;
            }
            if (cp >= 0x10000) {
                if (pass)
                    out[n] = (WCHAR)(0xd800 + ((cp - 0x10000) >> 10));
                n++;
                cp = 0xdc00 + ((cp - 0x10000) & 0x3ff);
            }
            if (pass)
                out[n] = (WCHAR)cp;
            n++;
        }
        if (pass)
            out[n] = 0;
    }
    return n;
}

/* The temporary directory with its trailing separator: TMPDIR, else the
 * system's (P_tmpdir). */
static DWORD temp_path(char *out, size_t size)
{
    const char *dir = os_getenv("TMPDIR");
    size_t len;

    if (!dir || !*dir)
        dir = P_tmpdir;
    len = strlen(dir);
    if (len + 2 > size)
        return ERROR_BUFFER_OVERFLOW;
    memcpy(out, dir, len);
    if (out[len - 1] != '/')
        out[len++] = '/';
    out[len] = 0;
    return ERROR_SUCCESS;
}

/* GetTempPath{A,W}: the path into buf (size units, UTF-16 when wide) and
 * its length; too small a buffer: the size needed, terminator included, and
 * nothing written; 0 with the last error set when the path is too long. */
static DWORD temp_path_copy(DWORD size, void *buf, BOOL wide)
{
    char path[PATH_MAX];
    DWORD len;

    if (temp_path(path, sizeof(path)) != ERROR_SUCCESS) {
        os_set_last_error(ERROR_BUFFER_OVERFLOW);
        return 0;
    }
    len = wide ? utf16_from_utf8(path, NULL, 0) : (DWORD)strlen(path);
    if (!buf || size < len + 1)
        return len + 1;
    if (wide)
        return utf16_from_utf8(path, buf, size);
    memcpy(buf, path, len + 1);
    return len;
}

/***********************************************************************
 *           GetTempPathA   (kernel32_tp.@)
 *
 * TMPDIR or the system's temporary directory, with a trailing '/'.  Too small a buffer: the size
 * needed, terminator included, and nothing written.
 */
DWORD WINAPI GetTempPathA(DWORD size, LPSTR buf)
{
    HANDLE_TRACE("%u %p", (unsigned int)size, (void *)buf);
    return temp_path_copy(size, buf, FALSE);
}

/***********************************************************************
 *           GetTempPathW   (kernel32_tp.@)
 */
DWORD WINAPI GetTempPathW(DWORD size, LPWSTR buf)
{
    HANDLE_TRACE("%u %p", (unsigned int)size, (void *)buf);
    return temp_path_copy(size, buf, TRUE);
}

/*
 * GetTempFileName's work on UTF-8: "<dir><sep><prefix, 3 chars><hex>.tmp"
 * into name (MAX_PATH bytes).  unique 0: finds a number whose file does
 * not exist and creates the file.  Returns the number, 0 with *err set.
 */
static UINT temp_file_name(const char *dir, const char *prefix, UINT unique, char *name,
                           DWORD *err)
{
    size_t dir_len = strlen(dir), prefix_len = prefix ? strlen(prefix) : 0;
    UINT number, tries;
    char *path;
    int fd;

    if (prefix_len > 3)
        prefix_len = 3;
    unique &= 0xffff;
    number = unique ? unique : (UINT)(os_clock_monotonic_ns() / 1000) & 0xffff;
    for (tries = 0; tries < 0x10000; tries++, number = (number + 1) & 0xffff) {
        if (!number)
            continue;
        if (snprintf(name, MAX_PATH, "%s%s%.*s%X.tmp", dir,
                     dir_len && dir[dir_len - 1] != '/' && dir[dir_len - 1] != '\\' ? "/" : "",
                     (int)prefix_len, prefix ? prefix : "", number) >= MAX_PATH) {
            *err = ERROR_BUFFER_OVERFLOW;
            return 0;
        }
        if (unique)
            return unique;
        if ((*err = file_path_from_a(name, &path)) != ERROR_SUCCESS)
            return 0;
        fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            free(path);
            return number;
        }
        *err = open_error(path, errno);
        free(path);
        if (*err != ERROR_FILE_EXISTS)
            return 0;
    }
    *err = ERROR_FILE_EXISTS;
    return 0;
}

/***********************************************************************
 *           GetTempFileNameA   (kernel32_tp.@)
 */
UINT WINAPI GetTempFileNameA(LPCSTR dir, LPCSTR prefix, UINT unique, LPSTR buf)
{
    DWORD err = ERROR_SUCCESS;
    UINT number;

    HANDLE_TRACE("%s %s %u %p", dir ? dir : "(null)", prefix ? prefix : "(null)", unique,
                 (void *)buf);
    if (!dir || !buf) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if (!(number = temp_file_name(dir, prefix, unique, buf, &err)))
        os_set_last_error(err);
    return number;
}

/***********************************************************************
 *           GetTempFileNameW   (kernel32_tp.@)
 */
UINT WINAPI GetTempFileNameW(LPCWSTR dir, LPCWSTR prefix, UINT unique, LPWSTR buf)
{
    char *dir8 = NULL, *prefix8 = NULL, name[MAX_PATH];
    DWORD err = ERROR_SUCCESS;
    UINT number = 0;

    HANDLE_TRACE("%p %p %u %p", (const void *)dir, (const void *)prefix, unique, (void *)buf);
    if (!dir || !buf)
        err = ERROR_INVALID_PARAMETER;
    else if ((err = handle_utf8_from_utf16(dir, &dir8)) == ERROR_SUCCESS
             && (err = handle_utf8_from_utf16(prefix, &prefix8)) == ERROR_SUCCESS
             && (number = temp_file_name(dir8, prefix8, unique, name, &err))) {
        if (utf16_from_utf8(name, NULL, 0) + 1 > MAX_PATH) {
            err = ERROR_BUFFER_OVERFLOW;
            number = 0;
        } else {
            utf16_from_utf8(name, buf, MAX_PATH);
        }
    }
    free(dir8);
    free(prefix8);
    if (!number)
        os_set_last_error(err);
    return number;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the standard handles and the console.
 * GetStdHandle, WriteConsoleA/W, GetConsoleMode, SetConsoleMode, and the
 * reads and writes of ReadFile and WriteFile on a standard handle
 * (file_std_io, for file_object.c).
 *
 * A standard handle is a file handle of its own kind (FILE_KIND_STD) over
 * a duplicate of descriptor 0, 1 or 2, made on the first GetStdHandle and
 * returned by every later one, as Windows returns the same value.  Closing
 * it closes that duplicate, not the process's descriptor (which the C
 * library's stdio keeps using); a closed standard handle stays closed, as
 * on Windows.  It is synchronous only: a read is one read(2) (a terminal
 * gives a line, as a console does), a write writes everything.
 *
 * A standard handle on a terminal is a console handle: WriteConsole writes
 * to it, and its console mode is the terminal's termios settings.  As on
 * Windows, a standard handle that is not a console (redirected to a file or
 * a pipe) fails WriteConsole, GetConsoleMode and SetConsoleMode with
 * ERROR_INVALID_HANDLE, and so does any other handle.
 *
 * Locks: std_lock, only while a standard handle is made; the file core's
 * lock is not needed (the descriptor never changes); termios calls are the
 * kernel's business.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "file.h"

static struct os_lock std_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_V);    /* V */
static HANDLE std_handles[3];       /* (std_lock) made on first use */

/* Output modes a terminal always has: it wraps and interprets sequences. */
#define CONSOLE_OUTPUT_ALWAYS (ENABLE_PROCESSED_OUTPUT | ENABLE_WRAP_AT_EOL_OUTPUT \
                               | ENABLE_VIRTUAL_TERMINAL_PROCESSING)
#define CONSOLE_OUTPUT_MODES (CONSOLE_OUTPUT_ALWAYS | DISABLE_NEWLINE_AUTO_RETURN \
                              | ENABLE_LVB_GRID_WORLDWIDE)
/* Input modes with a termios meaning; the others concern Windows' console
 * window (mouse, window events, editing) and are accepted with no effect. */
#define CONSOLE_INPUT_TERMIOS (ENABLE_PROCESSED_INPUT | ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT)
#define CONSOLE_INPUT_MODES (CONSOLE_INPUT_TERMIOS | ENABLE_WINDOW_INPUT | ENABLE_MOUSE_INPUT \
                             | ENABLE_INSERT_MODE | ENABLE_QUICK_EDIT_MODE \
                             | ENABLE_EXTENDED_FLAGS | ENABLE_AUTO_POSITION \
                             | ENABLE_VIRTUAL_TERMINAL_INPUT)

DWORD file_std_io(struct file_core *core, enum file_op_kind kind, void *buf, DWORD len,
                  DWORD *bytes, OVERLAPPED *ov)
{
    DWORD done = 0, err = ERROR_SUCCESS;
    struct stat st;
    ssize_t n;

    if (kind == FILE_OP_READ) {
        do {
            n = read(core->fd, buf, len);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            err = file_error_from_errno(errno);
        else
            done = (DWORD)n;
        /* The end of a pipe is its writer gone: ERROR_BROKEN_PIPE, as on
         * Windows; the end of a file or a terminal is a read of 0 bytes. */
        if (n == 0 && len && !fstat(core->fd, &st)
            && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
            err = ERROR_BROKEN_PIPE;
    } else {
        while (done < len) {
            n = write(core->fd, (const char *)buf + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                err = n < 0 ? file_error_from_errno(errno) : ERROR_DISK_FULL;
                break;
            }
            done += (DWORD)n;
        }
    }
    /* A synchronous handle still reports through the OVERLAPPED. */
    file_ov_report_sync(ov, done, err);
    *bytes = done;
    return err;
}

/* Makes the standard handle for descriptor fd.  *handle NULL when the
 * process has no such descriptor (as a Windows process without one). */
static DWORD std_handle_create(int fd, HANDLE *handle)
{
    struct file_core *core;
    int dup_fd;

    *handle = NULL;
    if (fcntl(fd, F_GETFD) < 0)
        return ERROR_SUCCESS;
    if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return os_error_from_errno(errno);
    if (!(core = file_core_alloc(FILE_KIND_STD))) {
        close(dup_fd);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    core->fd = dup_fd;
    core->can_read = fd == STDIN_FILENO;
    core->can_write = fd != STDIN_FILENO;
    return file_handle_create(core, handle);
}

/***********************************************************************
 *           GetStdHandle   (kernel32_tp.@)
 *
 * The same handle every time; NULL (and no error) when the process was
 * started without that descriptor.
 */
HANDLE WINAPI GetStdHandle(DWORD which)
{
    HANDLE handle;
    DWORD err = ERROR_SUCCESS;
    int fd;

    HANDLE_TRACE("%#x", (unsigned int)which);
    if (which == STD_INPUT_HANDLE)
        fd = STDIN_FILENO;
    else if (which == STD_OUTPUT_HANDLE)
        fd = STDOUT_FILENO;
    else if (which == STD_ERROR_HANDLE)
        fd = STDERR_FILENO;
    else {
        os_set_last_error(ERROR_INVALID_HANDLE);
        return INVALID_HANDLE_VALUE;
    }
    os_lock_acquire(&std_lock);
    if (!std_handles[fd])
        err = std_handle_create(fd, &std_handles[fd]);
    handle = std_handles[fd];
    os_lock_release(&std_lock);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return INVALID_HANDLE_VALUE;
    }
    return handle;
}

/* The standard handle on a terminal behind handle, referenced through
 * *core: ERROR_INVALID_HANDLE for anything else, as for a Windows handle
 * that is not a console.  output: only an output handle will do. */
static DWORD console_lookup(HANDLE handle, BOOL output, struct file_core **core)
{
    DWORD err;

    if ((err = file_core_lookup(handle, core)) != ERROR_SUCCESS)
        return err;
    if ((*core)->kind != FILE_KIND_STD || (output && !(*core)->can_write)
        || !isatty((*core)->fd)) {
        file_core_unref(*core);
        return ERROR_INVALID_HANDLE;
    }
    return ERROR_SUCCESS;
}

static BOOL console_write(HANDLE handle, const char *utf8, DWORD len, DWORD count,
                          DWORD *written)
{
    struct file_core *core;
    DWORD err, bytes;

    if ((err = console_lookup(handle, TRUE, &core)) == ERROR_SUCCESS) {
        err = file_std_io(core, FILE_OP_WRITE, (void *)utf8, len, &bytes, NULL);
        file_core_unref(core);
    }
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (written)
        *written = count;
    return TRUE;
}

/***********************************************************************
 *           WriteConsoleA   (kernel32_tp.@)
 *
 * The bytes go to the terminal as they are: UTF-8, the code page of these
 * builds.
 */
BOOL WINAPI WriteConsoleA(HANDLE handle, const void *buf, DWORD count, DWORD *written,
                          void *reserved)
{
    HANDLE_TRACE("%p %p %u %p %p", handle, buf, (unsigned int)count, (void *)written, reserved);
    if (count && !buf) {
        os_set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    return console_write(handle, buf, count, count, written);
}

/***********************************************************************
 *           WriteConsoleW   (kernel32_tp.@)
 *
 * count UTF-16 units, written to the terminal in UTF-8; *written counts
 * the units.
 */
BOOL WINAPI WriteConsoleW(HANDLE handle, const void *buf, DWORD count, DWORD *written,
                          void *reserved)
{
    size_t len;
    char *utf8;
    BOOL ret;

    HANDLE_TRACE("%p %p %u %p %p", handle, buf, (unsigned int)count, (void *)written, reserved);
    if (count && !buf) {
        os_set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    /* A terminal cannot show an unpaired surrogate: U+FFFD instead. */
    len = handle_utf16_to_utf8(buf, count, NULL, 0, NULL);
    if (!(utf8 = malloc(len + 1))) {
        os_set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    handle_utf16_to_utf8(buf, count, utf8, len, NULL);
    ret = console_write(handle, utf8, (DWORD)len, count, written);
    free(utf8);
    return ret;
}

/* A console handle's core, referenced, and its terminal's settings.
 * ERROR_INVALID_HANDLE for what is not a console. */
static DWORD console_termios(HANDLE handle, struct file_core **core, struct termios *tio)
{
    DWORD err;

    if ((err = console_lookup(handle, FALSE, core)) != ERROR_SUCCESS)
        return err;
    /* The handle's own duplicate of the descriptor: the same terminal. */
    if (tcgetattr((*core)->fd, tio)) {
        file_core_unref(*core);
        return ERROR_INVALID_HANDLE;
    }
    return ERROR_SUCCESS;
}

/***********************************************************************
 *           GetConsoleMode   (kernel32_tp.@)
 *
 * Input: ENABLE_PROCESSED_INPUT, ENABLE_LINE_INPUT, ENABLE_ECHO_INPUT from
 * ISIG, ICANON, ECHO.  Output: processed, wrapping and virtual-terminal
 * output always; DISABLE_NEWLINE_AUTO_RETURN when ONLCR is off.
 */
BOOL WINAPI GetConsoleMode(HANDLE handle, LPDWORD mode)
{
    struct file_core *core;
    struct termios tio;
    DWORD err, result = 0;
    BOOL input;

    HANDLE_TRACE("%p %p", handle, (void *)mode);
    if ((err = console_termios(handle, &core, &tio)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    input = core->can_read;     /* standard input; the others are output */
    file_core_unref(core);
    if (!mode) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (input) {
        if (tio.c_lflag & ISIG)
            result |= ENABLE_PROCESSED_INPUT;
        if (tio.c_lflag & ICANON)
            result |= ENABLE_LINE_INPUT;
        if (tio.c_lflag & ECHO)
            result |= ENABLE_ECHO_INPUT;
    } else {
        result = CONSOLE_OUTPUT_ALWAYS;
        if (!(tio.c_oflag & OPOST) || !(tio.c_oflag & ONLCR))
            result |= DISABLE_NEWLINE_AUTO_RETURN;
    }
    *mode = result;
    return TRUE;
}

/***********************************************************************
 *           SetConsoleMode   (kernel32_tp.@)
 *
 * The termios flags of GetConsoleMode are set; unknown bits, and echo
 * without line input, are ERROR_INVALID_PARAMETER as on Windows.  Turning
 * off what a terminal always does (processed, wrapping or virtual-terminal
 * output) is ERROR_NOT_SUPPORTED.
 */
BOOL WINAPI SetConsoleMode(HANDLE handle, DWORD mode)
{
    struct file_core *core;
    struct termios tio;
    DWORD err;

    HANDLE_TRACE("%p %#x", handle, (unsigned int)mode);
    if ((err = console_termios(handle, &core, &tio)) != ERROR_SUCCESS)
        goto fail;
    if (core->can_read) {
        if ((mode & ~CONSOLE_INPUT_MODES)
            || ((mode & ENABLE_ECHO_INPUT) && !(mode & ENABLE_LINE_INPUT))) {
            err = ERROR_INVALID_PARAMETER;
            goto done;
        }
        tio.c_lflag &= ~(tcflag_t)(ISIG | ICANON | ECHO);
        if (mode & ENABLE_PROCESSED_INPUT)
            tio.c_lflag |= ISIG;
        if (mode & ENABLE_LINE_INPUT)
            tio.c_lflag |= ICANON;
        if (mode & ENABLE_ECHO_INPUT)
            tio.c_lflag |= ECHO;
    } else {
        if (mode & ~CONSOLE_OUTPUT_MODES) {
            err = ERROR_INVALID_PARAMETER;
            goto done;
        }
        if ((mode & CONSOLE_OUTPUT_ALWAYS) != CONSOLE_OUTPUT_ALWAYS) {
            err = ERROR_NOT_SUPPORTED;
            goto done;
        }
        tio.c_oflag |= OPOST;
        if (mode & DISABLE_NEWLINE_AUTO_RETURN)
            tio.c_oflag &= ~(tcflag_t)ONLCR;
        else
            tio.c_oflag |= ONLCR;
    }
    /* Under the core's reference: the descriptor stays open meanwhile. */
    if (tcsetattr(core->fd, TCSANOW, &tio))
        err = os_error_from_errno(errno);
done:
    file_core_unref(core);
fail:
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

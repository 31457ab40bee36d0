/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the standard handles and console modes.
 * GetStdHandle, GetConsoleMode, SetConsoleMode.
 *
 * A standard handle names the process's descriptor 0, 1 or 2: an object
 * that knows only its descriptor.  It is not waitable and the file layer
 * does not read or write it (ReadFile/WriteFile: ERROR_INVALID_HANDLE);
 * its use here is the console mode, which is the terminal's termios
 * settings when the descriptor is a terminal.  As on Windows, a standard
 * handle that is not a console (redirected to a file or a pipe) fails
 * GetConsoleMode with ERROR_INVALID_HANDLE.
 *
 * Locks: std_lock (D) while a standard handle is made; termios calls are
 * the kernel's business.
 */
#include <errno.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "handle.h"

struct console {
    struct handle_object obj;   /* (c) first */
    int fd;                     /* (c) 0, 1 or 2 */
};

static const struct handle_ops console_ops = {
    .type = HANDLE_TYPE_CONSOLE,
};

static pthread_mutex_t std_lock = PTHREAD_MUTEX_INITIALIZER;   /* D */
static HANDLE std_handles[3];   /* (D) made on first use */

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

/***********************************************************************
 *           GetStdHandle   (kernel32_tp.@)
 *
 * The same handle every time, made on first use.  A closed standard
 * handle stays closed, as on Windows.
 */
HANDLE WINAPI GetStdHandle(DWORD which)
{
    struct console *console;
    HANDLE handle = NULL;
    DWORD err = ERROR_SUCCESS;
    int fd;

    HANDLE_TRACE("%d", (int)which);
    switch (which) {
    case STD_INPUT_HANDLE: fd = 0; break;
    case STD_OUTPUT_HANDLE: fd = 1; break;
    case STD_ERROR_HANDLE: fd = 2; break;
    default:
        os_set_last_error(ERROR_INVALID_HANDLE);
        return INVALID_HANDLE_VALUE;
    }
    pthread_mutex_lock(&std_lock);
    if (!(handle = std_handles[fd])) {
        if (!(console = calloc(1, sizeof(*console)))) {
            err = ERROR_NOT_ENOUGH_MEMORY;
        } else {
            handle_object_init(&console->obj, &console_ops);
            console->fd = fd;
            if ((err = handle_alloc(&console->obj, &handle)) == ERROR_SUCCESS)
                std_handles[fd] = handle;
            handle_object_unref(&console->obj);     /* the handle keeps it */
        }
    }
    pthread_mutex_unlock(&std_lock);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return INVALID_HANDLE_VALUE;
    }
    return handle;
}

/* The terminal behind a console handle, with its settings: ERROR_INVALID_HANDLE
 * for anything else, as for a Windows handle that is not a console. */
static DWORD console_lookup(HANDLE handle, int *fd, struct termios *tio)
{
    struct handle_object *obj;
    DWORD err;

    if ((err = handle_lookup(handle, HANDLE_TYPE_CONSOLE, &obj)) != ERROR_SUCCESS)
        return err;
    *fd = ((struct console *)obj)->fd;
    handle_object_unref(obj);
    if (!isatty(*fd) || tcgetattr(*fd, tio))
        return ERROR_INVALID_HANDLE;
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
    struct termios tio;
    DWORD err, result = 0;
    int fd;

    HANDLE_TRACE("%p %p", handle, (void *)mode);
    if ((err = console_lookup(handle, &fd, &tio)) == ERROR_SUCCESS && !mode)
        err = ERROR_INVALID_PARAMETER;
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (fd == 0) {
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
    struct termios tio;
    DWORD err;
    int fd;

    HANDLE_TRACE("%p %#x", handle, (unsigned int)mode);
    if ((err = console_lookup(handle, &fd, &tio)) != ERROR_SUCCESS)
        goto fail;
    if (fd == 0) {
        if ((mode & ~CONSOLE_INPUT_MODES)
            || ((mode & ENABLE_ECHO_INPUT) && !(mode & ENABLE_LINE_INPUT))) {
            err = ERROR_INVALID_PARAMETER;
            goto fail;
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
            goto fail;
        }
        if ((mode & CONSOLE_OUTPUT_ALWAYS) != CONSOLE_OUTPUT_ALWAYS) {
            err = ERROR_NOT_SUPPORTED;
            goto fail;
        }
        tio.c_oflag |= OPOST;
        if (mode & DISABLE_NEWLINE_AUTO_RETURN)
            tio.c_oflag &= ~(tcflag_t)ONLCR;
        else
            tio.c_oflag |= ONLCR;
    }
    if (tcsetattr(fd, TCSANOW, &tio)) {
        err = os_error_from_errno(errno);
        goto fail;
    }
    return TRUE;

fail:
    os_set_last_error(err);
    return FALSE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: what Windows programs ask about their process and
 * threads beyond the thread objects of win_thread.c: GetCommandLineA/W,
 * GetModuleFileNameA/W, SwitchToThread, and the C runtime's
 * _beginthreadex/_endthreadex.
 *
 * The command line is rebuilt once from /proc/self/cmdline, each argument
 * quoted as CommandLineToArgvW and the C runtime parse it back.  Module
 * file names are Linux paths (with '/').  Locks: none besides the
 * command line's pthread_once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "handle.h"
#include <process.h>

/* ---- the command line ------------------------------------------------------- */

static pthread_once_t command_line_once = PTHREAD_ONCE_INIT;
static char *command_line_a;        /* (c) after command_line_once; UTF-8 */
static WCHAR *command_line_w;       /* (c) after command_line_once */

/* Appends arg to out (room checked by the caller: 2 * len + 3 bytes),
 * quoted when it needs to be: backslashes are doubled only before a quote. */
static size_t command_line_quote(const char *arg, char *out)
{
    size_t n = 0, slashes = 0;
    BOOL quote = !*arg || strpbrk(arg, " \t\"") != NULL;

    if (quote)
        out[n++] = '"';
    for (; *arg; arg++) {
        if (*arg == '\\') {
            slashes++;
        } else {
            if (*arg == '"') {
                while (slashes--)
                    out[n++] = '\\';
                out[n++] = '\\';
            }
            slashes = 0;
        }
        out[n++] = *arg;
    }
    if (quote) {
        while (slashes--)
            out[n++] = '\\';
        out[n++] = '"';
    }
    return n;
}

static char *command_line_read(size_t *size)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap), *grown;
    ssize_t n;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || !buf) {
        if (fd >= 0)
            close(fd);
        free(buf);
        return NULL;
    }
    while ((n = read(fd, buf + len, cap - len)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0 && (len += (size_t)n) == cap) {
            if (!(grown = realloc(buf, cap * 2)))
                break;
            buf = grown;
            cap *= 2;
        }
    }
    close(fd);
    *size = len;
    return buf;
}

static void command_line_build(void)
{
    size_t size = 0, i, len = 0, wlen;
    char *args = command_line_read(&size), *line;

    if (!args || !(line = malloc(2 * size + 3 * (size + 1) + 1))) {
        free(args);
        return;
    }
    for (i = 0; i < size; i += strlen(args + i) + 1) {
        if (len)
            line[len++] = ' ';
        len += command_line_quote(args + i, line + len);
    }
    line[len] = 0;
    free(args);
    command_line_a = line;
    wlen = handle_utf8_to_utf16(line, len + 1, NULL, 0, NULL);
    if ((command_line_w = malloc(wlen * sizeof(WCHAR))))
        handle_utf8_to_utf16(line, len + 1, command_line_w, wlen, NULL);
}

/***********************************************************************
 *           GetCommandLineA   (kernel32_tp.@)
 *
 * The same pointer every time; arguments with spaces, tabs or quotes are
 * quoted.
 */
LPSTR WINAPI GetCommandLineA(void)
{
    static char empty[1];

    HANDLE_TRACE("%s", "()");
    pthread_once(&command_line_once, command_line_build);
    return command_line_a ? command_line_a : empty;
}

/***********************************************************************
 *           GetCommandLineW   (kernel32_tp.@)
 */
LPWSTR WINAPI GetCommandLineW(void)
{
    static WCHAR empty[1];

    HANDLE_TRACE("%s", "()");
    pthread_once(&command_line_once, command_line_build);
    return command_line_w ? command_line_w : empty;
}

/* ---- module file names ---------------------------------------------------------- */

/* The file name of module (NULL: the program), malloc'ed.
 * ERROR_MOD_NOT_FOUND, ERROR_NOT_ENOUGH_MEMORY. */
static DWORD module_file_name(HMODULE module, char **name)
{
    char *path = NULL, *exe;
    ssize_t n;
    DWORD err;

    if (module && (err = handle_module_path(module, &path)) != ERROR_SUCCESS)
        return err;
    if (path) {
        *name = path;
        return ERROR_SUCCESS;
    }
    if (!(exe = malloc(PATH_MAX)))
        return ERROR_NOT_ENOUGH_MEMORY;
    if ((n = readlink("/proc/self/exe", exe, PATH_MAX - 1)) < 0) {
        free(exe);
        return os_error_from_errno(errno);
    }
    exe[n] = 0;
    *name = exe;
    return ERROR_SUCCESS;
}

/*
 * Copies len units of name (narrow or wide) to buf of size units: all of
 * it and a NUL, or, when it does not fit, size - 1 units and a NUL with
 * ERROR_INSUFFICIENT_BUFFER, returning size (as Windows since Vista).
 */
static DWORD module_name_copy(const void *name, size_t len, BOOL wide, void *buf, DWORD size)
{
    size_t unit = wide ? sizeof(WCHAR) : 1, copy = len < size ? len : size ? size - 1 : 0;

    if (!size) {
        os_set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    memcpy(buf, name, copy * unit);
    if (wide)
        ((WCHAR *)buf)[copy] = 0;
    else
        ((char *)buf)[copy] = 0;
    if (copy < len) {
        os_set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return size;
    }
    return (DWORD)len;
}

/***********************************************************************
 *           GetModuleFileNameA   (kernel32_tp.@)
 *
 * A Linux path: the program's (/proc/self/exe) for NULL or the program's
 * module, else the shared object's as the loader knows it.
 */
DWORD WINAPI GetModuleFileNameA(HMODULE module, LPSTR buf, DWORD size)
{
    char *name;
    DWORD err, ret;

    HANDLE_TRACE("%p %p %u", (void *)module, (void *)buf, (unsigned int)size);
    if ((err = module_file_name(module, &name)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    ret = module_name_copy(name, strlen(name), FALSE, buf, size);
    free(name);
    return ret;
}

/***********************************************************************
 *           GetModuleFileNameW   (kernel32_tp.@)
 */
DWORD WINAPI GetModuleFileNameW(HMODULE module, LPWSTR buf, DWORD size)
{
    size_t len;
    WCHAR *wide;
    char *name;
    DWORD err, ret;

    HANDLE_TRACE("%p %p %u", (void *)module, (void *)buf, (unsigned int)size);
    if ((err = module_file_name(module, &name)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    len = handle_utf8_to_utf16(name, strlen(name), NULL, 0, NULL);
    if (!(wide = malloc((len + 1) * sizeof(WCHAR)))) {
        free(name);
        os_set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return 0;
    }
    handle_utf8_to_utf16(name, strlen(name), wide, len, NULL);
    free(name);
    ret = module_name_copy(wide, len, TRUE, buf, size);
    free(wide);
    return ret;
}

/* ---- threads ---------------------------------------------------------------------- */

/***********************************************************************
 *           SwitchToThread   (kernel32_tp.@)
 *
 * Yields; TRUE when the thread was switched out meanwhile (its context
 * switch counts moved), that is when another thread ran.
 */
BOOL WINAPI SwitchToThread(void)
{
    struct rusage before, after;

    HANDLE_TRACE("%s", "()");
    if (getrusage(RUSAGE_THREAD, &before))
        return FALSE;
    sched_yield();
    if (getrusage(RUSAGE_THREAD, &after))
        return FALSE;
    return after.ru_nvcsw + after.ru_nivcsw != before.ru_nvcsw + before.ru_nivcsw;
}

/***********************************************************************
 *           _beginthreadex   (kernel32_tp.@)
 *
 * The C runtime's thread start: a waitable thread handle (close it with
 * CloseHandle), 0 with errno on failure (EINVAL for no start routine or
 * CREATE_SUSPENDED, which this layer cannot do; EAGAIN otherwise).
 */
uintptr_t __cdecl _beginthreadex(void *security, unsigned int stack_size,
                                 _beginthreadex_start_routine_t start, void *arg,
                                 unsigned int flags, unsigned int *tid)
{
    LPTHREAD_START_ROUTINE fn;
    HANDLE handle = NULL;
    DWORD err, id = 0;

    HANDLE_TRACE("%p %u %p %p %#x %p", security, stack_size, (void *)start, arg, flags,
                 (void *)tid);
    if (!start) {
        errno = EINVAL;
        return 0;
    }
    /* unsigned (__stdcall *)(void *) and DWORD (WINAPI *)(void *): one ABI. */
    memcpy(&fn, &start, sizeof(fn));
    if ((err = handle_thread_create(stack_size, fn, arg, flags, &handle, tid ? &id : NULL))
        != ERROR_SUCCESS) {
        errno = err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_PARAMETER ? EINVAL : EAGAIN;
        os_set_last_error(err);
        return 0;
    }
    if (tid)
        *tid = id;
    return (uintptr_t)handle;
}

/***********************************************************************
 *           _endthreadex   (kernel32_tp.@)
 *
 * Ends the calling thread with code, as ExitThread.
 */
void __cdecl _endthreadex(unsigned int code)
{
    HANDLE_TRACE("%u", code);
    handle_thread_exit(code);
}

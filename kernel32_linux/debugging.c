/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the debugging calls Windows programs make.
 * DebugBreak, OutputDebugStringA/W, IsDebuggerPresent.
 *
 * DebugBreak raises SIGTRAP: a debugger stops there; without one the
 * process ends with SIGTRAP, as a Windows process ends with an unhandled
 * EXCEPTION_BREAKPOINT.  OutputDebugString has no debugger channel on
 * Linux: with KERNEL32_TP_DEBUG_OUTPUT=1 in the environment its text goes
 * to standard error, otherwise nowhere (as on Windows with no debugger
 * attached).  IsDebuggerPresent tells whether a tracer (gdb, strace) is
 * attached.  No locks, no state.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handle.h"

/***********************************************************************
 *           DebugBreak   (kernel32_tp.@)
 */
void WINAPI DebugBreak(void)
{
    HANDLE_TRACE("%s", "()");
    raise(SIGTRAP);
}

/***********************************************************************
 *           IsDebuggerPresent   (kernel32_tp.@)
 *
 * TRUE while a tracer is attached (TracerPid in /proc/self/status).
 */
BOOL WINAPI IsDebuggerPresent(void)
{
    char line[128];
    long tracer = 0;
    FILE *status;

    HANDLE_TRACE("%s", "()");
    if (!(status = fopen("/proc/self/status", "re")))
        return FALSE;
    while (fgets(line, sizeof(line), status)) {
        if (!strncmp(line, "TracerPid:", 10)) {
            tracer = strtol(line + 10, NULL, 10);
            break;
        }
    }
    fclose(status);
    return tracer != 0;
}

static BOOL debug_output_wanted(void)
{
    const char *value = getenv("KERNEL32_TP_DEBUG_OUTPUT");

    return value && *value && strcmp(value, "0") != 0;
}

static void debug_output_write(const char *text, size_t len)
{
    ssize_t n;

    while (len) {
        if ((n = write(STDERR_FILENO, text, len)) <= 0)
            return;     /* a debug channel never fails its caller */
        text += n;
        len -= (size_t)n;
    }
}

/***********************************************************************
 *           OutputDebugStringA   (kernel32_tp.@)
 *
 * The text as it is, to standard error with KERNEL32_TP_DEBUG_OUTPUT=1.
 */
void WINAPI OutputDebugStringA(LPCSTR text)
{
    HANDLE_TRACE("%p", (const void *)text);
    if (text && debug_output_wanted())
        debug_output_write(text, strlen(text));
}

/***********************************************************************
 *           OutputDebugStringW   (kernel32_tp.@)
 *
 * In UTF-8, as OutputDebugStringA.
 */
void WINAPI OutputDebugStringW(LPCWSTR text)
{
    size_t count = 0, len;
    char *utf8;

    HANDLE_TRACE("%p", (const void *)text);
    if (!text || !debug_output_wanted())
        return;
    while (text[count])
        count++;
    len = handle_utf16_to_utf8(text, count, NULL, 0, NULL);
    if (!(utf8 = malloc(len ? len : 1)))
        return;
    handle_utf16_to_utf8(text, count, utf8, len, NULL);
    debug_output_write(utf8, len);
    free(utf8);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32: misuse that Windows reports with an exception raises the same
 * continuable STATUS_INVALID_PARAMETER exception in the caller, so a program
 * (or a test) with a handler sees what the system thread pool would do.
 * Misuse of a released or invalid object that the checked mode caught
 * (check.c) prints its line and raises the exception noncontinuable, as
 * ntdll's own validation does.
 */
#include <string.h>
#include <windows.h>

#include "os.h"

#define TP_STATUS_INVALID_PARAMETER 0xC000000Du

void os_raise_invalid_parameter(const char *func, const char *what, const void *object)
{
    (void)func;
    (void)what;
    (void)object;
    RaiseException(TP_STATUS_INVALID_PARAMETER, 0, 0, NULL);
}

/* Written with WriteFile: the C runtime's stderr may be buffered or closed. */
void os_misuse_stop(const char *line)
{
    static const char prefix[] = "kernel32_tp: fatal: ";
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD written;

    if (err && err != INVALID_HANDLE_VALUE) {
        WriteFile(err, prefix, sizeof(prefix) - 1, &written, NULL);
        WriteFile(err, line, (DWORD)strlen(line), &written, NULL);
        WriteFile(err, "\n", 1, &written, NULL);
    }
    RaiseException(TP_STATUS_INVALID_PARAMETER, EXCEPTION_NONCONTINUABLE, 0, NULL);
    /* A handler that "continued" it: the system raised another exception;
     * if that came back too, stop here. */
    TerminateProcess(GetCurrentProcess(), TP_STATUS_INVALID_PARAMETER);
    for (;;)
        ;
}

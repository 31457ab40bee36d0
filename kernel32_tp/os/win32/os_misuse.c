/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32: misuse that Windows reports with an exception raises the same
 * continuable STATUS_INVALID_PARAMETER exception in the caller, so a program
 * (or a test) with a handler sees what the system thread pool would do.
 */
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* win32: the spin-loop hint, and the process's CPU time. */
#include <windows.h>

#include "os.h"

void os_cpu_relax(void)
{
    YieldProcessor();
}

ULONGLONG os_process_cpu_ns(void)
{
    FILETIME created, exited, kernel, user;

    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
        return 0;
    /* 100 ns units. */
    return ((((ULONGLONG)kernel.dwHighDateTime << 32) | kernel.dwLowDateTime)
            + (((ULONGLONG)user.dwHighDateTime << 32) | user.dwLowDateTime)) * 100;
}

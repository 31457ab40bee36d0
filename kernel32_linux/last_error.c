/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the Win32 last error, one value per thread (a new
 * thread starts with 0).  GetLastError/SetLastError and their internal
 * names os_get_last_error/os_set_last_error.  No locks.
 */
#include "handle.h"

static _Thread_local DWORD last_error;     /* (X) */

DWORD os_get_last_error(void)
{
    return last_error;
}

void os_set_last_error(DWORD err)
{
    last_error = err;
}

/***********************************************************************
 *           GetLastError   (kernel32_tp.@)
 */
DWORD WINAPI GetLastError(void)
{
    HANDLE_TRACE("%u", (unsigned int)last_error);
    return last_error;
}

/***********************************************************************
 *           SetLastError   (kernel32_tp.@)
 */
VOID WINAPI SetLastError(DWORD err)
{
    HANDLE_TRACE("%u", (unsigned int)err);
    last_error = err;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: the handle actions behind a callback instance's completion
 * actions, module references and the last error, all passed straight to
 * the system's own objects (kernel32).  Knows nothing about pools.  Takes
 * no lock of its own.
 */
#include "os.h"

BOOL os_handle_set_event(HANDLE event, DWORD *err)
{
    if (SetEvent(event))
        return TRUE;
    *err = GetLastError();
    return FALSE;
}

BOOL os_handle_release_semaphore(HANDLE semaphore, LONG count, DWORD *err)
{
    if (ReleaseSemaphore(semaphore, count, NULL))
        return TRUE;
    *err = GetLastError();
    return FALSE;
}

BOOL os_handle_release_mutex(HANDLE mutex, DWORD *err)
{
    if (ReleaseMutex(mutex))
        return TRUE;
    *err = GetLastError();
    return FALSE;
}

void os_critical_section_leave(CRITICAL_SECTION *cs)
{
    LeaveCriticalSection(cs);
}

DWORD os_library_addref(HMODULE module)
{
    HMODULE found;

    /* Without GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT the lookup takes
     * a reference: exactly one LoadLibrary's worth, dropped by FreeLibrary. */
    if (!module || !GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                                       (LPCWSTR)module, &found))
        return ERROR_MOD_NOT_FOUND;
    /* An address inside some module is not that module's handle. */
    if (found != module) {
        FreeLibrary(found);
        return ERROR_MOD_NOT_FOUND;
    }
    return ERROR_SUCCESS;
}

void os_library_free(HMODULE module)
{
    FreeLibrary(module);
}

DWORD os_get_last_error(void)
{
    return GetLastError();
}

void os_set_last_error(DWORD err)
{
    SetLastError(err);
}

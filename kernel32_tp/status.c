/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one table from the Win32 errors the core returns to the NTSTATUS
 * values ntdll's Tp* functions report.  No locks, no state.
 */
#include "tp_private.h"

#define TP_STATUS_SUCCESS           ((NTSTATUS)0x00000000)
#define TP_STATUS_PENDING           ((NTSTATUS)0x00000103)
#define TP_STATUS_UNSUCCESSFUL      ((NTSTATUS)0xC0000001)
#define TP_STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000D)
#define TP_STATUS_NO_MEMORY         ((NTSTATUS)0xC0000017)
#define TP_STATUS_TOO_MANY_THREADS  ((NTSTATUS)0xC0000129)
#define TP_STATUS_INVALID_HANDLE    ((NTSTATUS)0xC0000008)
#define TP_STATUS_DLL_NOT_FOUND     ((NTSTATUS)0xC0000135)
#define TP_STATUS_NOT_SUPPORTED     ((NTSTATUS)0xC00000BB)

NTSTATUS tp_status_from_error(DWORD err)
{
    switch (err) {
    case ERROR_SUCCESS: return TP_STATUS_SUCCESS;
    /* Callbacks still outstanding (RtlDeleteTimer, RtlDeregisterWaitEx...):
     * a success status, which kernel32 turns into ERROR_IO_PENDING. */
    case ERROR_IO_PENDING: return TP_STATUS_PENDING;
    case ERROR_INVALID_PARAMETER: return TP_STATUS_INVALID_PARAMETER;
    case ERROR_NOT_ENOUGH_MEMORY: return TP_STATUS_NO_MEMORY;
    case ERROR_TOO_MANY_THREADS: return TP_STATUS_TOO_MANY_THREADS;
    case ERROR_INVALID_HANDLE: return TP_STATUS_INVALID_HANDLE;
    case ERROR_MOD_NOT_FOUND: return TP_STATUS_DLL_NOT_FOUND;
    case ERROR_NOT_SUPPORTED: return TP_STATUS_NOT_SUPPORTED;
    default: return TP_STATUS_UNSUCCESSFUL;
    }
}

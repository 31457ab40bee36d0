/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the time exports.  GetTickCount(64) and the
 * performance counter run on CLOCK_MONOTONIC, the clock waits and pool
 * timers use, so they agree with each other; the system time is
 * CLOCK_REALTIME as a FILETIME.  No locks, no state.
 */
#include "handle.h"
/* NtClose, NtQuerySystemTime: declared (and so exported) by winternl.h. */
#include <winternl.h>

/* Windows 10 and later report a 10 MHz performance counter. */
#define TIME_QPC_FREQUENCY 10000000ll

/***********************************************************************
 *           GetTickCount   (kernel32_tp.@)
 */
DWORD WINAPI GetTickCount(void)
{
    HANDLE_TRACE("%s", "()");
    return (DWORD)(os_clock_monotonic_ns() / 1000000ull);
}

/***********************************************************************
 *           GetTickCount64   (kernel32_tp.@)
 */
ULONGLONG WINAPI GetTickCount64(void)
{
    HANDLE_TRACE("%s", "()");
    return os_clock_monotonic_ns() / 1000000ull;
}

/***********************************************************************
 *           QueryPerformanceCounter   (kernel32_tp.@)
 */
BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *counter)
{
    HANDLE_TRACE("%p", (void *)counter);
    if (!counter) {
        os_set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    counter->QuadPart = (LONGLONG)(os_clock_monotonic_ns() / (1000000000ull / TIME_QPC_FREQUENCY));
    return TRUE;
}

/***********************************************************************
 *           QueryPerformanceFrequency   (kernel32_tp.@)
 */
BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *frequency)
{
    HANDLE_TRACE("%p", (void *)frequency);
    if (!frequency) {
        os_set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    frequency->QuadPart = TIME_QPC_FREQUENCY;
    return TRUE;
}

/***********************************************************************
 *           GetSystemTimeAsFileTime   (kernel32_tp.@)
 */
VOID WINAPI GetSystemTimeAsFileTime(FILETIME *time)
{
    ULONGLONG now_100ns = os_clock_system_100ns();

    HANDLE_TRACE("%p", (void *)time);
    time->dwLowDateTime = (DWORD)now_100ns;
    time->dwHighDateTime = (DWORD)(now_100ns >> 32);
}

/***********************************************************************
 *           NtQuerySystemTime   (kernel32_tp.@)
 *
 * The system time (CLOCK_REALTIME) in 100 ns units since 1601.
 */
NTSTATUS WINAPI NtQuerySystemTime(LARGE_INTEGER *time)
{
    HANDLE_TRACE("%p", (void *)time);
    if (!time)
        return STATUS_ACCESS_VIOLATION;
    time->QuadPart = (LONGLONG)os_clock_system_100ns();
    return STATUS_SUCCESS;
}

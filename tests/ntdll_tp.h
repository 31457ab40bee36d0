/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ntdll's thread-pool names (Tp*) for the tests, with their NTSTATUS codes.
 *
 * Built against Wine's headers, <winternl.h> declares them.  mingw-w64's
 * headers do not: they are declared here as Windows' ntdll exports them
 * (link with -lntdll).  Wine's headers give TpSetPoolMinThreads a BOOL
 * result where Windows returns an NTSTATUS; callers read either as a LONG.
 */
#ifndef KERNEL32_TP_TEST_NTDLL_TP_H
#define KERNEL32_TP_TEST_NTDLL_TP_H

#include <windows.h>
#include <winternl.h>

#ifdef __MINGW32__
NTSTATUS WINAPI TpAllocCleanupGroup(PTP_CLEANUP_GROUP *group);
NTSTATUS WINAPI TpAllocPool(PTP_POOL *pool, PVOID reserved);
NTSTATUS WINAPI TpAllocWork(PTP_WORK *work, PTP_WORK_CALLBACK callback, PVOID context,
                            PTP_CALLBACK_ENVIRON env);
void WINAPI TpCallbackLeaveCriticalSectionOnCompletion(PTP_CALLBACK_INSTANCE inst,
                                                       CRITICAL_SECTION *cs);
NTSTATUS WINAPI TpCallbackMayRunLong(PTP_CALLBACK_INSTANCE inst);
void WINAPI TpCallbackReleaseMutexOnCompletion(PTP_CALLBACK_INSTANCE inst, HANDLE mutex);
void WINAPI TpCallbackReleaseSemaphoreOnCompletion(PTP_CALLBACK_INSTANCE inst, HANDLE semaphore,
                                                   DWORD count);
void WINAPI TpCallbackSetEventOnCompletion(PTP_CALLBACK_INSTANCE inst, HANDLE event);
void WINAPI TpCallbackUnloadDllOnCompletion(PTP_CALLBACK_INSTANCE inst, HMODULE module);
void WINAPI TpDisassociateCallback(PTP_CALLBACK_INSTANCE inst);
void WINAPI TpPostWork(PTP_WORK work);
NTSTATUS WINAPI TpQueryPoolStackInformation(PTP_POOL pool, PTP_POOL_STACK_INFORMATION info);
void WINAPI TpReleaseCleanupGroup(PTP_CLEANUP_GROUP group);
void WINAPI TpReleaseCleanupGroupMembers(PTP_CLEANUP_GROUP group, BOOL cancel, PVOID context);
void WINAPI TpReleasePool(PTP_POOL pool);
void WINAPI TpReleaseWork(PTP_WORK work);
void WINAPI TpSetPoolMaxThreads(PTP_POOL pool, DWORD max_threads);
NTSTATUS WINAPI TpSetPoolMinThreads(PTP_POOL pool, DWORD min_threads);
NTSTATUS WINAPI TpSetPoolStackInformation(PTP_POOL pool, PTP_POOL_STACK_INFORMATION info);
NTSTATUS WINAPI TpSimpleTryPost(PTP_SIMPLE_CALLBACK callback, PVOID context,
                                PTP_CALLBACK_ENVIRON env);
void WINAPI TpWaitForWork(PTP_WORK work, BOOL cancel);

/* ntdll's legacy names. */
NTSTATUS WINAPI RtlQueueWorkItem(LPTHREAD_START_ROUTINE routine, PVOID context, ULONG flags);
NTSTATUS WINAPI RtlRegisterWait(PHANDLE wait, HANDLE handle, WAITORTIMERCALLBACK callback,
                                PVOID context, ULONG timeout_ms, ULONG flags);
NTSTATUS WINAPI RtlDeregisterWait(HANDLE wait);
NTSTATUS WINAPI RtlDeregisterWaitEx(HANDLE wait, HANDLE event);
NTSTATUS WINAPI RtlCreateTimerQueue(PHANDLE queue);
NTSTATUS WINAPI RtlCreateTimer(HANDLE queue, PHANDLE timer, WAITORTIMERCALLBACK callback,
                               PVOID context, DWORD due_ms, DWORD period_ms, ULONG flags);
NTSTATUS WINAPI RtlUpdateTimer(HANDLE queue, HANDLE timer, DWORD due_ms, DWORD period_ms);
NTSTATUS WINAPI RtlDeleteTimer(HANDLE queue, HANDLE timer, HANDLE event);
NTSTATUS WINAPI RtlDeleteTimerQueueEx(HANDLE queue, HANDLE event);
/* Windows' ntdll exports it; Wine 8's does not (the reference run looks
 * it up instead of importing it). */
NTSTATUS WINAPI RtlDeleteTimerQueue(HANDLE queue);
#endif

/* NTSTATUS values as LONGs (the headers disagree on their types). */
#define TP_TEST_STATUS_SUCCESS ((LONG)0x00000000)
#define TP_TEST_STATUS_PENDING ((LONG)0x00000103)
#define TP_TEST_STATUS_INVALID_HANDLE ((LONG)0xC0000008)
#define TP_TEST_STATUS_INVALID_PARAMETER ((LONG)0xC000000D)
#define TP_TEST_STATUS_TOO_MANY_THREADS ((LONG)0xC0000129)

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <winternl.h> on Linux: ntdll's Tp* declarations take TP_CALLBACK_ENVIRON,
 * which must already be the V3 environment when Wine's header is read.
 */
#ifndef KERNEL32_TP_WINE_WINTERNL_H
#define KERNEL32_TP_WINE_WINTERNL_H
#include <windows.h>
/* Wine 8 declares TpSetPoolMinThreads with a BOOL result; Windows' is NTSTATUS. */
#define TpSetPoolMinThreads kernel32_tp_wine_TpSetPoolMinThreads
#include_next <winternl.h>
#undef TpSetPoolMinThreads
NTSYSAPI NTSTATUS WINAPI TpSetPoolMinThreads(TP_POOL *, DWORD);
/* Newer than Wine 8's headers, or missing from them. */
NTSYSAPI NTSTATUS WINAPI RtlDeleteTimerQueue(HANDLE);
NTSYSAPI BOOL WINAPI TpSetTimerEx(TP_TIMER *, LARGE_INTEGER *, LONG, LONG);
NTSYSAPI BOOL WINAPI TpSetWaitEx(TP_WAIT *, HANDLE, LARGE_INTEGER *, PVOID);
#endif

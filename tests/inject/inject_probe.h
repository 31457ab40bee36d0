/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the programs of the check-inject set (docs/inject.md) share: a
 * count of the callbacks that ran, a work callback that counts, and the
 * ntdll thread pool names the SDK headers do not declare.  Each program
 * has its own count (static).
 */
#ifndef KERNEL32_TP_INJECT_PROBE_H
#define KERNEL32_TP_INJECT_PROBE_H

#include <windows.h>

NTSTATUS NTAPI TpAllocWork(PTP_WORK *out, PTP_WORK_CALLBACK callback, PVOID userdata,
                           PTP_CALLBACK_ENVIRON env);
VOID NTAPI TpPostWork(PTP_WORK work);
VOID NTAPI TpWaitForWork(PTP_WORK work, BOOL cancel_pending);
VOID NTAPI TpReleaseWork(PTP_WORK work);

static LONG hits;

static void CALLBACK work_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WORK work)
{
    (void)inst; (void)ctx; (void)work;
    InterlockedIncrement(&hits);
}

#endif

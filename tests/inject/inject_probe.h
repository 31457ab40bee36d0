/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the programs of the check-inject set (docs/inject.md) share: a
 * count of the callbacks that ran, a work callback that counts, and the
 * ntdll thread pool names the SDK headers do not declare, and the ends of
 * a program: posting work and letting it go, the final count.  Each program
 * has its own count (static).
 */
#ifndef KERNEL32_TP_INJECT_PROBE_H
#define KERNEL32_TP_INJECT_PROBE_H

#include <windows.h>
#include <stdio.h>

NTSTATUS NTAPI TpAllocWork(PTP_WORK *out, PTP_WORK_CALLBACK callback, PVOID userdata,
                           PTP_CALLBACK_ENVIRON env);
VOID NTAPI TpPostWork(PTP_WORK work);
VOID NTAPI TpWaitForWork(PTP_WORK work, BOOL cancel_pending);
VOID NTAPI TpReleaseWork(PTP_WORK work);

static LONG hits;

static inline void CALLBACK work_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WORK work)
{
    (void)inst; (void)ctx; (void)work;
    InterlockedIncrement(&hits);
}

/* Posts work n times, waits for its callbacks and lets it go, through the
 * names given: kernel32's or ntdll's, imported or looked up. */
static inline void post_wait_release(PTP_WORK work, int n, VOID (WINAPI *post)(PTP_WORK),
                                     VOID (WINAPI *wait)(PTP_WORK, BOOL),
                                     VOID (WINAPI *release)(PTP_WORK))
{
    int i;

    for (i = 0; i < n; i++)
        post(work);
    wait(work, FALSE);
    release(work);
}

/* A program's end: prints "expect N" for the runner, N the callbacks that
 * ran; 0 when they are the expected number, else code. */
static inline int expect_hits(LONG expected, int code)
{
    printf("expect %ld\n", hits);
    return hits == expected ? 0 : code;
}

#endif

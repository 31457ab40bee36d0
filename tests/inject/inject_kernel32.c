/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified program of the check-inject set (docs/inject.md): takes the
 * thread pool from kernel32, as any program linked the usual way does.
 * Runs work, simple callbacks, a timer, a wait and a legacy work item, and
 * prints "expect N" for the callbacks the runner must find in our trace.
 * Exits 0 when every callback ran.
 */
#include <windows.h>
#include <stdio.h>

#include "inject_probe.h"

static void CALLBACK simple_cb(PTP_CALLBACK_INSTANCE inst, void *ctx)
{
    (void)inst;
    InterlockedIncrement(&hits);
    SetEvent(ctx);
}

static void CALLBACK timer_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_TIMER timer)
{
    (void)inst; (void)timer;
    InterlockedIncrement(&hits);
    SetEvent(ctx);
}

static void CALLBACK wait_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WAIT wait,
                             TP_WAIT_RESULT result)
{
    (void)inst; (void)wait;
    if (result == WAIT_OBJECT_0)
        InterlockedIncrement(&hits);
    SetEvent(ctx);
}

static DWORD CALLBACK legacy_cb(void *ctx)
{
    InterlockedIncrement(&hits);
    SetEvent(ctx);
    return 0;
}

int main(void)
{
    HANDLE done = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE signal = CreateEventW(NULL, TRUE, FALSE, NULL);
    PTP_WORK work = CreateThreadpoolWork(work_cb, NULL, NULL);
    PTP_TIMER timer = CreateThreadpoolTimer(timer_cb, done, NULL);
    PTP_WAIT wait = CreateThreadpoolWait(wait_cb, done, NULL);
    LARGE_INTEGER due = { .QuadPart = -10000 };     /* 1 ms */
    FILETIME ft;

    if (!done || !signal || !work || !timer || !wait) {
        printf("create failed: %lu\n", GetLastError());
        return 1;
    }
    post_wait_release(work, 8, SubmitThreadpoolWork, WaitForThreadpoolWorkCallbacks,
                      CloseThreadpoolWork);

    if (!TrySubmitThreadpoolCallback(simple_cb, done, NULL) ||
        WaitForSingleObject(done, 10000) != WAIT_OBJECT_0)
        return 2;
    ft.dwLowDateTime = due.LowPart;
    ft.dwHighDateTime = (DWORD)due.HighPart;
    SetThreadpoolTimer(timer, &ft, 0, 0);
    if (WaitForSingleObject(done, 10000) != WAIT_OBJECT_0)
        return 3;
    WaitForThreadpoolTimerCallbacks(timer, FALSE);
    CloseThreadpoolTimer(timer);
    SetThreadpoolWait(wait, signal, NULL);
    SetEvent(signal);
    if (WaitForSingleObject(done, 10000) != WAIT_OBJECT_0)
        return 4;
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    CloseThreadpoolWait(wait);
    if (!QueueUserWorkItem(legacy_cb, done, WT_EXECUTEDEFAULT) ||
        WaitForSingleObject(done, 10000) != WAIT_OBJECT_0)
        return 5;
    return expect_hits(12, 6);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QueueUserWorkItem with WT_EXECUTELONGFUNCTION: four items that each
 * wait until all four run at once, which the pool allows only because it
 * was told they run long; then plain items.
 */
#include <Windows.h>
#include "console_print.h"

#define LONG_ITEMS 4

static volatile LONG started;
static volatile LONG finished;
static volatile LONG all_together;
static HANDLE everyone_started;
static HANDLE long_done;

static DWORD WINAPI LongItem(LPVOID context)
{
    UNREFERENCED_PARAMETER(context);
    if (InterlockedIncrement(&started) == LONG_ITEMS)
        SetEvent(everyone_started);
    /* Blocks until every item runs: needs LONG_ITEMS threads at once. */
    if (WaitForSingleObject(everyone_started, 10000) == WAIT_OBJECT_0)
        InterlockedIncrement(&all_together);
    if (InterlockedIncrement(&finished) == LONG_ITEMS)
        SetEvent(long_done);
    return 0;
}

static volatile LONG short_runs;
static HANDLE short_done;

static DWORD WINAPI ShortItem(LPVOID context)
{
    if (InterlockedIncrement(&short_runs) == (LONG)(LONG_PTR)context)
        SetEvent(short_done);
    return 0;
}

int wmain(void)
{
    DWORD ret;
    int i;

    everyone_started = CreateEventW(NULL, TRUE, FALSE, NULL);
    long_done = CreateEventW(NULL, TRUE, FALSE, NULL);
    short_done = CreateEventW(NULL, TRUE, FALSE, NULL);
    for (i = 0; i < LONG_ITEMS; i++) {
        if (!QueueUserWorkItem(LongItem, NULL, WT_EXECUTELONGFUNCTION)) {
            print(L"QueueUserWorkItem failed: %lu\n", GetLastError());
            return 1;
        }
    }
    ret = WaitForSingleObject(long_done, 20000);
    print(L"long items: %lu, started %ld, ran together %ld\n", ret, started, all_together);
    for (i = 0; i < 20; i++)
        QueueUserWorkItem(ShortItem, (PVOID)(LONG_PTR)20, WT_EXECUTEDEFAULT);
    ret = WaitForSingleObject(short_done, 10000);
    print(L"short items: %lu, runs %ld\n", ret, short_runs);
    CloseHandle(everyone_started);
    CloseHandle(long_done);
    CloseHandle(short_done);
    return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A timer queue: three one-shot timers with different due times fire in
 * due-time order; a periodic timer is changed with ChangeTimerQueueTimer
 * and deleted while running; the queue is deleted waiting for callbacks.
 */
#include <Windows.h>
#include "console_print.h"

static volatile LONG order_next;
static LONG order[3];
static volatile LONG periodic_ticks;
static HANDLE all_fired;

static VOID CALLBACK OneShot(PVOID context, BOOLEAN fired)
{
    LONG slot = InterlockedIncrement(&order_next) - 1;

    UNREFERENCED_PARAMETER(fired);
    if (slot < 3)
        order[slot] = (LONG)(LONG_PTR)context;
    if (slot == 2)
        SetEvent(all_fired);
}

static VOID CALLBACK Periodic(PVOID context, BOOLEAN fired)
{
    UNREFERENCED_PARAMETER(fired);
    if (InterlockedIncrement(&periodic_ticks) == 3)
        SetEvent((HANDLE)context);
}

int wmain(void)
{
    HANDLE queue = CreateTimerQueue();
    HANDLE timers[3], periodic, three_ticks = CreateEventW(NULL, TRUE, FALSE, NULL);
    static const DWORD due_ms[3] = { 150, 50, 100 };
    DWORD ret;
    int i;

    if (!queue) {
        print(L"CreateTimerQueue failed: %lu\n", GetLastError());
        return 1;
    }
    all_fired = CreateEventW(NULL, TRUE, FALSE, NULL);
    for (i = 0; i < 3; i++) {
        if (!CreateTimerQueueTimer(&timers[i], queue, OneShot, (PVOID)(LONG_PTR)due_ms[i],
                                   due_ms[i], 0, WT_EXECUTEDEFAULT)) {
            print(L"CreateTimerQueueTimer failed: %lu\n", GetLastError());
            return 1;
        }
    }
    ret = WaitForSingleObject(all_fired, 10000);
    print(L"one-shot timers: %lu, order %ld %ld %ld\n", ret, order[0], order[1], order[2]);

    CreateTimerQueueTimer(&periodic, queue, Periodic, three_ticks, 60000, 0, WT_EXECUTEDEFAULT);
    ChangeTimerQueueTimer(queue, periodic, 10, 10);     /* sooner, and periodic */
    ret = WaitForSingleObject(three_ticks, 10000);
    DeleteTimerQueueTimer(queue, periodic, INVALID_HANDLE_VALUE);
    print(L"periodic after change: %lu, at least three ticks %d\n", ret, periodic_ticks >= 3);
    print(L"~ periodic ticks: %ld\n", periodic_ticks);

    if (!DeleteTimerQueueEx(queue, INVALID_HANDLE_VALUE))
        print(L"DeleteTimerQueueEx failed: %lu\n", GetLastError());
    print(L"queue deleted\n");
    CloseHandle(all_fired);
    CloseHandle(three_ticks);
    return 0;
}

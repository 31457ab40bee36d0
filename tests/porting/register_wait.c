/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmain: RegisterWaitForSingleObject, the legacy wait.  A one-shot wait
 * fired by an event, a one-shot wait whose timeout fires it with
 * TimerOrWaitFired TRUE, a repeating wait called back once per signal, and
 * UnregisterWaitEx waiting for callbacks.
 */
#include <Windows.h>
#include "console_print.h"

struct counts {
    volatile LONG fired;
    volatile LONG timed_out;
    LONG target;
    HANDLE done;
};

static VOID CALLBACK WaitOrTimer(PVOID context, BOOLEAN timer_or_wait_fired)
{
    struct counts *c = context;
    LONG total;

    if (timer_or_wait_fired)
        InterlockedIncrement(&c->timed_out);
    else
        InterlockedIncrement(&c->fired);
    total = c->fired + c->timed_out;
    if (total == c->target)
        SetEvent(c->done);
}

int wmain(int argc, wchar_t *argv[])
{
    struct counts once = { 0, 0, 1, CreateEventW(NULL, TRUE, FALSE, NULL) };
    struct counts timeout = { 0, 0, 1, CreateEventW(NULL, TRUE, FALSE, NULL) };
    struct counts repeat = { 0, 0, 3, CreateEventW(NULL, TRUE, FALSE, NULL) };
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE never = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE wait_once, wait_timeout, wait_repeat;
    DWORD ret;
    int i;

    UNREFERENCED_PARAMETER(argc);
    UNREFERENCED_PARAMETER(argv);
    if (!RegisterWaitForSingleObject(&wait_once, event, WaitOrTimer, &once, INFINITE,
                                     WT_EXECUTEONLYONCE)) {
        print(L"RegisterWaitForSingleObject failed: %lu\n", GetLastError());
        return 1;
    }
    SetEvent(event);
    ret = WaitForSingleObject(once.done, 10000);
    print(L"one-shot: %lu, fired %ld, timed out %ld\n", ret, once.fired, once.timed_out);
    if (!UnregisterWaitEx(wait_once, INVALID_HANDLE_VALUE))
        print(L"UnregisterWaitEx failed: %lu\n", GetLastError());

    /* Never signalled: the timeout fires the callback, once. */
    if (!RegisterWaitForSingleObject(&wait_timeout, never, WaitOrTimer, &timeout, 20,
                                     WT_EXECUTEONLYONCE)) {
        print(L"RegisterWaitForSingleObject failed: %lu\n", GetLastError());
        return 1;
    }
    ret = WaitForSingleObject(timeout.done, 10000);
    UnregisterWaitEx(wait_timeout, INVALID_HANDLE_VALUE);
    print(L"timeout: %lu, fired %ld, timed out %ld\n", ret, timeout.fired, timeout.timed_out);

    /* A repeating wait: each signal of the auto-reset event calls back. */
    if (!RegisterWaitForSingleObject(&wait_repeat, event, WaitOrTimer, &repeat, INFINITE,
                                     WT_EXECUTEDEFAULT)) {
        print(L"RegisterWaitForSingleObject failed: %lu\n", GetLastError());
        return 1;
    }
    for (i = 0; i < 3; i++) {
        SetEvent(event);
        /* One callback per signal: wait for it before signalling again. */
        while (repeat.fired + repeat.timed_out < i + 1)
            Sleep(1);
    }
    ret = WaitForSingleObject(repeat.done, 10000);
    UnregisterWaitEx(wait_repeat, INVALID_HANDLE_VALUE);
    print(L"repeating: %lu, fired %ld, timed out %ld\n", ret, repeat.fired, repeat.timed_out);
    CloseHandle(event);
    CloseHandle(never);
    CloseHandle(once.done);
    CloseHandle(timeout.done);
    CloseHandle(repeat.done);
    return 0;
}

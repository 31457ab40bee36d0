/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program of the check-inject set (docs/inject.md, "Exit"): exits while a
 * callback runs, timers are armed and waits registered, by returning from
 * main ("return") or with ExitProcess ("exitprocess"), exit code 7 either
 * way.  inject_exit_dll.dll then uses the pool from its detach.  Passes when
 * it prints "exit: detach done" and ends with 7: no hang, no crash.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

struct exit_objects {
    PTP_WORK running;
    PTP_TIMER timer;
    PTP_WAIT wait;
    HANDLE queue;
    HANDLE registered;
};

__declspec(dllimport) void exit_objects_set(const struct exit_objects *in);

static HANDLE started, never;

static void CALLBACK blocking_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WORK work)
{
    (void)inst; (void)ctx; (void)work;
    SetEvent(started);
    WaitForSingleObject(never, INFINITE);
}

static void CALLBACK timer_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_TIMER timer)
{
    (void)inst; (void)ctx; (void)timer;
}

static void CALLBACK wait_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WAIT wait,
                             TP_WAIT_RESULT result)
{
    (void)inst; (void)ctx; (void)wait; (void)result;
}

static void CALLBACK legacy_cb(void *ctx, BOOLEAN timed_out)
{
    (void)ctx; (void)timed_out;
}

int main(int argc, char **argv)
{
    struct exit_objects o;
    LARGE_INTEGER due = { .QuadPart = -10000 };     /* 1 ms */
    FILETIME ft;
    HANDLE timer;

    started = CreateEventW(NULL, TRUE, FALSE, NULL);
    never = CreateEventW(NULL, TRUE, FALSE, NULL);
    o.running = CreateThreadpoolWork(blocking_cb, NULL, NULL);
    o.timer = CreateThreadpoolTimer(timer_cb, NULL, NULL);
    o.wait = CreateThreadpoolWait(wait_cb, NULL, NULL);
    o.queue = CreateTimerQueue();
    if (!started || !never || !o.running || !o.timer || !o.wait || !o.queue ||
        !RegisterWaitForSingleObject(&o.registered, never, legacy_cb, NULL, INFINITE,
                                     WT_EXECUTEDEFAULT) ||
        !CreateTimerQueueTimer(&timer, o.queue, legacy_cb, NULL, 1, 1, WT_EXECUTEDEFAULT))
        return 1;
    SubmitThreadpoolWork(o.running);
    if (WaitForSingleObject(started, 10000) != WAIT_OBJECT_0)
        return 2;
    ft.dwLowDateTime = due.LowPart;
    ft.dwHighDateTime = (DWORD)due.HighPart;
    SetThreadpoolTimer(o.timer, &ft, 1, 0);
    SetThreadpoolWait(o.wait, never, NULL);
    exit_objects_set(&o);
    Sleep(20);      /* the timers fire a few times; not a timing assertion */
    printf("exit: leaving main (%s)\n", argc > 1 ? argv[1] : "return");
    fflush(stdout);
    if (argc > 1 && !strcmp(argv[1], "exitprocess"))
        ExitProcess(7);
    return 7;
}

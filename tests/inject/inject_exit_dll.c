/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A DLL inject_exit.exe imports (check-inject, docs/inject.md): when the
 * process exits, its detach uses the thread pool on the objects the program
 * left busy.  Under the launcher our DLL, loaded after this one, is detached
 * before it; linked with -lkernel32_tp, after it.  Either way every
 * thread-pool thread is already gone.  Each call must return: none may wait
 * for a callback that can never end or for a lock a vanished thread held.
 */
#include <windows.h>
#include <stdio.h>

struct exit_objects {
    PTP_WORK running;       /* its callback blocks forever */
    PTP_TIMER timer;        /* armed, periodic */
    PTP_WAIT wait;          /* armed on an event nobody sets */
    HANDLE queue;           /* a timer queue with a periodic timer */
    HANDLE registered;      /* RegisterWaitForSingleObject on that event */
};

static struct exit_objects objects;

__declspec(dllexport) void exit_objects_set(const struct exit_objects *in)
{
    objects = *in;
}

static void CALLBACK simple_cb(PTP_CALLBACK_INSTANCE inst, void *ctx)
{
    (void)inst; (void)ctx;
}

BOOL WINAPI DllMain(HINSTANCE module, DWORD reason, void *reserved)
{
    (void)module;
    /* reserved is not NULL: the process is exiting, not unloading us. */
    if (reason != DLL_PROCESS_DETACH || !reserved || !objects.running)
        return TRUE;
    SubmitThreadpoolWork(objects.running);
    WaitForThreadpoolWorkCallbacks(objects.running, TRUE);
    CloseThreadpoolWork(objects.running);
    SetThreadpoolTimer(objects.timer, NULL, 0, 0);
    WaitForThreadpoolTimerCallbacks(objects.timer, TRUE);
    CloseThreadpoolTimer(objects.timer);
    SetThreadpoolWait(objects.wait, NULL, NULL);
    WaitForThreadpoolWaitCallbacks(objects.wait, TRUE);
    CloseThreadpoolWait(objects.wait);
    UnregisterWaitEx(objects.registered, INVALID_HANDLE_VALUE);
    DeleteTimerQueueEx(objects.queue, INVALID_HANDLE_VALUE);
    TrySubmitThreadpoolCallback(simple_cb, NULL, NULL);
    printf("exit: detach done\n");
    fflush(stdout);
    return TRUE;
}

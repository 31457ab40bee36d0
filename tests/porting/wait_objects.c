/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * _tmain in an ANSI build: thread-pool waits.  A wait satisfied by an
 * event, a wait that times out, a wait re-armed from its own callback, and
 * a semaphore released several times.
 */
#include <Windows.h>
#include <tchar.h>
#include "console_print.h"

struct waited {
    volatile LONG calls;
    volatile LONG signalled;
    volatile LONG timeouts;
    LONG rearm;
    HANDLE object;
    HANDLE done;
};

static VOID CALLBACK WaitCallback(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_WAIT wait,
                                  TP_WAIT_RESULT result)
{
    struct waited *w = context;

    UNREFERENCED_PARAMETER(instance);
    InterlockedIncrement(&w->calls);
    if (result == WAIT_OBJECT_0)
        InterlockedIncrement(&w->signalled);
    else if (result == WAIT_TIMEOUT)
        InterlockedIncrement(&w->timeouts);
    if (InterlockedDecrement(&w->rearm) >= 0)
        SetThreadpoolWait(wait, w->object, NULL);   /* wait again */
    else
        SetEvent(w->done);
}

static PTP_WAIT Start(struct waited *w, HANDLE object, LONG rearm, PFILETIME timeout)
{
    PTP_WAIT wait;

    w->calls = w->signalled = w->timeouts = 0;
    w->rearm = rearm;
    w->object = object;
    w->done = CreateEvent(NULL, TRUE, FALSE, NULL);
    wait = CreateThreadpoolWait(WaitCallback, w, NULL);
    SetThreadpoolWait(wait, object, timeout);
    return wait;
}

static void Finish(const WCHAR *what, struct waited *w, PTP_WAIT wait)
{
    DWORD ret = WaitForSingleObject(w->done, 10000);

    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    print(L"%s: done %lu, calls %ld, signalled %ld, timeouts %ld\n", what, ret, w->calls,
          w->signalled, w->timeouts);
    CloseThreadpoolWait(wait);
    CloseHandle(w->done);
}

int _tmain(int argc, _TCHAR *argv[])
{
    HANDLE event = CreateEvent(NULL, FALSE, FALSE, NULL);
    HANDLE sem = CreateSemaphore(NULL, 0, 10, NULL);
    ULARGE_INTEGER due;
    FILETIME timeout;
    struct waited w;
    PTP_WAIT wait;

    UNREFERENCED_PARAMETER(argc);
    UNREFERENCED_PARAMETER(argv);
    wait = Start(&w, event, 0, NULL);
    SetEvent(event);
    Finish(L"event", &w, wait);

    due.QuadPart = (ULONGLONG)-(30 * 10000);     /* 30 ms, relative */
    timeout.dwLowDateTime = due.LowPart;
    timeout.dwHighDateTime = due.HighPart;
    wait = Start(&w, event, 0, &timeout);
    Finish(L"timeout", &w, wait);

    /* Three units released at once: the wait re-arms itself twice. */
    wait = Start(&w, sem, 2, NULL);
    ReleaseSemaphore(sem, 3, NULL);
    Finish(L"semaphore", &w, wait);

    print(L"semaphore left: %lu\n", WaitForSingleObject(sem, 0));
    CloseHandle(event);
    CloseHandle(sem);
    return 0;
}

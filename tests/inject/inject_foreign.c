/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified program of the check-inject set (docs/inject.md): uses,
 * through the redirected names, objects the system's pool made before the
 * redirection (inject_foreign_dll.dll makes them while it attaches): a work
 * object, a pool and a cleanup group named in environments, a timer queue,
 * and the system's callback instances.  Each must be served by the system,
 * none by our pool (kernel32_tp.dll's callback count does not move), while
 * a new object is ours.  Prints "expect N" for our callbacks; exits 0 when
 * all is as it should be.
 */
#include <windows.h>
#include <stdio.h>

#include "inject_probe.h"

struct foreign {
    PTP_WORK work;
    PTP_POOL pool;
    PTP_CLEANUP_GROUP group;
    HANDLE queue;
};

__declspec(dllimport) void foreign_get(struct foreign *out, PTP_WORK_CALLBACK *callback,
                                       LONG **hits);
typedef LONGLONG (WINAPI *callbacks_run_fn)(void);

static LONG our_hits;

static void CALLBACK our_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WORK work)
{
    (void)ctx; (void)work;
    CallbackMayRunLong(inst);
    InterlockedIncrement(&our_hits);
}

static void CALLBACK queue_cb(void *ctx, BOOLEAN timed_out)
{
    (void)timed_out;
    SetEvent(ctx);
}

int main(void)
{
    struct foreign f;
    PTP_WORK_CALLBACK foreign_cb;
    LONG *foreign_hits;
    callbacks_run_fn callbacks_run = (callbacks_run_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"kernel32_tp.dll"), "tp_debug_callbacks_run");
    TP_CALLBACK_ENVIRON env;
    HANDLE fired = CreateEventW(NULL, FALSE, FALSE, NULL), timer;
    PTP_WORK work;
    LONGLONG before, after;

    if (!callbacks_run) {
        printf("kernel32_tp.dll is not loaded: run me under kernel32_tp_inject\n");
        return 1;
    }
    foreign_get(&f, &foreign_cb, &foreign_hits);
    before = callbacks_run();

    /* A work object of the system's, submitted, waited for, closed. */
    post_wait_release(f.work, 3, SubmitThreadpoolWork, WaitForThreadpoolWorkCallbacks,
                      CloseThreadpoolWork);

    /* A new object in the system's pool is the system's. */
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, f.pool);
    if (!(work = CreateThreadpoolWork(foreign_cb, NULL, &env)))
        return 2;
    post_wait_release(work, 2, SubmitThreadpoolWork, WaitForThreadpoolWorkCallbacks,
                      CloseThreadpoolWork);
    SetThreadpoolThreadMaximum(f.pool, 2);
    CloseThreadpool(f.pool);
    DestroyThreadpoolEnvironment(&env);

    /* So is one in the system's cleanup group, closed with the group. */
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackCleanupGroup(&env, f.group, NULL);
    if (!(work = CreateThreadpoolWork(foreign_cb, NULL, &env)))
        return 3;
    SubmitThreadpoolWork(work);
    CloseThreadpoolCleanupGroupMembers(f.group, FALSE, NULL);
    CloseThreadpoolCleanupGroup(f.group);
    DestroyThreadpoolEnvironment(&env);

    /* And a timer in the system's timer queue. */
    if (!CreateTimerQueueTimer(&timer, f.queue, queue_cb, fired, 1, 0, WT_EXECUTEONLYONCE) ||
        WaitForSingleObject(fired, 10000) != WAIT_OBJECT_0)
        return 4;
    if (!DeleteTimerQueueEx(f.queue, INVALID_HANDLE_VALUE))
        return 5;

    after = callbacks_run();
    if (*foreign_hits != 6 || after != before) {
        printf("system's callbacks: %ld (want 6); ours meanwhile: %lld (want 0)\n",
               *foreign_hits, after - before);
        return 6;
    }

    /* A new object of our own. */
    if (!(work = CreateThreadpoolWork(our_cb, NULL, NULL)))
        return 7;
    post_wait_release(work, 2, SubmitThreadpoolWork, WaitForThreadpoolWorkCallbacks,
                      CloseThreadpoolWork);
    if (callbacks_run() - after != 2 || our_hits != 2)
        return 8;
    printf("system's callbacks: %ld; expect %ld\n", *foreign_hits, our_hits);
    return 0;
}

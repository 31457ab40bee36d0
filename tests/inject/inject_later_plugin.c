/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DLL inject_later.exe loads with LoadLibrary once it runs (check-inject,
 * docs/inject.md): it imports the thread pool from kernel32 and from ntdll,
 * and its imports are resolved after the redirection began.
 */
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

/* Runs 4 callbacks through kernel32's names and 2 through ntdll's. */
__declspec(dllexport) LONG later_run(void)
{
    PTP_WORK work = CreateThreadpoolWork(work_cb, NULL, NULL);
    int i;

    if (!work)
        return -1;
    for (i = 0; i < 4; i++)
        SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    if (TpAllocWork(&work, work_cb, NULL, NULL) != 0)
        return -1;
    TpPostWork(work);
    TpPostWork(work);
    TpWaitForWork(work, FALSE);
    TpReleaseWork(work);
    return hits;
}

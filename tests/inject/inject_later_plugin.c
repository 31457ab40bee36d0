/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DLL inject_later.exe loads with LoadLibrary once it runs (check-inject,
 * docs/inject.md): it imports the thread pool from kernel32 and from ntdll,
 * and its imports are resolved after the redirection began.
 */
#include <windows.h>

#include "inject_probe.h"

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

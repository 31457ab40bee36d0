/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified program of the check-inject set (docs/inject.md): imports
 * the thread pool from the API set api-ms-win-core-threadpool-l1-2-0.dll,
 * as programs built with Microsoft's umbrella libraries do (the import
 * library comes from apiset.def).  Prints "expect N"; exits 0 when all ran.
 */
#include <windows.h>
#include <stdio.h>

#include "inject_probe.h"

int main(void)
{
    PTP_WORK work = CreateThreadpoolWork(work_cb, NULL, NULL);

    if (!work)
        return 1;
    post_wait_release(work, 6, SubmitThreadpoolWork, WaitForThreadpoolWorkCallbacks,
                      CloseThreadpoolWork);
    return expect_hits(6, 2);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified program of the check-inject set (docs/inject.md): imports
 * the ntdll layer (TpAllocWork, TpPostWork...) statically, as code that
 * bypasses kernel32 does.  Prints "expect N"; exits 0 when all ran.
 */
#include <windows.h>
#include <stdio.h>

#include "inject_probe.h"

int main(void)
{
    PTP_WORK work;

    if (TpAllocWork(&work, work_cb, NULL, NULL) != 0)
        return 1;
    post_wait_release(work, 5, TpPostWork, TpWaitForWork, TpReleaseWork);
    return expect_hits(5, 2);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dropin_late.dll: a DLL that a probe (tests/dropin/probe.c, PROBE_LATE)
 * loads after it started.  It imports the thread-pool calls from kernel32
 * itself and hands out what its import table got.
 */
#include <windows.h>

__declspec(dllexport) void dropin_late_functions(void **fns)
{
    fns[0] = (void *)CreateThreadpoolWork;
    fns[1] = (void *)SubmitThreadpoolWork;
    fns[2] = (void *)WaitForThreadpoolWorkCallbacks;
    fns[3] = (void *)CloseThreadpoolWork;
}

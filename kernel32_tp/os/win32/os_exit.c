/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: whether the process is exiting (os.h).  ExitProcess (or a
 * return from main) first ends every other thread wherever it was, then
 * detaches the DLLs one by one on the exiting thread; ntdll says from then
 * on that DLL shutdown is in progress.  Takes no lock.
 */
#include "os_win32.h"

typedef BOOLEAN (WINAPI *shutdown_query_fn)(void);

/* RtlDllShutdownInProgress, looked up once; NULL when ntdll lacks it. */
static shutdown_query_fn shutdown_query(void)
{
    static os_win32_proc fn;
    static LONG looked_up;

    return (shutdown_query_fn)os_win32_ntdll_proc("RtlDllShutdownInProgress", &fn, &looked_up);
}

BOOL os_process_exiting(void)
{
    shutdown_query_fn fn = shutdown_query();

    return fn && fn();
}

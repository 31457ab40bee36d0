/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: whether the process is exiting (os.h).  ExitProcess (or a
 * return from main) first ends every other thread wherever it was, then
 * detaches the DLLs one by one on the exiting thread; ntdll says from then
 * on that DLL shutdown is in progress.  Takes no lock.
 */
#include "os.h"

typedef BOOLEAN (WINAPI *shutdown_query_fn)(void);

/* RtlDllShutdownInProgress, looked up once (the lookup itself is racy but
 * idempotent: every thread stores the same pointer). */
static shutdown_query_fn shutdown_query(void)
{
    static shutdown_query_fn fn;
    static LONG looked_up;
    HMODULE ntdll;

    if (__atomic_load_n(&looked_up, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&fn, __ATOMIC_RELAXED);
    if ((ntdll = GetModuleHandleW(L"ntdll.dll")))
        __atomic_store_n(&fn, (shutdown_query_fn)(void (*)(void))GetProcAddress(
                                  ntdll, "RtlDllShutdownInProgress"), __ATOMIC_RELAXED);
    __atomic_store_n(&looked_up, 1, __ATOMIC_RELEASE);
    return __atomic_load_n(&fn, __ATOMIC_RELAXED);
}

BOOL os_process_exiting(void)
{
    shutdown_query_fn fn = shutdown_query();

    return fn && fn();
}

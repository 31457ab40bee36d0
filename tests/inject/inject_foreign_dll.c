/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A DLL inject_foreign.exe imports (check-inject, docs/inject.md): while it
 * attaches, before the launcher's DLL arrives, it makes thread-pool objects
 * with the system's pool.  The program uses them after the redirection.
 */
#include <windows.h>

struct foreign {
    PTP_WORK work;
    PTP_POOL pool;
    PTP_CLEANUP_GROUP group;
    HANDLE queue;
};

static struct foreign made;
static LONG foreign_hits;

static void CALLBACK foreign_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_WORK work)
{
    (void)ctx; (void)work;
    /* The system's instance reaches a redirected name: it must go back to
     * the system (ours would stop the process on a handle it never made). */
    CallbackMayRunLong(inst);
    InterlockedIncrement(&foreign_hits);
}

__declspec(dllexport) void foreign_get(struct foreign *out, PTP_WORK_CALLBACK *callback,
                                       LONG **hits)
{
    *out = made;
    *callback = foreign_cb;
    *hits = &foreign_hits;
}

BOOL WINAPI DllMain(HINSTANCE module, DWORD reason, void *reserved)
{
    (void)module; (void)reserved;
    if (reason != DLL_PROCESS_ATTACH)
        return TRUE;
    made.work = CreateThreadpoolWork(foreign_cb, NULL, NULL);
    made.pool = CreateThreadpool(NULL);
    made.group = CreateThreadpoolCleanupGroup();
    made.queue = CreateTimerQueue();
    return made.work && made.pool && made.group && made.queue;
}

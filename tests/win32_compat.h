/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the tests use that mingw-w64's headers lack, for the builds run under
 * Wine (wine-tp, wine-ref).  The Makefile force-includes it (-include) ahead
 * of every cross-built test source; native builds never see it.  Only
 * declarations of the Windows API as Windows defines it, nothing of ours.
 */
#ifndef KERNEL32_TP_TEST_WIN32_COMPAT_H
#define KERNEL32_TP_TEST_WIN32_COMPAT_H

#include <windows.h>

/*
 * The Windows 2000-era environment layout.  The SDK defines it only for
 * targets before Windows 7, but version 1 environments still reach the pool
 * from old binaries, and the tests build one by hand.
 */
#if _WIN32_WINNT >= 0x0601
typedef struct _TP_CALLBACK_ENVIRON_V1 {
    TP_VERSION Version;
    PTP_POOL Pool;
    PTP_CLEANUP_GROUP CleanupGroup;
    PTP_CLEANUP_GROUP_CANCEL_CALLBACK CleanupGroupCancelCallback;
    PVOID RaceDll;
    struct _ACTIVATION_CONTEXT *ActivationContext;
    PTP_SIMPLE_CALLBACK FinalizationCallback;
    union {
        DWORD Flags;
        struct {
            DWORD LongFunction : 1;
            DWORD Persistent : 1;
            DWORD Private : 30;
        } s;
    } u;
} TP_CALLBACK_ENVIRON_V1;
#endif

/* An inline helper in the SDK's winbase.h; mingw-w64 has no Persistent helper. */
static inline void SetThreadpoolCallbackPersistent(PTP_CALLBACK_ENVIRON env)
{
    env->u.s.Persistent = 1;
}

/* In the SDK's winerror.h, not in mingw-w64's. */
#ifndef ERROR_TOO_MANY_THREADS
#define ERROR_TOO_MANY_THREADS 565L
#endif

#endif

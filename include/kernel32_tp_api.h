/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The thread-pool API as the Windows SDK declares it, for builds against
 * Wine's headers (included by include/wine/windows.h, never directly).
 *
 * Wine 8 lacks the environment helpers (inline functions in the SDK), the
 * V3 environment as the default, SetThreadpoolTimerEx and
 * SetThreadpoolWaitEx.  The declarations here take the V3 environment.
 */
#ifndef KERNEL32_TP_API_H
#define KERNEL32_TP_API_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (CALLBACK *PTP_WIN32_IO_CALLBACK)(PTP_CALLBACK_INSTANCE, PVOID, PVOID, ULONG,
                                                ULONG_PTR, PTP_IO);

WINBASEAPI void WINAPI CancelThreadpoolIo(PTP_IO);
WINBASEAPI BOOL WINAPI CallbackMayRunLong(PTP_CALLBACK_INSTANCE);
WINBASEAPI void WINAPI CloseThreadpool(PTP_POOL);
WINBASEAPI void WINAPI CloseThreadpoolCleanupGroup(PTP_CLEANUP_GROUP);
WINBASEAPI void WINAPI CloseThreadpoolCleanupGroupMembers(PTP_CLEANUP_GROUP, BOOL, PVOID);
WINBASEAPI void WINAPI CloseThreadpoolIo(PTP_IO);
WINBASEAPI void WINAPI CloseThreadpoolTimer(PTP_TIMER);
WINBASEAPI void WINAPI CloseThreadpoolWait(PTP_WAIT);
WINBASEAPI void WINAPI CloseThreadpoolWork(PTP_WORK);
WINBASEAPI PTP_POOL WINAPI CreateThreadpool(PVOID);
WINBASEAPI PTP_CLEANUP_GROUP WINAPI CreateThreadpoolCleanupGroup(void);
WINBASEAPI PTP_IO WINAPI CreateThreadpoolIo(HANDLE, PTP_WIN32_IO_CALLBACK, PVOID,
                                            PTP_CALLBACK_ENVIRON);
WINBASEAPI PTP_TIMER WINAPI CreateThreadpoolTimer(PTP_TIMER_CALLBACK, PVOID, PTP_CALLBACK_ENVIRON);
WINBASEAPI PTP_WAIT WINAPI CreateThreadpoolWait(PTP_WAIT_CALLBACK, PVOID, PTP_CALLBACK_ENVIRON);
WINBASEAPI PTP_WORK WINAPI CreateThreadpoolWork(PTP_WORK_CALLBACK, PVOID, PTP_CALLBACK_ENVIRON);
WINBASEAPI void WINAPI DisassociateCurrentThreadFromCallback(PTP_CALLBACK_INSTANCE);
WINBASEAPI void WINAPI FreeLibraryWhenCallbackReturns(PTP_CALLBACK_INSTANCE, HMODULE);
WINBASEAPI BOOL WINAPI IsThreadpoolTimerSet(PTP_TIMER);
WINBASEAPI void WINAPI LeaveCriticalSectionWhenCallbackReturns(PTP_CALLBACK_INSTANCE,
                                                                PCRITICAL_SECTION);
WINBASEAPI BOOL WINAPI QueryThreadpoolStackInformation(PTP_POOL, PTP_POOL_STACK_INFORMATION);
WINBASEAPI void WINAPI ReleaseMutexWhenCallbackReturns(PTP_CALLBACK_INSTANCE, HANDLE);
WINBASEAPI void WINAPI ReleaseSemaphoreWhenCallbackReturns(PTP_CALLBACK_INSTANCE, HANDLE, DWORD);
WINBASEAPI void WINAPI SetEventWhenCallbackReturns(PTP_CALLBACK_INSTANCE, HANDLE);
WINBASEAPI BOOL WINAPI SetThreadpoolStackInformation(PTP_POOL, PTP_POOL_STACK_INFORMATION);
WINBASEAPI void WINAPI SetThreadpoolThreadMaximum(PTP_POOL, DWORD);
WINBASEAPI BOOL WINAPI SetThreadpoolThreadMinimum(PTP_POOL, DWORD);
WINBASEAPI void WINAPI SetThreadpoolTimer(PTP_TIMER, PFILETIME, DWORD, DWORD);
WINBASEAPI BOOL WINAPI SetThreadpoolTimerEx(PTP_TIMER, PFILETIME, DWORD, DWORD);
WINBASEAPI void WINAPI SetThreadpoolWait(PTP_WAIT, HANDLE, PFILETIME);
WINBASEAPI BOOL WINAPI SetThreadpoolWaitEx(PTP_WAIT, HANDLE, PFILETIME, PVOID);
WINBASEAPI void WINAPI StartThreadpoolIo(PTP_IO);
WINBASEAPI void WINAPI SubmitThreadpoolWork(PTP_WORK);
WINBASEAPI BOOL WINAPI TrySubmitThreadpoolCallback(PTP_SIMPLE_CALLBACK, PVOID,
                                                   PTP_CALLBACK_ENVIRON);
WINBASEAPI void WINAPI WaitForThreadpoolIoCallbacks(PTP_IO, BOOL);
WINBASEAPI void WINAPI WaitForThreadpoolTimerCallbacks(PTP_TIMER, BOOL);
WINBASEAPI void WINAPI WaitForThreadpoolWaitCallbacks(PTP_WAIT, BOOL);
WINBASEAPI void WINAPI WaitForThreadpoolWorkCallbacks(PTP_WORK, BOOL);

/* The environment helpers: inline in the SDK, so never exported. */
static inline void InitializeThreadpoolEnvironment(PTP_CALLBACK_ENVIRON env)
{
    TP_CALLBACK_ENVIRON zero = { 0 };

    *env = zero;
    env->Version = 3;
    env->CallbackPriority = TP_CALLBACK_PRIORITY_NORMAL;
    env->Size = sizeof(*env);
}

static inline void DestroyThreadpoolEnvironment(PTP_CALLBACK_ENVIRON env)
{
    (void)env;
}

static inline void SetThreadpoolCallbackPool(PTP_CALLBACK_ENVIRON env, PTP_POOL pool)
{
    env->Pool = pool;
}

static inline void SetThreadpoolCallbackCleanupGroup(PTP_CALLBACK_ENVIRON env,
                                                     PTP_CLEANUP_GROUP group,
                                                     PTP_CLEANUP_GROUP_CANCEL_CALLBACK cancel)
{
    env->CleanupGroup = group;
    env->CleanupGroupCancelCallback = cancel;
}

static inline void SetThreadpoolCallbackRunsLong(PTP_CALLBACK_ENVIRON env)
{
    env->u.s.LongFunction = 1;
}

static inline void SetThreadpoolCallbackLibrary(PTP_CALLBACK_ENVIRON env, PVOID module)
{
    env->RaceDll = module;
}

static inline void SetThreadpoolCallbackPriority(PTP_CALLBACK_ENVIRON env,
                                                 TP_CALLBACK_PRIORITY priority)
{
    env->CallbackPriority = priority;
}

static inline void SetThreadpoolCallbackPersistent(PTP_CALLBACK_ENVIRON env)
{
    env->u.s.Persistent = 1;
}

#ifdef __cplusplus
}
#endif

#endif

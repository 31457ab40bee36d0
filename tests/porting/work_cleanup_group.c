/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wmain; a private pool with a cleanup group: work objects submitted many
 * times, TrySubmitThreadpoolCallback, a cleanup-group cancel callback, and
 * CloseThreadpoolCleanupGroupMembers waiting for everything.
 */
#include <Windows.h>
#include "console_print.h"

static volatile LONG work_runs;
static volatile LONG simple_runs;
static volatile LONG sum;

static VOID CALLBACK WorkCallback(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_WORK work)
{
    UNREFERENCED_PARAMETER(instance);
    UNREFERENCED_PARAMETER(work);
    InterlockedIncrement(&work_runs);
    InterlockedExchangeAdd(&sum, (LONG)(LONG_PTR)context);
}

static VOID CALLBACK SimpleCallback(PTP_CALLBACK_INSTANCE instance, PVOID context)
{
    UNREFERENCED_PARAMETER(instance);
    InterlockedIncrement(&simple_runs);
    InterlockedExchangeAdd(&sum, (LONG)(LONG_PTR)context);
}

int wmain(int argc, wchar_t *argv[])
{
    TP_CALLBACK_ENVIRON env;
    PTP_CLEANUP_GROUP group;
    PTP_WORK works[4];
    PTP_POOL pool;
    int i, j;

    UNREFERENCED_PARAMETER(argc);
    UNREFERENCED_PARAMETER(argv);
    pool = CreateThreadpool(NULL);
    if (!pool) {
        print(L"CreateThreadpool failed: %lu\n", GetLastError());
        return 1;
    }
    SetThreadpoolThreadMaximum(pool, 3);
    if (!SetThreadpoolThreadMinimum(pool, 1)) {
        print(L"SetThreadpoolThreadMinimum failed: %lu\n", GetLastError());
        return 1;
    }
    group = CreateThreadpoolCleanupGroup();
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, pool);
    SetThreadpoolCallbackCleanupGroup(&env, group, NULL);
    print(L"pool and cleanup group ready\n");

    for (i = 0; i < 4; i++) {
        works[i] = CreateThreadpoolWork(WorkCallback, (PVOID)(LONG_PTR)(i + 1), &env);
        if (!works[i]) {
            print(L"CreateThreadpoolWork failed: %lu\n", GetLastError());
            return 1;
        }
    }
    for (j = 0; j < 25; j++) {
        for (i = 0; i < 4; i++)
            SubmitThreadpoolWork(works[i]);
    }
    for (i = 0; i < 10; i++) {
        if (!TrySubmitThreadpoolCallback(SimpleCallback, (PVOID)(LONG_PTR)100, &env))
            print(L"TrySubmitThreadpoolCallback failed: %lu\n", GetLastError());
    }
    /* Waits for every callback, then closes the four work objects. */
    CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    print(L"work callbacks: %ld\n", work_runs);
    print(L"simple callbacks: %ld\n", simple_runs);
    print(L"sum of contexts: %ld\n", sum);
    CloseThreadpoolCleanupGroup(group);
    DestroyThreadpoolEnvironment(&env);
    CloseThreadpool(pool);
    print(L"done\n");
    return 0;
}

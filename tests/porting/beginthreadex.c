/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * _tmain under UNICODE: threads started with _beginthreadex, a critical
 * section guarding a shared counter, WaitForMultipleObjects on the thread
 * handles, exit codes (one thread ends with _endthreadex), thread ids and
 * priorities.
 */
#ifndef UNICODE
#define UNICODE
#endif
#ifndef _UNICODE
#define _UNICODE
#endif
#include <Windows.h>
#include <process.h>
#include <tchar.h>
#include "console_print.h"

#define THREADS 4
#define ROUNDS 10000

static CRITICAL_SECTION lock;
static LONGLONG counter;

static unsigned __stdcall Worker(void *arg)
{
    int index = (int)(INT_PTR)arg, i;

    for (i = 0; i < ROUNDS; i++) {
        EnterCriticalSection(&lock);
        counter++;
        LeaveCriticalSection(&lock);
    }
    if (index == THREADS - 1)
        _endthreadex(100 + index);  /* ends here, with its own code */
    return 100 + index;
}

int _tmain(int argc, TCHAR *argv[])
{
    HANDLE threads[THREADS];
    unsigned ids[THREADS];
    DWORD code, ret;
    int i, ids_match = 0;

    UNREFERENCED_PARAMETER(argc);
    UNREFERENCED_PARAMETER(argv);
    InitializeCriticalSection(&lock);
    for (i = 0; i < THREADS; i++) {
        threads[i] = (HANDLE)_beginthreadex(NULL, 0, Worker, (void *)(INT_PTR)i, 0, &ids[i]);
        if (!threads[i]) {
            print(L"_beginthreadex failed\n");
            return 1;
        }
        ids_match += GetThreadId(threads[i]) == ids[i];
    }
    print(L"priority of thread 0: %d\n", GetThreadPriority(threads[0]));
    SetThreadPriority(threads[0], THREAD_PRIORITY_BELOW_NORMAL);
    print(L"after SetThreadPriority: %d\n", GetThreadPriority(threads[0]));
    ret = WaitForMultipleObjects(THREADS, threads, TRUE, 20000);
    print(L"wait all: %lu\n", ret);
    for (i = 0; i < THREADS; i++) {
        GetExitCodeThread(threads[i], &code);
        print(L"thread %d exit code %lu\n", i, code);
        CloseHandle(threads[i]);
    }
    print(L"ids match GetThreadId: %d of %d\n", ids_match, THREADS);
    print(L"counter: %lld\n", counter);
    DeleteCriticalSection(&lock);
    return 0;
}

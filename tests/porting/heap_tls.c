/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process heap for per-item buffers, a TLS slot that each pool thread
 * fills once, and an environment variable that is not set.
 */
#include <Windows.h>
#include "console_print.h"

#define ITEMS 16

static DWORD slot;
static volatile LONG first_uses;
static volatile LONG checksum;

static VOID CALLBACK Work(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_WORK work)
{
    int *buf;
    int i, sum = 0;

    UNREFERENCED_PARAMETER(instance);
    UNREFERENCED_PARAMETER(context);
    UNREFERENCED_PARAMETER(work);
    if (!TlsGetValue(slot)) {
        TlsSetValue(slot, (LPVOID)1);   /* once per pool thread */
        InterlockedIncrement(&first_uses);
    }
    buf = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 100 * sizeof(int));
    for (i = 0; i < 100; i++)
        sum += buf[i] + i;
    HeapFree(GetProcessHeap(), 0, buf);
    InterlockedExchangeAdd(&checksum, sum);
}

int wmain(void)
{
    WCHAR value[64];
    PTP_WORK work;
    DWORD len;
    int i;

    slot = TlsAlloc();
    if (slot == TLS_OUT_OF_INDEXES) {
        print(L"TlsAlloc failed: %lu\n", GetLastError());
        return 1;
    }
    work = CreateThreadpoolWork(Work, NULL, NULL);
    for (i = 0; i < ITEMS; i++)
        SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    print(L"checksum: %ld\n", checksum);
    print(L"TLS first uses at least one: %d\n", first_uses >= 1);
    print(L"~ TLS first uses: %ld\n", first_uses);
    TlsFree(slot);
    len = GetEnvironmentVariableW(L"KERNEL32_TP_PORTING_UNSET", value, ARRAYSIZE(value));
    print(L"unset variable: %lu, error %lu\n", len, GetLastError());
    return 0;
}

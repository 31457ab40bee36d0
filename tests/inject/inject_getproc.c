/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified program of the check-inject set (docs/inject.md): looks the
 * thread pool up at run time, GetProcAddress(ntdll, "TpAllocWork") and
 * GetProcAddress(kernel32, "CreateThreadpoolWork").  Prints "expect N";
 * exits 0 when all ran.
 */
#include <windows.h>
#include <stdio.h>

#include "inject_probe.h"

typedef NTSTATUS (NTAPI *alloc_work_fn)(PTP_WORK *, PTP_WORK_CALLBACK, PVOID, PTP_CALLBACK_ENVIRON);
typedef VOID (NTAPI *work_fn)(PTP_WORK);
typedef VOID (NTAPI *wait_work_fn)(PTP_WORK, BOOL);
typedef PTP_WORK (WINAPI *create_work_fn)(PTP_WORK_CALLBACK, PVOID, PTP_CALLBACK_ENVIRON);

#define LOOKUP(type, module, name) ((type)(void (*)(void))GetProcAddress(module, name))

int main(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll"), kernel32 = GetModuleHandleW(L"kernel32.dll");
    alloc_work_fn alloc_work = LOOKUP(alloc_work_fn, ntdll, "TpAllocWork");
    work_fn post = LOOKUP(work_fn, ntdll, "TpPostWork");
    wait_work_fn wait = LOOKUP(wait_work_fn, ntdll, "TpWaitForWork");
    work_fn release = LOOKUP(work_fn, ntdll, "TpReleaseWork");
    create_work_fn create = LOOKUP(create_work_fn, kernel32, "CreateThreadpoolWork");
    work_fn submit = LOOKUP(work_fn, kernel32, "SubmitThreadpoolWork");
    wait_work_fn wait32 = LOOKUP(wait_work_fn, kernel32, "WaitForThreadpoolWorkCallbacks");
    work_fn close = LOOKUP(work_fn, kernel32, "CloseThreadpoolWork");
    PTP_WORK work;

    if (!alloc_work || !post || !wait || !release || !create || !submit || !wait32 || !close)
        return 1;
    if (alloc_work(&work, work_cb, NULL, NULL) != 0)
        return 2;
    post_wait_release(work, 3, post, wait, release);
    if (!(work = create(work_cb, NULL, NULL)))
        return 3;
    post_wait_release(work, 4, submit, wait32, close);
    return expect_hits(7, 4);
}

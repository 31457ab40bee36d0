/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified thread-pool program for the Wine drop-in tests
 * (tests/dropin/dropin_run): it runs work callbacks and says which module
 * served the thread-pool calls it made.  It never links kernel32_tp; how it
 * reaches CreateThreadpoolWork and its siblings is chosen at build time:
 *
 *   (default)              imported from kernel32
 *   probe_apiset.exe       imported from api-ms-win-core-threadpool-l1-2-0
 *   probe_kernelbase.exe   imported from kernelbase
 *   PROBE_GETPROCADDRESS   GetProcAddress on kernel32
 *   PROBE_LATE             through dropin_late.dll, loaded with LoadLibrary
 *                          after the start (its own imports from kernel32)
 *
 * Output, one line: "probe: served by MODULE.dll, N of 16 callbacks ran";
 * exit status 0 when all 16 ran.  With arguments it first prints its
 * command line ("probe: command line: ..."), its code pages and kernel32's
 * file version (GetFileVersionInfo), and
 * `--exit N` makes it exit
 * with status N after the callbacks ran.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_WORKS 16

typedef PTP_WORK (WINAPI *create_fn)(PTP_WORK_CALLBACK, PVOID, PTP_CALLBACK_ENVIRON);
typedef VOID (WINAPI *submit_fn)(PTP_WORK);
typedef VOID (WINAPI *wait_fn)(PTP_WORK, BOOL);
typedef VOID (WINAPI *close_fn)(PTP_WORK);

static volatile LONG ran;

static void CALLBACK work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst; (void)ctx; (void)work;
    InterlockedIncrement(&ran);
}

/* GetFileVersionInfo on kernel32: under the pair it reads our kernel32.dll,
 * which carries Wine's version resource. */
static void print_kernel32_version(void)
{
    DWORD handle, size = GetFileVersionInfoSizeW(L"kernel32.dll", &handle);
    VS_FIXEDFILEINFO *info = NULL;
    UINT len = 0;
    void *data;

    if (!size || !(data = malloc(size)) ||
        !GetFileVersionInfoW(L"kernel32.dll", 0, size, data) ||
        !VerQueryValueW(data, L"\\", (void **)&info, &len) || !info) {
        printf("probe: kernel32 version: none (error %lu)\n", GetLastError());
        return;
    }
    printf("probe: kernel32 version: %lu.%lu.%lu.%lu\n", info->dwFileVersionMS >> 16,
           info->dwFileVersionMS & 0xffff, info->dwFileVersionLS >> 16,
           info->dwFileVersionLS & 0xffff);
    free(data);
}

int main(int argc, char **argv)
{
    int exit_code = -1;
    create_fn create;
    submit_fn submit;
    wait_fn wait;
    close_fn close;
    HMODULE module = NULL;
    char path[MAX_PATH] = "?", *base;
    PTP_WORK work;

    if (argc > 1) {
        printf("probe: command line: %s\n", GetCommandLineA());
        printf("probe: code pages: ANSI %u, OEM %u\n", GetACP(), GetOEMCP());
        print_kernel32_version();
    }
    if (argc > 2 && !strcmp(argv[1], "--exit"))
        exit_code = atoi(argv[2]);

#if defined(PROBE_GETPROCADDRESS)
    HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");

    create = (create_fn)(void *)GetProcAddress(kernel32, "CreateThreadpoolWork");
    submit = (submit_fn)(void *)GetProcAddress(kernel32, "SubmitThreadpoolWork");
    wait = (wait_fn)(void *)GetProcAddress(kernel32, "WaitForThreadpoolWorkCallbacks");
    close = (close_fn)(void *)GetProcAddress(kernel32, "CloseThreadpoolWork");
#elif defined(PROBE_LATE)
    HMODULE late = LoadLibraryW(L"dropin_late.dll");
    void (*get)(void **fns) = late ? (void (*)(void **))(void *)GetProcAddress(late,
                                                                  "dropin_late_functions") : NULL;
    void *fns[4];

    if (!get) {
        printf("probe: dropin_late.dll did not load (error %lu)\n", GetLastError());
        return 2;
    }
    get(fns);
    create = (create_fn)fns[0];
    submit = (submit_fn)fns[1];
    wait = (wait_fn)fns[2];
    close = (close_fn)fns[3];
#else
    create = CreateThreadpoolWork;
    submit = SubmitThreadpoolWork;
    wait = WaitForThreadpoolWorkCallbacks;
    close = CloseThreadpoolWork;
#endif
    if (!create || !submit || !wait || !close) {
        printf("probe: a thread-pool function is missing\n");
        return 2;
    }
    if (GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                           GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                           (LPCSTR)(void *)create, &module))
        GetModuleFileNameA(module, path, sizeof(path));
    base = strrchr(path, '\\') ? strrchr(path, '\\') + 1 : path;

    work = create(work_cb, NULL, NULL);
    if (!work) {
        printf("probe: CreateThreadpoolWork failed (error %lu)\n", GetLastError());
        return 2;
    }
    for (int i = 0; i < PROBE_WORKS; i++)
        submit(work);
    wait(work, FALSE);
    close(work);
    printf("probe: served by %s, %ld of %d callbacks ran\n", base, ran, PROBE_WORKS);
    fflush(stdout);
    if (exit_code >= 0)
        return exit_code;
    return ran == PROBE_WORKS ? 0 : 1;
}

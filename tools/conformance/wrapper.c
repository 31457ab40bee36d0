/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One Wine conformance test function as a program of its own.
 *
 * Compiled once per line of tools/conformance/functions and per product,
 * with (set by the Makefile):
 *   CONFORMANCE_PRELUDE  the #defines that open the Wine test file, before
 *                        its first #include (generated from the file)
 *   CONFORMANCE_FILE     the Wine test file, e.g. "threadpool.c"
 *   CONFORMANCE_TEST     the test function, e.g. test_tp_work
 *   CONFORMANCE_INIT     what the file's START_TEST calls first, if anything
 *   CONFORMANCE_NATIVE   built on Linux against libkernel32_tp.so
 *   CONFORMANCE_REDIRECT built with mingw-w64 for our DLL under Wine
 *
 * The file is included whole.  Our <wine/test.h> (include/wine/test.h next
 * to this file) turns its START_TEST into an unused static function, so
 * every test function that this program does not name is unused too, and
 * the compiler drops it with everything only it calls: the program links
 * exactly what its one function needs.  wine/test.h's main() then runs it
 * ("program test_tp_work"), prints its checks and exits with the number of
 * failures.
 *
 * This file owns no test: every check is Wine's.
 */
#define STANDALONE

/* The file's own leading #defines (NONAMELESSUNION...) must precede the
 * first Windows header.  <windows.h> comes next, first of the Windows
 * headers: ours on Linux needs to (docs/conformance.md), and Wine's
 * wine/test.h relies on what it brings (wincon.h). */
#include CONFORMANCE_PRELUDE
#include <windows.h>
#ifdef CONFORMANCE_NATIVE
#include "native-defs.h"
#endif

#ifdef CONFORMANCE_REDIRECT
#include <stdio.h>
#include <string.h>

/* The tests look most thread-pool names up with GetProcAddress on ntdll and
 * kernel32, which a link order cannot redirect.  Every name our DLL exports
 * is taken from it; any other name from the module asked for.  A
 * thread-pool name that our DLL does not export would quietly test Wine's
 * pool: it is reported (the runner counts the function as failed) and still
 * served by the system, so the rest of the function runs.  The names are
 * those of tools/check-tp-imports, which guards the names the program
 * imports. */
static BOOL conformance_is_tp_name(const char *name)
{
    static const char *const infixes[] = {
        "Threadpool", "CallbackMayRunLong", "WhenCallbackReturns",
        "DisassociateCurrentThreadFromCallback", "TimerQueue",
    };
    static const char *const exact[] = {
        "QueueUserWorkItem", "BindIoCompletionCallback", "UnregisterWait",
        "UnregisterWaitEx", "RegisterWaitForSingleObject", "RegisterWaitForSingleObjectEx",
        "RtlQueueWorkItem", "RtlRegisterWait", "RtlDeregisterWait", "RtlDeregisterWaitEx",
        "RtlCreateTimer", "RtlUpdateTimer", "RtlDeleteTimer", "RtlSetIoCompletionCallback",
    };
    size_t i;

    if (name[0] == 'T' && name[1] == 'p' && name[2] >= 'A' && name[2] <= 'Z')
        return TRUE;
    for (i = 0; i < sizeof(infixes) / sizeof(infixes[0]); i++)
        if (strstr(name, infixes[i]))
            return TRUE;
    for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (!strcmp(name, exact[i]))
            return TRUE;
    return FALSE;
}

static FARPROC WINAPI conformance_GetProcAddress(HMODULE module, LPCSTR name)
{
    static HMODULE tp_dll;
    FARPROC proc = NULL;

    if (!tp_dll && !(tp_dll = LoadLibraryA("kernel32_tp.dll"))) {
        printf("conformance: kernel32_tp.dll does not load (error %lu)\n", GetLastError());
        fflush(stdout);
        ExitProcess(2);
    }
    if (!HIWORD(name))
        return GetProcAddress(module, name);
    if ((proc = GetProcAddress(tp_dll, name)))
        return proc;
    if (conformance_is_tp_name(name)) {
        printf("conformance: thread-pool name not from kernel32_tp.dll: %s\n", name);
        fflush(stdout);
    }
    return GetProcAddress(module, name);
}
#define GetProcAddress conformance_GetProcAddress
#endif

#include CONFORMANCE_FILE

static void conformance_run(void)
{
#ifdef CONFORMANCE_INIT
    CONFORMANCE_INIT();
#endif
    CONFORMANCE_TEST();
}

#define CONFORMANCE_STR2(x) #x
#define CONFORMANCE_STR(x) CONFORMANCE_STR2(x)
const struct test winetest_testlist[] = {
    { CONFORMANCE_STR(CONFORMANCE_TEST), conformance_run },
    { 0, 0 }
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny module for the module tests (LoadLibrary, GetProcAddress,
 * FreeLibrary, FreeLibraryWhenCallbackReturns): built as
 * libtp_test_module.so natively and as tp_test_module.dll with mingw-w64.
 * Its counter lives in the module's own data, so a count that starts over
 * proves the module was unloaded and loaded again.
 */
#include <windows.h>

#if defined(__MINGW32__) || defined(_MSC_VER)
#define TP_TEST_MODULE_EXPORT __declspec(dllexport)
#else
#define TP_TEST_MODULE_EXPORT __attribute__((visibility("default")))
#endif

static LONG calls;

/* Counts its calls since the module was loaded: 1, 2, ... */
TP_TEST_MODULE_EXPORT LONG WINAPI tp_test_module_count(void);

LONG WINAPI tp_test_module_count(void)
{
    return InterlockedIncrement(&calls);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32_tp's own extensions, beyond the Win32 API: introspection for
 * tests, benchmarks and demos.  Programs that only use the Win32 API never
 * need this header.
 */
#ifndef KERNEL32_TP_H
#define KERNEL32_TP_H

#include <windows.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The DLL's own build defines KERNEL32_TP_API empty: its .def exports. */
#ifndef KERNEL32_TP_API
#if defined(_MSC_VER) || defined(__MINGW32__)
#define KERNEL32_TP_API __declspec(dllimport)
#else
#define KERNEL32_TP_API __attribute__((visibility("default")))
#endif
#endif

/* Thread-pool objects (pools, groups, callback objects) alive right now. */
KERNEL32_TP_API LONG WINAPI tp_debug_live_objects(void);

/* Callbacks this library has run since the process started. */
KERNEL32_TP_API LONGLONG WINAPI tp_debug_callbacks_run(void);

/* Worker threads of a pool (NULL: the default pool) alive right now. */
KERNEL32_TP_API DWORD WINAPI tp_debug_pool_threads(PTP_POOL pool);

#ifdef __cplusplus
}
#endif

#endif

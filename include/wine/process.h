/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <process.h> for Windows sources built on Linux: the C runtime's thread
 * start, _beginthreadex/_endthreadex, which libkernel32_tp.so provides.
 * The rest of the Windows C runtime's process.h (spawn, exec, _getpid...)
 * is not provided: see docs/porting.md.
 */
#ifndef KERNEL32_TP_PROCESS_H
#define KERNEL32_TP_PROCESS_H

#include <stdint.h>
#include <windows.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int (__stdcall *_beginthreadex_start_routine_t)(void *);

/* Exported by the library (default visibility, also under -fvisibility=hidden). */
__attribute__((visibility("default")))
uintptr_t __cdecl _beginthreadex(void *security, unsigned int stack_size,
                                 _beginthreadex_start_routine_t start, void *arg,
                                 unsigned int flags, unsigned int *tid);
__attribute__((visibility("default")))
void __cdecl _endthreadex(unsigned int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the Windows platform code (kernel32_tp/os/win32/): helpers its
 * files share that are no part of the contract in os.h.  Takes no lock.
 */
#ifndef KERNEL32_TP_WIN32_OS_WIN32_H
#define KERNEL32_TP_WIN32_OS_WIN32_H

#include "os.h"

/* Any exported function, as GetProcAddress's result is cast to. */
typedef void (*os_win32_proc)(void);

/* ntdll's export name, looked up once into *slot; NULL when ntdll lacks it.
 * The lookup itself is racy but idempotent: every thread stores the same
 * pointer before it sets *looked_up. */
os_win32_proc os_win32_ntdll_proc(const char *name, os_win32_proc *slot, LONG *looked_up);

#endif

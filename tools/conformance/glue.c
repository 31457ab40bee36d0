/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What Wine's wine/test.h and wine/debug.h need from outside the Windows
 * API, linked into every conformance program: __wine_dbg_strdup(), which
 * Wine's own test programs get from winecrt0 (the startup code of Wine's
 * modules), and, natively, the C runtime's _get_osfhandle() when the
 * project's headers do not supply it.  Nothing of kernel32 or ntdll: those
 * come from the implementation under test.
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include "wine/debug.h"
#ifdef CONFORMANCE_NATIVE
#include <errno.h>
#include <io.h>
#endif

/* The wine_dbgstr_*() helpers format into a buffer and return this copy,
 * which must stay valid until a few more calls later (one ok() message may
 * hold several): each thread keeps a small ring of buffers. */
#define GLUE_RING 32
#define GLUE_LEN 1024

const char * __cdecl __wine_dbg_strdup(const char *str)
{
    static __thread char ring[GLUE_RING][GLUE_LEN];
    static __thread unsigned int next;
    char *buf = ring[next++ % GLUE_RING];

    snprintf(buf, GLUE_LEN, "%s", str);
    return buf;
}

#ifdef CONFORMANCE_NATIVE_IO_H
/* Declared by our fallback <io.h> (the project's own defines the call): a C
 * runtime descriptor has no Windows handle here.  The call fails as the C
 * runtime does for a descriptor it does not know, and wine/test.h then
 * leaves the console mode alone. */
intptr_t __cdecl _get_osfhandle(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}
#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <io.h> for the native conformance programs, when our own headers have
 * none (this directory is searched after them).  Wine's wine/test.h
 * includes this C runtime header for _get_osfhandle(), which it calls only
 * to set the console mode for coloured output (WINETEST_COLOR).  glibc has
 * no such header; glue.c defines the call when this header declared it.
 */
#ifndef CONFORMANCE_NATIVE_IO_H
#define CONFORMANCE_NATIVE_IO_H
#include <stdint.h>
intptr_t __cdecl _get_osfhandle(int fd);
#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <float.h> for the native conformance programs: the C compiler's, plus what
 * the C runtime of Windows adds and thread.c's floating-point control tests
 * name.  Those tests are not among the functions that make conformance runs,
 * so the compiler drops them, but they must still compile.  The constants'
 * values come from the fetched Wine source tree (native-defs.h, generated
 * by the Makefile); the calls are never linked.
 */
#ifndef CONFORMANCE_NATIVE_FLOAT_H
#define CONFORMANCE_NATIVE_FLOAT_H
#include_next <float.h>
#include "native-defs.h"
unsigned int __cdecl _control87(unsigned int value, unsigned int mask);
unsigned int __cdecl _controlfp(unsigned int value, unsigned int mask);
unsigned int __cdecl _clearfp(void);
unsigned int __cdecl _statusfp(void);
#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where tp_bench.c gets the Win32 API from.  Our library (natively, through
 * pkg-config kernel32_tp), Wine and Windows (mingw-w64) all offer
 * <windows.h>; WinPR offers the same names through its own headers, which
 * this adapter includes instead when BENCH_WINPR is defined.
 */
#ifndef KERNEL32_TP_BENCH_WIN32_H
#define KERNEL32_TP_BENCH_WIN32_H

#ifdef BENCH_WINPR
#include <winpr/wtypes.h>
#include <winpr/handle.h>
#include <winpr/interlocked.h>
#include <winpr/pool.h>
#include <winpr/synch.h>
#else
#include <windows.h>
#endif

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <windows.h> for Windows sources built on Linux against Wine's headers.
 *
 * Wine 8's headers make TP_CALLBACK_ENVIRON the V1 environment and lack the
 * environment helpers and the Ex calls.  This wrapper keeps Wine's own
 * threadpoolapiset.h out, lets winnt.h's V1 typedef land under another name,
 * then declares the thread-pool API with the V3 environment (what the
 * Windows SDK gives every program built for Windows 7 or later).
 */
#ifndef KERNEL32_TP_WINE_WINDOWS_H
#define KERNEL32_TP_WINE_WINDOWS_H

#define _THREADPOOLAPISET_H_
#define TP_CALLBACK_ENVIRON kernel32_tp_wine_v1_environ
#define PTP_CALLBACK_ENVIRON kernel32_tp_wine_v1_penviron
#include_next <windows.h>
#undef TP_CALLBACK_ENVIRON
#undef PTP_CALLBACK_ENVIRON
typedef TP_CALLBACK_ENVIRON_V3 TP_CALLBACK_ENVIRON, *PTP_CALLBACK_ENVIRON;

#include <kernel32_tp_api.h>
#include <kernel32_tp_porting.h>

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <winternl.h> on Linux: ntdll's Tp* declarations take TP_CALLBACK_ENVIRON,
 * which must already be the V3 environment when Wine's header is read.
 */
#ifndef KERNEL32_TP_WINE_WINTERNL_H
#define KERNEL32_TP_WINE_WINTERNL_H
#include <windows.h>
#include_next <winternl.h>
#endif

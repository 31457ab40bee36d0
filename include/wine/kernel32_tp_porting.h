/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Included by our <windows.h> (include/wine/windows.h): what Windows sources
 * need on Linux beyond Wine's declarations.
 *
 * wvsprintfA/W: Wine declares their va_list as the Windows one
 * (__ms_va_list), which a Windows program's own va_list (System V on
 * Linux) is not: a program that forwards its arguments, as Windows
 * programs do, would not build.  The names map to inline versions that
 * take the program's va_list and format as user32 does (the exported
 * functions remain for callers that hold a Windows va_list).
 */
#ifndef KERNEL32_TP_PORTING_H
#define KERNEL32_TP_PORTING_H

#include <stdarg.h>
#include <kernel32_tp_format.h>

static inline INT kernel32_tp_wvsprintf(void *buf, const void *fmt, int wide, va_list ap)
{
    struct kernel32_tp_fmt_args args = { .wsprintf_rules = 1 };
    va_list copy;
    int len;

    if (!buf || !fmt)
        return 0;
    va_copy(copy, ap);
    args.sysv = &copy;
    len = kernel32_tp_vformat(buf, 1024, wide, fmt, wide, &args);
    va_end(copy);
    return len < 0 ? 0 : len < 1024 ? len : 1023;
}

static inline INT kernel32_tp_wvsprintfA(LPSTR buf, LPCSTR fmt, va_list ap)
{
    return kernel32_tp_wvsprintf(buf, fmt, 0, ap);
}

static inline INT kernel32_tp_wvsprintfW(LPWSTR buf, LPCWSTR fmt, va_list ap)
{
    return kernel32_tp_wvsprintf(buf, fmt, 1, ap);
}

#define wvsprintfA kernel32_tp_wvsprintfA
#define wvsprintfW kernel32_tp_wvsprintfW

#endif

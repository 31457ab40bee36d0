/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <tchar.h> for Windows sources built on Linux, in ANSI and _UNICODE builds.
 *
 * Wine's header (included first) maps the generic names: _TCHAR, _T(),
 * _tmain (main, or wmain under _UNICODE: libkernel32_tp_main.a supplies the
 * main that calls wmain, see docs/porting.md) and the ANSI routines, which
 * are the C library's.  Under _UNICODE Wine maps the wide routines to the C
 * library's wcs*() and w*printf(), which on Linux work on 32-bit wchar_t:
 * with the 16-bit WCHAR of these builds they would read the strings wrongly
 * and silently.  This header replaces the common ones with 16-bit versions
 * (string length, copy, compare, search, conversion to numbers, printf to
 * the console in UTF-8) and removes the other string and stdio mappings, so
 * that a use of them fails to build instead of misbehaving.  As with the
 * Windows SDK, _UNICODE (not UNICODE) selects the wide names.
 */
#ifndef KERNEL32_TP_TCHAR_H
#define KERNEL32_TP_TCHAR_H

/* What the mapped names need; the SDK's CRT headers come with windows.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include_next <tchar.h>

#ifdef _UNICODE

#include <kernel32_tp_format.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned short kernel32_tp_tchar;

static inline size_t kernel32_tp_tcslen(const kernel32_tp_tchar *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

static inline size_t kernel32_tp_tcsnlen(const kernel32_tp_tchar *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

static inline kernel32_tp_tchar *kernel32_tp_tcscpy(kernel32_tp_tchar *d,
                                                    const kernel32_tp_tchar *s)
{
    size_t i = 0;

    while ((d[i] = s[i]))
        i++;
    return d;
}

/* As wcsncpy: pads with NULs up to n, no NUL when s is n long or more. */
static inline kernel32_tp_tchar *kernel32_tp_tcsncpy(kernel32_tp_tchar *d,
                                                     const kernel32_tp_tchar *s, size_t n)
{
    size_t i = 0;

    for (; i < n && s[i]; i++)
        d[i] = s[i];
    for (; i < n; i++)
        d[i] = 0;
    return d;
}

static inline kernel32_tp_tchar *kernel32_tp_tcscat(kernel32_tp_tchar *d,
                                                    const kernel32_tp_tchar *s)
{
    kernel32_tp_tcscpy(d + kernel32_tp_tcslen(d), s);
    return d;
}

static inline kernel32_tp_tchar *kernel32_tp_tcsncat(kernel32_tp_tchar *d,
                                                     const kernel32_tp_tchar *s, size_t n)
{
    kernel32_tp_tchar *e = d + kernel32_tp_tcslen(d);
    size_t i = 0;

    for (; i < n && s[i]; i++)
        e[i] = s[i];
    e[i] = 0;
    return d;
}

static inline unsigned int kernel32_tp_tlower(unsigned int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* fold: compare ASCII letters without case (as _wcsicmp in the C locale). */
static inline int kernel32_tp_tcsncmp_fold(const kernel32_tp_tchar *a, const kernel32_tp_tchar *b,
                                           size_t n, int fold)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned int x = fold ? kernel32_tp_tlower(a[i]) : a[i];
        unsigned int y = fold ? kernel32_tp_tlower(b[i]) : b[i];

        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            return 0;
    }
    return 0;
}

static inline kernel32_tp_tchar *kernel32_tp_tcschr(const kernel32_tp_tchar *s, unsigned int c)
{
    for (;; s++) {
        if (*s == (kernel32_tp_tchar)c)
            return (kernel32_tp_tchar *)s;
        if (!*s)
            return NULL;
    }
}

static inline kernel32_tp_tchar *kernel32_tp_tcsrchr(const kernel32_tp_tchar *s, unsigned int c)
{
    const kernel32_tp_tchar *found = NULL;

    for (;; s++) {
        if (*s == (kernel32_tp_tchar)c)
            found = s;
        if (!*s)
            return (kernel32_tp_tchar *)found;
    }
}

static inline kernel32_tp_tchar *kernel32_tp_tcsstr(const kernel32_tp_tchar *s,
                                                    const kernel32_tp_tchar *sub)
{
    size_t n = kernel32_tp_tcslen(sub);

    for (;; s++) {
        if (!kernel32_tp_tcsncmp_fold(s, sub, n, 0))
            return (kernel32_tp_tchar *)s;
        if (!*s)
            return NULL;
    }
}

static inline kernel32_tp_tchar *kernel32_tp_tcsdup(const kernel32_tp_tchar *s)
{
    size_t bytes = (kernel32_tp_tcslen(s) + 1) * sizeof(*s);
    kernel32_tp_tchar *d = (kernel32_tp_tchar *)malloc(bytes);

    return d ? (kernel32_tp_tchar *)memcpy(d, s, bytes) : NULL;
}

/* Numbers: the digits are ASCII, so the string is narrowed and parsed. */
static inline long long kernel32_tp_tcstoll(const kernel32_tp_tchar *s, kernel32_tp_tchar **end,
                                            int base, int is_unsigned)
{
    char narrow[72];
    char *narrow_end;
    size_t i;
    long long v;

    for (i = 0; i + 1 < sizeof(narrow) && s[i] && s[i] < 0x80; i++)
        narrow[i] = (char)s[i];
    narrow[i] = 0;
    v = is_unsigned ? (long long)strtoull(narrow, &narrow_end, base)
                    : strtoll(narrow, &narrow_end, base);
    if (end)
        *end = (kernel32_tp_tchar *)s + (narrow_end - narrow);
    return v;
}

/* printf to a stream: formatted in UTF-16, written in UTF-8. */
static inline int kernel32_tp_vftprintf(FILE *stream, const kernel32_tp_tchar *fmt, va_list ap)
{
    struct kernel32_tp_fmt_args args = { 0 };
    char stack_buf[512], *text = stack_buf;
    va_list copy;
    int len;

    va_copy(copy, ap);
    args.sysv = &copy;
    len = kernel32_tp_vformat(stack_buf, sizeof(stack_buf), 0, fmt, 1, &args);
    va_end(copy);
    if (len >= (int)sizeof(stack_buf)) {
        if (!(text = (char *)malloc((size_t)len + 1)))
            return -1;
        va_copy(copy, ap);
        args.sysv = &copy;
        len = kernel32_tp_vformat(text, (size_t)len + 1, 0, fmt, 1, &args);
        va_end(copy);
    }
    if (len > 0 && fwrite(text, 1, (size_t)len, stream) != (size_t)len)
        len = -1;
    if (text != stack_buf)
        free(text);
    return len;
}

KERNEL32_TP_VARIADIC(int, kernel32_tp_ftprintf,
                     (FILE *stream, const kernel32_tp_tchar *fmt, ...),
                     kernel32_tp_vftprintf(stream, fmt, ap))

KERNEL32_TP_VARIADIC(int, kernel32_tp_tprintf, (const kernel32_tp_tchar *fmt, ...),
                     kernel32_tp_vftprintf(stdout, fmt, ap))

/*
 * _vsnwprintf: at most count characters; -1 when the output does not fit,
 * and then (as on Windows) no terminating NUL is promised.
 */
static inline int kernel32_tp_vsntprintf(kernel32_tp_tchar *buf, size_t count,
                                         const kernel32_tp_tchar *fmt, va_list ap)
{
    struct kernel32_tp_fmt_args args = { 0 };
    /* Room for count units: the engine stores below cap - 1. */
    struct kernel32_tp_fmt_out out = { buf, count + 1, 0, 1 };
    va_list copy;
    int ret;

    va_copy(copy, ap);
    args.sysv = &copy;
    ret = kernel32_tp_format(&out, fmt, 1, &args);
    va_end(copy);
    if (ret < 0 || out.len > count)
        return -1;
    if (out.len < count)
        buf[out.len] = 0;
    return (int)out.len;
}

KERNEL32_TP_VARIADIC(int, kernel32_tp_sntprintf,
                     (kernel32_tp_tchar *buf, size_t count, const kernel32_tp_tchar *fmt, ...),
                     kernel32_tp_vsntprintf(buf, count, fmt, ap))

#ifdef __cplusplus
}
#endif

/* The wide names Wine maps to the C library's 32-bit functions, removed. */
#undef _fgettc
#undef _fgettchar
#undef _fgetts
#undef _fputtc
#undef _fputtchar
#undef _fputts
#undef _ftscanf
#undef _gettc
#undef _gettchar
#undef _getts
#undef _puttc
#undef _puttchar
#undef _putts
#undef _stprintf
#undef _stscanf
#undef _tcscoll
#undef _tcsftime
#undef _tcsnccmp
#undef _tcsnccpy
#undef _tcsnccat
#undef _tcstod
#undef _tcstok
#undef _tcsxfrm
#undef _tscanf
#undef _ungettc
#undef _vstprintf
#undef _tcsspn
#undef _tcscspn
#undef _tcspbrk
#undef _tcscpy_s
#undef _tcscat_s
#undef _tcsncpy_s
#undef _tcsncat_s

/* ... and the ones provided here. */
#undef _tcslen
#undef _tcsclen
#undef _tcsnlen
#undef _tcscpy
#undef _tcsncpy
#undef _tcscat
#undef _tcsncat
#undef _tcscmp
#undef _tcsncmp
#undef _tcsicmp
#undef _tcsnicmp
#undef _tcschr
#undef _tcsrchr
#undef _tcsstr
#undef _tcsdup
#undef _tcstol
#undef _tcstoul
#undef _tcstoll
#undef _tcstoull
#undef _ttoi
#undef _ttol
#undef _tprintf
#undef _ftprintf
#undef _vtprintf
#undef _vftprintf
#undef _sntprintf
#undef _vsntprintf
#define _tcslen(s) kernel32_tp_tcslen(s)
#define _tcsclen(s) kernel32_tp_tcslen(s)
#define _tcsnlen(s, n) kernel32_tp_tcsnlen((s), (n))
#define _tcscpy(d, s) kernel32_tp_tcscpy((d), (s))
#define _tcsncpy(d, s, n) kernel32_tp_tcsncpy((d), (s), (n))
#define _tcscat(d, s) kernel32_tp_tcscat((d), (s))
#define _tcsncat(d, s, n) kernel32_tp_tcsncat((d), (s), (n))
#define _tcscmp(a, b) kernel32_tp_tcsncmp_fold((a), (b), (size_t)-1, 0)
#define _tcsncmp(a, b, n) kernel32_tp_tcsncmp_fold((a), (b), (n), 0)
#define _tcsicmp(a, b) kernel32_tp_tcsncmp_fold((a), (b), (size_t)-1, 1)
#define _tcsnicmp(a, b, n) kernel32_tp_tcsncmp_fold((a), (b), (n), 1)
#define _tcschr(s, c) kernel32_tp_tcschr((s), (c))
#define _tcsrchr(s, c) kernel32_tp_tcsrchr((s), (c))
#define _tcsstr(s, sub) kernel32_tp_tcsstr((s), (sub))
#define _tcsdup(s) kernel32_tp_tcsdup(s)
#define _tcstol(s, e, b) ((long)kernel32_tp_tcstoll((s), (e), (b), 0))
#define _tcstoul(s, e, b) ((unsigned long)kernel32_tp_tcstoll((s), (e), (b), 1))
#define _tcstoll(s, e, b) kernel32_tp_tcstoll((s), (e), (b), 0)
#define _tcstoull(s, e, b) ((unsigned long long)kernel32_tp_tcstoll((s), (e), (b), 1))
#define _ttoi(s) ((int)kernel32_tp_tcstoll((s), NULL, 10, 0))
#define _ttol(s) ((long)kernel32_tp_tcstoll((s), NULL, 10, 0))
#define _tprintf kernel32_tp_tprintf
#define _ftprintf kernel32_tp_ftprintf
#define _vtprintf(f, ap) kernel32_tp_vftprintf(stdout, (f), (ap))
#define _vftprintf kernel32_tp_vftprintf
#define _sntprintf kernel32_tp_sntprintf
#define _vsntprintf kernel32_tp_vsntprintf

#endif /* _UNICODE */

#endif

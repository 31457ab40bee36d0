/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the string calls of kernel32 (and user32's wsprintf)
 * that Windows programs use: lstrlen, lstrcpy(n), lstrcat, lstrcmp(i),
 * wsprintf/wvsprintf, MultiByteToWideChar and WideCharToMultiByte, and the
 * UTF-16/UTF-8 conversions the rest of the layer uses for text
 * (handle_utf16_to_utf8, handle_utf8_to_utf16).
 *
 * The ANSI code page of these builds is UTF-8: CP_ACP, CP_OEMCP,
 * CP_THREAD_ACP and CP_UTF8 all mean UTF-8; other code pages are
 * ERROR_INVALID_PARAMETER.  lstrcmp compares as Windows' word sort does for
 * ASCII letters (case ignored first, then lower case before upper case);
 * other characters compare by code point, where Windows' linguistic order
 * would differ (docs/handles.md).  No locks, no state.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include <kernel32_tp_format.h>

/* user32's wsprintf writes at most this many characters, the NUL included. */
#define WSPRINTF_MAX 1024

/* ---- UTF-16 <-> UTF-8 ------------------------------------------------------ */

/*
 * Converts count units of UTF-16 to UTF-8 into dst (cap bytes; dst may be
 * NULL with cap 0 to measure).  An unpaired surrogate becomes U+FFFD and
 * sets *invalid.  Returns the bytes the whole conversion needs.
 */
size_t handle_utf16_to_utf8(const WCHAR *src, size_t count, char *dst, size_t cap,
                            BOOL *invalid)
{
    struct kernel32_tp_fmt_out out = { dst, cap + 1, 0, 0 };   /* stores below cap */
    size_t i, step;
    unsigned int cp;

    for (i = 0; i < count; i += step) {
        step = kernel32_tp_utf16_next((const unsigned short *)src + i, count - i, &cp);
        if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;
            if (invalid)
                *invalid = TRUE;
        }
        kernel32_tp_fmt_cp(&out, cp);
    }
    return out.len;
}

size_t handle_utf8_to_utf16(const char *src, size_t count, WCHAR *dst, size_t cap, BOOL *invalid)
{
    struct kernel32_tp_fmt_out out = { dst, cap + 1, 0, 1 };
    size_t i, step;
    unsigned int cp;

    for (i = 0; i < count; i += step) {
        step = kernel32_tp_utf8_next((const unsigned char *)src + i, count - i, &cp);
        if (cp == 0xfffd && step == 1 && (unsigned char)src[i] >= 0x80 && invalid)
            *invalid = TRUE;
        kernel32_tp_fmt_cp(&out, cp);
    }
    return out.len;
}

static BOOL code_page_is_utf8(UINT code_page)
{
    return code_page == CP_ACP || code_page == CP_OEMCP || code_page == CP_THREAD_ACP
        || code_page == CP_UTF8;
}

/***********************************************************************
 *           MultiByteToWideChar   (kernel32_tp.@)
 *
 * An invalid UTF-8 byte becomes U+FFFD, or with MB_ERR_INVALID_CHARS fails
 * with ERROR_NO_UNICODE_TRANSLATION.
 */
INT WINAPI MultiByteToWideChar(UINT code_page, DWORD flags, LPCSTR src, INT src_len, LPWSTR dst,
                               INT dst_len)
{
    const DWORD utf8_flags = MB_ERR_INVALID_CHARS;
    const DWORD acp_flags = MB_PRECOMPOSED | MB_COMPOSITE | MB_USEGLYPHCHARS | MB_ERR_INVALID_CHARS;
    BOOL invalid = FALSE;
    size_t count, need;

    HANDLE_TRACE("%u %#x %p %d %p %d", code_page, (unsigned int)flags, (const void *)src, src_len,
                 (void *)dst, dst_len);
    if (!src || !src_len || dst_len < 0 || (dst_len && !dst) || (const void *)src == dst) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if (!code_page_is_utf8(code_page)) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if (flags & ~(code_page == CP_UTF8 ? utf8_flags : acp_flags)) {
        os_set_last_error(ERROR_INVALID_FLAGS);
        return 0;
    }
    count = src_len < 0 ? strlen(src) + 1 : (size_t)src_len;
    need = handle_utf8_to_utf16(src, count, dst, (size_t)dst_len, &invalid);
    if (invalid && (flags & MB_ERR_INVALID_CHARS)) {
        os_set_last_error(ERROR_NO_UNICODE_TRANSLATION);
        return 0;
    }
    if (need > INT_MAX || (dst_len && need > (size_t)dst_len)) {
        os_set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    return (INT)need;
}

/***********************************************************************
 *           WideCharToMultiByte   (kernel32_tp.@)
 *
 * An unpaired surrogate becomes U+FFFD, or with WC_ERR_INVALID_CHARS fails
 * with ERROR_NO_UNICODE_TRANSLATION.  A default character does not apply
 * to UTF-8: for CP_UTF8 both default arguments must be NULL
 * (ERROR_INVALID_PARAMETER); for CP_ACP *used_default is set to FALSE.
 */
INT WINAPI WideCharToMultiByte(UINT code_page, DWORD flags, LPCWSTR src, INT src_len, LPSTR dst,
                               INT dst_len, LPCSTR default_char, LPBOOL used_default)
{
    const DWORD acp_flags = WC_COMPOSITECHECK | WC_DISCARDNS | WC_SEPCHARS | WC_DEFAULTCHAR
        | WC_NO_BEST_FIT_CHARS | WC_ERR_INVALID_CHARS;
    BOOL invalid = FALSE;
    size_t count, need;

    HANDLE_TRACE("%u %#x %p %d %p %d %p %p", code_page, (unsigned int)flags, (const void *)src,
                 src_len, (void *)dst, dst_len, (const void *)default_char, (void *)used_default);
    if (!src || !src_len || dst_len < 0 || (dst_len && !dst) || (const void *)src == dst) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if (!code_page_is_utf8(code_page)) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if (code_page == CP_UTF8) {
        if (default_char || used_default) {
            os_set_last_error(ERROR_INVALID_PARAMETER);
            return 0;
        }
        if (flags & ~(DWORD)WC_ERR_INVALID_CHARS) {
            os_set_last_error(ERROR_INVALID_FLAGS);
            return 0;
        }
    } else if (flags & ~acp_flags) {
        os_set_last_error(ERROR_INVALID_FLAGS);
        return 0;
    }
    if (src_len < 0) {
        for (count = 0; src[count]; count++)
            ;
        count++;
    } else {
        count = (size_t)src_len;
    }
    need = handle_utf16_to_utf8(src, count, dst, (size_t)dst_len, &invalid);
    if (invalid && (flags & WC_ERR_INVALID_CHARS)) {
        os_set_last_error(ERROR_NO_UNICODE_TRANSLATION);
        return 0;
    }
    if (need > INT_MAX || (dst_len && need > (size_t)dst_len)) {
        os_set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    if (used_default)
        *used_default = FALSE;
    return (INT)need;
}

/* ---- lstr* ------------------------------------------------------------------- */

/*
 * Windows' lstr* functions catch the fault of a bad pointer: lstrlen of
 * NULL is 0, lstrcpy/lstrcat with a NULL string return NULL.  Here a NULL
 * pointer is checked; other bad pointers fault.
 */

static size_t wide_length(const WCHAR *str)
{
    size_t n = 0;

    while (str[n])
        n++;
    return n;
}

/***********************************************************************
 *           lstrlenA   (kernel32_tp.@)
 */
INT WINAPI lstrlenA(LPCSTR str)
{
    HANDLE_TRACE("%p", (const void *)str);
    return str ? (INT)strlen(str) : 0;
}

/***********************************************************************
 *           lstrlenW   (kernel32_tp.@)
 */
INT WINAPI lstrlenW(LPCWSTR str)
{
    HANDLE_TRACE("%p", (const void *)str);
    return str ? (INT)wide_length(str) : 0;
}

/***********************************************************************
 *           lstrcpyA   (kernel32_tp.@)
 */
LPSTR WINAPI lstrcpyA(LPSTR dst, LPCSTR src)
{
    HANDLE_TRACE("%p %p", (void *)dst, (const void *)src);
    if (!dst || !src)
        return NULL;
    return memmove(dst, src, strlen(src) + 1);
}

/***********************************************************************
 *           lstrcpyW   (kernel32_tp.@)
 */
LPWSTR WINAPI lstrcpyW(LPWSTR dst, LPCWSTR src)
{
    HANDLE_TRACE("%p %p", (void *)dst, (const void *)src);
    if (!dst || !src)
        return NULL;
    return memmove(dst, src, (wide_length(src) + 1) * sizeof(WCHAR));
}

/*
 * lstrcpyn's copy of units (narrow bytes or UTF-16): at most count - 1 of
 * them and a NUL; count 0 writes nothing.
 */
static void *copy_units_n(void *dst, const void *src, INT count, BOOL wide)
{
    UINT left = (UINT)count;
    size_t i;

    if (!dst || !src)
        return NULL;
    for (i = 0; left; i++, left--) {
        /* The last place left takes the NUL: src is not read there (it
         * may be a buffer of count - 1 units with no NUL). */
        unsigned int c = left == 1 ? 0
                         : wide ? ((const WCHAR *)src)[i] : ((const unsigned char *)src)[i];

        if (wide)
            ((WCHAR *)dst)[i] = (WCHAR)c;
        else
            ((char *)dst)[i] = (char)c;
        if (!c)
            break;
    }
    return dst;
}

/***********************************************************************
 *           lstrcpynA   (kernel32_tp.@)
 *
 * At most count - 1 characters and a NUL; count 0 writes nothing.
 */
LPSTR WINAPI lstrcpynA(LPSTR dst, LPCSTR src, INT count)
{
    HANDLE_TRACE("%p %p %d", (void *)dst, (const void *)src, count);
    return copy_units_n(dst, src, count, FALSE);
}

/***********************************************************************
 *           lstrcpynW   (kernel32_tp.@)
 */
LPWSTR WINAPI lstrcpynW(LPWSTR dst, LPCWSTR src, INT count)
{
    HANDLE_TRACE("%p %p %d", (void *)dst, (const void *)src, count);
    return copy_units_n(dst, src, count, TRUE);
}

/***********************************************************************
 *           lstrcatA   (kernel32_tp.@)
 */
LPSTR WINAPI lstrcatA(LPSTR dst, LPCSTR src)
{
    HANDLE_TRACE("%p %p", (void *)dst, (const void *)src);
    if (!dst || !src)
        return NULL;
    memmove(dst + strlen(dst), src, strlen(src) + 1);
    return dst;
}

/***********************************************************************
 *           lstrcatW   (kernel32_tp.@)
 */
LPWSTR WINAPI lstrcatW(LPWSTR dst, LPCWSTR src)
{
    HANDLE_TRACE("%p %p", (void *)dst, (const void *)src);
    if (!dst || !src)
        return NULL;
    memmove(dst + wide_length(dst), src, (wide_length(src) + 1) * sizeof(WCHAR));
    return dst;
}

static unsigned int fold_ascii(unsigned int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * Compares two strings of units (narrow bytes or UTF-16) as described in
 * the file header: -1, 0 or 1.  A NULL string sorts first.  The body of the
 * four lstrcmp* exports (func: which).
 */
static int compare_units(const char *func, const void *a, const void *b, BOOL wide,
                         BOOL ignore_case)
{
    size_t i;
    int tie = 0;

    HANDLE_TRACE_FOR(func, "%p %p", a, b);
    if (!a || !b)
        return !a && !b ? 0 : !a ? -1 : 1;
    for (i = 0;; i++) {
        unsigned int x = wide ? ((const WCHAR *)a)[i] : ((const unsigned char *)a)[i];
        unsigned int y = wide ? ((const WCHAR *)b)[i] : ((const unsigned char *)b)[i];

        if (fold_ascii(x) != fold_ascii(y))
            return fold_ascii(x) < fold_ascii(y) ? -1 : 1;
        if (!x)
            return ignore_case ? 0 : tie;
        /* The first difference in case decides a tie: lower case first. */
        if (!tie && x != y)
            tie = x > y ? -1 : 1;
    }
}

/***********************************************************************
 *           lstrcmpA   (kernel32_tp.@)
 */
INT WINAPI lstrcmpA(LPCSTR a, LPCSTR b)
{
    return compare_units(__func__, a, b, FALSE, FALSE);
}

/***********************************************************************
 *           lstrcmpW   (kernel32_tp.@)
 */
INT WINAPI lstrcmpW(LPCWSTR a, LPCWSTR b)
{
    return compare_units(__func__, a, b, TRUE, FALSE);
}

/***********************************************************************
 *           lstrcmpiA   (kernel32_tp.@)
 */
INT WINAPI lstrcmpiA(LPCSTR a, LPCSTR b)
{
    return compare_units(__func__, a, b, FALSE, TRUE);
}

/***********************************************************************
 *           lstrcmpiW   (kernel32_tp.@)
 */
INT WINAPI lstrcmpiW(LPCWSTR a, LPCWSTR b)
{
    return compare_units(__func__, a, b, TRUE, TRUE);
}

/* ---- wsprintf ----------------------------------------------------------------- */

/* <windows.h> maps these names to inline versions for programs (see
 * kernel32_tp_porting.h); here they are the exported functions. */
#undef wvsprintfA
#undef wvsprintfW

/* wsprintf's result: the characters stored (at most WSPRINTF_MAX - 1). */
static INT wsprintf_common(void *buf, BOOL wide, const void *fmt, __ms_va_list *ap)
{
    struct kernel32_tp_fmt_args args = { 1, NULL, ap };
    int len;

    if (!buf || !fmt)
        return 0;
    len = kernel32_tp_vformat(buf, WSPRINTF_MAX, wide, fmt, wide, &args);
    if (len < 0)
        return 0;
    return len < WSPRINTF_MAX ? len : WSPRINTF_MAX - 1;
}

/***********************************************************************
 *           wvsprintfA   (kernel32_tp.@)
 *
 * user32's format language (no floating point, no '*'), not the C
 * runtime's; output stops at 1023 characters and a NUL.
 */
INT WINAPI wvsprintfA(LPSTR buf, LPCSTR fmt, __ms_va_list ap)
{
    HANDLE_TRACE("%p %p", (void *)buf, (const void *)fmt);
    return wsprintf_common(buf, FALSE, fmt, &ap);
}

/***********************************************************************
 *           wvsprintfW   (kernel32_tp.@)
 */
INT WINAPI wvsprintfW(LPWSTR buf, LPCWSTR fmt, __ms_va_list ap)
{
    HANDLE_TRACE("%p %p", (void *)buf, (const void *)fmt);
    return wsprintf_common(buf, TRUE, fmt, &ap);
}

/***********************************************************************
 *           wsprintfA   (kernel32_tp.@)
 */
INT WINAPIV wsprintfA(LPSTR buf, LPCSTR fmt, ...)
{
    __ms_va_list ap;
    INT len;

    HANDLE_TRACE("%p %p", (void *)buf, (const void *)fmt);
    __ms_va_start(ap, fmt);
    len = wsprintf_common(buf, FALSE, fmt, &ap);
    __ms_va_end(ap);
    return len;
}

/***********************************************************************
 *           wsprintfW   (kernel32_tp.@)
 */
INT WINAPIV wsprintfW(LPWSTR buf, LPCWSTR fmt, ...)
{
    __ms_va_list ap;
    INT len;

    HANDLE_TRACE("%p %p", (void *)buf, (const void *)fmt);
    __ms_va_start(ap, fmt);
    len = wsprintf_common(buf, TRUE, fmt, &ap);
    __ms_va_end(ap);
    return len;
}

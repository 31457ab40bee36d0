/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <strsafe.h> for Windows sources built on Linux: the StringCch* and
 * StringCb* families (Copy, CopyN, Cat, CatN, Printf, VPrintf, Length; A, W
 * and the generic names), inline, from the documented behaviour.  Wine's
 * header of this name declares nothing but the error codes; this one
 * replaces it (our include directory comes first).
 *
 * Documented behaviour kept here (tests/test_strsafe.c, also run against
 * the Windows SDK's implementation under Wine):
 *   - a destination size of 0 or above STRSAFE_MAX_CCH characters is
 *     STRSAFE_E_INVALID_PARAMETER, and the destination is not touched;
 *   - a result that does not fit is truncated, always NUL-terminated, and
 *     STRSAFE_E_INSUFFICIENT_BUFFER; one that fits exactly is S_OK;
 *   - Cat and Length need a NUL within the size they are given, otherwise
 *     STRSAFE_E_INVALID_PARAMETER (Length then reports 0).
 * Where Windows leaves the result undefined (NULL strings: the SDK lets
 * them crash) these functions return STRSAFE_E_INVALID_PARAMETER.  A format
 * the CRT rejects (%n, an unknown conversion) is STRSAFE_E_INVALID_PARAMETER
 * with an empty destination.  The printf language is the Windows CRT's:
 * see <kernel32_tp_format.h>.  Not provided: the Ex variants and Gets.
 */
#ifndef KERNEL32_TP_STRSAFE_H
#define KERNEL32_TP_STRSAFE_H
/* Keeps Wine's header of the same name out if it is included later. */
#define __WINE_STRSAFE_H

#include <windows.h>
#include <kernel32_tp_format.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRSAFE_MAX_CCH 2147483647
#ifndef STRSAFE_E_INSUFFICIENT_BUFFER
#define STRSAFE_E_INSUFFICIENT_BUFFER ((HRESULT)0x8007007AL)
#endif
#ifndef STRSAFE_E_INVALID_PARAMETER
#define STRSAFE_E_INVALID_PARAMETER ((HRESULT)0x80070057L)
#endif
#ifndef STRSAFE_E_END_OF_FILE
#define STRSAFE_E_END_OF_FILE ((HRESULT)0x80070026L)
#endif

typedef char *STRSAFE_LPSTR;
typedef const char *STRSAFE_LPCSTR;
typedef WCHAR *STRSAFE_LPWSTR;
typedef const WCHAR *STRSAFE_LPCWSTR;

/*
 * StringCch<Op>, StringCb<Op> and StringCb<Op>N, for Op Copy and Cat: each
 * is StringCch<Op>N with no count or with its sizes in bytes.  S and T as
 * below.
 */
#define KERNEL32_TP_STRSAFE_VARIANTS(OP, S, T)                                                 \
static inline HRESULT StringCch##OP##S(T *dst, size_t cch, const T *src)                       \
{                                                                                              \
    return StringCch##OP##N##S(dst, cch, src, STRSAFE_MAX_CCH);                                \
}                                                                                              \
                                                                                               \
static inline HRESULT StringCb##OP##S(T *dst, size_t cb, const T *src)                         \
{                                                                                              \
    if (cb > (size_t)STRSAFE_MAX_CCH * sizeof(T))                                              \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    return StringCch##OP##N##S(dst, cb / sizeof(T), src, STRSAFE_MAX_CCH);                     \
}                                                                                              \
                                                                                               \
static inline HRESULT StringCb##OP##N##S(T *dst, size_t cb, const T *src, size_t cb_count)     \
{                                                                                              \
    if (cb > (size_t)STRSAFE_MAX_CCH * sizeof(T))                                              \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    return StringCch##OP##N##S(dst, cb / sizeof(T), src, cb_count / sizeof(T));                \
}

/*
 * The bodies, once per character type.  S is the suffix (A, W), T the
 * character type, WIDE 0 or 1.  Every size below is in characters; the Cb
 * functions convert from bytes first.
 */
#define KERNEL32_TP_STRSAFE_DEFINE(S, T, WIDE)                                                 \
static inline HRESULT kernel32_tp_strsafe_length##S(const T *psz, size_t cch_max,              \
                                                    size_t *length)                            \
{                                                                                              \
    size_t n = 0;                                                                              \
                                                                                               \
    if (psz && cch_max <= STRSAFE_MAX_CCH) {                                                   \
        while (n < cch_max && psz[n])                                                          \
            n++;                                                                               \
        if (n < cch_max) {                                                                     \
            if (length)                                                                        \
                *length = n;                                                                   \
            return S_OK;                                                                       \
        }                                                                                      \
    }                                                                                          \
    if (length)                                                                                \
        *length = 0;                                                                           \
    return STRSAFE_E_INVALID_PARAMETER;                                                        \
}                                                                                              \
                                                                                               \
/* Copies at most count characters of src (stopping at its NUL) to dst,                      \
 * which has room for cch characters with the NUL (cch >= 1). */                              \
static inline HRESULT kernel32_tp_strsafe_copy##S(T *dst, size_t cch, const T *src,           \
                                                  size_t count)                                \
{                                                                                              \
    size_t i = 0;                                                                              \
                                                                                               \
    while (i < count && src[i]) {                                                              \
        if (i + 1 == cch) {                                                                    \
            dst[i] = 0;                                                                        \
            return STRSAFE_E_INSUFFICIENT_BUFFER;                                              \
        }                                                                                      \
        dst[i] = src[i];                                                                       \
        i++;                                                                                   \
    }                                                                                          \
    dst[i] = 0;                                                                                \
    return S_OK;                                                                               \
}                                                                                              \
                                                                                               \
static inline HRESULT StringCchLength##S(const T *psz, size_t cch_max, size_t *length)       \
{                                                                                              \
    return kernel32_tp_strsafe_length##S(psz, cch_max, length);                                \
}                                                                                              \
                                                                                               \
static inline HRESULT StringCbLength##S(const T *psz, size_t cb_max, size_t *length)         \
{                                                                                              \
    HRESULT hr = cb_max > (size_t)STRSAFE_MAX_CCH * sizeof(T) ? STRSAFE_E_INVALID_PARAMETER   \
        : kernel32_tp_strsafe_length##S(psz, cb_max / sizeof(T), length);                      \
                                                                                               \
    if (length)                                                                                \
        *length = SUCCEEDED(hr) ? *length * sizeof(T) : 0;                                     \
    return hr;                                                                                 \
}                                                                                              \
                                                                                               \
static inline HRESULT StringCchCopyN##S(T *dst, size_t cch, const T *src, size_t count)       \
{                                                                                              \
    if (!cch || cch > STRSAFE_MAX_CCH || !dst)                                                 \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    if (!src || count > STRSAFE_MAX_CCH) {                                                     \
        *dst = 0;                                                                              \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    }                                                                                          \
    return kernel32_tp_strsafe_copy##S(dst, cch, src, count);                                  \
}                                                                                              \
                                                                                               \
KERNEL32_TP_STRSAFE_VARIANTS(Copy, S, T)                                                       \
                                                                                               \
static inline HRESULT StringCchCatN##S(T *dst, size_t cch, const T *src, size_t count)        \
{                                                                                              \
    size_t len;                                                                                \
                                                                                               \
    if (!cch || cch > STRSAFE_MAX_CCH || !src || count > STRSAFE_MAX_CCH                       \
        || FAILED(kernel32_tp_strsafe_length##S(dst, cch, &len)))                              \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    return kernel32_tp_strsafe_copy##S(dst + len, cch - len, src, count);                      \
}                                                                                              \
                                                                                               \
KERNEL32_TP_STRSAFE_VARIANTS(Cat, S, T)                                                        \
                                                                                               \
static inline HRESULT StringCchVPrintf##S(T *dst, size_t cch, const T *fmt, va_list ap)       \
{                                                                                              \
    struct kernel32_tp_fmt_args args = { 0 };                                                  \
    va_list copy;                                                                              \
    int len;                                                                                   \
                                                                                               \
    if (!cch || cch > STRSAFE_MAX_CCH || !dst)                                                 \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    if (!fmt) {                                                                                \
        *dst = 0;                                                                              \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    }                                                                                          \
    va_copy(copy, ap);                                                                         \
    args.sysv = &copy;                                                                         \
    len = kernel32_tp_vformat(dst, cch, WIDE, fmt, WIDE, &args);                               \
    va_end(copy);                                                                              \
    if (len < 0)                                                                               \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    return (size_t)len < cch ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;                           \
}                                                                                              \
                                                                                               \
static inline HRESULT StringCbVPrintf##S(T *dst, size_t cb, const T *fmt, va_list ap)         \
{                                                                                              \
    if (cb > (size_t)STRSAFE_MAX_CCH * sizeof(T))                                              \
        return STRSAFE_E_INVALID_PARAMETER;                                                    \
    return StringCchVPrintf##S(dst, cb / sizeof(T), fmt, ap);                                  \
}                                                                                              \
                                                                                               \
KERNEL32_TP_VARIADIC(HRESULT, StringCchPrintf##S, (T *dst, size_t cch, const T *fmt, ...),     \
                     StringCchVPrintf##S(dst, cch, fmt, ap))                                   \
                                                                                               \
KERNEL32_TP_VARIADIC(HRESULT, StringCbPrintf##S, (T *dst, size_t cb, const T *fmt, ...),       \
                     StringCbVPrintf##S(dst, cb, fmt, ap))

KERNEL32_TP_STRSAFE_DEFINE(A, char, 0)
KERNEL32_TP_STRSAFE_DEFINE(W, WCHAR, 1)

#undef KERNEL32_TP_STRSAFE_DEFINE
#undef KERNEL32_TP_STRSAFE_VARIANTS

#ifdef UNICODE
#define StringCchCopy StringCchCopyW
#define StringCchCopyN StringCchCopyNW
#define StringCchCat StringCchCatW
#define StringCchCatN StringCchCatNW
#define StringCchPrintf StringCchPrintfW
#define StringCchVPrintf StringCchVPrintfW
#define StringCchLength StringCchLengthW
#define StringCbCopy StringCbCopyW
#define StringCbCopyN StringCbCopyNW
#define StringCbCat StringCbCatW
#define StringCbCatN StringCbCatNW
#define StringCbPrintf StringCbPrintfW
#define StringCbVPrintf StringCbVPrintfW
#define StringCbLength StringCbLengthW
#else
#define StringCchCopy StringCchCopyA
#define StringCchCopyN StringCchCopyNA
#define StringCchCat StringCchCatA
#define StringCchCatN StringCchCatNA
#define StringCchPrintf StringCchPrintfA
#define StringCchVPrintf StringCchVPrintfA
#define StringCchLength StringCchLengthA
#define StringCbCopy StringCbCopyA
#define StringCbCopyN StringCbCopyNA
#define StringCbCat StringCbCatA
#define StringCbCatN StringCbCatNA
#define StringCbPrintf StringCbPrintfA
#define StringCbVPrintf StringCbVPrintfA
#define StringCbLength StringCbLengthA
#endif

#ifdef __cplusplus
}
#endif

#endif

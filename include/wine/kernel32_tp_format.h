/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The printf engine of Windows sources built on Linux: the Windows C
 * runtime's format language, written into narrow (UTF-8) or wide (UTF-16)
 * buffers.  <strsafe.h> (StringCchPrintf...) and <tchar.h> use it inline;
 * the library's wsprintf/wvsprintf use it too.  Not an API of its own: the
 * names begin with kernel32_tp_ and may change.
 *
 * What differs from glibc's printf, and why it cannot be used directly:
 *   - strings and characters follow Windows: in a narrow format %s/%c are
 *     narrow and %S/%C/%ls/%ws/%lc wide; in a wide format %s/%c are wide and
 *     %S/%C/%hs/%hc narrow.  Wide means 16-bit WCHAR (-fshort-wchar), which
 *     glibc's %ls cannot read;
 *   - long is 32 bits on Windows: %ld/%lu/%lx print the low 32 bits;
 *     I64, I32 and I are Windows' size prefixes (ll, z, j, t work too);
 *   - %p prints the pointer as 16 upper-case hex digits, as the Windows CRT;
 *   - a NULL string prints "(null)";
 *   - %n is refused (Windows disables it): the call fails.
 * Narrow text is UTF-8 (the ANSI code page of these builds); converting a
 * wide string into narrow output encodes it as UTF-8, a narrow string into
 * wide output decodes it (an invalid byte becomes U+FFFD).
 */
#ifndef KERNEL32_TP_FORMAT_H
#define KERNEL32_TP_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the output goes: cap units (including the terminating NUL). */
struct kernel32_tp_fmt_out {
    void *buf;
    size_t cap;
    size_t len;         /* units the whole output needs, without the NUL */
    int wide;           /* 1: buf is 16-bit units */
};

/* The argument list: the caller's own (System V) or a Windows (ms_abi) one. */
struct kernel32_tp_fmt_args {
    /*
     * 1: user32's wsprintf language instead of the C runtime's: flags '-',
     * '#', '0' only (in this order), no '*', conversions c C d i s S u p x X
     * only; any other conversion character is printed as it is, with no
     * argument taken.
     */
    int wsprintf_rules;
    va_list *sysv;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_ms_va_list *ms;
#endif
};

#if defined(__x86_64__) && defined(__GNUC__)
#define KERNEL32_TP_FMT_ARG(args, type) \
    ((args)->ms ? __builtin_va_arg(*(args)->ms, type) : va_arg(*(args)->sysv, type))
#else
#define KERNEL32_TP_FMT_ARG(args, type) va_arg(*(args)->sysv, type)
#endif

/*
 * The variadic form of a function that takes a va_list: defines
 * static inline TYPE NAME PARAMS, whose last named parameter is fmt, as
 * CALL with ap holding the arguments after fmt.
 */
#define KERNEL32_TP_VARIADIC(type, name, params, call) \
    static inline type name params                     \
    {                                                  \
        type ret_;                                     \
        va_list ap;                                    \
                                                       \
        va_start(ap, fmt);                             \
        ret_ = call;                                   \
        va_end(ap);                                    \
        return ret_;                                   \
    }

static inline void kernel32_tp_fmt_unit(struct kernel32_tp_fmt_out *out, unsigned int unit)
{
    if (out->len + 1 < out->cap) {
        if (out->wide)
            ((unsigned short *)out->buf)[out->len] = (unsigned short)unit;
        else
            ((char *)out->buf)[out->len] = (char)unit;
    }
    out->len++;
}

/* One code point, encoded for the output (UTF-16 or UTF-8). */
static inline void kernel32_tp_fmt_cp(struct kernel32_tp_fmt_out *out, unsigned int cp)
{
    if (out->wide) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            kernel32_tp_fmt_unit(out, 0xd800 | (cp >> 10));
            kernel32_tp_fmt_unit(out, 0xdc00 | (cp & 0x3ff));
        } else {
            kernel32_tp_fmt_unit(out, cp);
        }
    } else if (cp < 0x80) {
        kernel32_tp_fmt_unit(out, cp);
    } else if (cp < 0x800) {
        kernel32_tp_fmt_unit(out, 0xc0 | (cp >> 6));
        kernel32_tp_fmt_unit(out, 0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        kernel32_tp_fmt_unit(out, 0xe0 | (cp >> 12));
        kernel32_tp_fmt_unit(out, 0x80 | ((cp >> 6) & 0x3f));
        kernel32_tp_fmt_unit(out, 0x80 | (cp & 0x3f));
    } else {
        kernel32_tp_fmt_unit(out, 0xf0 | (cp >> 18));
        kernel32_tp_fmt_unit(out, 0x80 | ((cp >> 12) & 0x3f));
        kernel32_tp_fmt_unit(out, 0x80 | ((cp >> 6) & 0x3f));
        kernel32_tp_fmt_unit(out, 0x80 | (cp & 0x3f));
    }
}

/* Decodes one code point of UTF-8 at s (n bytes left, n >= 1); returns the
 * bytes used.  An invalid or truncated sequence is one byte, U+FFFD. */
static inline size_t kernel32_tp_utf8_next(const unsigned char *s, size_t n, unsigned int *cp)
{
    unsigned int c = s[0], need, min, i;

    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; c &= 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; c &= 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; c &= 0x07; }
    else { *cp = 0xfffd; return 1; }
    if (n <= need) { *cp = 0xfffd; return 1; }
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80) { *cp = 0xfffd; return 1; }
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff) { *cp = 0xfffd; return 1; }
    *cp = c;
    return need + 1;
}

/* Decodes one code point of UTF-16 at s (n units left, n >= 1); an unpaired
 * surrogate is kept as it is.  Returns the units used. */
static inline size_t kernel32_tp_utf16_next(const unsigned short *s, size_t n, unsigned int *cp)
{
    if (s[0] >= 0xd800 && s[0] < 0xdc00 && n > 1 && s[1] >= 0xdc00 && s[1] < 0xe000) {
        *cp = 0x10000 + (((unsigned int)s[0] - 0xd800) << 10) + (s[1] - 0xdc00);
        return 2;
    }
    *cp = s[0];
    return 1;
}

static inline void kernel32_tp_fmt_pad(struct kernel32_tp_fmt_out *out, int count, unsigned int c)
{
    while (count-- > 0)
        kernel32_tp_fmt_unit(out, c);
}

/*
 * A string argument: str is narrow (UTF-8 bytes) or wide (16-bit units);
 * precision (-1: none) counts its characters, as does the width.
 */
static inline void kernel32_tp_fmt_string(struct kernel32_tp_fmt_out *out, const void *str,
                                          int str_wide, int width, int precision, int left)
{
    size_t n, i, step, chars = 0;
    unsigned int cp;

    if (!str) {
        str = "(null)";
        str_wide = 0;
    }
    if (str_wide) {
        const unsigned short *w = (const unsigned short *)str;

        for (n = 0; w[n] && (precision < 0 || n < (size_t)precision); n++)
            ;
        chars = n;
    } else {
        n = precision < 0 ? strlen((const char *)str) : strnlen((const char *)str, precision);
        chars = n;
    }
    if (!left && width > (int)chars)
        kernel32_tp_fmt_pad(out, width - (int)chars, ' ');
    for (i = 0; i < n; i += step) {
        if (str_wide) {
            step = kernel32_tp_utf16_next((const unsigned short *)str + i, n - i, &cp);
            kernel32_tp_fmt_cp(out, cp);
        } else if (!out->wide) {
            step = 1;       /* narrow into narrow: the bytes as they are */
            kernel32_tp_fmt_unit(out, ((const unsigned char *)str)[i]);
        } else {
            step = kernel32_tp_utf8_next((const unsigned char *)str + i, n - i, &cp);
            kernel32_tp_fmt_cp(out, cp);
        }
    }
    if (left && width > (int)chars)
        kernel32_tp_fmt_pad(out, width - (int)chars, ' ');
}

/* Reads the format's next unit: fmt is narrow or wide. */
static inline unsigned int kernel32_tp_fmt_at(const void *fmt, int fmt_wide, size_t i)
{
    return fmt_wide ? ((const unsigned short *)fmt)[i] : ((const unsigned char *)fmt)[i];
}

/*
 * Formats fmt (narrow or wide) with args into out.  Returns 0, or -1 for a
 * format the Windows CRT rejects (%n, an unknown conversion, a format that
 * ends inside a conversion).  out->len is what the whole output needs.
 */
static inline int kernel32_tp_format(struct kernel32_tp_fmt_out *out, const void *fmt,
                                     int fmt_wide, struct kernel32_tp_fmt_args *args)
{
    size_t i = 0, step;
    unsigned int c, cp;

    for (;;) {
        char spec[48], num[512], *text;
        int width = -1, precision = -1, left = 0, size = 0, wide_arg, k, n;
        size_t s = 1;
        unsigned long long u = 0;

        c = kernel32_tp_fmt_at(fmt, fmt_wide, i);
        if (!c)
            return 0;
        if (c != '%') {
            if (fmt_wide && !out->wide) {
                /* A high surrogate looks at the next unit, which exists (NUL at worst). */
                step = kernel32_tp_utf16_next((const unsigned short *)fmt + i, 2, &cp);
                kernel32_tp_fmt_cp(out, cp);
                i += step;
            } else if (!fmt_wide && out->wide && c >= 0x80) {
                const unsigned char *p = (const unsigned char *)fmt + i;

                step = kernel32_tp_utf8_next(p, strnlen((const char *)p, 4), &cp);
                kernel32_tp_fmt_cp(out, cp);
                i += step;
            } else {
                kernel32_tp_fmt_unit(out, c);
                i++;
            }
            continue;
        }
        /* A conversion: rebuilt as a narrow spec for what glibc prints alike. */
        spec[0] = '%';
        i++;
        if (args->wsprintf_rules) {
            if ((c = kernel32_tp_fmt_at(fmt, fmt_wide, i)) == '%') {
                kernel32_tp_fmt_unit(out, '%');
                i++;
                continue;
            }
            if (kernel32_tp_fmt_at(fmt, fmt_wide, i) == '-')
                spec[s++] = '-', left = 1, i++;
            if (kernel32_tp_fmt_at(fmt, fmt_wide, i) == '#')
                spec[s++] = '#', i++;
            if (kernel32_tp_fmt_at(fmt, fmt_wide, i) == '0')
                spec[s++] = '0', i++;
        }
        while (!args->wsprintf_rules
               && ((c = kernel32_tp_fmt_at(fmt, fmt_wide, i)) == '-' || c == '+' || c == ' '
                   || c == '#' || c == '0')) {
            if (c == '-')
                left = 1;
            if (s < 8)
                spec[s++] = (char)c;
            i++;
        }
        c = kernel32_tp_fmt_at(fmt, fmt_wide, i);
        if (c == '*' && !args->wsprintf_rules) {
            width = KERNEL32_TP_FMT_ARG(args, int);
            if (width < 0) {
                left = 1;
                spec[s++] = '-';
                width = -width;
            }
            c = kernel32_tp_fmt_at(fmt, fmt_wide, ++i);
        } else {
            while (c >= '0' && c <= '9') {
                width = (width < 0 ? 0 : width) * 10 + (int)(c - '0');
                if (width > 100000)
                    return -1;
                c = kernel32_tp_fmt_at(fmt, fmt_wide, ++i);
            }
        }
        if (c == '.') {
            precision = 0;
            c = kernel32_tp_fmt_at(fmt, fmt_wide, ++i);
            if (c == '*' && !args->wsprintf_rules) {
                precision = KERNEL32_TP_FMT_ARG(args, int);
                c = kernel32_tp_fmt_at(fmt, fmt_wide, ++i);
            } else {
                while (c >= '0' && c <= '9') {
                    precision = precision * 10 + (int)(c - '0');
                    if (precision > 100000)
                        return -1;
                    c = kernel32_tp_fmt_at(fmt, fmt_wide, ++i);
                }
            }
        }
        if (width >= 0)
            s += (size_t)snprintf(spec + s, sizeof(spec) - s, "%d", width);
        if (precision >= 0)
            s += (size_t)snprintf(spec + s, sizeof(spec) - s, ".%d", precision);
        /* Size: 'h' 1, 'hh' 2, 'l' 3 (32 bits on Windows), 'll'/I64 4,
         * I/z/j/t 5 (pointer-sized), 'w' 6 (wide), 'L' 7. */
        for (;;) {
            if (c == 'h') {
                size = size == 1 ? 2 : 1;
            } else if (c == 'l') {
                size = size == 3 ? 4 : 3;
            } else if (c == 'w') {
                size = 6;
            } else if (c == 'L') {
                size = 7;
            } else if (c == 'q') {
                size = 4;
            } else if (c == 'z' || c == 'j' || c == 't') {
                size = 5;
            } else if (c == 'I') {
                if (kernel32_tp_fmt_at(fmt, fmt_wide, i + 1) == '6'
                    && kernel32_tp_fmt_at(fmt, fmt_wide, i + 2) == '4') {
                    size = 4;
                    i += 2;
                } else if (kernel32_tp_fmt_at(fmt, fmt_wide, i + 1) == '3'
                           && kernel32_tp_fmt_at(fmt, fmt_wide, i + 2) == '2') {
                    size = 0;
                    i += 2;
                } else {
                    size = 5;
                }
            } else {
                break;
            }
            c = kernel32_tp_fmt_at(fmt, fmt_wide, ++i);
        }
        if (args->wsprintf_rules && (!c || !strchr("cCdisSupxX", (int)c)))
            continue;   /* printed as an ordinary character by the next round */
        i++;
        switch (c) {
        case '%':
            kernel32_tp_fmt_unit(out, '%');
            continue;
        case 'c': case 'C': case 's': case 'S':
            /* Wide or narrow: the format's own width for c/s, the other for C/S;
             * h forces narrow, l and w force wide. */
            wide_arg = (c == 'c' || c == 's') ? fmt_wide : !fmt_wide;
            if (size == 1)
                wide_arg = 0;
            else if (size == 3 || size == 6)
                wide_arg = 1;
            if (c == 'c' || c == 'C') {
                unsigned short wc[2] = { 0, 0 };
                char nc[2] = { 0, 0 };

                k = KERNEL32_TP_FMT_ARG(args, int);
                if (!left && width > 1)
                    kernel32_tp_fmt_pad(out, width - 1, ' ');
                if (wide_arg) {
                    wc[0] = (unsigned short)k;
                    kernel32_tp_fmt_cp(out, wc[0]);
                } else if (out->wide) {
                    nc[0] = (char)k;
                    kernel32_tp_fmt_cp(out, (unsigned char)nc[0] < 0x80
                                       ? (unsigned char)nc[0] : 0xfffd);
                } else {
                    kernel32_tp_fmt_unit(out, (unsigned char)k);
                }
                if (left && width > 1)
                    kernel32_tp_fmt_pad(out, width - 1, ' ');
            } else {
                kernel32_tp_fmt_string(out, KERNEL32_TP_FMT_ARG(args, const void *), wide_arg,
                                       width, precision, left);
            }
            continue;
        case 'p':
            /* The Windows CRT: the pointer's bits, 2 hex digits per byte. */
            n = snprintf(num, sizeof(num), "%0*llX", (int)(2 * sizeof(void *)),
                         (unsigned long long)(size_t)KERNEL32_TP_FMT_ARG(args, void *));
            kernel32_tp_fmt_string(out, num, 0, width, -1, left);
            continue;
        case 'd': case 'i':
            if (size == 4 || size == 5)
                u = (unsigned long long)KERNEL32_TP_FMT_ARG(args, long long);
            else if (size == 3)
                u = (unsigned long long)(long long)(int)KERNEL32_TP_FMT_ARG(args, long);
            else if (size == 1)
                u = (unsigned long long)(long long)(short)KERNEL32_TP_FMT_ARG(args, int);
            else if (size == 2)
                u = (unsigned long long)(long long)(signed char)KERNEL32_TP_FMT_ARG(args, int);
            else
                u = (unsigned long long)(long long)KERNEL32_TP_FMT_ARG(args, int);
            memcpy(spec + s, "lld", 4);
            n = snprintf(num, sizeof(num), spec, (long long)u);
            break;
        case 'u': case 'o': case 'x': case 'X':
            if (size == 4 || size == 5)
                u = KERNEL32_TP_FMT_ARG(args, unsigned long long);
            else if (size == 3)
                u = (unsigned int)KERNEL32_TP_FMT_ARG(args, unsigned long);
            else if (size == 1)
                u = (unsigned short)KERNEL32_TP_FMT_ARG(args, unsigned int);
            else if (size == 2)
                u = (unsigned char)KERNEL32_TP_FMT_ARG(args, unsigned int);
            else
                u = KERNEL32_TP_FMT_ARG(args, unsigned int);
            spec[s] = 'l';
            spec[s + 1] = 'l';
            spec[s + 2] = (char)c;
            spec[s + 3] = 0;
            n = snprintf(num, sizeof(num), spec, u);
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
            spec[s] = (char)c;
            spec[s + 1] = 0;
            {
                /* long double is double on Windows: %Lf still takes a double. */
                double d = KERNEL32_TP_FMT_ARG(args, double);

                n = snprintf(num, sizeof(num), spec, d);
                if (n >= (int)sizeof(num)) {
                    if (!(text = malloc((size_t)n + 1)))
                        return -1;
                    snprintf(text, (size_t)n + 1, spec, d);
                    kernel32_tp_fmt_string(out, text, 0, -1, -1, 0);
                    free(text);
                    continue;
                }
            }
            break;
        default:
            /* %n, an unknown conversion, or the end of the format. */
            return -1;
        }
        if (n < 0)
            return -1;
        kernel32_tp_fmt_string(out, num, 0, -1, -1, 0);
    }
}

/*
 * vsnprintf with the Windows format language: dst gets at most cap units,
 * always NUL-terminated when cap > 0.  Returns the length the whole output
 * needs (without the NUL), or -1 for a bad format (dst then holds "").
 */
static inline int kernel32_tp_vformat(void *dst, size_t cap, int dst_wide, const void *fmt,
                                      int fmt_wide, struct kernel32_tp_fmt_args *args)
{
    struct kernel32_tp_fmt_out out = { dst, cap, 0, dst_wide };
    int ret = kernel32_tp_format(&out, fmt, fmt_wide, args);
    size_t end = out.len < cap ? out.len : cap ? cap - 1 : 0;

    if (ret < 0)
        end = 0;
    if (cap) {
        if (dst_wide)
            ((unsigned short *)dst)[end] = 0;
        else
            ((char *)dst)[end] = 0;
    }
    if (ret < 0 || out.len > 0x7fffffff)
        return -1;
    return (int)out.len;
}

#endif

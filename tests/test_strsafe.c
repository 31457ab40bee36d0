/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <strsafe.h>: the StringCch and StringCb families as Windows sources use
 * them: copying, appending and formatting that fit, exactly fit or are
 * truncated; sizes of 0 and above STRSAFE_MAX_CCH; lengths; the Windows
 * CRT's format language (wide and narrow strings, 32-bit long, I64, %p).
 * Natively this tests include/wine/strsafe.h; cross-built it tests the SDK's
 * header (mingw-w64's), the reference.
 */
#include <string.h>

#include "helper.h"
#include <strsafe.h>

/* Compares a wide string with an ASCII one. */
static void strsafe_copy_fits_exactly_or_truncates(void **state)
{
    char buf[6];
    WCHAR wbuf[6];

    (void)state;
    assert_int_equal(StringCchCopyA(buf, 6, "hello"), S_OK);
    assert_string_equal(buf, "hello");
    assert_int_equal(StringCchCopyA(buf, 6, "hello!"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "hello");
    assert_int_equal(StringCchCopyA(buf, 1, "x"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "");
    assert_int_equal(StringCchCopyA(buf, 6, ""), S_OK);
    assert_string_equal(buf, "");
    assert_int_equal(StringCchCopyW(wbuf, 6, L"wide!"), S_OK);
    assert_true(wide_equals(wbuf, "wide!"));
    assert_int_equal(StringCchCopyW(wbuf, 3, L"wide!"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wide_equals(wbuf, "wi"));
    assert_int_equal(StringCbCopyW(wbuf, sizeof(wbuf), L"12345"), S_OK);
    assert_int_equal(StringCbCopyW(wbuf, 7, L"12345"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wide_equals(wbuf, "12"));     /* 7 bytes hold 3 characters */
    assert_int_equal(StringCbCopyA(buf, sizeof(buf), "abc"), S_OK);
    assert_string_equal(buf, "abc");
}

static void strsafe_size_zero_or_too_large_invalid_parameter(void **state)
{
    char buf[8];
    WCHAR wbuf[8];

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(StringCchCopyA(buf, 0, "a"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchCatA(buf, 0, "a"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchPrintfA(buf, 0, "%d", 1), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCbCopyA(buf, 0, "a"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(buf[0], 'x');              /* never touched */
    assert_int_equal(StringCchCopyA(buf, (size_t)STRSAFE_MAX_CCH + 1, "a"),
                     STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchPrintfA(buf, (size_t)STRSAFE_MAX_CCH + 1, "a"),
                     STRSAFE_E_INVALID_PARAMETER);
    wbuf[0] = 'y';
    assert_int_equal(StringCchCopyW(wbuf, 0, L"a"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCbCopyW(wbuf, 1, L"a"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(wbuf[0], 'y');
}

static void strsafe_cat_appends_truncates_and_needs_a_terminator(void **state)
{
    char buf[5] = "ab";
    WCHAR wbuf[8];

    (void)state;
    assert_int_equal(StringCchCatA(buf, 5, "cd"), S_OK);
    assert_string_equal(buf, "abcd");
    assert_int_equal(StringCchCatA(buf, 5, "e"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "abcd");
    memcpy(buf, "ab", 3);
    assert_int_equal(StringCchCatA(buf, 5, "xyz"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "abxy");
    memset(buf, 'z', sizeof(buf));              /* no NUL within the size */
    assert_int_equal(StringCchCatA(buf, 5, "a"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchCopyW(wbuf, 8, L"one"), S_OK);
    assert_int_equal(StringCchCatW(wbuf, 8, L"two"), S_OK);
    assert_true(wide_equals(wbuf, "onetwo"));
    assert_int_equal(StringCbCatW(wbuf, sizeof(wbuf), L"34"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wide_equals(wbuf, "onetwo3"));
}

static void strsafe_copyn_catn_stop_at_the_count(void **state)
{
    char buf[8];
    WCHAR wbuf[8];

    (void)state;
    assert_int_equal(StringCchCopyNA(buf, 8, "hello", 3), S_OK);
    assert_string_equal(buf, "hel");
    assert_int_equal(StringCchCopyNA(buf, 8, "hi", 5), S_OK);
    assert_string_equal(buf, "hi");
    assert_int_equal(StringCchCatNA(buf, 8, "therefore", 3), S_OK);
    assert_string_equal(buf, "hithe");
    assert_int_equal(StringCchCatNA(buf, 8, "therefore", 5), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "hitheth");
    assert_int_equal(StringCchCopyNA(buf, 4, "hello", 4), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "hel");
    assert_int_equal(StringCchCopyNW(wbuf, 8, L"wide", 2), S_OK);
    assert_true(wide_equals(wbuf, "wi"));
    assert_int_equal(StringCbCatNW(wbuf, sizeof(wbuf), L"dest", 2 * sizeof(WCHAR)), S_OK);
    assert_true(wide_equals(wbuf, "wide"));
    assert_int_equal(StringCbCopyNA(buf, sizeof(buf), "abcdef", 2), S_OK);
    assert_string_equal(buf, "ab");
}

static void strsafe_length_within_the_maximum(void **state)
{
    size_t len = 99;

    (void)state;
    assert_int_equal(StringCchLengthA("abc", 4, &len), S_OK);
    assert_int_equal(len, 3);
    assert_int_equal(StringCchLengthA("abc", 3, &len), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(len, 0);
    assert_int_equal(StringCchLengthA("abc", STRSAFE_MAX_CCH, NULL), S_OK);
    assert_int_equal(StringCchLengthA("abc", (size_t)STRSAFE_MAX_CCH + 1, &len),
                     STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchLengthW(L"wide", 10, &len), S_OK);
    assert_int_equal(len, 4);
    assert_int_equal(StringCbLengthW(L"wide", 10 * sizeof(WCHAR), &len), S_OK);
    assert_int_equal(len, 4 * sizeof(WCHAR));
    assert_int_equal(StringCbLengthA("", 1, &len), S_OK);
    assert_int_equal(len, 0);
}

static void strsafe_printf_narrow_windows_format(void **state)
{
    char buf[64];
    long neg = -5;

    (void)state;
    assert_int_equal(StringCchPrintfA(buf, 64, "%d|%5d|%-4d|%05d|%+d", 42, 7, 3, -12, 9), S_OK);
    assert_string_equal(buf, "42|    7|3   |-0012|+9");
    assert_int_equal(StringCchPrintfA(buf, 64, "%x|%X|%#x|%o|%u", 255, 255, 16, 8, 4000000000u),
                     S_OK);
    assert_string_equal(buf, "ff|FF|0x10|10|4000000000");
    assert_int_equal(StringCchPrintfA(buf, 64, "%ld|%lu|%I64d|%I64x|%lld", neg, 7ul,
                                      -((LONGLONG)1 << 40), (ULONGLONG)1 << 36, 123456789012LL),
                     S_OK);
    assert_string_equal(buf, "-5|7|-1099511627776|1000000000|123456789012");
    assert_int_equal(StringCchPrintfA(buf, 64, "[%s][%6s][%-3s][%.2s][%c%c]", "str", "right",
                                      "l", "trunc", 'o', 'k'), S_OK);
    assert_string_equal(buf, "[str][ right][l  ][tr][ok]");
    assert_int_equal(StringCchPrintfA(buf, 64, "%S|%ls|%ws|%C", L"wide", L"ls", L"ws", L'W'),
                     S_OK);
    assert_string_equal(buf, "wide|ls|ws|W");
    assert_int_equal(StringCchPrintfA(buf, 64, "%.3f|%6.2f|%g|%%", 3.14159, 2.5, 0.5), S_OK);
    assert_string_equal(buf, "3.142|  2.50|0.5|%");
    assert_int_equal(StringCchPrintfA(buf, 64, "%*d|%-*d|%.*s", 4, 1, 3, 2, 2, "abc"), S_OK);
    assert_string_equal(buf, "   1|2  |ab");
    assert_int_equal(StringCchPrintfA(buf, 64, "%Iu|%zu", (SIZE_T)77, (size_t)88), S_OK);
    assert_string_equal(buf, "77|88");
}

static void strsafe_printf_pointer_as_windows_prints_it(void **state)
{
    char buf[32];
    WCHAR wbuf[32];

    (void)state;
    assert_int_equal(StringCchPrintfA(buf, 32, "%p", (void *)(ULONG_PTR)0xabc123), S_OK);
    assert_string_equal(buf, sizeof(void *) == 8 ? "0000000000ABC123" : "00ABC123");
    assert_int_equal(StringCchPrintfW(wbuf, 32, L"%p", (void *)(ULONG_PTR)0x1f), S_OK);
    assert_true(wide_equals(wbuf, sizeof(void *) == 8 ? "000000000000001F" : "0000001F"));
}

static void strsafe_printf_wide_strings_follow_the_format(void **state)
{
    WCHAR wbuf[64];

    (void)state;
    assert_int_equal(StringCchPrintfW(wbuf, 64, L"%s|%S|%hs|%ls|%c|%hc|%C", L"wide", "narrow",
                                      "hs", L"ls", L'w', 'n', 'C'), S_OK);
    assert_true(wide_equals(wbuf, "wide|narrow|hs|ls|w|n|C"));
    assert_int_equal(StringCchPrintfW(wbuf, 64, L"%d-%u-%x-%I64u-%5.1f", -3, 3u, 0xbeef,
                                      (ULONGLONG)1 << 33, 1.375), S_OK);
    assert_true(wide_equals(wbuf, "-3-3-beef-8589934592-  1.4"));
    assert_int_equal(StringCbPrintfW(wbuf, sizeof(wbuf), L"%-6s|%4s", L"ab", L"cd"), S_OK);
    assert_true(wide_equals(wbuf, "ab    |  cd"));
}

static void strsafe_printf_truncates_or_fits_exactly(void **state)
{
    char buf[6];
    WCHAR wbuf[6];

    (void)state;
    assert_int_equal(StringCchPrintfA(buf, 6, "%s", "12345"), S_OK);
    assert_string_equal(buf, "12345");
    assert_int_equal(StringCchPrintfA(buf, 6, "%d", 123456), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "12345");
    assert_int_equal(StringCchPrintfA(buf, 1, "%s", "x"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "");
    assert_int_equal(StringCchPrintfW(wbuf, 6, L"%s!", L"abcde"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wide_equals(wbuf, "abcde"));
    assert_int_equal(StringCbPrintfA(buf, sizeof(buf), "%s", "abcdefgh"),
                     STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "abcde");
}

VA_WRAPPER(HRESULT, vprintf_helper, (char *buf, size_t cch, const char *fmt, ...),
           StringCchVPrintfA(buf, cch, fmt, ap))

VA_WRAPPER(HRESULT, vprintf_helper_w, (WCHAR *buf, size_t cb, const WCHAR *fmt, ...),
           StringCbVPrintfW(buf, cb, fmt, ap))

static void strsafe_vprintf_takes_a_va_list(void **state)
{
    char buf[16];
    WCHAR wbuf[16];

    (void)state;
    assert_int_equal(vprintf_helper(buf, 16, "%s=%d", "n", 5), S_OK);
    assert_string_equal(buf, "n=5");
    assert_int_equal(vprintf_helper(buf, 4, "%s=%d", "n", 500), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(buf, "n=5");
    assert_int_equal(vprintf_helper_w(wbuf, sizeof(wbuf), L"%s:%x", L"k", 10), S_OK);
    assert_true(wide_equals(wbuf, "k:a"));
}

static void strsafe_generic_names_follow_unicode(void **state)
{
    TCHAR buf[8];
    size_t len;

    (void)state;
    assert_int_equal(StringCchCopy(buf, 8, TEXT("tc")), S_OK);
    assert_int_equal(StringCchCat(buf, 8, TEXT("har")), S_OK);
    assert_int_equal(StringCchLength(buf, 8, &len), S_OK);
    assert_int_equal(len, 5);
    assert_int_equal(StringCchPrintf(buf, 8, TEXT("%d%s"), 12, TEXT("ab")), S_OK);
    assert_int_equal(StringCbLength(buf, sizeof(buf), &len), S_OK);
    assert_int_equal(len, 4 * sizeof(TCHAR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strsafe_copy_fits_exactly_or_truncates),
        cmocka_unit_test(strsafe_size_zero_or_too_large_invalid_parameter),
        cmocka_unit_test(strsafe_cat_appends_truncates_and_needs_a_terminator),
        cmocka_unit_test(strsafe_copyn_catn_stop_at_the_count),
        cmocka_unit_test(strsafe_length_within_the_maximum),
        cmocka_unit_test(strsafe_printf_narrow_windows_format),
        cmocka_unit_test(strsafe_printf_pointer_as_windows_prints_it),
        cmocka_unit_test(strsafe_printf_wide_strings_follow_the_format),
        cmocka_unit_test(strsafe_printf_truncates_or_fits_exactly),
        cmocka_unit_test(strsafe_vprintf_takes_a_va_list),
        cmocka_unit_test(strsafe_generic_names_follow_unicode),
    };

    return cmocka_run_group_tests_name("strsafe", tests, NULL, NULL);
}

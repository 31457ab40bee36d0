/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32's string calls as Windows programs use them: lstrlen, lstrcpy,
 * lstrcpyn, lstrcat, lstrcmp(i), user32's wsprintf/wvsprintf, and
 * MultiByteToWideChar/WideCharToMultiByte with UTF-8 (sizes, truncation,
 * invalid input, the flags UTF-8 accepts).
 */
#include <string.h>

#include "helper.h"

static void strings_lstrlen_counts_units_and_null_is_zero(void **state)
{
    (void)state;
    assert_int_equal(lstrlenA("hello"), 5);
    assert_int_equal(lstrlenA(""), 0);
    assert_int_equal(lstrlenA(NULL), 0);
    assert_int_equal(lstrlenW(L"wide"), 4);
    assert_int_equal(lstrlenW(L"\xd83d\xde00"), 2);    /* a surrogate pair: 2 units */
    assert_int_equal(lstrlenW(NULL), 0);
}

static void strings_lstrcpy_lstrcat_return_the_destination(void **state)
{
    char buf[16];
    WCHAR wbuf[16];

    (void)state;
    assert_ptr_equal(lstrcpyA(buf, "abc"), buf);
    assert_ptr_equal(lstrcatA(buf, "def"), buf);
    assert_string_equal(buf, "abcdef");
    assert_ptr_equal(lstrcpyW(wbuf, L"xy"), wbuf);
    assert_ptr_equal(lstrcatW(wbuf, L"z"), wbuf);
    assert_true(wide_equals(wbuf, "xyz"));
}

static void strings_lstrcpyn_truncates_to_count_minus_one(void **state)
{
    char buf[8];
    WCHAR wbuf[8];

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_ptr_equal(lstrcpynA(buf, "abcdef", 4), buf);
    assert_string_equal(buf, "abc");
    assert_ptr_equal(lstrcpynA(buf, "ab", 8), buf);
    assert_string_equal(buf, "ab");
    assert_ptr_equal(lstrcpynA(buf, "abc", 1), buf);
    assert_string_equal(buf, "");
    buf[0] = 'q';
    lstrcpynA(buf, "abc", 0);                   /* writes nothing */
    assert_int_equal(buf[0], 'q');
    assert_ptr_equal(lstrcpynW(wbuf, L"wide!", 5), wbuf);
    assert_true(wide_equals(wbuf, "wide"));
}

static int sign(int v)
{
    return v < 0 ? -1 : v > 0;
}

static void strings_lstrcmp_orders_as_word_sort(void **state)
{
    (void)state;
    assert_int_equal(lstrcmpA("abc", "abc"), 0);
    assert_int_equal(sign(lstrcmpA("abc", "abd")), -1);
    assert_int_equal(sign(lstrcmpA("b", "a")), 1);
    assert_int_equal(sign(lstrcmpA("ab", "abc")), -1);
    /* Letters before case: "a" < "B" < "b"; lower case first on a tie. */
    assert_int_equal(sign(lstrcmpA("a", "B")), -1);
    assert_int_equal(sign(lstrcmpA("a", "A")), -1);
    assert_int_equal(sign(lstrcmpA("Abc", "abd")), -1);
    assert_int_equal(sign(lstrcmpW(L"Zebra", L"apple")), 1);
    assert_int_equal(sign(lstrcmpW(L"same", L"same")), 0);
    assert_int_equal(sign(lstrcmpA(NULL, "a")), -1);
    assert_int_equal(sign(lstrcmpA("a", NULL)), 1);
    assert_int_equal(lstrcmpA(NULL, NULL), 0);
}

static void strings_lstrcmpi_ignores_case(void **state)
{
    (void)state;
    assert_int_equal(lstrcmpiA("HeLLo", "hello"), 0);
    assert_int_equal(sign(lstrcmpiA("apple", "BANANA")), -1);
    assert_int_equal(sign(lstrcmpiA("b", "A")), 1);
    assert_int_equal(lstrcmpiW(L"WIDE", L"wide"), 0);
    assert_int_equal(sign(lstrcmpiW(L"abc", L"ABCD")), -1);
}

VA_WRAPPER(int, call_wvsprintfA, (char *buf, const char *fmt, ...), wvsprintfA(buf, fmt, ap))

VA_WRAPPER(int, call_wvsprintfW, (WCHAR *buf, const WCHAR *fmt, ...),
           wvsprintfW(buf, fmt, ap))

static void strings_wsprintf_user32_format(void **state)
{
    char buf[1100];
    WCHAR wbuf[64];
    char big[1200];

    (void)state;
    assert_int_equal(wsprintfA(buf, "%d|%u|%x|%X|%5d|%-3d|%03d", -4, 4u, 255, 255, 42, 1, 7), 24);
    assert_string_equal(buf, "-4|4|ff|FF|   42|1  |007");
    assert_int_equal(wsprintfA(buf, "%s|%S|%ls|%c|%%", "n", L"w", L"l", 'c'), 9);
    assert_string_equal(buf, "n|w|l|c|%");
    assert_int_equal(wsprintfA(buf, "%ld|%lu|%I64d|%#x", -7L, 7UL, (LONGLONG)1 << 40, 26), 23);
    assert_string_equal(buf, "-7|7|1099511627776|0x1a");
    assert_int_equal(wsprintfA(buf, "%p", (void *)(ULONG_PTR)0xbeef), 2 * (int)sizeof(void *));
    assert_string_equal(buf, sizeof(void *) == 8 ? "000000000000BEEF" : "0000BEEF");
    assert_int_equal(wsprintfW(wbuf, L"%s|%S|%hs|%d", L"wide", "narrow", "hs", 5), 16);
    assert_true(wide_equals(wbuf, "wide|narrow|hs|5"));
    assert_int_equal(call_wvsprintfA(buf, "%s=%d", "k", 12), 4);
    assert_string_equal(buf, "k=12");
    assert_int_equal(call_wvsprintfW(wbuf, L"%s=%x", L"w", 10), 3);
    assert_true(wide_equals(wbuf, "w=a"));
    /* At most 1024 characters with the NUL. */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    wsprintfA(buf, "%s", big);
    assert_int_equal(strlen(buf), 1023);
}

static void strings_wsprintf_has_no_floating_point(void **state)
{
    char buf[64];

    (void)state;
    /* An unknown conversion prints its letter and takes no argument. */
    assert_int_equal(wsprintfA(buf, "%f|%d", 7), 3);
    assert_string_equal(buf, "f|7");
}

static void strings_utf8_to_utf16_sizes_and_truncation(void **state)
{
    WCHAR wbuf[16];
    const char *text = "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";     /* h, e-acute, euro, U+1F600 */

    (void)state;
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, text, -1, NULL, 0), 6);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, text, -1, wbuf, 16), 6);
    assert_int_equal(wbuf[0], 'h');
    assert_int_equal(wbuf[1], 0xe9);
    assert_int_equal(wbuf[2], 0x20ac);
    assert_int_equal(wbuf[3], 0xd83d);
    assert_int_equal(wbuf[4], 0xde00);
    assert_int_equal(wbuf[5], 0);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, "abc", 2, wbuf, 16), 2);  /* no NUL */
    SetLastError(0xdeadbeef);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, "abcdef", -1, wbuf, 3), 0);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    SetLastError(0xdeadbeef);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, "abc", 0, wbuf, 16), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, NULL, 3, wbuf, 16), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

static void strings_utf8_invalid_bytes(void **state)
{
    WCHAR wbuf[8];
    int ret;

    (void)state;
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, "a\xff" "b", 3, wbuf, 8), 3);
    assert_int_equal(wbuf[1], 0xfffd);
    SetLastError(0xdeadbeef);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, "a\xff" "b", 3, wbuf, 8),
                     0);
    assert_int_equal(GetLastError(), ERROR_NO_UNICODE_TRANSLATION);
    /* UTF-8 takes no flag but MB_ERR_INVALID_CHARS (the documentation). */
    SetLastError(0xdeadbeef);
    ret = MultiByteToWideChar(CP_UTF8, MB_PRECOMPOSED, "a", 1, wbuf, 8);
    TODO_REF("Wine accepts any flags with CP_UTF8") {
        CHECK_EQ(ret, 0);
        CHECK_EQ(GetLastError(), ERROR_INVALID_FLAGS);
    }
}

static void strings_utf16_to_utf8_sizes_and_truncation(void **state)
{
    char buf[16];
    const WCHAR text[] = { 'h', 0xe9, 0x20ac, 0xd83d, 0xde00, 0 };

    (void)state;
    assert_int_equal(WideCharToMultiByte(CP_UTF8, 0, text, -1, NULL, 0, NULL, NULL), 11);
    assert_int_equal(WideCharToMultiByte(CP_UTF8, 0, text, -1, buf, 16, NULL, NULL), 11);
    assert_memory_equal(buf, "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 11);
    assert_int_equal(WideCharToMultiByte(CP_UTF8, 0, L"abc", 2, buf, 16, NULL, NULL), 2);
    SetLastError(0xdeadbeef);
    assert_int_equal(WideCharToMultiByte(CP_UTF8, 0, L"abcdef", -1, buf, 4, NULL, NULL), 0);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    SetLastError(0xdeadbeef);
    assert_int_equal(WideCharToMultiByte(CP_UTF8, 0, L"abc", 0, buf, 16, NULL, NULL), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

static void strings_utf16_lone_surrogate_and_defaults(void **state)
{
    char buf[16];
    const WCHAR lone[] = { 'a', 0xd800, 'b', 0 };
    BOOL used = TRUE;
    int ret;

    (void)state;
    assert_int_equal(WideCharToMultiByte(CP_UTF8, 0, lone, -1, buf, 16, NULL, NULL), 6);
    assert_memory_equal(buf, "a\xef\xbf\xbd" "b", 6);
    SetLastError(0xdeadbeef);
    assert_int_equal(WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, lone, -1, buf, 16, NULL,
                                         NULL), 0);
    assert_int_equal(GetLastError(), ERROR_NO_UNICODE_TRANSLATION);
    /* UTF-8 has no default character and takes no flag but
     * WC_ERR_INVALID_CHARS (the documentation). */
    SetLastError(0xdeadbeef);
    ret = WideCharToMultiByte(CP_UTF8, 0, L"a", -1, buf, 16, NULL, &used);
    TODO_REF("Wine accepts lpUsedDefaultChar with CP_UTF8") {
        CHECK_EQ(ret, 0);
        CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    }
    SetLastError(0xdeadbeef);
    ret = WideCharToMultiByte(CP_UTF8, WC_COMPOSITECHECK, L"a", -1, buf, 16, NULL, NULL);
    TODO_REF("Wine accepts any flags with CP_UTF8") {
        CHECK_EQ(ret, 0);
        CHECK_EQ(GetLastError(), ERROR_INVALID_FLAGS);
    }
}

static void strings_ansi_code_page_round_trips_ascii(void **state)
{
    WCHAR wbuf[16];
    char buf[16];
    BOOL used = TRUE;

    (void)state;
    assert_int_equal(MultiByteToWideChar(CP_ACP, 0, "ascii", -1, wbuf, 16), 6);
    assert_true(wide_equals(wbuf, "ascii"));
    assert_int_equal(WideCharToMultiByte(CP_ACP, 0, wbuf, -1, buf, 16, NULL, &used), 6);
    assert_string_equal(buf, "ascii");
    assert_false(used);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_lstrlen_counts_units_and_null_is_zero),
        cmocka_unit_test(strings_lstrcpy_lstrcat_return_the_destination),
        cmocka_unit_test(strings_lstrcpyn_truncates_to_count_minus_one),
        cmocka_unit_test(strings_lstrcmp_orders_as_word_sort),
        cmocka_unit_test(strings_lstrcmpi_ignores_case),
        cmocka_unit_test(strings_wsprintf_user32_format),
        cmocka_unit_test(strings_wsprintf_has_no_floating_point),
        cmocka_unit_test(strings_utf8_to_utf16_sizes_and_truncation),
        cmocka_unit_test(strings_utf8_invalid_bytes),
        cmocka_unit_test(strings_utf16_to_utf8_sizes_and_truncation),
        cmocka_unit_test(strings_utf16_lone_surrogate_and_defaults),
        cmocka_unit_test(strings_ansi_code_page_round_trips_ascii),
    };

    return cmocka_run_group_tests_name("strings", tests, NULL, NULL);
}

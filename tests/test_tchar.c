/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <tchar.h> in a _UNICODE build: _TCHAR is 16 bits, _T() makes wide
 * literals, and the generic string routines work on 16-bit strings
 * (length, copy, append, compare with and without case, search, numbers,
 * _sntprintf with the Windows printf language).  Natively this tests
 * include/wine/tchar.h; cross-built, the SDK's header over msvcrt.
 */
/* This test is the _UNICODE build whatever the command line says. */
#undef UNICODE
#define UNICODE
#undef _UNICODE
#define _UNICODE
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include <tchar.h>

static void tchar_is_sixteen_bits(void **state)
{
    (void)state;
    assert_int_equal(sizeof(_TCHAR), 2);
    assert_int_equal(sizeof(_T("ab")), 3 * sizeof(_TCHAR));
    assert_int_equal(_T('x'), 'x');
}

static void tchar_length_copy_append(void **state)
{
    _TCHAR buf[32];
    _TCHAR *dup;

    (void)state;
    assert_int_equal(_tcslen(_T("hello")), 5);
    assert_ptr_equal(_tcscpy(buf, _T("wide")), buf);
    assert_ptr_equal(_tcscat(buf, _T(" text")), buf);
    assert_int_equal(_tcslen(buf), 9);
    assert_int_equal(_tcscmp(buf, _T("wide text")), 0);
    _tcsncpy(buf, _T("abcdef"), 3);             /* no NUL written: the rest stays */
    assert_int_equal(_tcscmp(buf, _T("abce text")), 0);
    dup = _tcsdup(buf);
    assert_non_null(dup);
    assert_int_equal(_tcscmp(dup, buf), 0);
    free(dup);
}

static void tchar_compare_and_search(void **state)
{
    const _TCHAR *text = _T("Thread Pool thread");

    (void)state;
    assert_true(_tcscmp(_T("abc"), _T("abd")) < 0);
    assert_true(_tcscmp(_T("b"), _T("a")) > 0);
    assert_int_equal(_tcsicmp(_T("POOL"), _T("pool")), 0);
    assert_true(_tcsicmp(_T("apple"), _T("BANANA")) < 0);
    assert_int_equal(_tcsncmp(_T("prefix-a"), _T("prefix-b"), 6), 0);
    assert_ptr_equal(_tcschr(text, _T('P')), text + 7);
    assert_ptr_equal(_tcsrchr(text, _T('t')), text + 12);
    assert_ptr_equal(_tcsstr(text, _T("thread")), text + 12);
    assert_null(_tcsstr(text, _T("fiber")));
}

static void tchar_numbers(void **state)
{
    _TCHAR *end;

    (void)state;
    assert_int_equal(_ttoi(_T("1234")), 1234);
    assert_int_equal(_ttoi(_T("-56")), -56);
    assert_int_equal(_tcstol(_T("0x1f rest"), &end, 16), 31);
    assert_int_equal(_tcscmp(end, _T(" rest")), 0);
    assert_int_equal(_tcstoul(_T("777"), NULL, 8), 511);
}

VA_WRAPPER(int, call_vsntprintf, (_TCHAR *buf, size_t count, const _TCHAR *fmt, ...),
           _vsntprintf(buf, count, fmt, ap))

static void tchar_sntprintf_windows_language(void **state)
{
    _TCHAR buf[32];

    (void)state;
    assert_int_equal(_sntprintf(buf, 32, _T("%s=%d %S"), _T("n"), 42, "narrow"), 11);
    assert_int_equal(_tcscmp(buf, _T("n=42 narrow")), 0);
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(_sntprintf(buf, 4, _T("%s"), _T("toolong")), -1);  /* does not fit */
    assert_int_equal(_tcsncmp(buf, _T("tool"), 4), 0);
    assert_int_equal(call_vsntprintf(buf, 32, _T("%05.1f|%x"), 2.375, 255), 8);
    assert_int_equal(_tcscmp(buf, _T("002.4|ff")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tchar_is_sixteen_bits),
        cmocka_unit_test(tchar_length_copy_append),
        cmocka_unit_test(tchar_compare_and_search),
        cmocka_unit_test(tchar_numbers),
        cmocka_unit_test(tchar_sntprintf_windows_language),
    };

    return cmocka_run_group_tests_name("tchar", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Standard handles and the console: GetStdHandle (one handle per stream,
 * the same every time; bad selectors), WriteFile on standard output, and
 * WriteConsoleA/W and Get/SetConsoleMode, which need a console: on a file
 * or any other handle they fail with ERROR_INVALID_HANDLE; <io.h>'s
 * _get_osfhandle gives the standard handles for descriptors 0-2.  Reading
 * standard input is exercised by the porting corpus (tests/porting/), which
 * controls what it reads.
 */
#include <errno.h>
#include <io.h>
#include <string.h>

#include "helper.h"

static void console_std_handles_are_stable(void **state)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);

    (void)state;
    assert_true(out != INVALID_HANDLE_VALUE && out != NULL);
    assert_true(err != INVALID_HANDLE_VALUE && err != NULL);
    assert_ptr_equal(GetStdHandle(STD_OUTPUT_HANDLE), out);
    assert_ptr_equal(GetStdHandle(STD_ERROR_HANDLE), err);
    assert_ptr_not_equal(out, err);
}

static void console_bad_selector_invalid_handle(void **state)
{
    (void)state;
    SetLastError(0xdeadbeef);
    assert_ptr_equal(GetStdHandle(5), INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_ptr_equal(GetStdHandle((DWORD)-13), INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

static void console_write_file_to_standard_output(void **state)
{
    static const char text[] = "console: a line through WriteFile on standard output\n";
    DWORD written = 0;

    (void)state;
    assert_true(WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), text, sizeof(text) - 1, &written,
                          NULL));
    assert_int_equal(written, sizeof(text) - 1);
    written = 7;
    assert_true(WriteFile(GetStdHandle(STD_ERROR_HANDLE), text, 0, &written, NULL));
    assert_int_equal(written, 0);
}

static void console_write_console_on_a_file_invalid_handle(void **state)
{
    char dir[MAX_PATH], path[MAX_PATH];
    DWORD written = 0xdead;
    HANDLE file;

    (void)state;
    assert_true(GetTempPathA(sizeof(dir), dir));
    assert_true(GetTempFileNameA(dir, "con", 0, path));
    file = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE,
                       NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    SetLastError(0xdeadbeef);
    assert_false(WriteConsoleA(file, "x", 1, &written, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(WriteConsoleW(file, L"x", 1, &written, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    assert_true(WriteFile(file, "x", 1, &written, NULL));   /* the handle itself is fine */
    assert_int_equal(written, 1);
    CloseHandle(file);
    SetLastError(0xdeadbeef);
    assert_false(WriteConsoleW(file, L"x", 1, &written, NULL));     /* closed */
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

static void console_mode_of_std_handles(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD mode, which[3] = { STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE };
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        HANDLE h = GetStdHandle(which[i]);

        /* Stable, and a console only when the test runs on one. */
        assert_ptr_equal(GetStdHandle(which[i]), h);
        if (!h || h == INVALID_HANDLE_VALUE)
            continue;
        SetLastError(0xdeadbeef);
        if (GetConsoleMode(h, &mode)) {
            assert_true(SetConsoleMode(h, mode));
        } else {
            assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
        }
    }
    /* Not a console at all. */
    SetLastError(0xdeadbeef);
    assert_false(GetConsoleMode(event, &mode));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(SetConsoleMode(event, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    CloseHandle(event);
}

static void console_mode_of_a_file_invalid_handle(void **state)
{
    char dir[MAX_PATH], path[MAX_PATH];
    DWORD mode;
    HANDLE file;

    (void)state;
    assert_true(GetTempPathA(sizeof(dir), dir));
    assert_true(GetTempFileNameA(dir, "con", 0, path));
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                       FILE_FLAG_DELETE_ON_CLOSE, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    /* A file handle, as a standard handle redirected to a file is. */
    SetLastError(0xdeadbeef);
    assert_false(GetConsoleMode(file, &mode));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(SetConsoleMode(file, ENABLE_PROCESSED_OUTPUT));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    CloseHandle(file);
}

/* The C runtime's descriptors 0-2 are the standard handles (<io.h>). */
static void console_osfhandle_of_standard_descriptors(void **state)
{
    (void)state;
    assert_true(_get_osfhandle(0) == (intptr_t)GetStdHandle(STD_INPUT_HANDLE));
    assert_true(_get_osfhandle(1) == (intptr_t)GetStdHandle(STD_OUTPUT_HANDLE));
    assert_true(_get_osfhandle(2) == (intptr_t)GetStdHandle(STD_ERROR_HANDLE));
    errno = 0;
    assert_true(_get_osfhandle(1000) == -1);
    assert_int_equal(errno, EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(console_std_handles_are_stable),
        cmocka_unit_test(console_bad_selector_invalid_handle),
        cmocka_unit_test(console_write_file_to_standard_output),
        cmocka_unit_test(console_write_console_on_a_file_invalid_handle),
        cmocka_unit_test(console_mode_of_std_handles),
        cmocka_unit_test(console_mode_of_a_file_invalid_handle),
        cmocka_unit_test(console_osfhandle_of_standard_descriptors),
    };

    return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}

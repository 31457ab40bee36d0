/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Standard handles and the console: GetStdHandle (one handle per stream,
 * the same every time; bad selectors), WriteFile on standard output, and
 * WriteConsoleA/W and Get/SetConsoleMode, which need a console: on a file
 * or any other handle they fail with ERROR_INVALID_HANDLE; <io.h>'s
 * _get_osfhandle gives the standard handles for descriptors 0-2.  Natively
 * a child runs on a pseudo-terminal, a console: its modes read and set the
 * terminal and WriteConsole writes to it.  Reading standard input is
 * exercised by the porting corpus (tests/porting/), which controls what it
 * reads.
 */
#ifndef __MINGW32__
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#ifndef __MINGW32__
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
#endif

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

/* ---- a console: natively, a child on a pseudo-terminal ------------------------- */

/* The child's checks, on the terminal it was given as standard handles: 0
 * when all pass, else the number of the one that failed. */
int helper_child_main(void)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode = 0, again = 0, written = 0;

    if (!GetConsoleMode(out, &mode))
        return 10;
    if ((mode & (ENABLE_PROCESSED_OUTPUT | ENABLE_WRAP_AT_EOL_OUTPUT))
        != (ENABLE_PROCESSED_OUTPUT | ENABLE_WRAP_AT_EOL_OUTPUT))
        return 11;
    if (!SetConsoleMode(out, mode | DISABLE_NEWLINE_AUTO_RETURN)
        || !GetConsoleMode(out, &again) || !(again & DISABLE_NEWLINE_AUTO_RETURN))
        return 12;
    if (!SetConsoleMode(out, mode) || !GetConsoleMode(out, &again) || again != mode)
        return 13;
    if (!GetConsoleMode(in, &mode))
        return 20;
    if (!SetConsoleMode(in, ENABLE_PROCESSED_INPUT) || !GetConsoleMode(in, &again)
        || (again & (ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT))
           != ENABLE_PROCESSED_INPUT)
        return 21;
    /* Echo needs line input. */
    SetLastError(0xdeadbeef);
    if (SetConsoleMode(in, ENABLE_ECHO_INPUT) || GetLastError() != ERROR_INVALID_PARAMETER)
        return 22;
    if (!SetConsoleMode(in, mode))
        return 23;
    if (!WriteConsoleW(out, L"console-ok\n", 11, &written, NULL) || written != 11)
        return 30;
    return 0;
}

static void console_modes_and_output_on_a_terminal(void **state)
{
#ifdef __MINGW32__
    (void)state;
    /* A console of its own needs CreateProcess with CREATE_NEW_CONSOLE,
     * which Wine has no terminal for in a test run. */
    skip();
#else
    posix_spawn_file_actions_t actions;
    char *argv[] = { (char *)"test_console", (char *)HELPER_CHILD_ARG, NULL };
    char buf[4096], *slave_name;
    size_t len = 0;
    int master, slave, status = 0, fd;
    ssize_t n;
    pid_t pid;

    (void)state;
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    assert_non_null(slave_name = ptsname(master));
    slave = open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(slave >= 0);
    assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
    for (fd = 0; fd < 3; fd++)
        assert_int_equal(posix_spawn_file_actions_adddup2(&actions, slave, fd), 0);
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(slave);
    /* Until the child's end of the terminal is gone (EIO). */
    while (len < sizeof(buf) - 1
           && ((n = read(master, buf + len, sizeof(buf) - 1 - len)) > 0
               || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    buf[len] = 0;
    close(master);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(buf, "console-ok"));
#endif
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
        cmocka_unit_test(console_modes_and_output_on_a_terminal),
    };

    return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}

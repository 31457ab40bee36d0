/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The debugging calls: IsDebuggerPresent (no debugger in a test run),
 * DebugBreak (a breakpoint the program can catch: SIGTRAP on Linux,
 * EXCEPTION_BREAKPOINT on Windows), OutputDebugStringA/W (on kernel32_tp:
 * to standard error when KERNEL32_TP_DEBUG_OUTPUT=1, else nowhere).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __MINGW32__
#include <io.h>
#else
#include <signal.h>
#include <unistd.h>
#endif

#include "helper.h"

static volatile LONG breakpoints;

#ifdef __MINGW32__
/* Counts the breakpoint and steps over its int3 (Windows leaves Rip on it). */
static LONG CALLBACK breakpoint_handler(EXCEPTION_POINTERS *info)
{
    if (info->ExceptionRecord->ExceptionCode != EXCEPTION_BREAKPOINT)
        return EXCEPTION_CONTINUE_SEARCH;
    InterlockedIncrement(&breakpoints);
    if (*(const unsigned char *)info->ContextRecord->Rip == 0xcc)
        info->ContextRecord->Rip++;
    return EXCEPTION_CONTINUE_EXECUTION;
}
#else
static void breakpoint_handler(int sig)
{
    if (sig == SIGTRAP)
        InterlockedIncrement(&breakpoints);
}
#endif

static void debug_no_debugger_in_a_test_run(void **state)
{
    (void)state;
    assert_false(IsDebuggerPresent());
}

static void debug_break_raises_a_breakpoint(void **state)
{
#ifdef __MINGW32__
    void *handler = AddVectoredExceptionHandler(1, breakpoint_handler);

    assert_non_null(handler);
#else
    struct sigaction sa, old;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = breakpoint_handler;
    assert_int_equal(sigaction(SIGTRAP, &sa, &old), 0);
#endif
    (void)state;
    breakpoints = 0;
    DebugBreak();
    assert_int_equal(breakpoints, 1);
#ifdef __MINGW32__
    RemoveVectoredExceptionHandler(handler);
#else
    sigaction(SIGTRAP, &old, NULL);
#endif
}

/* Runs OutputDebugStringA/W with standard error sent to a file, and
 * returns what reached it (at most size - 1 bytes). */
static void capture_debug_output(const char *narrow, const WCHAR *wide, char *out, size_t size)
{
    FILE *capture = tmpfile();
    int saved;
    long n;

    assert_non_null(capture);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(capture), 2) >= 0);
    OutputDebugStringA(narrow);
    OutputDebugStringW(wide);
    dup2(saved, 2);
    close(saved);
    rewind(capture);
    n = (long)fread(out, 1, size - 1, capture);
    out[n > 0 ? n : 0] = 0;
    fclose(capture);
}

static void debug_output_to_stderr_only_when_asked(void **state)
{
    char out[128];

    (void)state;
    putenv((char *)"KERNEL32_TP_DEBUG_OUTPUT=1");
    capture_debug_output("narrow;", L"wide\x00e9;", out, sizeof(out));
    if (helper_is_kernel32_tp())
        assert_string_equal(out, "narrow;wide\xc3\xa9;");
    else
        assert_string_equal(out, "");   /* Windows: to a debugger, and there is none */
    putenv((char *)"KERNEL32_TP_DEBUG_OUTPUT=0");
    capture_debug_output("narrow;", L"wide;", out, sizeof(out));
    assert_string_equal(out, "");
    OutputDebugStringA(NULL);       /* nothing to say, nothing said */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debug_no_debugger_in_a_test_run),
        cmocka_unit_test(debug_break_raises_a_breakpoint),
        cmocka_unit_test(debug_output_to_stderr_only_when_asked),
    };

    return cmocka_run_group_tests_name("debug", tests, NULL, NULL);
}

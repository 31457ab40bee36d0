/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process and what belongs to it: TLS slots (TlsAlloc, TlsFree,
 * TlsGetValue, TlsSetValue), the environment, the error mode, the
 * unhandled-exception filter, ExitProcess and GetExitCodeProcess,
 * GetProcessId, the ntdll calls NtClose and NtQuerySystemTime; what a
 * program asks about itself and its threads: GetCommandLineA/W,
 * GetModuleFileNameA/W (full, truncated, bad module), GetThreadId,
 * Get/SetThreadPriority, SwitchToThread, and the C runtime's
 * _beginthreadex/_endthreadex with their waitable handle.  ExitProcess,
 * HEAP_GENERATE_EXCEPTIONS and a fault run in a child process (posix_spawn
 * natively, CreateProcess on Windows).
 */
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winternl.h>
#ifndef __MINGW32__
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
#endif

#include "helper.h"

#define CHILD_EXIT_CODE 7

/* ---- TLS ------------------------------------------------------------------ */

static DWORD tls_index_for_thread;

static DWORD WINAPI tls_other_thread(void *arg)
{
    /* A new thread starts with NULL, then keeps its own value. */
    if (TlsGetValue(tls_index_for_thread) != NULL)
        return 1;
    if (!TlsSetValue(tls_index_for_thread, arg))
        return 2;
    return TlsGetValue(tls_index_for_thread) == arg ? 0 : 3;
}

static void process_tls_values_per_thread(void **state)
{
    HANDLE thread;
    DWORD code = 0xbad;

    (void)state;
    tls_index_for_thread = TlsAlloc();
    assert_int_not_equal(tls_index_for_thread, TLS_OUT_OF_INDEXES);
    assert_true(TlsSetValue(tls_index_for_thread, (void *)0x1234));
    thread = CreateThread(NULL, 0, tls_other_thread, (void *)0x5678, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    assert_true(GetExitCodeThread(thread, &code));
    assert_int_equal(code, 0);
    CloseHandle(thread);
    /* The other thread's value did not touch ours. */
    SetLastError(0xdeadbeef);
    assert_ptr_equal(TlsGetValue(tls_index_for_thread), (void *)0x1234);
    /* Success clears the last error, so NULL can be told from failure. */
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    assert_true(TlsFree(tls_index_for_thread));
}

static void process_tls_free_then_alloc_reads_null(void **state)
{
    DWORD index, again;

    (void)state;
    index = TlsAlloc();
    assert_int_not_equal(index, TLS_OUT_OF_INDEXES);
    assert_true(TlsSetValue(index, (void *)0x42));
    assert_true(TlsFree(index));
    /* The lowest free index comes back, and its value is cleared. */
    again = TlsAlloc();
    assert_int_equal(again, index);
    assert_null(TlsGetValue(again));
    assert_true(TlsFree(again));
    /* Freeing it twice fails. */
    SetLastError(0xdeadbeef);
    assert_false(TlsFree(again));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

static void process_tls_expansion_slots(void **state)
{
    DWORD indices[100];
    int i;

    (void)state;
    /* Beyond the first 64, the expansion slots. */
    for (i = 0; i < 100; i++) {
        indices[i] = TlsAlloc();
        assert_int_not_equal(indices[i], TLS_OUT_OF_INDEXES);
        assert_true(TlsSetValue(indices[i], (void *)(ULONG_PTR)(i + 1)));
    }
    for (i = 0; i < 100; i++)
        assert_ptr_equal(TlsGetValue(indices[i]), (void *)(ULONG_PTR)(i + 1));
    for (i = 0; i < 100; i++)
        assert_true(TlsFree(indices[i]));
    /* An index past the last slot. */
    SetLastError(0xdeadbeef);
    assert_null(TlsGetValue(100000));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(TlsSetValue(100000, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* ---- environment, error mode, ids ----------------------------------------------- */

static void process_environment_variables(void **state)
{
    static const WCHAR name_w[] = { 'K', 'T', 'P', '_', 'T', 'E', 'S', 'T', '_', 'V', 0 };
    static const WCHAR missing_w[] = { 'K', 'T', 'P', '_', 'N', 'O', 'N', 'E', 0 };
    WCHAR buf_w[16];
    char buf[16];
    DWORD len;

    (void)state;
#ifdef __MINGW32__
    assert_true(SetEnvironmentVariableA("KTP_TEST_V", "value\xc3\xa9"));
#else
    assert_int_equal(setenv("KTP_TEST_V", "value\xc3\xa9", 1), 0);
#endif
    /* Too small: the size needed, with the terminator. */
    len = GetEnvironmentVariableA("KTP_TEST_V", buf, 3);
    assert_int_equal(len, 8);
    len = GetEnvironmentVariableA("KTP_TEST_V", buf, sizeof(buf));
    assert_int_equal(len, 7);
    assert_int_equal(memcmp(buf, "value", 5), 0);
    len = GetEnvironmentVariableW(name_w, buf_w, 2);
    TODO_REF("the reference converts with the ANSI code page, not UTF-8") CHECK_EQ(len, 7);
    len = GetEnvironmentVariableW(name_w, buf_w, 16);
    TODO_REF("the reference converts with the ANSI code page, not UTF-8") {
        CHECK_EQ(len, 6);
        CHECK_EQ(buf_w[5], 0xe9);
        CHECK_EQ(buf_w[6], 0);
    }
    assert_int_equal(buf_w[0], 'v');
    SetLastError(0xdeadbeef);
    assert_int_equal(GetEnvironmentVariableA("KTP_NONE", buf, sizeof(buf)), 0);
    assert_int_equal(GetLastError(), ERROR_ENVVAR_NOT_FOUND);
    SetLastError(0xdeadbeef);
    assert_int_equal(GetEnvironmentVariableW(missing_w, buf_w, 16), 0);
    assert_int_equal(GetLastError(), ERROR_ENVVAR_NOT_FOUND);
}

static void process_error_mode_returns_previous(void **state)
{
    UINT first;

    (void)state;
    first = SetErrorMode(SEM_FAILCRITICALERRORS);
    assert_int_equal(SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX),
                     SEM_FAILCRITICALERRORS);
    assert_int_equal(SetErrorMode(first), SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
}

static void process_id_and_exit_code(void **state)
{
    HANDLE dup = NULL, event = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD code = 0;

    (void)state;
    assert_int_equal(GetProcessId(GetCurrentProcess()), GetCurrentProcessId());
    assert_true(DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(),
                                &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    assert_int_equal(GetProcessId(dup), GetCurrentProcessId());
    assert_true(GetExitCodeProcess(dup, &code));
    assert_int_equal(code, STILL_ACTIVE);
    assert_true(GetExitCodeProcess(GetCurrentProcess(), &code));
    assert_int_equal(code, STILL_ACTIVE);
    /* Not a process handle. */
    SetLastError(0xdeadbeef);
    assert_int_equal(GetProcessId(event), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(GetExitCodeProcess(event, &code));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    CloseHandle(dup);
    CloseHandle(event);
}

/* ---- ntdll ---------------------------------------------------------------------- */

static void process_nt_close_and_system_time(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    LARGE_INTEGER nt_time;
    FILETIME ft;
    ULONGLONG ft_100ns;

    (void)state;
    assert_non_null(event);
    assert_int_equal(NtClose(event), 0);
    /* Closed: the handle is gone. */
    assert_int_equal(NtClose(event), (NTSTATUS)0xc0000008);     /* STATUS_INVALID_HANDLE */
    GetSystemTimeAsFileTime(&ft);
    assert_int_equal(NtQuerySystemTime(&nt_time), 0);
    ft_100ns = ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    /* The same clock: within a generous second of each other. */
    assert_true((ULONGLONG)nt_time.QuadPart >= ft_100ns);
    assert_true((ULONGLONG)nt_time.QuadPart - ft_100ns < 10000000ull);
}

/* ---- the command line, module file names ---------------------------------------- */

static void process_command_line_names_the_program(void **state)
{
    LPSTR line = GetCommandLineA();
    LPWSTR wline = GetCommandLineW();

    (void)state;
    assert_non_null(line);
    assert_non_null(strstr(line, "test_process"));
    assert_ptr_equal(GetCommandLineA(), line);      /* the same buffer every time */
    assert_non_null(wline);
    assert_ptr_equal(GetCommandLineW(), wline);
    assert_int_equal(lstrlenW(wline), lstrlenA(line));  /* the names here are ASCII */
}

static void process_module_file_name_of_the_program(void **state)
{
    char name[MAX_PATH], again[MAX_PATH];
    WCHAR wname[MAX_PATH];
    DWORD len;

    (void)state;
    len = GetModuleFileNameA(NULL, name, MAX_PATH);
    assert_true(len > 0 && len < MAX_PATH);
    assert_int_equal(len, strlen(name));
    assert_non_null(strstr(name, "test_process"));
    assert_int_equal(GetModuleFileNameA(GetModuleHandleA(NULL), again, MAX_PATH), len);
    assert_string_equal(again, name);
    assert_int_equal(GetModuleFileNameW(NULL, wname, MAX_PATH), len);
    assert_int_equal(lstrlenW(wname), len);
}

static void process_module_file_name_truncated(void **state)
{
    char name[8];
    WCHAR wname[8];

    (void)state;
    memset(name, 'x', sizeof(name));
    SetLastError(0xdeadbeef);
    assert_int_equal(GetModuleFileNameA(NULL, name, 5), 5);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    /* Since Vista the truncated name ends with a NUL within the size. */
    TODO_REF("Wine fills the whole buffer, as Windows XP") CHECK_EQ(name[4], 0);
    assert_int_equal(name[5], 'x');
    SetLastError(0xdeadbeef);
    assert_int_equal(GetModuleFileNameW(NULL, wname, 3), 3);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    TODO_REF("Wine fills the whole buffer, as Windows XP") CHECK_EQ(wname[2], 0);
}

static void process_module_file_name_bad_module(void **state)
{
    char name[MAX_PATH];

    (void)state;
    SetLastError(0xdeadbeef);
    assert_int_equal(GetModuleFileNameA((HMODULE)(ULONG_PTR)0x12340000, name, MAX_PATH), 0);
    assert_int_equal(GetLastError(), ERROR_MOD_NOT_FOUND);
}

/* ---- threads: ids, priorities, SwitchToThread, _beginthreadex ------------------- */

struct parked {
    HANDLE release;
    LONG ran;
};

static DWORD WINAPI parked_thread(void *arg)
{
    struct parked *parked = arg;

    InterlockedIncrement(&parked->ran);
    return WaitForSingleObject(parked->release, INFINITE) == WAIT_OBJECT_0 ? 0 : 1;
}

static void process_thread_id_of_handles(void **state)
{
    struct parked parked = { CreateEventA(NULL, TRUE, FALSE, NULL), 0 };
    DWORD tid = 0;
    HANDLE thread;

    (void)state;
    assert_int_equal(GetThreadId(GetCurrentThread()), GetCurrentThreadId());
    thread = CreateThread(NULL, 0, parked_thread, &parked, 0, &tid);
    assert_non_null(thread);
    assert_int_equal(GetThreadId(thread), tid);
    SetEvent(parked.release);
    helper_wait(thread);
    assert_int_equal(GetThreadId(thread), tid);     /* still known once ended */
    CloseHandle(thread);
    CloseHandle(parked.release);
    SetLastError(0xdeadbeef);
    assert_int_equal(GetThreadId(NULL), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

static void process_thread_priority_set_and_get(void **state)
{
    struct parked parked = { CreateEventA(NULL, TRUE, FALSE, NULL), 0 };
    HANDLE thread;

    (void)state;
    thread = CreateThread(NULL, 0, parked_thread, &parked, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(GetThreadPriority(thread), THREAD_PRIORITY_NORMAL);
    assert_true(SetThreadPriority(thread, THREAD_PRIORITY_BELOW_NORMAL));
    assert_int_equal(GetThreadPriority(thread), THREAD_PRIORITY_BELOW_NORMAL);
    assert_true(SetThreadPriority(thread, THREAD_PRIORITY_LOWEST));
    assert_int_equal(GetThreadPriority(thread), THREAD_PRIORITY_LOWEST);
    /* Raising again is always allowed to a Windows program. */
    assert_true(SetThreadPriority(thread, THREAD_PRIORITY_NORMAL));
    assert_int_equal(GetThreadPriority(thread), THREAD_PRIORITY_NORMAL);
    SetLastError(0xdeadbeef);
    assert_false(SetThreadPriority(thread, 7));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetEvent(parked.release);
    helper_wait(thread);
    CloseHandle(thread);
    CloseHandle(parked.release);
    SetLastError(0xdeadbeef);
    assert_int_equal(GetThreadPriority(NULL), THREAD_PRIORITY_ERROR_RETURN);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    SetLastError(0xdeadbeef);
    assert_false(SetThreadPriority(NULL, THREAD_PRIORITY_NORMAL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

static void process_switch_to_thread_returns(void **state)
{
    BOOL ret;
    int i;

    (void)state;
    /* Whether another thread ran is the scheduler's business: only the
     * value's range is Windows' contract. */
    for (i = 0; i < 10; i++) {
        ret = SwitchToThread();
        assert_true(ret == TRUE || ret == FALSE);
    }
}

static unsigned int __stdcall crt_thread(void *arg)
{
    InterlockedIncrement((LONG *)arg);
    return 42;
}

static unsigned int __stdcall crt_thread_ends_early(void *arg)
{
    InterlockedIncrement((LONG *)arg);
    _endthreadex(7);
    return 1;       /* not reached */
}

static void process_beginthreadex_waitable_with_exit_code(void **state)
{
    unsigned int tid = 0;
    DWORD code = 0;
    LONG ran = 0;
    HANDLE thread;

    (void)state;
    thread = (HANDLE)_beginthreadex(NULL, 0, crt_thread, &ran, 0, &tid);
    assert_non_null(thread);
    assert_int_not_equal(tid, 0);
    helper_wait(thread);
    assert_int_equal(ran, 1);
    assert_true(GetExitCodeThread(thread, &code));
    assert_int_equal(code, 42);
    assert_int_equal(GetThreadId(thread), tid);
    assert_true(CloseHandle(thread));
    thread = (HANDLE)_beginthreadex(NULL, 0, crt_thread_ends_early, &ran, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    assert_true(GetExitCodeThread(thread, &code));
    assert_int_equal(code, 7);
    assert_int_equal(ran, 2);
    assert_true(CloseHandle(thread));
}

/* ---- a child process: ExitProcess, an unhandled fault ----------------------------- */

static char *self_path;

static LONG WINAPI child_filter(EXCEPTION_POINTERS *pointers)
{
    /* The filter sees the fault; executing the handler ends the process
     * with the exception code. */
    if (pointers->ExceptionRecord->ExceptionCode != EXCEPTION_ACCESS_VIOLATION)
        ExitProcess(99);
    return EXCEPTION_EXECUTE_HANDLER;
}

static int child_main(const char *what)
{
    if (!strcmp(what, "exit"))
        ExitProcess(CHILD_EXIT_CODE);
    if (!strcmp(what, "heap-call") || !strcmp(what, "heap-heap")) {
        /* Raises STATUS_NO_MEMORY: unhandled, the process ends with it.
         * The flag is the call's, or the heap's for every call. */
        BOOL call = !strcmp(what, "heap-call");
        HANDLE heap = HeapCreate(call ? 0 : HEAP_GENERATE_EXCEPTIONS, 0, 64 * 1024);

        if (!heap || HeapAlloc(heap, call ? HEAP_GENERATE_EXCEPTIONS : 0, 1024 * 1024))
            return 96;
        return 97;
    }
    if (!strcmp(what, "fault")) {
        SetUnhandledExceptionFilter(child_filter);
        *(volatile int *)(ULONG_PTR)16 = 1;
    }
    return 98;
}

/* Runs this program as a child doing what; its exit code. */
static DWORD run_child(const char *what)
{
#ifdef __MINGW32__
    PROCESS_INFORMATION pi;
    STARTUPINFOA si;
    char cmd[MAX_PATH + 32];
    DWORD code = 0xbad;

    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    snprintf(cmd, sizeof(cmd), "\"%s\" %s", self_path, what);
    assert_true(helper_create_process(cmd, FALSE, &si, &pi));
    assert_int_equal(WaitForSingleObject(pi.hProcess, helper_timeout_ms()), WAIT_OBJECT_0);
    assert_true(GetExitCodeProcess(pi.hProcess, &code));
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return code;
#else
    char *argv[] = { self_path, (char *)what, NULL };
    int status = 0;
    pid_t pid;

    /* A fresh process, as CreateProcess makes: nothing of this one's
     * threads or objects in it. */
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return (DWORD)WEXITSTATUS(status);
#endif
}

static void process_exit_process_sets_exit_code(void **state)
{
    (void)state;
    assert_int_equal(run_child("exit"), CHILD_EXIT_CODE);
}

static void process_heap_generate_exceptions_raises(void **state)
{
    (void)state;
    /* Linux keeps the low 8 bits of the code: 0xc0000017 -> 0x17. */
    assert_int_equal(run_child("heap-call") & 0xff, STATUS_NO_MEMORY & 0xff);
    TODO_REF("Wine raises only for the call's flag, not the heap's")
        CHECK_EQ(run_child("heap-heap") & 0xff, STATUS_NO_MEMORY & 0xff);
}

static void process_unhandled_fault_reaches_filter(void **state)
{
    LPTOP_LEVEL_EXCEPTION_FILTER old;

    (void)state;
    /* Linux keeps the low 8 bits of the code: 0xc0000005 -> 5. */
    assert_int_equal(run_child("fault") & 0xff, EXCEPTION_ACCESS_VIOLATION & 0xff);
    /* Setting a filter returns the previous one. */
    old = SetUnhandledExceptionFilter(child_filter);
    assert_ptr_equal(SetUnhandledExceptionFilter(old), child_filter);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(process_tls_values_per_thread),
        cmocka_unit_test(process_tls_free_then_alloc_reads_null),
        cmocka_unit_test(process_tls_expansion_slots),
        cmocka_unit_test(process_environment_variables),
        cmocka_unit_test(process_error_mode_returns_previous),
        cmocka_unit_test(process_id_and_exit_code),
        cmocka_unit_test(process_nt_close_and_system_time),
        cmocka_unit_test(process_command_line_names_the_program),
        cmocka_unit_test(process_module_file_name_of_the_program),
        cmocka_unit_test(process_module_file_name_truncated),
        cmocka_unit_test(process_module_file_name_bad_module),
        cmocka_unit_test(process_thread_id_of_handles),
        cmocka_unit_test(process_thread_priority_set_and_get),
        cmocka_unit_test(process_switch_to_thread_returns),
        cmocka_unit_test(process_beginthreadex_waitable_with_exit_code),
        cmocka_unit_test(process_exit_process_sets_exit_code),
        cmocka_unit_test(process_heap_generate_exceptions_raises),
        cmocka_unit_test(process_unhandled_fault_reaches_filter),
    };

    if (argc > 1)
        return child_main(argv[1]);
    self_path = argv[0];
    return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}

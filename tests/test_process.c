/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a program asks about itself and its threads: GetCommandLineA/W,
 * GetModuleFileNameA/W (full, truncated, bad module), GetThreadId,
 * Get/SetThreadPriority, SwitchToThread, and the C runtime's
 * _beginthreadex/_endthreadex with their waitable handle.
 */
#include <process.h>
#include <string.h>

#include "helper.h"

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
    TODO_REF("Wine fills the whole buffer, as Windows XP") assert_int_equal(name[4], 0);
    assert_int_equal(name[5], 'x');
    SetLastError(0xdeadbeef);
    assert_int_equal(GetModuleFileNameW(NULL, wname, 3), 3);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    TODO_REF("Wine fills the whole buffer, as Windows XP") assert_int_equal(wname[2], 0);
}

static void process_module_file_name_bad_module(void **state)
{
    char name[MAX_PATH];

    (void)state;
    SetLastError(0xdeadbeef);
    assert_int_equal(GetModuleFileNameA((HMODULE)(ULONG_PTR)0x12340000, name, MAX_PATH), 0);
    assert_int_equal(GetLastError(), ERROR_MOD_NOT_FOUND);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(process_command_line_names_the_program),
        cmocka_unit_test(process_module_file_name_of_the_program),
        cmocka_unit_test(process_module_file_name_truncated),
        cmocka_unit_test(process_module_file_name_bad_module),
        cmocka_unit_test(process_thread_id_of_handles),
        cmocka_unit_test(process_thread_priority_set_and_get),
        cmocka_unit_test(process_switch_to_thread_returns),
        cmocka_unit_test(process_beginthreadex_waitable_with_exit_code),
    };

    return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}

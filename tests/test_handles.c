/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handles: closed, stale, wrong-type and made-up handles, CloseHandle,
 * DuplicateHandle, the pseudo-handles, and named objects (Create* of an
 * existing name, Open*, types, case, lifetime, namespaces).
 *
 * Names carry the process id, so parallel runs of this binary (or a
 * Windows session with other programs) never share an object.
 */
#include <stdio.h>
#include <string.h>

#include "helper.h"

static const char *test_name(char *buf, size_t size, const char *what)
{
    snprintf(buf, size, "kernel32_tp_test_%lu_%s", (unsigned long)GetCurrentProcessId(), what);
    return buf;
}

static void assert_invalid_handle_error(void)
{
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* ---- closed, stale, wrong type ------------------------------------------------ */

static void handles_closed_handle_invalid_handle(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    assert_non_null(event);
    assert_true(CloseHandle(event));
    SetLastError(0xdeadbeef);
    assert_false(SetEvent(event));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_FAILED);
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_false(CloseHandle(event));
    assert_invalid_handle_error();
}

static void handles_stale_after_reuse_invalid_handle(void **state)
{
    HANDLE first, second;
    int i, reused = 0;

    (void)state;
    first = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_true(CloseHandle(first));
    /* Windows hands the same value out again at once; kernel32_tp never
     * makes a closed handle name a new object this soon. */
    for (i = 0; i < 10000; i++) {
        second = CreateSemaphoreW(NULL, 0, 1, NULL);
        assert_non_null(second);
        reused += second == first;
        assert_true(CloseHandle(second));
    }
    TODO_REF("Windows reuses handle values at once") CHECK_EQ(reused, 0);
    second = CreateEventW(NULL, TRUE, FALSE, NULL);
    TODO_REF("Windows reuses handle values at once") {
        SetLastError(0xdeadbeef);
        CHECK(!SetEvent(first));
        CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
        CHECK_EQ(WaitForSingleObject(second, 0), WAIT_TIMEOUT);
    }
    CloseHandle(second);
}

static void handles_wrong_type_invalid_handle(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE sem = CreateSemaphoreW(NULL, 0, 1, NULL);
    HANDLE mutex = CreateMutexW(NULL, FALSE, NULL);
    DWORD code;

    (void)state;
    SetLastError(0xdeadbeef);
    assert_false(SetEvent(sem));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_false(ResetEvent(mutex));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_false(ReleaseSemaphore(event, 1, NULL));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_false(ReleaseMutex(sem));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_false(GetExitCodeThread(event, &code));
    assert_invalid_handle_error();
    /* Nothing happened to any of them. */
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    assert_int_equal(WaitForSingleObject(sem, 0), WAIT_TIMEOUT);
    assert_int_equal(WaitForSingleObject(mutex, 0), WAIT_OBJECT_0);
    assert_true(ReleaseMutex(mutex));
    CloseHandle(mutex);
    CloseHandle(sem);
    CloseHandle(event);
}

static void handles_made_up_values_invalid_handle(void **state)
{
    static const ULONG_PTR values[] = { 0, 0x12345678, 0x7ffffffc, 0x80000000 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        SetLastError(0xdeadbeef);
        assert_false(CloseHandle((HANDLE)values[i]));
        assert_invalid_handle_error();
        SetLastError(0xdeadbeef);
        assert_false(SetEvent((HANDLE)values[i]));
        assert_invalid_handle_error();
    }
}

static void handles_low_tag_bits_ignored(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    /* The two low bits of a handle are the application's (Windows and
     * Wine ignore them). */
    assert_true(SetEvent((HANDLE)((ULONG_PTR)event | 3)));
    assert_int_equal(WaitForSingleObject((HANDLE)((ULONG_PTR)event | 1), 0), WAIT_OBJECT_0);
    assert_true(CloseHandle(event));
}

/* ---- pseudo-handles and DuplicateHandle -------------------------------------- */

static void handles_pseudo_handles_values_and_close(void **state)
{
    (void)state;
    assert_true(GetCurrentProcess() == (HANDLE)~(ULONG_PTR)0);
    assert_true(GetCurrentThread() == (HANDLE)~(ULONG_PTR)1);
    assert_true(CloseHandle(GetCurrentProcess()));
    assert_true(CloseHandle(GetCurrentThread()));
    /* A running process and thread are not signalled. */
    assert_int_equal(WaitForSingleObject(GetCurrentProcess(), 0), WAIT_TIMEOUT);
    assert_int_equal(WaitForSingleObject(GetCurrentThread(), 0), WAIT_TIMEOUT);
}

static void handles_duplicate_names_same_object(void **state)
{
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE dup = NULL;

    (void)state;
    assert_true(DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &dup, 0, FALSE,
                                DUPLICATE_SAME_ACCESS));
    assert_non_null(dup);
    assert_true(dup != event);
    assert_true(SetEvent(dup));
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(dup, 0), WAIT_TIMEOUT);    /* one auto-reset event */
    assert_true(CloseHandle(event));
    assert_true(SetEvent(dup));                                     /* still alive */
    assert_int_equal(WaitForSingleObject(dup, 0), WAIT_OBJECT_0);
    assert_true(CloseHandle(dup));
}

static void handles_duplicate_close_source_closes_it(void **state)
{
    HANDLE sem = CreateSemaphoreW(NULL, 1, 1, NULL);
    HANDLE dup = NULL;

    (void)state;
    assert_true(DuplicateHandle(GetCurrentProcess(), sem, GetCurrentProcess(), &dup, 0, FALSE,
                                DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    assert_int_equal(WaitForSingleObject(dup, 0), WAIT_OBJECT_0);
    /* Wine closes the source first and gives its value to the duplicate. */
    TODO_REF("Wine reuses the source's value for the duplicate") {
        CHECK(dup != sem);
        /* Where they are the same value, closing it would close dup. */
        if (dup != sem) {
            SetLastError(0xdeadbeef);
            CHECK(!CloseHandle(sem));
            CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
        }
    }
    assert_true(CloseHandle(dup));
}

static void handles_duplicate_without_target_succeeds(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    (void)state;
    assert_true(DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), NULL, 0, FALSE,
                                DUPLICATE_SAME_ACCESS));
    assert_true(SetEvent(event));
    assert_true(CloseHandle(event));
}

static void handles_duplicate_process_pseudo_handle_real(void **state)
{
    HANDLE process = NULL, event = CreateEventW(NULL, TRUE, FALSE, NULL), dup = NULL;

    (void)state;
    assert_true(DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(),
                                &process, 0, FALSE, DUPLICATE_SAME_ACCESS));
    assert_non_null(process);
    assert_true(process != GetCurrentProcess());
    assert_int_equal(WaitForSingleObject(process, 0), WAIT_TIMEOUT);
    /* The real handle names this process too. */
    assert_true(DuplicateHandle(process, event, process, &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    assert_true(CloseHandle(dup));
    assert_true(CloseHandle(process));
    CloseHandle(event);
}

static void handles_duplicate_bad_handles_invalid_handle(void **state)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL), dup = NULL;

    (void)state;
    SetLastError(0xdeadbeef);
    assert_false(DuplicateHandle(GetCurrentProcess(), NULL, GetCurrentProcess(), &dup, 0, FALSE,
                                 DUPLICATE_SAME_ACCESS));
    assert_invalid_handle_error();
    /* An event is no process. */
    SetLastError(0xdeadbeef);
    assert_false(DuplicateHandle(event, event, GetCurrentProcess(), &dup, 0, FALSE,
                                 DUPLICATE_SAME_ACCESS));
    assert_invalid_handle_error();
    assert_null(dup);
    CloseHandle(event);
}

struct self_dup {
    HANDLE handle;      /* the thread's own handle, duplicated by itself */
    HANDLE ready;
    struct gate gate;
};

static DWORD WINAPI self_dup_thread(void *arg)
{
    struct self_dup *s = arg;

    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(),
                         &s->handle, 0, FALSE, DUPLICATE_SAME_ACCESS))
        s->handle = NULL;
    SetEvent(s->ready);
    gate_pass(&s->gate);
    return 9;
}

static void handles_duplicate_current_thread_waitable(void **state)
{
    struct self_dup s;
    HANDLE thread;
    DWORD code = 0;

    (void)state;
    s.ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    gate_init(&s.gate);
    thread = CreateThread(NULL, 0, self_dup_thread, &s, 0, NULL);
    assert_non_null(thread);
    helper_wait(s.ready);
    assert_non_null(s.handle);
    assert_int_equal(WaitForSingleObject(s.handle, 0), WAIT_TIMEOUT);
    assert_true(GetExitCodeThread(s.handle, &code));
    assert_int_equal(code, STILL_ACTIVE);
    gate_open(&s.gate, 1);
    helper_wait(s.handle);
    assert_true(GetExitCodeThread(s.handle, &code));
    assert_int_equal(code, 9);
    CloseHandle(s.handle);
    CloseHandle(thread);
    gate_destroy(&s.gate);
    CloseHandle(s.ready);
}

/* ---- named objects ---------------------------------------------------------- */

static void handles_named_create_existing_already_exists(void **state)
{
    char name[100];
    HANDLE first, second, opened;

    (void)state;
    test_name(name, sizeof(name), "event1");
    SetLastError(0xdeadbeef);
    first = CreateEventA(NULL, FALSE, FALSE, name);
    assert_non_null(first);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);   /* Create* clears it */
    /* A second Create returns the same object; its arguments are ignored. */
    SetLastError(0xdeadbeef);
    second = CreateEventA(NULL, TRUE, TRUE, name);
    assert_non_null(second);
    assert_int_equal(GetLastError(), ERROR_ALREADY_EXISTS);
    assert_true(second != first);
    assert_int_equal(WaitForSingleObject(first, 0), WAIT_TIMEOUT);
    assert_true(SetEvent(second));
    assert_int_equal(WaitForSingleObject(first, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(second, 0), WAIT_TIMEOUT);  /* still auto-reset */
    opened = OpenEventA(EVENT_ALL_ACCESS, FALSE, name);
    assert_non_null(opened);
    assert_true(SetEvent(opened));
    assert_int_equal(WaitForSingleObject(second, 0), WAIT_OBJECT_0);
    CloseHandle(opened);
    CloseHandle(second);
    CloseHandle(first);
}

static void handles_named_unnamed_create_clears_last_error(void **state)
{
    HANDLE event;

    (void)state;
    SetLastError(0xdeadbeef);
    event = CreateEventW(NULL, FALSE, FALSE, NULL);
    assert_non_null(event);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    CloseHandle(event);
    /* An empty name is no name. */
    SetLastError(0xdeadbeef);
    event = CreateEventA(NULL, FALSE, FALSE, "");
    assert_non_null(event);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    CloseHandle(event);
}

static void handles_named_open_errors(void **state)
{
    char name[100];

    (void)state;
    test_name(name, sizeof(name), "missing");
    assert_null_error(OpenEventA(EVENT_ALL_ACCESS, FALSE, name), ERROR_FILE_NOT_FOUND);
    assert_null_error(OpenMutexA(SYNCHRONIZE, FALSE, NULL), ERROR_INVALID_PARAMETER);
    assert_null_error(OpenSemaphoreW(SYNCHRONIZE, FALSE, NULL), ERROR_INVALID_PARAMETER);
    assert_null_error(OpenEventA(EVENT_ALL_ACCESS, FALSE, ""), ERROR_INVALID_HANDLE);
}

static void handles_named_other_type_invalid_handle(void **state)
{
    char name[100];
    HANDLE event;

    (void)state;
    test_name(name, sizeof(name), "typed");
    event = CreateEventA(NULL, TRUE, FALSE, name);
    assert_non_null(event);
    SetLastError(0xdeadbeef);
    assert_null(CreateMutexA(NULL, FALSE, name));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_null(CreateSemaphoreA(NULL, 0, 1, name));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_null(OpenMutexA(SYNCHRONIZE, FALSE, name));
    assert_invalid_handle_error();
    SetLastError(0xdeadbeef);
    assert_null(OpenSemaphoreA(SYNCHRONIZE, FALSE, name));
    assert_invalid_handle_error();
    CloseHandle(event);
}

static void handles_named_case_sensitive(void **state)
{
    char name[100], upper[100];
    HANDLE lower_ev, upper_ev;
    size_t i;

    (void)state;
    test_name(name, sizeof(name), "casetest");
    strcpy(upper, name);
    for (i = 0; upper[i]; i++) {
        if (upper[i] >= 'a' && upper[i] <= 'z')
            upper[i] = (char)(upper[i] - 'a' + 'A');
    }
    lower_ev = CreateEventA(NULL, TRUE, FALSE, name);
    SetLastError(0xdeadbeef);
    upper_ev = CreateEventA(NULL, TRUE, FALSE, upper);
    assert_non_null(upper_ev);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    assert_true(SetEvent(upper_ev));
    assert_int_equal(WaitForSingleObject(lower_ev, 0), WAIT_TIMEOUT);
    CloseHandle(upper_ev);
    assert_null_error(OpenEventA(EVENT_ALL_ACCESS, FALSE, upper), ERROR_FILE_NOT_FOUND);
    CloseHandle(lower_ev);
}

static void handles_named_gone_with_last_handle(void **state)
{
    char name[100];
    HANDLE sem, dup;

    (void)state;
    test_name(name, sizeof(name), "lifetime");
    sem = CreateSemaphoreA(NULL, 0, 1, name);
    assert_true(DuplicateHandle(GetCurrentProcess(), sem, GetCurrentProcess(), &dup, 0, FALSE,
                                DUPLICATE_SAME_ACCESS));
    CloseHandle(sem);
    /* The duplicate keeps the name alive. */
    sem = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    assert_non_null(sem);
    CloseHandle(sem);
    CloseHandle(dup);
    assert_null_error(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name), ERROR_FILE_NOT_FOUND);
    /* A new object may take the name again. */
    SetLastError(0xdeadbeef);
    sem = CreateMutexA(NULL, FALSE, name);
    assert_non_null(sem);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    CloseHandle(sem);
}

static void handles_named_a_and_w_same_object(void **state)
{
    char name[100];
    WCHAR wname[100];
    HANDLE a, w;
    size_t i;

    (void)state;
    test_name(name, sizeof(name), "wide");
    for (i = 0; name[i]; i++)
        wname[i] = (WCHAR)name[i];
    wname[i] = 0;
    w = CreateMutexW(NULL, FALSE, wname);
    assert_non_null(w);
    a = OpenMutexA(SYNCHRONIZE, FALSE, name);
    assert_non_null(a);
    assert_int_equal(WaitForSingleObject(a, 0), WAIT_OBJECT_0);
    assert_true(ReleaseMutex(w));       /* the same mutex: this thread owns it */
    CloseHandle(a);
    CloseHandle(w);
}

static void handles_named_non_ascii_wide_names(void **state)
{
    /* "tp_", e-acute, "_", a surrogate pair (U+1F600), "_", the pid; and the
     * same name with e-grave: two distinct objects. */
    WCHAR e_acute[64] = { 't', 'p', '_', 0x00e9, '_', 0xd83d, 0xde00, '_' };
    WCHAR e_grave[64];
    char pid[20];
    HANDLE first, second, opened;
    size_t i, len = 8;

    (void)state;
    snprintf(pid, sizeof(pid), "%lu", (unsigned long)GetCurrentProcessId());
    for (i = 0; pid[i]; i++)
        e_acute[len + i] = (WCHAR)pid[i];
    e_acute[len + i] = 0;
    memcpy(e_grave, e_acute, sizeof(e_grave));
    e_grave[3] = 0x00e8;
    first = CreateEventW(NULL, TRUE, FALSE, e_acute);
    assert_non_null(first);
    SetLastError(0xdeadbeef);
    second = CreateEventW(NULL, TRUE, FALSE, e_grave);
    assert_non_null(second);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    opened = OpenEventW(EVENT_ALL_ACCESS, FALSE, e_acute);
    assert_non_null(opened);
    assert_true(SetEvent(opened));
    assert_int_equal(WaitForSingleObject(first, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(second, 0), WAIT_TIMEOUT);
    CloseHandle(opened);
    CloseHandle(second);
    CloseHandle(first);
}

static void handles_named_namespaces(void **state)
{
    char name[100], local[120], global[120], bad[120];
    HANDLE event, opened;

    (void)state;
    test_name(name, sizeof(name), "ns");
    snprintf(local, sizeof(local), "Local\\%s", name);
    snprintf(global, sizeof(global), "Global\\%s", name);
    /* A directory that does not exist (when the prefix names an object,
     * Windows reports the type mismatch, ERROR_INVALID_HANDLE, instead). */
    snprintf(bad, sizeof(bad), "%s_dir\\sub", name);
    event = CreateEventA(NULL, TRUE, FALSE, name);
    /* Local\ is this session's namespace: the plain name. */
    opened = OpenEventA(EVENT_ALL_ACCESS, FALSE, local);
    assert_non_null(opened);
    CloseHandle(opened);
    assert_null_error(OpenEventA(EVENT_ALL_ACCESS, FALSE, global), ERROR_FILE_NOT_FOUND);
    assert_null_error(CreateEventA(NULL, TRUE, FALSE, bad), ERROR_PATH_NOT_FOUND);
    assert_null_error(CreateEventA(NULL, TRUE, FALSE, "Local\\"), ERROR_INVALID_NAME);
    CloseHandle(event);
}

static void handles_named_too_long_a_name(void **state)
{
    char name[MAX_PATH + 40];

    (void)state;
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    assert_null_error(CreateEventA(NULL, TRUE, FALSE, name), ERROR_FILENAME_EXCED_RANGE);
}

struct mutex_race {
    const char *name;
    DWORD create_error;
    DWORD release_error;
};

static DWORD WINAPI create_existing_mutex_thread(void *arg)
{
    struct mutex_race *r = arg;
    HANDLE mutex;

    SetLastError(0xdeadbeef);
    mutex = CreateMutexA(NULL, TRUE, r->name);
    r->create_error = GetLastError();
    if (!mutex)
        return 1;
    SetLastError(0);
    r->release_error = ReleaseMutex(mutex) ? ERROR_SUCCESS : GetLastError();
    CloseHandle(mutex);
    return 0;
}

static void handles_named_mutex_existing_not_owned(void **state)
{
    char name[100];
    struct mutex_race r;
    HANDLE mutex, thread;

    (void)state;
    test_name(name, sizeof(name), "owned");
    mutex = CreateMutexA(NULL, TRUE, name);
    assert_non_null(mutex);
    r.name = name;
    thread = CreateThread(NULL, 0, create_existing_mutex_thread, &r, 0, NULL);
    assert_non_null(thread);
    helper_wait(thread);
    CloseHandle(thread);
    /* Opening an existing mutex with initial ownership does not take it. */
    assert_int_equal(r.create_error, ERROR_ALREADY_EXISTS);
    assert_int_equal(r.release_error, ERROR_NOT_OWNER);
    assert_true(ReleaseMutex(mutex));
    CloseHandle(mutex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handles_closed_handle_invalid_handle),
        cmocka_unit_test(handles_stale_after_reuse_invalid_handle),
        cmocka_unit_test(handles_wrong_type_invalid_handle),
        cmocka_unit_test(handles_made_up_values_invalid_handle),
        cmocka_unit_test(handles_low_tag_bits_ignored),
        cmocka_unit_test(handles_pseudo_handles_values_and_close),
        cmocka_unit_test(handles_duplicate_names_same_object),
        cmocka_unit_test(handles_duplicate_close_source_closes_it),
        cmocka_unit_test(handles_duplicate_without_target_succeeds),
        cmocka_unit_test(handles_duplicate_process_pseudo_handle_real),
        cmocka_unit_test(handles_duplicate_bad_handles_invalid_handle),
        cmocka_unit_test(handles_duplicate_current_thread_waitable),
        cmocka_unit_test(handles_named_create_existing_already_exists),
        cmocka_unit_test(handles_named_unnamed_create_clears_last_error),
        cmocka_unit_test(handles_named_open_errors),
        cmocka_unit_test(handles_named_other_type_invalid_handle),
        cmocka_unit_test(handles_named_case_sensitive),
        cmocka_unit_test(handles_named_gone_with_last_handle),
        cmocka_unit_test(handles_named_a_and_w_same_object),
        cmocka_unit_test(handles_named_non_ascii_wide_names),
        cmocka_unit_test(handles_named_namespaces),
        cmocka_unit_test(handles_named_too_long_a_name),
        cmocka_unit_test(handles_named_mutex_existing_not_owned),
    };

    return cmocka_run_group_tests_name("handles", tests, NULL, NULL);
}

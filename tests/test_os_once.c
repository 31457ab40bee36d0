/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * os_once (kernel32_tp/os.h), tested directly: threads that race to it run
 * its function once, and none returns before that function returned.  A
 * platform call, not an API: native only, linked from the static archive.
 */
#include "helper.h"
#include "os.h"

#define RACERS 8

static struct os_once race_once = OS_ONCE_INIT;
static volatile LONG race_runs;
static volatile LONG race_done;     /* set by the function, last */
static HANDLE race_start;

static void race_fn(void)
{
    InterlockedIncrement(&race_runs);
    /* Long enough for the other racers to reach os_once and wait. */
    Sleep(50);
    InterlockedExchange(&race_done, 1);
}

static DWORD WINAPI racer(void *arg)
{
    (void)arg;
    WaitForSingleObject(race_start, INFINITE);
    os_once(&race_once, race_fn);
    /* Returned: the function ran to its end, in this thread or another. */
    return race_done == 1 ? 0 : 1;
}

static void once_racers_run_function_once(void **state)
{
    HANDLE threads[RACERS];
    DWORD code;
    unsigned int i;

    (void)state;
    race_start = event_new(TRUE, FALSE);
    for (i = 0; i < RACERS; i++) {
        threads[i] = CreateThread(NULL, 0, racer, NULL, 0, NULL);
        assert_non_null(threads[i]);
    }
    SetEvent(race_start);
    for (i = 0; i < RACERS; i++) {
        helper_wait(threads[i]);
        assert_true(GetExitCodeThread(threads[i], &code));
        assert_int_equal(code, 0);
        CloseHandle(threads[i]);
    }
    assert_int_equal(race_runs, 1);
    /* Later callers neither run it again nor wait. */
    os_once(&race_once, race_fn);
    assert_int_equal(race_runs, 1);
    CloseHandle(race_start);
}

static struct os_once first_once = OS_ONCE_INIT, second_once = OS_ONCE_INIT;
static int first_runs, second_runs;

static void first_fn(void)
{
    first_runs++;
}

static void second_fn(void)
{
    second_runs++;
    /* Another once, from inside a once's function. */
    os_once(&first_once, first_fn);
}

static void once_each_once_is_its_own(void **state)
{
    (void)state;
    os_once(&second_once, second_fn);
    os_once(&first_once, first_fn);
    os_once(&second_once, second_fn);
    assert_int_equal(first_runs, 1);
    assert_int_equal(second_runs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(once_racers_run_function_once),
        cmocka_unit_test(once_each_once_is_its_own),
    };

    return cmocka_run_group_tests_name("os_once", tests, NULL, NULL);
}

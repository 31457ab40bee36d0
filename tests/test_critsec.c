/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Critical sections: ownership fields, recursion, TryEnter from the owner
 * and from others, blocking until the owner leaves, mutual exclusion under
 * contention (with and without a spin count), delete and re-initialise.
 */
#include <string.h>

#include "helper.h"

/* No thread owns cs, as its fields show. */
static void assert_unowned(CRITICAL_SECTION *cs)
{
    assert_int_equal(cs->RecursionCount, 0);
    assert_null(cs->OwningThread);
}

static void critsec_recursion_tracks_owner_and_depth(void **state)
{
    CRITICAL_SECTION cs;

    (void)state;
    InitializeCriticalSection(&cs);
    EnterCriticalSection(&cs);
    EnterCriticalSection(&cs);
    assert_int_equal(cs.RecursionCount, 2);
    assert_true(cs.OwningThread == (HANDLE)(ULONG_PTR)GetCurrentThreadId());
    assert_true(TryEnterCriticalSection(&cs));      /* the owner may always re-enter */
    assert_int_equal(cs.RecursionCount, 3);
    LeaveCriticalSection(&cs);
    LeaveCriticalSection(&cs);
    assert_int_equal(cs.RecursionCount, 1);
    assert_false(other_thread_enters(&cs));
    LeaveCriticalSection(&cs);
    assert_unowned(&cs);
    assert_true(other_thread_enters(&cs));
    DeleteCriticalSection(&cs);
}

struct blocked {
    CRITICAL_SECTION cs;
    volatile LONG entered;
};

static DWORD WINAPI enter_thread(void *arg)
{
    struct blocked *b = arg;

    EnterCriticalSection(&b->cs);
    InterlockedIncrement(&b->entered);
    LeaveCriticalSection(&b->cs);
    return 0;
}

static void critsec_enter_blocks_until_owner_leaves(void **state)
{
    struct blocked b;
    HANDLE thread;

    (void)state;
    InitializeCriticalSection(&b.cs);
    b.entered = 0;
    EnterCriticalSection(&b.cs);
    thread = start_thread(enter_thread, &b);
    helper_wait_not(thread, 100);
    assert_int_equal(b.entered, 0);
    LeaveCriticalSection(&b.cs);
    helper_wait(thread);
    CloseHandle(thread);
    assert_int_equal(b.entered, 1);
    DeleteCriticalSection(&b.cs);
}

#define CONTENDERS 4
#define ROUNDS 50000

struct contention {
    CRITICAL_SECTION cs;
    volatile LONG inside;       /* threads inside the section: must stay <= 1 */
    LONG overlaps;              /* (interlocked) times two were inside at once */
    volatile LONG counter;      /* updated non-atomically, under cs */
};

static DWORD WINAPI contender_thread(void *arg)
{
    struct contention *c = arg;
    LONG value;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        EnterCriticalSection(&c->cs);
        if (InterlockedIncrement(&c->inside) != 1)
            InterlockedIncrement(&c->overlaps);
        value = c->counter;     /* a read-modify-write that races without cs */
        if (i % 64 == 0)
            EnterCriticalSection(&c->cs);   /* recursion under contention */
        c->counter = value + 1;
        if (i % 64 == 0)
            LeaveCriticalSection(&c->cs);
        InterlockedDecrement(&c->inside);
        LeaveCriticalSection(&c->cs);
    }
    return 0;
}

static void contention_run(struct contention *c)
{
    HANDLE threads[CONTENDERS];
    int i;

    c->inside = 0;
    c->overlaps = 0;
    c->counter = 0;
    for (i = 0; i < CONTENDERS; i++)
        threads[i] = start_thread(contender_thread, c);
    for (i = 0; i < CONTENDERS; i++) {
        helper_wait(threads[i]);
        CloseHandle(threads[i]);
    }
    assert_int_equal(c->overlaps, 0);
    assert_int_equal(c->counter, CONTENDERS * ROUNDS);
}

static void critsec_contention_mutual_exclusion(void **state)
{
    struct contention c;

    (void)state;
    InitializeCriticalSection(&c.cs);
    contention_run(&c);
    DeleteCriticalSection(&c.cs);
}

static void critsec_contention_with_spin_count(void **state)
{
    struct contention c;

    (void)state;
    assert_true(InitializeCriticalSectionAndSpinCount(&c.cs, 4000));
    contention_run(&c);
    DeleteCriticalSection(&c.cs);
    assert_true(InitializeCriticalSectionEx(&c.cs, 1000, CRITICAL_SECTION_NO_DEBUG_INFO));
    contention_run(&c);
    DeleteCriticalSection(&c.cs);
}

static void critsec_delete_then_initialize_again(void **state)
{
    CRITICAL_SECTION cs;

    (void)state;
    memset(&cs, 0xcc, sizeof(cs));
    InitializeCriticalSection(&cs);
    assert_unowned(&cs);
    EnterCriticalSection(&cs);
    LeaveCriticalSection(&cs);
    DeleteCriticalSection(&cs);
    InitializeCriticalSection(&cs);
    assert_true(TryEnterCriticalSection(&cs));
    assert_false(other_thread_enters(&cs));
    LeaveCriticalSection(&cs);
    DeleteCriticalSection(&cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(critsec_recursion_tracks_owner_and_depth),
        cmocka_unit_test(critsec_enter_blocks_until_owner_leaves),
        cmocka_unit_test(critsec_contention_mutual_exclusion),
        cmocka_unit_test(critsec_contention_with_spin_count),
        cmocka_unit_test(critsec_delete_then_initialize_again),
    };

    return cmocka_run_group_tests_name("critsec", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Heaps: the process heap, private heaps and their blocks (HeapAlloc with
 * HEAP_ZERO_MEMORY, HeapReAlloc growing, shrinking and in place, HeapSize,
 * HeapFree, HeapValidate of a block and of a whole heap), a heap's maximum
 * size, and HeapDestroy.
 */
#include <string.h>

#include "helper.h"

static void heap_process_heap_alloc_free(void **state)
{
    HANDLE heap = GetProcessHeap();
    unsigned char *p;

    (void)state;
    assert_non_null(heap);
    assert_ptr_equal(GetProcessHeap(), heap);
    p = HeapAlloc(heap, 0, 100);
    assert_non_null(p);
    assert_int_equal((ULONG_PTR)p % (2 * sizeof(void *)), 0);
    memset(p, 0xab, 100);
    assert_int_equal(HeapSize(heap, 0, p), 100);
    assert_true(HeapValidate(heap, 0, p));
    assert_true(HeapFree(heap, 0, p));
    /* Freeing NULL succeeds. */
    assert_true(HeapFree(heap, 0, NULL));
}

static void heap_zero_memory_zeroes(void **state)
{
    HANDLE heap = GetProcessHeap();
    unsigned char *p, *q;
    size_t i;

    (void)state;
    /* Dirty a block first, so that a reused one would show old bytes. */
    p = HeapAlloc(heap, 0, 4096);
    assert_non_null(p);
    memset(p, 0xcd, 4096);
    HeapFree(heap, 0, p);
    q = HeapAlloc(heap, HEAP_ZERO_MEMORY, 4096);
    assert_non_null(q);
    for (i = 0; i < 4096; i++)
        assert_int_equal(q[i], 0);
    HeapFree(heap, 0, q);
}

static void heap_realloc_keeps_contents(void **state)
{
    HANDLE heap = GetProcessHeap();
    unsigned char *p, *q;
    size_t i;

    (void)state;
    p = HeapAlloc(heap, 0, 16);
    assert_non_null(p);
    for (i = 0; i < 16; i++)
        p[i] = (unsigned char)i;
    q = HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, 100000);
    assert_non_null(q);
    assert_int_equal(HeapSize(heap, 0, q), 100000);
    for (i = 0; i < 16; i++)
        assert_int_equal(q[i], i);
    /* HEAP_ZERO_MEMORY zeroes what the block grew by. */
    for (i = 16; i < 100000; i++)
        assert_int_equal(q[i], 0);
    p = HeapReAlloc(heap, 0, q, 8);
    assert_non_null(p);
    assert_int_equal(HeapSize(heap, 0, p), 8);
    for (i = 0; i < 8; i++)
        assert_int_equal(p[i], i);
    assert_true(HeapFree(heap, 0, p));
}

static void heap_realloc_in_place_only(void **state)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    void *p, *q;

    (void)state;
    assert_non_null(heap);
    p = HeapAlloc(heap, 0, 1000);
    assert_non_null(p);
    /* Shrinking never needs to move the block. */
    q = HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 500);
    assert_ptr_equal(q, p);
    assert_int_equal(HeapSize(heap, 0, p), 500);
    /* Growing a lot in place fails and leaves the block as it was. */
    q = HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 10 * 1024 * 1024);
    assert_null(q);
    assert_int_equal(HeapSize(heap, 0, p), 500);
    assert_true(HeapFree(heap, 0, p));
    assert_true(HeapDestroy(heap));
}

static void heap_validate_tells_live_blocks(void **state)
{
    HANDLE heap = HeapCreate(0, 0, 0), other = HeapCreate(0, 0, 0);
    volatile ULONG_PTR freed;
    void *p, *q;

    (void)state;
    assert_non_null(heap);
    assert_non_null(other);
    p = HeapAlloc(heap, 0, 64);
    q = HeapAlloc(other, 0, 64);
    assert_non_null(p);
    assert_non_null(q);
    assert_true(HeapValidate(heap, 0, p));
    assert_true(HeapValidate(heap, 0, NULL));
    /* A block of another heap is not one of this heap. */
    assert_false(HeapValidate(heap, 0, q));
    freed = (ULONG_PTR)p;
    assert_true(HeapFree(heap, 0, p));
    /* A freed block is not valid any more. */
    assert_false(HeapValidate(heap, 0, (void *)freed));
    assert_true(HeapValidate(heap, 0, NULL));
    assert_true(HeapFree(other, 0, q));
    assert_true(HeapDestroy(other));
    assert_true(HeapDestroy(heap));
}

static void heap_private_heap_destroy_frees_blocks(void **state)
{
    HANDLE heap = HeapCreate(HEAP_NO_SERIALIZE, 4096, 0);
    int i;

    (void)state;
    assert_non_null(heap);
    assert_ptr_not_equal(heap, GetProcessHeap());
    /* Blocks still allocated go with the heap. */
    for (i = 0; i < 100; i++)
        assert_non_null(HeapAlloc(heap, HEAP_ZERO_MEMORY, 100 + i));
    assert_true(HeapValidate(heap, 0, NULL));
    assert_true(HeapDestroy(heap));
}

static void heap_maximum_size_limits_blocks(void **state)
{
    HANDLE heap = HeapCreate(0, 0, 64 * 1024);
    void *p;

    (void)state;
    assert_non_null(heap);
    /* A fixed-size heap cannot hold a block larger than itself... */
    assert_null(HeapAlloc(heap, 0, 1024 * 1024));
    /* ...but holds small ones. */
    p = HeapAlloc(heap, 0, 1024);
    assert_non_null(p);
    assert_true(HeapFree(heap, 0, p));
    assert_true(HeapDestroy(heap));
}

static void heap_process_heap_not_destroyed(void **state)
{
    void *p;

    (void)state;
    p = HeapAlloc(GetProcessHeap(), 0, 32);
    assert_non_null(p);
    assert_false(HeapDestroy(GetProcessHeap()));
    /* It still works. */
    assert_true(HeapValidate(GetProcessHeap(), 0, p));
    assert_true(HeapFree(GetProcessHeap(), 0, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heap_process_heap_alloc_free),
        cmocka_unit_test(heap_zero_memory_zeroes),
        cmocka_unit_test(heap_realloc_keeps_contents),
        cmocka_unit_test(heap_realloc_in_place_only),
        cmocka_unit_test(heap_validate_tells_live_blocks),
        cmocka_unit_test(heap_private_heap_destroy_frees_blocks),
        cmocka_unit_test(heap_maximum_size_limits_blocks),
        cmocka_unit_test(heap_process_heap_not_destroyed),
    };

    return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}

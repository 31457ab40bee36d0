/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LocalAlloc/LocalFree, GlobalAlloc/GlobalFree (fixed blocks) and
 * VirtualAlloc/VirtualFree: zeroing, freeing, reserving then committing,
 * decommitting, releasing, and the errors of bad sizes, addresses and
 * protections.
 */
#include <string.h>

#include "helper.h"

static BOOL all_zero(const void *mem, size_t size)
{
    const unsigned char *p = mem;
    size_t i;

    for (i = 0; i < size; i++) {
        if (p[i])
            return FALSE;
    }
    return TRUE;
}

/* A new block (asserted made) that must read as zeroes. */
static char *zeroed(char *mem, size_t size)
{
    assert_non_null(mem);
    assert_true(all_zero(mem, size));
    return mem;
}

static void memory_local_alloc_zeroinit_and_free(void **state)
{
    char *mem;

    (void)state;
    mem = zeroed(LocalAlloc(LPTR, 100), 100);
    memset(mem, 0x5a, 100);
    assert_null(LocalFree(mem));
    mem = LocalAlloc(LMEM_FIXED, 0);            /* a size of 0 is a block too */
    assert_non_null(mem);
    assert_null(LocalFree(mem));
    assert_null(LocalFree(NULL));
}

static void memory_global_alloc_zeroinit_and_free(void **state)
{
    char *mem;

    (void)state;
    mem = zeroed(GlobalAlloc(GPTR, 64), 64);
    assert_null(GlobalFree(mem));
    mem = GlobalAlloc(GMEM_FIXED, 32);
    assert_non_null(mem);
    memset(mem, 1, 32);
    assert_null(GlobalFree(mem));
    assert_null(GlobalFree(NULL));
}

static void memory_movable_blocks(void **state)
{
    HLOCAL handle;

    (void)state;
    handle = LocalAlloc(LMEM_MOVEABLE, 16);
    TODO_TP("no movable blocks: LocalLock/GlobalLock are not provided") CHECK(handle != NULL);
    if (handle)
        assert_null(LocalFree(handle));
}

static void memory_local_free_of_a_non_block_invalid_handle(void **state)
{
    char *mem, *gmem;
    /* volatile: the compiler must not see that these are inside blocks. */
    char *volatile inside;

    (void)state;
    mem = LocalAlloc(LPTR, 256);
    gmem = GlobalAlloc(GPTR, 256);
    assert_non_null(mem);
    assert_non_null(gmem);
    /* Inside a block, not a block: refused, and nothing is freed. */
    inside = mem + 64;
    SetLastError(0xdeadbeef);
    assert_ptr_equal(LocalFree(inside), inside);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    inside = gmem + 128;
    SetLastError(0xdeadbeef);
    assert_ptr_equal(GlobalFree(inside), inside);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    assert_null(LocalFree(mem));
    assert_null(GlobalFree(gmem));
}

static void memory_virtual_commit_reads_zero_and_releases(void **state)
{
    SIZE_T size = 100000;
    char *mem;

    (void)state;
    mem = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    assert_non_null(mem);
    assert_int_equal((ULONG_PTR)mem & 0xffff, 0);      /* the allocation granularity */
    assert_true(all_zero(mem, size));
    memset(mem, 0x77, size);
    assert_true(VirtualFree(mem, 0, MEM_RELEASE));
    mem = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);    /* commit alone reserves */
    assert_non_null(mem);
    mem[4095] = 1;
    assert_true(VirtualFree(mem, 0, MEM_RELEASE));
}

static void memory_virtual_reserve_commit_decommit(void **state)
{
    char *base, *page;

    (void)state;
    base = VirtualAlloc(NULL, 0x100000, MEM_RESERVE, PAGE_NOACCESS);
    assert_non_null(base);
    page = VirtualAlloc(base + 0x10000, 4096, MEM_COMMIT, PAGE_READWRITE);
    assert_ptr_equal(page, base + 0x10000);
    memset(page, 0x33, 4096);
    assert_true(VirtualFree(page, 4096, MEM_DECOMMIT));
    page = VirtualAlloc(base + 0x10000, 4096, MEM_COMMIT, PAGE_READWRITE);
    assert_ptr_equal(page, base + 0x10000);
    assert_true(all_zero(page, 4096));          /* decommitted pages come back zeroed */
    assert_true(VirtualFree(base, 0, MEM_RELEASE));
}

static void memory_virtual_errors(void **state)
{
    char *mem;

    (void)state;
    assert_null_error(VirtualAlloc(NULL, 0, MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
    assert_null_error(VirtualAlloc(NULL, 4096, MEM_COMMIT, 0x12345), ERROR_INVALID_PARAMETER);
    mem = VirtualAlloc(NULL, 0x20000, MEM_RESERVE, PAGE_NOACCESS);
    assert_non_null(mem);
    SetLastError(0xdeadbeef);
    assert_false(VirtualFree(mem, 4096, MEM_RELEASE));          /* release takes size 0 */
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(VirtualFree(mem, 0, MEM_RELEASE | MEM_DECOMMIT));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_true(VirtualFree(mem, 0, MEM_RELEASE));
    SetLastError(0xdeadbeef);
    assert_null(VirtualAlloc(mem, 4096, MEM_COMMIT, PAGE_READWRITE));  /* no longer reserved */
    assert_int_equal(GetLastError(), ERROR_INVALID_ADDRESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_local_alloc_zeroinit_and_free),
        cmocka_unit_test(memory_global_alloc_zeroinit_and_free),
        cmocka_unit_test(memory_movable_blocks),
        cmocka_unit_test(memory_local_free_of_a_non_block_invalid_handle),
        cmocka_unit_test(memory_virtual_commit_reads_zero_and_releases),
        cmocka_unit_test(memory_virtual_reserve_commit_decommit),
        cmocka_unit_test(memory_virtual_errors),
    };

    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}

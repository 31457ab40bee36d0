/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: memory calls of kernel32 that Windows programs use
 * besides the heap: LocalAlloc/LocalFree, GlobalAlloc/GlobalFree (fixed
 * blocks only) and VirtualAlloc/VirtualFree over mmap.
 *
 * Local and global blocks are one kind, as in Win32.  Each block carries
 * a header with a tag, so freeing
 * something that is not a live block gives ERROR_INVALID_HANDLE instead of
 * corrupting the C library's heap (when the bytes before it are readable).
 * Movable blocks (LMEM_MOVEABLE, GMEM_MOVEABLE) need LocalLock/GlobalLock,
 * which this layer does not have: ERROR_INVALID_PARAMETER.
 *
 * VirtualAlloc keeps a list of its reservations (base and size): Windows
 * releases a whole reservation by its base alone, and commits only inside
 * one.  Reservations are aligned to 64 KiB, Windows' allocation
 * granularity.  Locks: regions_lock, a leaf.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "handle.h"

/* ---- LocalAlloc / GlobalAlloc --------------------------------------------- */

#define BLOCK_TAG_LIVE 0x4b33324c6f63616cULL    /* "K32Local" */
#define BLOCK_TAG_FREE 0x4b333246726565ULL

/* 16 bytes, so that the block keeps malloc's alignment. */
struct block_header {
    unsigned long long tag;
    size_t size;
};

/* The body of LocalAlloc and GlobalAlloc (func: which), allowing the flags allowed. */
static void *block_alloc(const char *func, UINT flags, SIZE_T bytes, UINT allowed)
{
    struct block_header *header;

    HANDLE_TRACE_FOR(func, "%#x %zu", flags, (size_t)bytes);
    if (flags & ~allowed) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (bytes > SIZE_MAX - sizeof(*header)
        || !(header = (flags & LMEM_ZEROINIT) ? calloc(1, sizeof(*header) + bytes)
                                              : malloc(sizeof(*header) + bytes))) {
        os_set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    header->tag = BLOCK_TAG_LIVE;
    header->size = bytes;
    return header + 1;
}

/* The body of LocalFree and GlobalFree (func: which).  NULL on success, as
 * Windows; mem itself with ERROR_INVALID_HANDLE when it is not a live block. */
static void *block_free(const char *func, void *mem)
{
    struct block_header *header;

    HANDLE_TRACE_FOR(func, "%p", mem);
    if (!mem)
        return NULL;
    header = (struct block_header *)mem - 1;
    if (((uintptr_t)mem & (sizeof(void *) - 1)) || header->tag != BLOCK_TAG_LIVE) {
        os_set_last_error(ERROR_INVALID_HANDLE);
        return mem;
    }
    header->tag = BLOCK_TAG_FREE;
    free(header);
    return NULL;
}

/***********************************************************************
 *           LocalAlloc   (kernel32_tp.@)
 *
 * LMEM_FIXED and LMEM_ZEROINIT (LPTR); a size of 0 gives a valid block.
 */
HLOCAL WINAPI LocalAlloc(UINT flags, SIZE_T bytes)
{
    return block_alloc(__func__, flags, bytes, LMEM_ZEROINIT);
}

/***********************************************************************
 *           LocalFree   (kernel32_tp.@)
 */
HLOCAL WINAPI LocalFree(HLOCAL mem)
{
    return block_free(__func__, mem);
}

/***********************************************************************
 *           GlobalAlloc   (kernel32_tp.@)
 *
 * GMEM_FIXED and GMEM_ZEROINIT (GPTR).
 */
HGLOBAL WINAPI GlobalAlloc(UINT flags, SIZE_T bytes)
{
    return block_alloc(__func__, flags, bytes, GMEM_ZEROINIT);
}

/***********************************************************************
 *           GlobalFree   (kernel32_tp.@)
 */
HGLOBAL WINAPI GlobalFree(HGLOBAL mem)
{
    return block_free(__func__, mem);
}

/* ---- VirtualAlloc / VirtualFree ----------------------------------------------- */

#define REGION_GRANULARITY 0x10000

struct region {
    struct region *next;    /* (regions_lock) */
    char *base;             /* (c) */
    size_t size;            /* (c) */
};

static struct os_lock regions_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_E);   /* E */
static struct region *regions;      /* (regions_lock) */

/* The reservation containing [addr, addr + size).  Locking: regions_lock. */
static struct region *region_find_locked(const char *addr, size_t size)
{
    struct region *region;

    for (region = regions; region; region = region->next) {
        if (addr >= region->base && addr < region->base + region->size
            && size <= (size_t)(region->base + region->size - addr))
            return region;
    }
    return NULL;
}

static int prot_from_protect(DWORD protect)
{
    switch (protect) {
    case PAGE_NOACCESS: return PROT_NONE;
    case PAGE_READONLY: return PROT_READ;
    case PAGE_READWRITE: return PROT_READ | PROT_WRITE;
    case PAGE_EXECUTE: return PROT_EXEC;
    case PAGE_EXECUTE_READ: return PROT_READ | PROT_EXEC;
    case PAGE_EXECUTE_READWRITE: return PROT_READ | PROT_WRITE | PROT_EXEC;
    default: return -1;
    }
}

/* A new reservation of size bytes (a multiple of the page size), 64 KiB
 * aligned, with no access.  Locking: regions_lock. */
static DWORD region_reserve_locked(size_t size, char **base)
{
    struct region *region;
    char *map, *aligned;
    size_t span = size + REGION_GRANULARITY;

    if (span < size)
        return ERROR_NOT_ENOUGH_MEMORY;
    if (!(region = malloc(sizeof(*region))))
        return ERROR_NOT_ENOUGH_MEMORY;
    map = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        free(region);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    aligned = (char *)(((uintptr_t)map + REGION_GRANULARITY - 1)
                       & ~(uintptr_t)(REGION_GRANULARITY - 1));
    if (aligned > map)
        munmap(map, (size_t)(aligned - map));
    if (map + span > aligned + size)
        munmap(aligned + size, (size_t)(map + span - (aligned + size)));
    region->base = aligned;
    region->size = size;
    region->next = regions;
    regions = region;
    *base = aligned;
    return ERROR_SUCCESS;
}

/***********************************************************************
 *           VirtualAlloc   (kernel32_tp.@)
 *
 * MEM_RESERVE, MEM_COMMIT (inside a reservation, or with MEM_RESERVE or
 * no address) and the PAGE_* protections without modifiers.  Committed
 * pages read as zero.  A reservation at a chosen address is not supported
 * (ERROR_INVALID_ADDRESS).
 */
LPVOID WINAPI VirtualAlloc(void *addr, SIZE_T size, DWORD type, DWORD protect)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *start, *end, *base = NULL;
    int prot = prot_from_protect(protect);
    DWORD err = ERROR_SUCCESS;

    HANDLE_TRACE("%p %zu %#x %#x", addr, (size_t)size, (unsigned int)type,
                 (unsigned int)protect);
    if (!size || !(type & (MEM_COMMIT | MEM_RESERVE)) || (type & ~(MEM_COMMIT | MEM_RESERVE))) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (prot < 0) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    /* MEM_COMMIT with no address reserves too, as on Windows. */
    if (!addr && (type & MEM_COMMIT))
        type |= MEM_RESERVE;
    os_lock_acquire(&regions_lock);
    if (type & MEM_RESERVE) {
        if (addr)
            err = ERROR_INVALID_ADDRESS;    /* a chosen address is not supported */
        else
            err = region_reserve_locked((size + page - 1) & ~(page - 1), &base);
        start = base;
        end = base + size;
    } else {
        start = (char *)((uintptr_t)addr & ~(uintptr_t)(page - 1));
        end = (char *)addr + size;
        if (!addr || !region_find_locked(start, (size_t)(end - start)))
            err = ERROR_INVALID_ADDRESS;
        base = start;
    }
    end = (char *)(((uintptr_t)end + page - 1) & ~(uintptr_t)(page - 1));
    if (err == ERROR_SUCCESS && (type & MEM_COMMIT) && mprotect(start, (size_t)(end - start), prot))
        err = os_error_from_errno(errno);
    os_lock_release(&regions_lock);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return base;
}

/***********************************************************************
 *           VirtualFree   (kernel32_tp.@)
 *
 * MEM_RELEASE: the whole reservation, by its base, with a size of 0.
 * MEM_DECOMMIT: pages inside one (size 0: up to its end); they read as
 * zero when committed again.
 */
BOOL WINAPI VirtualFree(void *addr, SIZE_T size, DWORD type)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct region *region, **link;
    DWORD err = ERROR_SUCCESS;
    char *start, *end;

    HANDLE_TRACE("%p %zu %#x", addr, (size_t)size, (unsigned int)type);
    if (type != MEM_RELEASE && type != MEM_DECOMMIT) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    os_lock_acquire(&regions_lock);
    if (type == MEM_RELEASE) {
        for (link = &regions; *link && (*link)->base != (char *)addr; link = &(*link)->next)
            ;
        if (size)
            err = ERROR_INVALID_PARAMETER;
        else if (!(region = *link))
            err = ERROR_INVALID_ADDRESS;
        else {
            *link = region->next;
            munmap(region->base, region->size);
            free(region);
        }
    } else {
        start = (char *)((uintptr_t)addr & ~(uintptr_t)(page - 1));
        if (!addr || !(region = region_find_locked(start, 1)))
            err = ERROR_INVALID_ADDRESS;
        else {
            end = size ? (char *)addr + size : region->base + region->size;
            end = (char *)(((uintptr_t)end + page - 1) & ~(uintptr_t)(page - 1));
            if (end > region->base + region->size)
                err = ERROR_INVALID_PARAMETER;
            /* Fresh pages with no access: the old contents are dropped. */
            else if (mmap(start, (size_t)(end - start), PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)
                     == MAP_FAILED)
                err = os_error_from_errno(errno);
        }
    }
    os_lock_release(&regions_lock);
    return os_bool_result(err);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: heaps.  GetProcessHeap, HeapCreate, HeapDestroy,
 * HeapAlloc, HeapReAlloc, HeapFree, HeapSize and HeapValidate over malloc.
 *
 * A heap is a list of its live blocks; each block is one malloc'ed chunk
 * that starts with a header (its heap, its size, a tag).  The list lets
 * HeapDestroy free every block and lets HeapValidate tell a live block of
 * the heap from any other pointer without reading memory it does not own.
 * The process heap is a heap like the others that HeapDestroy refuses.
 * Other calls trust a pointer whose header carries the heap's tag, as
 * Windows trusts its block headers: a pointer that is not a live block
 * either fails or is undefined behaviour, as there.
 *
 * Locks: heap->lock (B), a leaf, around the list and the size total.  No
 * call into the rest of the layer, no user code.
 */
#include <stdlib.h>
#include <string.h>

#include "handle.h"

#define HEAP_TAG 0x48656170u            /* "Heap": a live heap */
#define HEAP_BLOCK_TAG 0x426c6b21u      /* "Blk!": a live block */

/* Flags each call accepts (others: ERROR_INVALID_PARAMETER). */
#define HEAP_CREATE_FLAGS (HEAP_NO_SERIALIZE | HEAP_GENERATE_EXCEPTIONS \
                           | HEAP_CREATE_ENABLE_EXECUTE)
#define HEAP_ALLOC_FLAGS (HEAP_NO_SERIALIZE | HEAP_GENERATE_EXCEPTIONS | HEAP_ZERO_MEMORY)
#define HEAP_REALLOC_FLAGS (HEAP_ALLOC_FLAGS | HEAP_REALLOC_IN_PLACE_ONLY)

struct heap {
    unsigned int tag;           /* (c) HEAP_TAG while the heap lives */
    BOOL is_process_heap;       /* (c) */
    DWORD flags;                /* (c) HEAP_GENERATE_EXCEPTIONS: default for each call */
    SIZE_T max_bytes;           /* (c) 0: growable */
    struct os_lock lock;        /* B */
    struct list blocks;         /* (B) struct heap_block.entry */
    SIZE_T used_bytes;          /* (B) the sizes of the live blocks */
};

/* 32 bytes: the data that follows keeps malloc's 16-byte alignment. */
struct heap_block {
    struct list entry;          /* (B) on heap->blocks */
    struct heap *heap;          /* (B) NULL once freed */
    unsigned int tag;           /* (B) HEAP_BLOCK_TAG while live */
    unsigned int pad;
    SIZE_T size;                /* (B) as asked for */
    SIZE_T pad2;
};

static struct heap process_heap = {
    HEAP_TAG, TRUE, 0, 0, OS_LOCK_INITIALIZER(OS_LOCK_RANK_B),
    { &process_heap.blocks, &process_heap.blocks }, 0
};

static struct heap *heap_from_handle(HANDLE handle)
{
    struct heap *heap = handle;

    return heap && heap->tag == HEAP_TAG ? heap : NULL;
}

static struct heap_block *block_from_ptr(const void *ptr)
{
    return (struct heap_block *)ptr - 1;
}

/* Is ptr a live block of heap?  Reads only heap's own list.  Locking: B. */
static BOOL heap_owns_locked(struct heap *heap, const void *ptr)
{
    struct list *node;

    for (node = heap->blocks.next; node != &heap->blocks; node = node->next) {
        if ((const void *)(LIST_ENTRY(node, struct heap_block, entry) + 1) == ptr)
            return TRUE;
    }
    return FALSE;
}

/* The block behind ptr if its header says it is live in heap.  Locking: B. */
static struct heap_block *heap_block_locked(struct heap *heap, const void *ptr)
{
    struct heap_block *block;

    if (!ptr || ((ULONG_PTR)ptr & 15))
        return NULL;
    block = block_from_ptr(ptr);
    return block->tag == HEAP_BLOCK_TAG && block->heap == heap ? block : NULL;
}

/* Does a block of size fit under the heap's limit?  Locking: B. */
static BOOL heap_fits_locked(const struct heap *heap, SIZE_T old_size, SIZE_T size)
{
    if (size > ((SIZE_T)-1 >> 1) - sizeof(struct heap_block))
        return FALSE;
    return !heap->max_bytes || heap->used_bytes - old_size + size <= heap->max_bytes;
}

/*
 * A block could not be had.  With HEAP_GENERATE_EXCEPTIONS (the heap's or
 * the call's) Windows raises STATUS_NO_MEMORY; with no structured
 * exception handling in C on Linux it is unhandled: the unhandled-exception
 * filter sees it and the process ends (handle_raise_exception).  Without,
 * NULL, and the last error is left alone, as HeapAlloc leaves it on
 * Windows.  Locking: none (the filter is user code).
 */
static void *heap_fail(const struct heap *heap, DWORD flags)
{
    if ((flags | heap->flags) & HEAP_GENERATE_EXCEPTIONS)
        handle_raise_exception(STATUS_NO_MEMORY);
    return NULL;
}

/* A new block of heap; NULL when it does not fit or memory is short.
 * Takes B. */
static void *heap_alloc(struct heap *heap, DWORD flags, SIZE_T size)
{
    struct heap_block *block;

    os_lock_acquire(&heap->lock);
    if (!heap_fits_locked(heap, 0, size)
        || !(block = (flags & HEAP_ZERO_MEMORY) ? calloc(1, sizeof(*block) + size)
                                                : malloc(sizeof(*block) + size))) {
        os_lock_release(&heap->lock);
        return heap_fail(heap, flags);
    }
    block->heap = heap;
    block->tag = HEAP_BLOCK_TAG;
    block->size = size;
    list_add_tail(&heap->blocks, &block->entry);
    heap->used_bytes += size;
    os_lock_release(&heap->lock);
    return block + 1;
}

/* Frees a block of heap; FALSE when ptr is not one.  Takes B. */
static BOOL heap_free(struct heap *heap, void *ptr)
{
    struct heap_block *block;

    os_lock_acquire(&heap->lock);
    if (!(block = heap_block_locked(heap, ptr))) {
        os_lock_release(&heap->lock);
        return FALSE;
    }
    list_remove(&block->entry);
    heap->used_bytes -= block->size;
    block->tag = 0;
    block->heap = NULL;
    os_lock_release(&heap->lock);
    free(block);
    return TRUE;
}

void *handle_process_heap_alloc(SIZE_T size)
{
    return heap_alloc(&process_heap, HEAP_ZERO_MEMORY, size);
}

void handle_process_heap_free(void *ptr)
{
    if (ptr && !heap_free(&process_heap, ptr))
        os_panic("block %p freed twice or not of the process heap", ptr);
}

/***********************************************************************
 *           GetProcessHeap   (kernel32_tp.@)
 */
HANDLE WINAPI GetProcessHeap(void)
{
    HANDLE_TRACE("%s", "()");
    return &process_heap;
}

/***********************************************************************
 *           HeapCreate   (kernel32_tp.@)
 *
 * HEAP_CREATE_ENABLE_EXECUTE fails with ERROR_NOT_SUPPORTED: malloc's
 * memory is not executable.  A maximum size limits the sum of the block
 * sizes; the initial size is a hint.
 */
HANDLE WINAPI HeapCreate(DWORD flags, SIZE_T initial_size, SIZE_T max_size)
{
    struct heap *heap;

    HANDLE_TRACE("%#x %zu %zu", (unsigned int)flags, (size_t)initial_size, (size_t)max_size);
    if (flags & ~HEAP_CREATE_FLAGS) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (flags & HEAP_CREATE_ENABLE_EXECUTE) {
        os_set_last_error(ERROR_NOT_SUPPORTED);
        return NULL;
    }
    if (max_size && initial_size > max_size) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (!(heap = calloc(1, sizeof(*heap)))) {
        os_set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    heap->flags = flags & HEAP_GENERATE_EXCEPTIONS;
    heap->max_bytes = max_size;
    os_lock_init(&heap->lock, OS_LOCK_RANK_B);
    list_init(&heap->blocks);
    heap->tag = HEAP_TAG;
    return heap;
}

/***********************************************************************
 *           HeapDestroy   (kernel32_tp.@)
 *
 * Frees every block.  The process heap stays (FALSE, as on Windows).
 */
BOOL WINAPI HeapDestroy(HANDLE handle)
{
    struct heap *heap = heap_from_handle(handle);
    struct list *node, *next;

    HANDLE_TRACE("%p", handle);
    if (!heap || heap->is_process_heap) {
        os_set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    heap->tag = 0;
    for (node = heap->blocks.next; node != &heap->blocks; node = next) {
        struct heap_block *block = LIST_ENTRY(node, struct heap_block, entry);

        next = node->next;
        block->tag = 0;
        free(block);
    }
    os_lock_destroy(&heap->lock);
    free(heap);
    return TRUE;
}

/***********************************************************************
 *           HeapAlloc   (kernel32_tp.@)
 *
 * A failure returns NULL and leaves the last error alone, as on Windows;
 * with HEAP_GENERATE_EXCEPTIONS it raises STATUS_NO_MEMORY (see heap_fail).
 */
LPVOID WINAPI HeapAlloc(HANDLE handle, DWORD flags, SIZE_T size)
{
    struct heap *heap = heap_from_handle(handle);

    HANDLE_TRACE("%p %#x %zu", handle, (unsigned int)flags, (size_t)size);
    if (!heap || (flags & ~HEAP_ALLOC_FLAGS))
        return NULL;
    return heap_alloc(heap, flags, size);
}

/***********************************************************************
 *           HeapReAlloc   (kernel32_tp.@)
 *
 * HEAP_REALLOC_IN_PLACE_ONLY: a block can shrink in place, never grow.
 * HEAP_ZERO_MEMORY zeroes the bytes a block grows by.
 */
LPVOID WINAPI HeapReAlloc(HANDLE handle, DWORD flags, LPVOID ptr, SIZE_T size)
{
    struct heap *heap = heap_from_handle(handle);
    struct heap_block *block, *moved;
    SIZE_T old_size;

    HANDLE_TRACE("%p %#x %p %zu", handle, (unsigned int)flags, ptr, (size_t)size);
    if (!heap || (flags & ~HEAP_REALLOC_FLAGS))
        return NULL;
    os_lock_acquire(&heap->lock);
    if (!(block = heap_block_locked(heap, ptr))) {
        os_lock_release(&heap->lock);
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    old_size = block->size;
    if (!heap_fits_locked(heap, old_size, size)
        || ((flags & HEAP_REALLOC_IN_PLACE_ONLY) && size > old_size)) {
        os_lock_release(&heap->lock);
        return heap_fail(heap, flags);
    }
    if (!(flags & HEAP_REALLOC_IN_PLACE_ONLY)) {
        /* realloc may move the block: take it off the list first. */
        list_remove(&block->entry);
        if (!(moved = realloc(block, sizeof(*block) + size))) {
            list_add_tail(&heap->blocks, &block->entry);
            os_lock_release(&heap->lock);
            return heap_fail(heap, flags);
        }
        block = moved;
        list_add_tail(&heap->blocks, &block->entry);
    }
    if ((flags & HEAP_ZERO_MEMORY) && size > old_size)
        memset((char *)(block + 1) + old_size, 0, size - old_size);
    block->size = size;
    heap->used_bytes += size - old_size;
    os_lock_release(&heap->lock);
    return block + 1;
}

/***********************************************************************
 *           HeapFree   (kernel32_tp.@)
 *
 * NULL is freed successfully.  A pointer that is not a live block of the
 * heap fails with ERROR_INVALID_PARAMETER when its header shows it.
 */
BOOL WINAPI HeapFree(HANDLE handle, DWORD flags, LPVOID ptr)
{
    struct heap *heap = heap_from_handle(handle);

    HANDLE_TRACE("%p %#x %p", handle, (unsigned int)flags, ptr);
    if (!heap) {
        os_set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if (!ptr)
        return TRUE;
    if (!heap_free(heap, ptr)) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           HeapSize   (kernel32_tp.@)
 *
 * The size asked for; (SIZE_T)-1 for a pointer that is not a live block.
 */
SIZE_T WINAPI HeapSize(HANDLE handle, DWORD flags, LPCVOID ptr)
{
    struct heap *heap = heap_from_handle(handle);
    struct heap_block *block;
    SIZE_T size = (SIZE_T)-1;

    HANDLE_TRACE("%p %#x %p", handle, (unsigned int)flags, ptr);
    if (!heap)
        return size;
    os_lock_acquire(&heap->lock);
    if ((block = heap_block_locked(heap, ptr)))
        size = block->size;
    os_lock_release(&heap->lock);
    return size;
}

/***********************************************************************
 *           HeapValidate   (kernel32_tp.@)
 *
 * With a pointer: TRUE when it is a live block of this heap, found on the
 * heap's list (any pointer is safe to pass).  Without: TRUE when every
 * block's header is intact.  Memory the library or the program malloc'ed
 * itself is no block of the process heap here (docs/handles.md); the
 * library's thread-pool I/O objects are, as on Windows.
 */
BOOL WINAPI HeapValidate(HANDLE handle, DWORD flags, LPCVOID ptr)
{
    struct heap *heap = heap_from_handle(handle);
    struct list *node;
    BOOL valid = TRUE;

    HANDLE_TRACE("%p %#x %p", handle, (unsigned int)flags, ptr);
    if (!heap)
        return FALSE;
    os_lock_acquire(&heap->lock);
    if (ptr) {
        valid = heap_owns_locked(heap, ptr);
    } else {
        for (node = heap->blocks.next; node != &heap->blocks && valid; node = node->next) {
            struct heap_block *block = LIST_ENTRY(node, struct heap_block, entry);

            valid = block->tag == HEAP_BLOCK_TAG && block->heap == heap;
        }
    }
    os_lock_release(&heap->lock);
    return valid;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An intrusive 4-ary min-heap keyed by a 64-bit value (the timer service's
 * deadlines).  The array holds (key, node) pairs so that sifting compares
 * keys without touching the nodes; each node remembers its position, so any
 * node can be removed in O(log n).  Four children per entry rather than two
 * halve the depth, and the four 16-byte entries of a family lie in one or
 * two cache lines: taking the top of a large heap (what expiring a timer
 * does) moves half as many entries and touches about half as many lines.
 *
 * The heap never allocates on insert: tp_heap_reserve() grows the array
 * ahead of time (when an object that may be inserted is created), so that
 * inserting cannot fail.  No locking of its own: the owner's lock covers it.
 */
#ifndef KERNEL32_TP_HEAP_H
#define KERNEL32_TP_HEAP_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TP_HEAP_ABSENT ((size_t)-1)
#define TP_HEAP_ARITY 4

/* Entry i's children are entries tp_heap_first_child(i) to + TP_HEAP_ARITY - 1. */
static inline size_t tp_heap_first_child(size_t i)
{
    return TP_HEAP_ARITY * i + 1;
}

static inline size_t tp_heap_parent(size_t i)
{
    return (i - 1) / TP_HEAP_ARITY;
}

struct tp_heap_node {
    size_t index;                   /* position in the heap, TP_HEAP_ABSENT when not in it */
};

struct tp_heap_entry {
    unsigned long long key;
    struct tp_heap_node *node;
};

struct tp_heap {
    struct tp_heap_entry *entries;
    size_t count;
    size_t capacity;
};

static inline void tp_heap_init(struct tp_heap *heap)
{
    heap->entries = NULL;
    heap->count = 0;
    heap->capacity = 0;
}

static inline void tp_heap_node_init(struct tp_heap_node *node)
{
    node->index = TP_HEAP_ABSENT;
}

static inline int tp_heap_node_queued(const struct tp_heap_node *node)
{
    return node->index != TP_HEAP_ABSENT;
}

/* Makes room for capacity entries.  Returns 0 on success, -1 when out of memory. */
static inline int tp_heap_reserve(struct tp_heap *heap, size_t capacity)
{
    struct tp_heap_entry *entries;
    size_t new_capacity = heap->capacity ? heap->capacity : 16;

    if (capacity <= heap->capacity)
        return 0;
    while (new_capacity < capacity)
        new_capacity *= 2;
    if (!(entries = realloc(heap->entries, new_capacity * sizeof(*entries))))
        return -1;
    /* Touch the new room now: a large array comes from the system untouched,
     * and its first use would otherwise fault a page in on the insert path,
     * which must stay cheap. */
    memset(entries + heap->capacity, 0, (new_capacity - heap->capacity) * sizeof(*entries));
    heap->entries = entries;
    heap->capacity = new_capacity;
    return 0;
}

/* Gives memory back when at most a quarter of the array is needed.  Cannot fail. */
static inline void tp_heap_shrink(struct tp_heap *heap, size_t needed)
{
    struct tp_heap_entry *entries;
    size_t new_capacity = heap->capacity;

    while (new_capacity > 64 && needed <= new_capacity / 4)
        new_capacity /= 2;
    if (new_capacity == heap->capacity || new_capacity < heap->count)
        return;
    /* A failed shrink keeps the larger array, which is still correct. */
    if ((entries = realloc(heap->entries, new_capacity * sizeof(*entries)))) {
        heap->entries = entries;
        heap->capacity = new_capacity;
    }
}

static inline void tp_heap_free(struct tp_heap *heap)
{
    free(heap->entries);
    tp_heap_init(heap);
}

static inline void tp_heap_place(struct tp_heap *heap, size_t i, struct tp_heap_entry entry)
{
    heap->entries[i] = entry;
    entry.node->index = i;
}

static inline void tp_heap_sift_up(struct tp_heap *heap, size_t i, struct tp_heap_entry entry)
{
    size_t parent;

    while (i > 0) {
        parent = tp_heap_parent(i);
        if (heap->entries[parent].key <= entry.key)
            break;
        tp_heap_place(heap, i, heap->entries[parent]);
        i = parent;
    }
    tp_heap_place(heap, i, entry);
}

static inline void tp_heap_sift_down(struct tp_heap *heap, size_t i, struct tp_heap_entry entry)
{
    size_t first, last, child, smallest;

    for (;;) {
        first = tp_heap_first_child(i);
        if (first >= heap->count)
            break;
        last = first + TP_HEAP_ARITY < heap->count ? first + TP_HEAP_ARITY : heap->count;
        smallest = first;
        for (child = first + 1; child < last; child++)
            if (heap->entries[child].key < heap->entries[smallest].key)
                smallest = child;
        if (entry.key <= heap->entries[smallest].key)
            break;
        tp_heap_place(heap, i, heap->entries[smallest]);
        i = smallest;
    }
    tp_heap_place(heap, i, entry);
}

/* Inserts node (not in any heap) with key.  The caller reserved room for it. */
static inline void tp_heap_insert(struct tp_heap *heap, struct tp_heap_node *node,
                                  unsigned long long key)
{
    struct tp_heap_entry entry;

    entry.key = key;
    entry.node = node;
    tp_heap_sift_up(heap, heap->count++, entry);
}

/* Removes node, which is in heap. */
static inline void tp_heap_remove(struct tp_heap *heap, struct tp_heap_node *node)
{
    size_t i = node->index;
    struct tp_heap_entry last;

    node->index = TP_HEAP_ABSENT;
    last = heap->entries[--heap->count];
    if (i == heap->count)
        return;
    /* The last entry fills the hole, then moves whichever way its key says. */
    if (i > 0 && last.key < heap->entries[tp_heap_parent(i)].key)
        tp_heap_sift_up(heap, i, last);
    else
        tp_heap_sift_down(heap, i, last);
}

/* The entry with the smallest key, or NULL when the heap is empty. */
static inline const struct tp_heap_entry *tp_heap_top(const struct tp_heap *heap)
{
    return heap->count ? &heap->entries[0] : NULL;
}

#endif

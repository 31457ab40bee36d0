/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An intrusive hash set of live objects, keyed by the addresses of their
 * nodes (PTRSET_KEY() computes one from an object's address).  The
 * legacy calls hand out plain pointers as HANDLEs (a registered wait, a
 * queue timer, a timer queue); a HANDLE given back is looked up here
 * before it is dereferenced, so a NULL, stale or garbage value is told
 * apart from a live object without reading through it.
 *
 * Chained buckets: the node lives in the object, so adding never
 * allocates and cannot fail.  The bucket array grows (doubling) when the
 * set holds twice as many nodes as it has buckets; if that allocation
 * fails the set keeps its array, only with longer chains.
 * No locking of its own: the owner's lock covers it.
 */
#ifndef KERNEL32_TP_PTRSET_H
#define KERNEL32_TP_PTRSET_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct ptrset_node {
    struct ptrset_node *next;       /* the next node of its bucket */
};

struct ptrset {
    struct ptrset_node **buckets;   /* NULL until the first add */
    size_t bucket_count;            /* a power of two, or 0 */
    size_t count;
};

#define PTRSET_INIT { NULL, 0, 0 }
#define PTRSET_MIN_BUCKETS 64

/* The key of the node at member of the object at address handle, computed
 * without dereferencing handle (which may be garbage). */
#define PTRSET_KEY(handle, type, member) ((uintptr_t)(handle) + offsetof(type, member))

static inline size_t ptrset_bucket(const struct ptrset *set, uintptr_t key)
{
    uintptr_t h = key;

    /* Objects are malloc'ed: the low bits are alignment, the high bits
     * the same for all of them.  Fold and mix before masking. */
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return (size_t)h & (set->bucket_count - 1);
}

static inline void ptrset_grow(struct ptrset *set)
{
    size_t new_count = set->bucket_count ? set->bucket_count * 2 : PTRSET_MIN_BUCKETS;
    struct ptrset_node **old = set->buckets, **buckets = calloc(new_count, sizeof(*buckets));
    size_t old_count = set->bucket_count, i;
    struct ptrset_node *node, *next;

    if (!buckets)
        return;     /* longer chains, still correct */
    set->buckets = buckets;
    set->bucket_count = new_count;
    for (i = 0; i < old_count; i++) {
        for (node = old[i]; node; node = next) {
            size_t b = ptrset_bucket(set, (uintptr_t)node);

            next = node->next;
            node->next = buckets[b];
            buckets[b] = node;
        }
    }
    free(old);
}

/*
 * Adds node, which must not be in the set.  Returns 0 when the set has no
 * bucket array and none can be allocated (only possible for the first
 * node), 1 otherwise.
 */
static inline int ptrset_add(struct ptrset *set, struct ptrset_node *node)
{
    size_t b;

    if (set->count >= 2 * set->bucket_count)
        ptrset_grow(set);
    if (!set->bucket_count)
        return 0;
    b = ptrset_bucket(set, (uintptr_t)node);
    node->next = set->buckets[b];
    set->buckets[b] = node;
    set->count++;
    return 1;
}

/* The node at address key, or NULL: key itself is never dereferenced. */
static inline struct ptrset_node *ptrset_find(const struct ptrset *set, uintptr_t key)
{
    struct ptrset_node *node;

    if (!set->bucket_count)
        return NULL;
    for (node = set->buckets[ptrset_bucket(set, key)]; node; node = node->next) {
        if ((uintptr_t)node == key)
            return node;
    }
    return NULL;
}

/* Removes the node at address key; returns it, or NULL if it was not there. */
static inline struct ptrset_node *ptrset_remove(struct ptrset *set, uintptr_t key)
{
    struct ptrset_node **link, *node;

    if (!set->bucket_count)
        return NULL;
    for (link = &set->buckets[ptrset_bucket(set, key)]; (node = *link); link = &node->next) {
        if ((uintptr_t)node == key) {
            *link = node->next;
            node->next = NULL;
            set->count--;
            return node;
        }
    }
    return NULL;
}

#endif

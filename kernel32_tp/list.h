/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An intrusive circular doubly linked list.  A node that is on no list
 * points to itself, so list_linked() tells membership without a flag.
 * No locking: the owner of the list says which lock guards it.
 */
#ifndef KERNEL32_TP_LIST_H
#define KERNEL32_TP_LIST_H

#include <stddef.h>

struct list {
    struct list *next, *prev;
};

#define LIST_INIT(name) { &(name), &(name) }

static inline void list_init(struct list *head)
{
    head->next = head->prev = head;
}

static inline int list_empty(const struct list *head)
{
    return head->next == head;
}

/* For a node initialised with list_init: is it on a list now? */
static inline int list_linked(const struct list *node)
{
    return node->next != node;
}

static inline void list_insert_before(struct list *pos, struct list *node)
{
    node->next = pos;
    node->prev = pos->prev;
    pos->prev->next = node;
    pos->prev = node;
}

static inline void list_add_tail(struct list *head, struct list *node)
{
    list_insert_before(head, node);
}

static inline void list_add_head(struct list *head, struct list *node)
{
    list_insert_before(head->next, node);
}

/* Unlinks node and leaves it pointing to itself (unlinked). */
static inline void list_remove(struct list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    list_init(node);
}

/* Moves node, which is on the list head, to its tail; nothing to write
 * when it is there already (alone, say). */
static inline void list_move_tail(struct list *head, struct list *node)
{
    if (node->next == head)
        return;
    node->prev->next = node->next;
    node->next->prev = node->prev;
    list_insert_before(head, node);
}

/* Moves every node of src to the tail of dst; src ends empty. */
static inline void list_move_all(struct list *dst, struct list *src)
{
    if (list_empty(src))
        return;
    src->next->prev = dst->prev;
    src->prev->next = dst;
    dst->prev->next = src->next;
    dst->prev = src->prev;
    list_init(src);
}

#define LIST_ENTRY(node, type, field) ((type *)((char *)(node) - offsetof(type, field)))

#endif

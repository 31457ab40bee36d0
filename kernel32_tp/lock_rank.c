/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lock-order check of KERNEL32_TP_LOCK_RANKS builds (debug and
 * sanitizer builds; lock_order.h has the order): each thread's stack of the
 * locks it holds, and the check that a lock about to be taken ranks above
 * all of them.  Both platforms' os_lock call it (os.h); it depends on
 * nothing but os.h, so it is written once, here.  Release builds compile
 * none of it.  Takes no lock: its state is the calling thread's.
 */
#include "tp_private.h"

#ifdef KERNEL32_TP_LOCK_RANKS

#include <string.h>

/* A wait-all holds up to MAXIMUM_WAIT_OBJECTS O locks, besides its caller's. */
#define TP_HELD_MAX (MAXIMUM_WAIT_OBJECTS + 16)

struct held_lock {
    const struct os_lock *lock;
    enum os_lock_rank rank;         /* lock->rank, kept: the lock may be reused once released */
    const char *file;
    int line;
};

static _Thread_local struct held_lock held[TP_HELD_MAX];   /* (X) */
static _Thread_local unsigned int held_count;               /* (X) */

static const char *const rank_names[OS_LOCK_RANK_COUNT] = {
    [OS_LOCK_RANK_UNSET] = "? (never initialised)",
    [OS_LOCK_RANK_G] = "G (group->lock)",
    [OS_LOCK_RANK_R] = "R (registered waits)",
    [OS_LOCK_RANK_T] = "T (timer queues)",
    [OS_LOCK_RANK_W] = "W (wait->lock)",
    [OS_LOCK_RANK_J] = "J (pipe-name table)",
    [OS_LOCK_RANK_N] = "N (name table)",
    [OS_LOCK_RANK_I] = "I (file core->lock)",
    [OS_LOCK_RANK_O] = "O (kernel object obj->lock)",
    [OS_LOCK_RANK_D] = "D (thread record ts->lock)",
    [OS_LOCK_RANK_Q] = "Q (timer service)",
    [OS_LOCK_RANK_C] = "C (live pools)",
    [OS_LOCK_RANK_P] = "P (pool->lock)",
    [OS_LOCK_RANK_M] = "M (injection monitor)",
    [OS_LOCK_RANK_K] = "K (misuse-check registry stripe)",
    [OS_LOCK_RANK_A] = "A (misuse-check quarantine)",
    [OS_LOCK_RANK_H] = "H (disk helpers)",
    [OS_LOCK_RANK_L] = "L (event loop)",
    [OS_LOCK_RANK_Y] = "Y (thread registry)",
    [OS_LOCK_RANK_U] = "U (exception filter)",
    [OS_LOCK_RANK_V] = "V (standard handles)",
    [OS_LOCK_RANK_Z] = "Z (TLS slots)",
    [OS_LOCK_RANK_E] = "E (memory regions)",
    [OS_LOCK_RANK_B] = "B (heap->lock)",
    [OS_LOCK_RANK_S] = "S (handle-table stripe)",
    [OS_LOCK_RANK_F] = "F (handle free list)",
};

static const char *rank_name(enum os_lock_rank rank)
{
    return (unsigned int)rank < OS_LOCK_RANK_COUNT ? rank_names[rank] : "? (corrupt rank)";
}

/* The file name without its directories: the message stays one short line. */
static const char *base_name(const char *file)
{
    const char *slash = strrchr(file, '/');

    return slash ? slash + 1 : file;
}

/* TRUE when a thread holding h may block on lock: a higher rank, or another
 * O lock at a higher address (handle_objects_lock_all's order). */
static BOOL rank_allows(const struct held_lock *h, const struct os_lock *lock)
{
    if (h->lock == lock)
        return FALSE;
    if (h->rank < lock->rank)
        return TRUE;
    return h->rank == lock->rank && lock->rank == OS_LOCK_RANK_O &&
           (ULONG_PTR)h->lock < (ULONG_PTR)lock;
}

void os_lock_rank_check(const struct os_lock *lock, const char *file, int line)
{
    const struct held_lock *h;
    unsigned int i;

    if (lock->rank <= OS_LOCK_RANK_UNSET || lock->rank >= OS_LOCK_RANK_COUNT)
        os_panic("lock order: taking lock %p of rank %s at %s:%d", (const void *)lock,
                 rank_name(lock->rank), base_name(file), line);
    for (i = 0; i < held_count; i++) {
        h = &held[i];
        if (!rank_allows(h, lock))
            os_panic("lock order: taking %s %p at %s:%d while holding %s %p taken at %s:%d",
                     rank_name(lock->rank), (const void *)lock, base_name(file), line,
                     rank_name(h->rank), (const void *)h->lock, base_name(h->file), h->line);
    }
}

void os_lock_rank_push(const struct os_lock *lock, const char *file, int line)
{
    if (held_count == TP_HELD_MAX)
        os_panic("lock order: taking %s %p at %s:%d: this thread holds %u locks already",
                 rank_name(lock->rank), (const void *)lock, base_name(file), line, held_count);
    held[held_count].lock = lock;
    held[held_count].rank = lock->rank;
    held[held_count].file = file;
    held[held_count].line = line;
    held_count++;
}

void os_lock_rank_pop(const struct os_lock *lock)
{
    unsigned int i;

    /* Usually the last one taken, but a cond wait or an unlock of several
     * objects may release out of order. */
    for (i = held_count; i-- > 0;) {
        if (held[i].lock != lock)
            continue;
        memmove(&held[i], &held[i + 1], (held_count - i - 1) * sizeof(held[0]));
        held_count--;
        return;
    }
    os_panic("lock order: releasing %s %p, which this thread does not hold",
             rank_name(lock->rank), (const void *)lock);
}

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records of simple posts (struct tp_post, scheduler.h): where they
 * come from and where they go once run.  A simple callback with no cleanup
 * group, finalization callback or RaceDll needs no object: its post is a
 * 64-byte record handed out from a 4 KiB chunk of its pool, 63 to a chunk,
 * and the chunk is reused (one kept per pool) or freed when all its posts
 * were copied out by the workers.  So a burst of posts costs one allocation
 * per 63, and no object.  Queueing and running them is the scheduler's
 * (scheduler.c).  Takes no lock but the posters' spin lock
 * (sched.post_lock), never with another held.
 */
#include <stdlib.h>

#include "tp_private.h"

#define TP_POST_CHUNK_SIZE 4096
#define TP_POSTS_PER_CHUNK ((TP_POST_CHUNK_SIZE - 64) / sizeof(struct tp_post))

/* Spins a poster makes for post_lock before it takes a chunk of its own:
 * the holder keeps it for a few instructions, unless it was preempted. */
#define TP_POST_LOCK_SPINS 256

struct tp_post_chunk {
    union {
        struct {
            struct tp_pool *pool;   /* (c) */
            /* (a) posts copied out (tp_post_release); the chunk is done
             * when it reaches TP_POSTS_PER_CHUNK: posters count the ones
             * they never hand out in it beforehand (post_chunk_private). */
            _Atomic LONG released;
        };
        char header[64];            /* (c) unused: the posts start a cache line further */
    };
    struct tp_post posts[TP_POSTS_PER_CHUNK];
};

_Static_assert(sizeof(void *) != 8 || sizeof(struct tp_post) == 64,
               "a post record is one cache line on 64-bit systems");
_Static_assert(sizeof(struct tp_post_chunk) <= TP_POST_CHUNK_SIZE,
               "a post chunk outgrew its 4 KiB");

/* A chunk for pool, all of it free: the spare one or a new one. */
static struct tp_post_chunk *post_chunk_new(struct tp_pool *pool)
{
    struct tp_post_chunk *chunk;

    if (atomic_load_explicit(&pool->sched.post_spare, memory_order_relaxed)
        && (chunk = atomic_exchange_explicit(&pool->sched.post_spare, NULL,
                                             memory_order_acquire))) {
        atomic_store_explicit(&chunk->released, 0, memory_order_relaxed);
        return chunk;
    }
    if (!(chunk = malloc(sizeof(*chunk))))
        return NULL;
    chunk->pool = pool;
    atomic_init(&chunk->released, 0);
    return chunk;
}

/*
 * A post from a chunk of the poster's own, when post_lock stays held (its
 * holder was preempted): the chunk's other posts count as released already,
 * so it is done when this one is.
 */
static DWORD post_chunk_private(struct tp_pool *pool, struct tp_post **out)
{
    struct tp_post_chunk *chunk = post_chunk_new(pool);

    if (!chunk)
        return ERROR_NOT_ENOUGH_MEMORY;
    atomic_store_explicit(&chunk->released, (LONG)TP_POSTS_PER_CHUNK - 1,
                          memory_order_relaxed);
    chunk->posts[0].chunk = chunk;
    *out = &chunk->posts[0];
    return ERROR_SUCCESS;
}

DWORD tp_post_take(struct tp_pool *pool, struct tp_post **out)
{
    struct tp_sched *sched = &pool->sched;
    struct tp_post_chunk *chunk, *next = NULL;
    struct tp_post *post;
    unsigned int spins = 0;

    while (atomic_exchange_explicit(&sched->post_lock, 1, memory_order_acquire)) {
        do {
            if (++spins > TP_POST_LOCK_SPINS)
                return post_chunk_private(pool, out);
            os_cpu_relax();
        } while (atomic_load_explicit(&sched->post_lock, memory_order_relaxed));
    }
    chunk = sched->post_chunk;
    /* The chunk's last post goes only with the next chunk at hand: the
     * current chunk is never full, so no worker frees it under us. */
    if (!chunk || sched->post_taken == (LONG)TP_POSTS_PER_CHUNK - 1) {
        if (!(next = post_chunk_new(pool))) {
            atomic_store_explicit(&sched->post_lock, 0, memory_order_release);
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        if (!chunk) {
            sched->post_chunk = chunk = next;
            sched->post_taken = 0;
            next = NULL;
        }
    }
    post = &chunk->posts[sched->post_taken++];
    if (next) {
        sched->post_chunk = next;
        sched->post_taken = 0;
    }
    atomic_store_explicit(&sched->post_lock, 0, memory_order_release);
    post->chunk = chunk;
    *out = post;
    return ERROR_SUCCESS;
}

void tp_post_release(struct tp_post *post)
{
    struct tp_post_chunk *chunk = post->chunk, *old;

    if (atomic_fetch_add_explicit(&chunk->released, 1, memory_order_acq_rel) + 1
        != (LONG)TP_POSTS_PER_CHUNK)
        return;
    /* The last: the chunk is kept for the next one its pool needs (which
     * a worker of the pool, this one, keeps alive), the one kept before
     * goes. */
    old = atomic_exchange_explicit(&chunk->pool->sched.post_spare, chunk, memory_order_acq_rel);
    free(old);
}

void tp_post_pool_free(struct tp_pool *pool)
{
    /* Every post ran: the current chunk, never full, is nobody's. */
    free(pool->sched.post_chunk);
    free(atomic_load_explicit(&pool->sched.post_spare, memory_order_relaxed));
    pool->sched.post_chunk = NULL;
    atomic_store_explicit(&pool->sched.post_spare, NULL, memory_order_relaxed);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: thread-local storage slots.  TlsAlloc, TlsFree,
 * TlsGetValue, TlsSetValue.
 *
 * As on Windows there are TLS_MINIMUM_AVAILABLE (64) slots in every thread
 * plus 1024 expansion slots, allocated for a thread when it first sets one
 * (freed at its end by a pthread key destructor).  Windows clears a freed
 * slot in every thread, so that the next TlsAlloc of that index reads 0
 * everywhere; here each slot has a generation, bumped by TlsFree, and a
 * thread's value counts only if it was stored under the current one.
 *
 * Locks: tls_lock (Z) around the allocation bitmap; the values are private
 * to their thread.
 */
#include <stdlib.h>

#include "handle.h"

#define TLS_EXPANSION_SLOTS 1024
#define TLS_SLOTS (TLS_MINIMUM_AVAILABLE + TLS_EXPANSION_SLOTS)

struct tls_value {
    void *value;
    unsigned int generation;    /* the slot's generation when value was stored */
};

static struct os_lock tls_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_Z);    /* Z */
static BOOL tls_used[TLS_SLOTS];                /* (Z) */
static _Atomic unsigned int tls_generation[TLS_SLOTS];  /* (a) bumped by TlsFree */

static _Thread_local struct tls_value tls_values[TLS_MINIMUM_AVAILABLE];   /* (X) */
static _Thread_local struct tls_value *tls_expansion;                      /* (X) */

static pthread_key_t tls_expansion_key;
static pthread_once_t tls_expansion_once = PTHREAD_ONCE_INIT;
static BOOL tls_expansion_key_ok;   /* (c) after tls_expansion_once */

/* Runs in the ending thread: a later TlsSetValue there starts afresh. */
static void tls_expansion_free(void *cells)
{
    tls_expansion = NULL;
    free(cells);
}

static void tls_expansion_key_create(void)
{
    tls_expansion_key_ok = pthread_key_create(&tls_expansion_key, tls_expansion_free) == 0;
}

/* The calling thread's value cell for index, or NULL (an expansion slot
 * never set in this thread, and create not asked or out of memory). */
static struct tls_value *tls_cell(DWORD index, BOOL create)
{
    if (index < TLS_MINIMUM_AVAILABLE)
        return &tls_values[index];
    if (!tls_expansion) {
        if (!create)
            return NULL;
        pthread_once(&tls_expansion_once, tls_expansion_key_create);
        if (!tls_expansion_key_ok
            || !(tls_expansion = calloc(TLS_EXPANSION_SLOTS, sizeof(*tls_expansion))))
            return NULL;
        /* The destructor frees the block when the thread ends. */
        if (pthread_setspecific(tls_expansion_key, tls_expansion)) {
            free(tls_expansion);
            tls_expansion = NULL;
            return NULL;
        }
    }
    return &tls_expansion[index - TLS_MINIMUM_AVAILABLE];
}

/***********************************************************************
 *           TlsAlloc   (kernel32_tp.@)
 *
 * The lowest free index; its value is NULL in every thread.
 */
DWORD WINAPI TlsAlloc(void)
{
    DWORD index;

    HANDLE_TRACE("%s", "()");
    os_lock_acquire(&tls_lock);
    for (index = 0; index < TLS_SLOTS && tls_used[index]; index++)
        ;
    if (index < TLS_SLOTS)
        tls_used[index] = TRUE;
    os_lock_release(&tls_lock);
    if (index == TLS_SLOTS) {
        os_set_last_error(ERROR_NO_MORE_ITEMS);
        return TLS_OUT_OF_INDEXES;
    }
    return index;
}

/***********************************************************************
 *           TlsFree   (kernel32_tp.@)
 *
 * ERROR_INVALID_PARAMETER for an index that is not allocated.
 */
BOOL WINAPI TlsFree(DWORD index)
{
    BOOL ok;

    HANDLE_TRACE("%u", (unsigned int)index);
    os_lock_acquire(&tls_lock);
    if ((ok = index < TLS_SLOTS && tls_used[index])) {
        /* Every thread's value is now stale: the next owner reads NULL. */
        atomic_fetch_add_explicit(&tls_generation[index], 1, memory_order_release);
        tls_used[index] = FALSE;
    }
    os_lock_release(&tls_lock);
    if (!ok)
        os_set_last_error(ERROR_INVALID_PARAMETER);
    return ok;
}

/***********************************************************************
 *           TlsGetValue   (kernel32_tp.@)
 *
 * Sets the last error to ERROR_SUCCESS on success, as Windows does, so
 * that a NULL value can be told from a failure.
 */
LPVOID WINAPI TlsGetValue(DWORD index)
{
    struct tls_value *cell;

    HANDLE_TRACE("%u", (unsigned int)index);
    if (index >= TLS_SLOTS) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    os_set_last_error(ERROR_SUCCESS);
    cell = tls_cell(index, FALSE);
    if (!cell
        || cell->generation != atomic_load_explicit(&tls_generation[index], memory_order_acquire))
        return NULL;
    return cell->value;
}

/***********************************************************************
 *           TlsSetValue   (kernel32_tp.@)
 *
 * The first expansion slot a thread sets allocates its 1024 cells:
 * ERROR_NOT_ENOUGH_MEMORY when that fails.
 */
BOOL WINAPI TlsSetValue(DWORD index, LPVOID value)
{
    struct tls_value *cell;

    HANDLE_TRACE("%u %p", (unsigned int)index, value);
    if (index >= TLS_SLOTS) {
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (!(cell = tls_cell(index, TRUE))) {
        os_set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    cell->value = value;
    cell->generation = atomic_load_explicit(&tls_generation[index], memory_order_acquire);
    return TRUE;
}

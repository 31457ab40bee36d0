/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32_tp's own introspection exports (include/kernel32_tp.h): live
 * object and callback counters for tests, benchmarks and demos, and the
 * freeing of the pools and groups they count.
 */
#include <stdlib.h>

#include "tp_private.h"

struct tp_live_count tp_live;

void tp_debug_free_live(void *memory, size_t size)
{
    if (tp_check_enabled)
        tp_check_memory_freed(memory, size);
    else
        free(memory);
    atomic_fetch_sub(&tp_live_objects, 1);
}

/***********************************************************************
 *           tp_debug_live_objects   (kernel32_tp.@)
 */
LONG WINAPI tp_debug_live_objects(void)
{
    return atomic_load(&tp_live_objects) + os_thread_count_sum(TP_COUNT_LIVE_OBJECTS)
           + os_thread_count_sum(TP_COUNT_DEFAULT_POOL_OBJECTS);
}

/***********************************************************************
 *           tp_debug_callbacks_run   (kernel32_tp.@)
 */
LONGLONG WINAPI tp_debug_callbacks_run(void)
{
    return tp_stats_callbacks_run();
}

/***********************************************************************
 *           tp_debug_pool_threads   (kernel32_tp.@)
 */
DWORD WINAPI tp_debug_pool_threads(PTP_POOL api)
{
    return tp_sched_threads(impl_from_TP_POOL(api));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TRACE output, switched on by KERNEL32_TP_TRACE=1 in the environment when
 * the library starts.  No locks: each line is one write.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tp_private.h"

int tp_trace_enabled;

/* Reads the switch before any export can run, and before the other
 * constructors, which may trace (priority 102: after the stamps, 101). */
__attribute__((constructor(102))) static void trace_setup(void)
{
    const char *value = os_getenv("KERNEL32_TP_TRACE");

    tp_trace_enabled = value && atoi(value) > 0;
}

static void trace_write(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    os_vlog(fmt, args);
    va_end(args);
}

void tp_trace_printf(const char *func, const char *fmt, ...)
{
    char line[400];
    va_list args;
    size_t len;

    len = (size_t)snprintf(line, sizeof(line), "%s ", func);
    if (len >= sizeof(line))
        len = sizeof(line) - 1;
    va_start(args, fmt);
    vsnprintf(line + len, sizeof(line) - len, fmt, args);
    va_end(args);
    trace_write("%s", line);
}

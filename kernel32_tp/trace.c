/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one TRACE output of the library (trace.h), for the core and the
 * handle layer alike.  KERNEL32_TP_TRACE names the channels when the
 * library starts; a name it does not know is reported once and ignored.
 * No locks: each line is one write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_private.h"

unsigned int tp_trace_channels;

static const char *const channel_names[TP_TRACE_CHANNELS] = {
    [TP_TRACE_POOL] = "pool",
    [TP_TRACE_TIMER] = "timer",
    [TP_TRACE_WAIT] = "wait",
    [TP_TRACE_IO] = "io",
    [TP_TRACE_HANDLE] = "handle",
};

static void trace_write(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    os_vlog(fmt, args);
    va_end(args);
}

/* The channel bit of one name of the list, len characters long; 0 if unknown. */
static unsigned int channel_bits(const char *name, size_t len)
{
    unsigned int i;

    if (len == 3 && !strncmp(name, "all", 3))
        return (1u << TP_TRACE_CHANNELS) - 1;
    for (i = 0; i < TP_TRACE_CHANNELS; i++)
        if (strlen(channel_names[i]) == len && !strncmp(name, channel_names[i], len))
            return 1u << i;
    return 0;
}

/* "1" (or any positive number): every channel, as before channels existed;
 * "0" or empty: none; else a comma-separated list of names. */
static unsigned int channels_from(const char *value)
{
    unsigned int bits = 0, bit;
    const char *name = value;
    size_t len;

    if (!value)
        return 0;
    if (value[0] >= '0' && value[0] <= '9')
        return atoi(value) > 0 ? (1u << TP_TRACE_CHANNELS) - 1 : 0;
    while (*name) {
        len = strcspn(name, ",");
        bit = len ? channel_bits(name, len) : 0;
        if (len && !bit)
            trace_write("KERNEL32_TP_TRACE: unknown channel \"%.*s\" ignored "
                        "(channels: pool, timer, wait, io, handle, all)\n", (int)len, name);
        bits |= bit;
        name += len + (name[len] == ',');
    }
    return bits;
}

/* Reads the switch before any export can run, and before the other
 * constructors, which may trace (priority 102: after the stamps, 101). */
__attribute__((constructor(102))) static void trace_setup(void)
{
    tp_trace_channels = channels_from(os_getenv("KERNEL32_TP_TRACE"));
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
    len = strlen(line);
    trace_write(len && line[len - 1] == '\n' ? "%s" : "%s\n", line);
}

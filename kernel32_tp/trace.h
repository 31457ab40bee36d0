/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tracing (trace.c): one line per export call and around every user
 * callback, on channels chosen by KERNEL32_TP_TRACE when the library
 * starts: a comma-separated list of pool, timer, wait, io and handle (the
 * Linux handle layer), or all (1 means all too).
 *
 * A core file traces on the channel of its area: it defines
 * TP_TRACE_CHANNEL before including tp_private.h (pool when it does not).
 * The handle layer traces with HANDLE_TRACE (handle.h), on handle.
 * Used by the core and by the platform code; takes no lock.
 */
#ifndef KERNEL32_TP_TRACE_H
#define KERNEL32_TP_TRACE_H

enum tp_trace_channel {
    TP_TRACE_POOL,      /* pools, workers, work, groups, instances, the legacy work items */
    TP_TRACE_TIMER,     /* timers, the timer service, timer queues */
    TP_TRACE_WAIT,      /* waits, registered waits */
    TP_TRACE_IO,        /* I/O objects, BindIoCompletionCallback */
    TP_TRACE_HANDLE,    /* the Linux handle layer's exports */
    TP_TRACE_CHANNELS
};

extern unsigned int tp_trace_channels;  /* (c) after library start: bit n = channel n */

/* Writes "func " and the formatted text as one line (a newline is added
 * when the text has none). */
void tp_trace_printf(const char *func, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define TP_TRACE_ON(channel) ((tp_trace_channels >> (channel)) & 1u)
/* The same line written by a body that several exports share, on behalf of
 * the export func (its __func__). */
#define TP_TRACE_FOR(channel, func, ...) \
    do { if (TP_TRACE_ON(channel)) tp_trace_printf(func, __VA_ARGS__); } while (0)
#define TP_TRACE_TO(channel, ...) TP_TRACE_FOR(channel, __func__, __VA_ARGS__)

#ifndef TP_TRACE_CHANNEL
#define TP_TRACE_CHANNEL TP_TRACE_POOL
#endif
#define TRACE(...) TP_TRACE_TO(TP_TRACE_CHANNEL, __VA_ARGS__)
#define TRACE_FOR(func, ...) TP_TRACE_FOR(TP_TRACE_CHANNEL, func, __VA_ARGS__)

#endif /* KERNEL32_TP_TRACE_H */

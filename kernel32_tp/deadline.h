/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deadlines: the one place where the API's due times and timeouts become
 * absolute times on the monotonic clock (deadline.c).  Timers, waits, timer
 * queues and registered waits all go through it.
 *
 * The API's times follow the FILETIME rule, in 100 ns units (`due_100ns`):
 * negative = relative to now, measured on the monotonic clock; positive =
 * an absolute system time (UTC since 1601), converted when it is read, so a
 * later change of the system clock does not move it; zero = now.  A pointer
 * to none (NULL) means never.  Every sum and product saturates at
 * TP_NEVER instead of wrapping: a due time too far away is never, not soon.
 *
 * Takes no lock; reads the system clock only for an absolute due time.
 */
#ifndef KERNEL32_TP_DEADLINE_H
#define KERNEL32_TP_DEADLINE_H

#include <windows.h>

/* The deadline that never comes (monotonic ns); every saturation ends here. */
#define TP_NEVER (~0ull)

/* a + b and a * b, saturated at TP_NEVER. */
ULONGLONG tp_deadline_add(ULONGLONG a, ULONGLONG b);
ULONGLONG tp_deadline_mul(ULONGLONG a, ULONGLONG b);

/* A period or window in ms, as ns (a DWORD of ms always fits). */
static inline ULONGLONG tp_ns_from_ms(DWORD ms)
{
    return (ULONGLONG)ms * 1000000ull;
}

/*
 * The absolute monotonic deadline of due_100ns (FILETIME rule), given the
 * monotonic now_ns and the system time system_100ns of the same moment.  A
 * past absolute time is now_ns.  Pure: the unit under test.
 */
ULONGLONG tp_deadline_at(LONGLONG due_100ns, ULONGLONG now_ns, ULONGLONG system_100ns);

/* The same, reading the system clock if due_100ns is absolute.  NULL: TP_NEVER. */
ULONGLONG tp_deadline_from_due(const LONGLONG *due_100ns, ULONGLONG now_ns);

/*
 * The relative due time (FILETIME rule, negative) from now_ns to a later
 * deadline_ns, rounded up so that it never ends before the deadline.
 */
LONGLONG tp_due_until(ULONGLONG deadline_ns, ULONGLONG now_ns);

/* A relative due time of ms milliseconds (the legacy calls' DueTime, timeouts). */
LONGLONG tp_due_from_ms(DWORD ms);

/*
 * The API's due-time arguments: a FILETIME (kernel32) and a LARGE_INTEGER
 * (ntdll) hold the same signed value.  Store it in *due_100ns and return
 * due_100ns, or return NULL for a NULL argument.  A FILETIME is read by its
 * halves: it is only 4-byte aligned.
 */
const LONGLONG *tp_due_from_filetime(const FILETIME *ft, LONGLONG *due_100ns);
const LONGLONG *tp_due_from_large_integer(const LARGE_INTEGER *li, LONGLONG *due_100ns);

#endif /* KERNEL32_TP_DEADLINE_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deadlines (deadline.h): the FILETIME rule, saturation, and the
 * conversion to and from the monotonic clock.  Takes no lock.
 */
#include "tp_private.h"

ULONGLONG tp_deadline_add(ULONGLONG a, ULONGLONG b)
{
    return a > TP_NEVER - b ? TP_NEVER : a + b;
}

ULONGLONG tp_deadline_mul(ULONGLONG a, ULONGLONG b)
{
    return b && a > TP_NEVER / b ? TP_NEVER : a * b;
}

ULONGLONG tp_deadline_at(LONGLONG due_100ns, ULONGLONG now_ns, ULONGLONG system_100ns)
{
    /* -(due + 1) + 1: the magnitude of a negative value, INT64_MIN included. */
    if (due_100ns < 0)
        return tp_deadline_add(now_ns, tp_deadline_mul((ULONGLONG)-(due_100ns + 1) + 1, 100));
    if ((ULONGLONG)due_100ns <= system_100ns)
        return now_ns;
    return tp_deadline_add(now_ns, tp_deadline_mul((ULONGLONG)due_100ns - system_100ns, 100));
}

ULONGLONG tp_deadline_from_due(const LONGLONG *due_100ns, ULONGLONG now_ns)
{
    if (!due_100ns)
        return TP_NEVER;
    /* Zero and relative times need no system time: spare the clock read. */
    if (*due_100ns <= 0)
        return tp_deadline_at(*due_100ns, now_ns, 0);
    return tp_deadline_at(*due_100ns, now_ns, os_clock_system_100ns());
}

LONGLONG tp_due_until(ULONGLONG deadline_ns, ULONGLONG now_ns)
{
    ULONGLONG delta_ns = deadline_ns > now_ns ? deadline_ns - now_ns : 0;

    /* Rounded up without an overflowing "+ 99": at most 2^64 / 100 < 2^63. */
    return -(LONGLONG)(delta_ns / 100 + (delta_ns % 100 != 0));
}

LONGLONG tp_due_from_ms(DWORD ms)
{
    return -(LONGLONG)ms * 10000;
}

const LONGLONG *tp_due_from_filetime(const FILETIME *ft, LONGLONG *due_100ns)
{
    if (!ft)
        return NULL;
    *due_100ns = (LONGLONG)(((ULONGLONG)ft->dwHighDateTime << 32) | ft->dwLowDateTime);
    return due_100ns;
}

const LONGLONG *tp_due_from_large_integer(const LARGE_INTEGER *li, LONGLONG *due_100ns)
{
    if (!li)
        return NULL;
    *due_100ns = li->QuadPart;
    return due_100ns;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The deadline module (kernel32_tp/deadline.h), tested directly: the
 * FILETIME rule (negative = relative, positive = absolute system time,
 * zero = now, in 100 ns units), saturation instead of wrap-around, and the
 * way back from a monotonic deadline to a relative due time.  An internal
 * module: native only, linked from the static archive.
 */
#include <stdint.h>

#include "helper.h"
#include "deadline.h"

#define NOW_NS 5000000000ull        /* an arbitrary monotonic "now" */
#define SYSTEM_100NS 130000000000000000ull  /* an arbitrary system time (2012) */

static void deadline_relative_counts_from_now(void **state)
{
    (void)state;
    assert_true(tp_deadline_at(-1, NOW_NS, SYSTEM_100NS) == NOW_NS + 100);
    assert_true(tp_deadline_at(-10000000, NOW_NS, SYSTEM_100NS) == NOW_NS + 1000000000ull);
    /* The system time plays no part in a relative due time. */
    assert_true(tp_deadline_at(-10, NOW_NS, 0) == tp_deadline_at(-10, NOW_NS, SYSTEM_100NS));
}

static void deadline_zero_is_now(void **state)
{
    (void)state;
    assert_true(tp_deadline_at(0, NOW_NS, SYSTEM_100NS) == NOW_NS);
    assert_true(tp_deadline_at(0, NOW_NS, 0) == NOW_NS);
}

static void deadline_absolute_converts_from_system_time(void **state)
{
    (void)state;
    assert_true(tp_deadline_at((LONGLONG)SYSTEM_100NS + 50, NOW_NS, SYSTEM_100NS)
                == NOW_NS + 5000);
    /* A past or present absolute time is now, never a time before it. */
    assert_true(tp_deadline_at((LONGLONG)SYSTEM_100NS, NOW_NS, SYSTEM_100NS) == NOW_NS);
    assert_true(tp_deadline_at(1, NOW_NS, SYSTEM_100NS) == NOW_NS);
}

static void deadline_far_away_saturates_to_never(void **state)
{
    (void)state;
    /* |INT64_MIN| * 100 ns does not fit in 64 bits: never, not soon. */
    assert_true(tp_deadline_at(INT64_MIN, NOW_NS, SYSTEM_100NS) == TP_NEVER);
    assert_true(tp_deadline_at(INT64_MAX, NOW_NS, 0) == TP_NEVER);
    /* The product fits, the sum with now does not. */
    assert_true(tp_deadline_at(-(LONGLONG)(TP_NEVER / 100), NOW_NS, 0) == TP_NEVER);
    /* Just below the limit, no saturation. */
    assert_true(tp_deadline_at(-(LONGLONG)((TP_NEVER - NOW_NS) / 100), NOW_NS, 0)
                == NOW_NS + (TP_NEVER - NOW_NS) / 100 * 100);
}

static void deadline_add_mul_saturate(void **state)
{
    (void)state;
    assert_true(tp_deadline_add(1, 2) == 3);
    assert_true(tp_deadline_add(TP_NEVER - 1, 1) == TP_NEVER);
    assert_true(tp_deadline_add(TP_NEVER - 1, 2) == TP_NEVER);
    assert_true(tp_deadline_add(TP_NEVER, 0) == TP_NEVER);
    assert_true(tp_deadline_mul(3, 7) == 21);
    assert_true(tp_deadline_mul(TP_NEVER, 0) == 0);
    assert_true(tp_deadline_mul(0, TP_NEVER) == 0);
    assert_true(tp_deadline_mul(TP_NEVER / 2 + 1, 2) == TP_NEVER);
    assert_true(tp_deadline_mul(TP_NEVER / 2, 2) == TP_NEVER - 1);
    assert_true(tp_ns_from_ms(0xffffffff) == 0xffffffffull * 1000000);
}

static void deadline_from_due_null_is_never(void **state)
{
    LONGLONG zero = 0, relative = -20000000;   /* 2 s */

    (void)state;
    assert_true(tp_deadline_from_due(NULL, NOW_NS) == TP_NEVER);
    assert_true(tp_deadline_from_due(&zero, NOW_NS) == NOW_NS);
    assert_true(tp_deadline_from_due(&relative, NOW_NS) == NOW_NS + 2000000000ull);
}

/* With the real system clock: one second from now, within generous bounds. */
static void deadline_from_due_absolute_reads_system_clock(void **state)
{
    FILETIME ft;
    ULARGE_INTEGER system;
    LONGLONG due_100ns;
    ULONGLONG deadline_ns;

    (void)state;
    GetSystemTimeAsFileTime(&ft);
    system.u.LowPart = ft.dwLowDateTime;
    system.u.HighPart = ft.dwHighDateTime;
    due_100ns = (LONGLONG)system.QuadPart + 10000000;
    deadline_ns = tp_deadline_from_due(&due_100ns, NOW_NS);
    /* The clock runs between the two reads: at most 1 s ahead, more than
     * 0.5 s on any machine that is not stopped for half a second. */
    assert_true(deadline_ns <= NOW_NS + 1000000000ull);
    assert_true(deadline_ns > NOW_NS + 500000000ull);
    due_100ns = (LONGLONG)system.QuadPart - 10000000;
    assert_true(tp_deadline_from_due(&due_100ns, NOW_NS) == NOW_NS);
}

static void deadline_due_until_rounds_up(void **state)
{
    (void)state;
    assert_true(tp_due_until(NOW_NS + 1, NOW_NS) == -1);
    assert_true(tp_due_until(NOW_NS + 100, NOW_NS) == -1);
    assert_true(tp_due_until(NOW_NS + 101, NOW_NS) == -2);
    assert_true(tp_due_until(NOW_NS, NOW_NS) == 0);
    assert_true(tp_due_until(NOW_NS - 1, NOW_NS) == 0);
    assert_true(tp_due_until(TP_NEVER, 0) == -(LONGLONG)(TP_NEVER / 100 + 1));
}

/* A deadline turned into a due time and back is never earlier, and late by
 * less than one 100 ns unit. */
static void deadline_due_until_round_trip_never_early(void **state)
{
    static const ULONGLONG deltas[] = { 1, 99, 100, 101, 12345, 999999999, 1ull << 40 };
    unsigned int i;

    (void)state;
    for (i = 0; i < sizeof(deltas) / sizeof(*deltas); i++) {
        ULONGLONG back = tp_deadline_at(tp_due_until(NOW_NS + deltas[i], NOW_NS), NOW_NS, 0);

        assert_true(back >= NOW_NS + deltas[i]);
        assert_true(back < NOW_NS + deltas[i] + 100);
    }
}

static void deadline_due_from_ms_is_relative(void **state)
{
    (void)state;
    assert_true(tp_due_from_ms(0) == 0);
    assert_true(tp_due_from_ms(5) == -50000);
    assert_true(tp_due_from_ms(0xffffffff) == -(LONGLONG)0xffffffff * 10000);
    assert_true(tp_deadline_at(tp_due_from_ms(5), NOW_NS, 0) == NOW_NS + 5000000);
}

static void deadline_due_from_api_arguments(void **state)
{
    FILETIME ft = { 0xfffffff6, 0xffffffff };    /* -10 */
    LARGE_INTEGER li;
    LONGLONG due_100ns = 0;

    (void)state;
    assert_null(tp_due_from_filetime(NULL, &due_100ns));
    assert_null(tp_due_from_large_integer(NULL, &due_100ns));
    assert_ptr_equal(tp_due_from_filetime(&ft, &due_100ns), &due_100ns);
    assert_true(due_100ns == -10);
    ft.dwLowDateTime = 0x89abcdef;
    ft.dwHighDateTime = 0x01234567;
    tp_due_from_filetime(&ft, &due_100ns);
    assert_true(due_100ns == 0x0123456789abcdefll);
    li.QuadPart = -12345;
    assert_ptr_equal(tp_due_from_large_integer(&li, &due_100ns), &due_100ns);
    assert_true(due_100ns == -12345);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deadline_relative_counts_from_now),
        cmocka_unit_test(deadline_zero_is_now),
        cmocka_unit_test(deadline_absolute_converts_from_system_time),
        cmocka_unit_test(deadline_far_away_saturates_to_never),
        cmocka_unit_test(deadline_add_mul_saturate),
        cmocka_unit_test(deadline_from_due_null_is_never),
        cmocka_unit_test(deadline_from_due_absolute_reads_system_clock),
        cmocka_unit_test(deadline_due_until_rounds_up),
        cmocka_unit_test(deadline_due_until_round_trip_never_early),
        cmocka_unit_test(deadline_due_from_ms_is_relative),
        cmocka_unit_test(deadline_due_from_api_arguments),
    };

    return cmocka_run_group_tests_name("deadline", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KERNEL32_TP_TRACE and its channels (kernel32_tp/trace.h): a child
 * process of this program makes one call of each area (a work item, a
 * timer, a wait, an I/O object, handle calls) under a given value of the
 * variable, and the test reads which functions its trace lines name.  The
 * variable is read when the library starts, hence the child.  Native only:
 * the trace is kernel32_tp's, and the child is started with posix_spawn
 * (helper_run_self_stderr).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

/* ---- the child: one call of each area ----------------------------------------- */

static void CALLBACK child_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst; (void)ctx; (void)work;
}

static void CALLBACK child_timer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    (void)inst; (void)ctx; (void)timer;
}

static void CALLBACK child_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                   TP_WAIT_RESULT result)
{
    (void)inst; (void)wait; (void)result;
    SetEvent(ctx);
}

static void CALLBACK child_io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                                 ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    (void)inst; (void)ctx; (void)overlapped; (void)result; (void)bytes; (void)io;
}

int helper_child_main(void)
{
    FILETIME now = { 0, 0 };
    char dir[MAX_PATH], path[MAX_PATH];
    HANDLE signalled, done, file;
    PTP_WORK work;
    PTP_TIMER timer;
    PTP_WAIT wait;
    PTP_IO io;

    if (!(work = CreateThreadpoolWork(child_work_cb, NULL, NULL)))
        return 10;
    SubmitThreadpoolWork(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);

    if (!(timer = CreateThreadpoolTimer(child_timer_cb, NULL, NULL)))
        return 20;
    SetThreadpoolTimer(timer, &now, 0, 0);
    WaitForThreadpoolTimerCallbacks(timer, FALSE);
    CloseThreadpoolTimer(timer);

    signalled = CreateEventW(NULL, TRUE, TRUE, NULL);
    done = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!signalled || !done || !(wait = CreateThreadpoolWait(child_wait_cb, done, NULL)))
        return 30;
    SetThreadpoolWait(wait, signalled, NULL);
    if (WaitForSingleObject(done, helper_timeout_ms()) != WAIT_OBJECT_0)
        return 31;
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    CloseThreadpoolWait(wait);
    CloseHandle(signalled);
    CloseHandle(done);

    if (!GetTempPathA(sizeof(dir), dir) || !GetTempFileNameA(dir, "ktp", 0, path))
        return 40;
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (file == INVALID_HANDLE_VALUE || !(io = CreateThreadpoolIo(file, child_io_cb, NULL, NULL)))
        return 41;
    CloseThreadpoolIo(io);
    CloseHandle(file);
    DeleteFileA(path);
    return 0;
}

/* ---- the test: what the child's trace names ------------------------------------ */

struct trace_run {
    char out[1 << 20];      /* the child's standard error */
    size_t len;
};

/* Runs the child with KERNEL32_TP_TRACE=value (NULL: unset) and keeps its
 * standard error. */
static void trace_run_child(struct trace_run *run, const char *value)
{
    run->len = helper_run_self_stderr("KERNEL32_TP_TRACE", value, run->out,
                                      sizeof(run->out));
}

/* Whether a trace line names func ("kernel32_tp:TID: func ..."). */
static int traced(const struct trace_run *run, const char *func)
{
    char needle[128];

    snprintf(needle, sizeof(needle), ": %s ", func);
    return strstr(run->out, needle) != NULL;
}

static int trace_lines(const struct trace_run *run)
{
    const char *p = run->out;
    int lines = 0;

    while ((p = strstr(p, "kernel32_tp:"))) {
        lines++;
        p++;
    }
    return lines;
}

/* One function of each channel's area, in the order of enum tp_trace_channel. */
static const char *const channel_funcs[] = {
    "SubmitThreadpoolWork",     /* pool */
    "SetThreadpoolTimer",       /* timer */
    "SetThreadpoolWait",        /* wait */
    "CreateThreadpoolIo",       /* io */
    "CreateEventW",             /* handle */
};
#define CHANNEL_COUNT (sizeof(channel_funcs) / sizeof(*channel_funcs))

/* Runs the child under value and checks that exactly the channels of mask
 * (bit n: channel n) were traced. */
static void trace_expect(const char *value, unsigned int mask)
{
    static struct trace_run run;
    unsigned int i;

    trace_run_child(&run, value);
    for (i = 0; i < CHANNEL_COUNT; i++) {
        if (traced(&run, channel_funcs[i]) != !!(mask & (1u << i)))
            fail_msg("KERNEL32_TP_TRACE=%s: %s %s traced", value ? value : "(unset)",
                     channel_funcs[i], mask & (1u << i) ? "not" : "wrongly");
    }
    if (!mask)
        assert_int_equal(trace_lines(&run), 0);
}

static void trace_unset_or_zero_traces_nothing(void **state)
{
    (void)state;
    trace_expect(NULL, 0);
    trace_expect("0", 0);
    trace_expect("", 0);
}

static void trace_one_or_all_traces_every_channel(void **state)
{
    (void)state;
    trace_expect("1", 0x1f);
    trace_expect("all", 0x1f);
}

static void trace_each_channel_alone(void **state)
{
    static const char *const names[] = { "pool", "timer", "wait", "io", "handle" };
    unsigned int i;

    (void)state;
    for (i = 0; i < CHANNEL_COUNT; i++)
        trace_expect(names[i], 1u << i);
}

static void trace_list_of_channels(void **state)
{
    (void)state;
    trace_expect("pool,wait", 0x1 | 0x4);
    trace_expect("timer,io,handle", 0x2 | 0x8 | 0x10);
}

/* The callbacks' own lines follow their object's channel. */
static void trace_callbacks_on_their_channel(void **state)
{
    static struct trace_run run;

    (void)state;
    trace_run_child(&run, "timer");
    assert_non_null(strstr(run.out, "timer_invoke timer callback"));
    assert_null(strstr(run.out, "work_invoke"));
    trace_run_child(&run, "pool");
    assert_non_null(strstr(run.out, "work_invoke work callback"));
    assert_null(strstr(run.out, "timer_invoke"));
}

static void trace_unknown_channel_reported_others_kept(void **state)
{
    static struct trace_run run;

    (void)state;
    trace_run_child(&run, "bogus,timer");
    assert_non_null(strstr(run.out, "unknown channel \"bogus\""));
    assert_true(traced(&run, "SetThreadpoolTimer"));
    assert_false(traced(&run, "SubmitThreadpoolWork"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_unset_or_zero_traces_nothing),
        cmocka_unit_test(trace_one_or_all_traces_every_channel),
        cmocka_unit_test(trace_each_channel_alone),
        cmocka_unit_test(trace_list_of_channels),
        cmocka_unit_test(trace_callbacks_on_their_channel),
        cmocka_unit_test(trace_unknown_channel_reported_others_kept),
    };

    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}

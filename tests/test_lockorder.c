/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lock-order check (kernel32_tp/lock_order.h, lock_rank.c): in builds
 * with KERNEL32_TP_LOCK_RANKS (DEBUG=1, SAN=asan, SAN=tsan), taking an
 * os_lock whose rank is not above every lock the thread holds stops the
 * process with one line naming both locks; taking them in order, O locks
 * in ascending address order, or out of order with a try-acquire does
 * not.  Release builds check nothing, and these tests show that too.
 *
 * Native only: it drives the platform's os_lock directly (linked from the
 * static library, compiled with the library's rank flag so the lock's
 * layout matches).  Each case runs in a forked child, whose standard error
 * and end the parent checks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"
#include "os.h"

struct child_end {
    int status;                 /* waitpid's */
    char err[1024];             /* what it wrote to standard error */
};

/* Runs fn in a child process with standard error captured. */
static void run_child(void (*fn)(void), struct child_end *end)
{
    size_t len = 0;
    ssize_t got;
    pid_t pid;
    int fds[2];

    memset(end, 0, sizeof(*end));
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (len < sizeof(end->err) - 1
           && (got = read(fds[0], end->err + len, sizeof(end->err) - 1 - len)) > 0)
        len += (size_t)got;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &end->status, 0), pid);
}

static void assert_ran_to_end(const struct child_end *end)
{
    assert_true(WIFEXITED(end->status));
    assert_int_equal(WEXITSTATUS(end->status), 0);
    assert_string_equal(end->err, "");
}

/* P, then M inside it: the documented order (scheduler.c). */
static void take_in_order(void)
{
    struct os_lock pool, monitor, objects[2], *low, *high;

    os_lock_init(&pool, OS_LOCK_RANK_P);
    os_lock_init(&monitor, OS_LOCK_RANK_M);
    os_lock_init(&objects[0], OS_LOCK_RANK_O);
    os_lock_init(&objects[1], OS_LOCK_RANK_O);
    os_lock_acquire(&pool);
    os_lock_acquire(&monitor);
    os_lock_release(&monitor);
    os_lock_release(&pool);
    /* Two kernel objects' locks, ascending addresses (a wait-all), then a
     * third lock above them. */
    low = &objects[0] < &objects[1] ? &objects[0] : &objects[1];
    high = low == &objects[0] ? &objects[1] : &objects[0];
    os_lock_acquire(low);
    os_lock_acquire(high);
    os_lock_acquire(&pool);
    os_lock_release(&pool);
    /* Released out of order, as an unlock of several objects may. */
    os_lock_release(low);
    os_lock_release(high);
    /* Out of order, but a try-acquire cannot deadlock: a signaller's way. */
    os_lock_acquire(&pool);
    assert_true(os_lock_try_acquire(low));
    os_lock_release(low);
    os_lock_release(&pool);
}

/* M, then P: the reverse of the documented order. */
static void take_monitor_then_pool(void)
{
    struct os_lock pool, monitor;

    os_lock_init(&pool, OS_LOCK_RANK_P);
    os_lock_init(&monitor, OS_LOCK_RANK_M);
    os_lock_acquire(&monitor);
    os_lock_acquire(&pool);
    os_lock_release(&pool);
    os_lock_release(&monitor);
}

/* Two kernel objects' locks, descending addresses: the order a wait-all
 * must not use. */
static void take_objects_descending(void)
{
    struct os_lock objects[2], *low, *high;

    os_lock_init(&objects[0], OS_LOCK_RANK_O);
    os_lock_init(&objects[1], OS_LOCK_RANK_O);
    low = &objects[0] < &objects[1] ? &objects[0] : &objects[1];
    high = low == &objects[0] ? &objects[1] : &objects[0];
    os_lock_acquire(high);
    os_lock_acquire(low);
    os_lock_release(low);
    os_lock_release(high);
}

static void lockorder_in_order_runs_to_end(void **state)
{
    struct child_end end;

    (void)state;
    run_child(take_in_order, &end);
    assert_ran_to_end(&end);
}

#ifdef KERNEL32_TP_LOCK_RANKS
/* The child stopped with exactly one line naming both locks and this file. */
static void assert_stopped_naming(const struct child_end *end, const char *taking,
                                  const char *holding)
{
    static const char prefix[] = "kernel32_tp: fatal: lock order: taking ";
    const char *newline = strchr(end->err, '\n');
    const char *held = strstr(end->err, " while holding ");

    assert_true(WIFSIGNALED(end->status));
    assert_int_equal(WTERMSIG(end->status), SIGABRT);
    /* One line: "taking <lock> at <file:line> while holding <lock> taken at <file:line>". */
    assert_non_null(newline);
    assert_string_equal(newline + 1, "");
    assert_true(strncmp(end->err, prefix, sizeof(prefix) - 1) == 0);
    assert_true(strncmp(end->err + sizeof(prefix) - 1, taking, strlen(taking)) == 0);
    assert_non_null(held);
    assert_true(strncmp(held + strlen(" while holding "), holding, strlen(holding)) == 0);
    /* Both call sites, in this file. */
    assert_non_null(strstr(end->err, "test_lockorder.c:"));
    assert_non_null(strstr(held, "taken at test_lockorder.c:"));
}

static void lockorder_reverse_stops_naming_both(void **state)
{
    struct child_end end;

    (void)state;
    run_child(take_monitor_then_pool, &end);
    assert_stopped_naming(&end, "P (pool->lock)", "M (injection monitor)");
}

static void lockorder_objects_descending_stops(void **state)
{
    struct child_end end;

    (void)state;
    run_child(take_objects_descending, &end);
    assert_stopped_naming(&end, "O (kernel object obj->lock)", "O (kernel object obj->lock)");
}
#else
/* A release build keeps os_lock as it was: no rank stored, nothing checked. */
static void lockorder_release_build_does_not_check(void **state)
{
    struct child_end end;

    (void)state;
    run_child(take_monitor_then_pool, &end);
    assert_ran_to_end(&end);
    run_child(take_objects_descending, &end);
    assert_ran_to_end(&end);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lockorder_in_order_runs_to_end),
#ifdef KERNEL32_TP_LOCK_RANKS
        cmocka_unit_test(lockorder_reverse_stops_naming_both),
        cmocka_unit_test(lockorder_objects_descending_stops),
#else
        cmocka_unit_test(lockorder_release_build_does_not_check),
#endif
    };

    return cmocka_run_group_tests_name("lockorder", tests, NULL, NULL);
}

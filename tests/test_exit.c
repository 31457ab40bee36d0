/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exit and fork (docs/reliability.md): a process that ends with callbacks
 * running, timers armed, waits registered and I/O in flight ends promptly
 * with its exit code, whether it calls exit(), returns from main or calls
 * ExitProcess (on Windows and under Wine: the DLL's process detach).  On
 * Linux, a child of fork() can use the thread pool, and fork() then exec
 * always works.  Each case runs this program again as a child (argv[1]
 * names the case) and checks how it ended, within the test timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef __MINGW32__
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
#endif

#include "helper.h"

#define CHILD_CODE 42
#define CHILD_OTHER_POOL 77     /* the child is not on the parent's pool */

static char *self_path;

/* ---- the child: a busy pool ------------------------------------------------------- */

static HANDLE never;            /* an event nobody sets */
static volatile LONG started;   /* callbacks that began */

static void CALLBACK blocked_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)ctx;
    (void)work;
    InterlockedIncrement(&started);
    WaitForSingleObject(never, INFINITE);
}

static void CALLBACK busy_timer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    (void)inst;
    (void)ctx;
    (void)timer;
    InterlockedIncrement(&started);
}

static void CALLBACK busy_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                  TP_WAIT_RESULT result)
{
    (void)inst;
    (void)ctx;
    (void)wait;
    (void)result;
}

static void CALLBACK busy_io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID ov, ULONG result,
                                ULONG_PTR bytes, PTP_IO io)
{
    (void)inst;
    (void)ctx;
    (void)ov;
    (void)result;
    (void)bytes;
    (void)io;
}

static void CALLBACK exit_in_callback_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx)
{
    (void)inst;
    (void)ctx;
    ExitProcess(CHILD_CODE);
}

/* Two callbacks blocked, a periodic timer, a registered wait and a
 * pending pipe read, on a private pool and on the default one.  Returns
 * once the callbacks run. */
static void make_busy(void)
{
    static OVERLAPPED ov;
    static BYTE buf[16];
    static PTP_POOL pool;
    static TP_CALLBACK_ENVIRON env;
    FILETIME due = { (DWORD)-10000, (DWORD)-1 };    /* 1 ms ahead */
    PTP_WORK work;
    PTP_TIMER timer;
    PTP_WAIT wait;
    PTP_IO io;
    HANDLE server, client;
    char name[96];
    DWORD start;

    never = CreateEventW(NULL, TRUE, FALSE, NULL);
    pool = CreateThreadpool(NULL);
    if (!never || !pool)
        exit(90);
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, pool);
    work = CreateThreadpoolWork(blocked_cb, NULL, &env);
    timer = CreateThreadpoolTimer(busy_timer_cb, NULL, &env);
    wait = CreateThreadpoolWait(busy_wait_cb, NULL, NULL);
    if (!work || !timer || !wait)
        exit(91);
    SubmitThreadpoolWork(work);
    SubmitThreadpoolWork(work);
    SetThreadpoolTimer(timer, &due, 1, 0);
    SetThreadpoolWait(wait, never, NULL);

    snprintf(name, sizeof(name), "\\\\.\\pipe\\kernel32_tp_test_exit_%lu",
             (unsigned long)GetCurrentProcessId());
    server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                              PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    client = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (server == INVALID_HANDLE_VALUE || client == INVALID_HANDLE_VALUE)
        exit(92);
    if (!ConnectNamedPipe(server, &ov) && GetLastError() != ERROR_PIPE_CONNECTED)
        exit(93);
    io = CreateThreadpoolIo(server, busy_io_cb, NULL, NULL);
    if (!io)
        exit(94);
    memset(&ov, 0, sizeof(ov));
    StartThreadpoolIo(io);
    if (ReadFile(server, buf, sizeof(buf), NULL, &ov) || GetLastError() != ERROR_IO_PENDING)
        exit(95);
    start = GetTickCount();
    while (InterlockedCompareExchange(&started, 0, 0) < 4) {
        if (GetTickCount() - start > helper_timeout_ms())
            exit(96);
        Sleep(1);
    }
}

static int child_main(const char *what, const char *parent_is_tp)
{
    /* The child must run on the parent's implementation, or it tests
     * another (a launcher whose DLLs a child process does not get). */
    if (helper_is_kernel32_tp() != atoi(parent_is_tp))
        return CHILD_OTHER_POOL;
    make_busy();
    if (!strcmp(what, "exit"))
        exit(CHILD_CODE);
    if (!strcmp(what, "return"))
        return CHILD_CODE;
    if (!strcmp(what, "exit-process"))
        ExitProcess(CHILD_CODE);
    if (!strcmp(what, "exit-in-callback")) {
        if (!TrySubmitThreadpoolCallback(exit_in_callback_cb, NULL, NULL))
            return 97;
        WaitForSingleObject(never, INFINITE);
    }
    return 98;
}

/* ---- the parent ------------------------------------------------------------------- */

#ifndef __MINGW32__
/* Waits (bounded) for a forked or spawned child; its exit code, or fails. */
static int fork_wait(pid_t pid, const char *what)
{
    DWORD start = GetTickCount();
    int status = 0;
    pid_t done;

    while ((done = waitpid(pid, &status, WNOHANG)) == 0
           && GetTickCount() - start < helper_timeout_ms())
        Sleep(2);
    if (done != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("%s: the child did not end within %lu ms", what,
                 (unsigned long)helper_timeout_ms());
    }
    if (!WIFEXITED(status))
        fail_msg("%s: the child was killed by signal %d", what, WTERMSIG(status));
    return WEXITSTATUS(status);
}
#endif

/* Runs this program as a child doing what; its exit code, which must come
 * within the test timeout (else the child is killed and the test fails). */
static DWORD run_child(const char *what)
{
    char is_tp[2] = { helper_is_kernel32_tp() ? '1' : '0', 0 };
#ifdef __MINGW32__
    PROCESS_INFORMATION pi;
    STARTUPINFOA si;
    char cmd[MAX_PATH + 32];
    DWORD code = 0xbad, ret;

    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    snprintf(cmd, sizeof(cmd), "\"%s\" %s %s", self_path, what, is_tp);
    assert_true(helper_create_process(cmd, FALSE, &si, &pi));
    ret = WaitForSingleObject(pi.hProcess, helper_timeout_ms());
    if (ret != WAIT_OBJECT_0)
        TerminateProcess(pi.hProcess, 1);
    assert_int_equal(ret, WAIT_OBJECT_0);
    assert_true(GetExitCodeProcess(pi.hProcess, &code));
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return code;
#else
    char *argv[] = { self_path, (char *)what, is_tp, NULL };
    pid_t pid;

    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
    return (DWORD)fork_wait(pid, what);
#endif
}

/* Runs the child and checks its code; a child that cannot be on the
 * parent's pool is a known difference of the mode, counted and skipped. */
static void child_exits_with_code(const char *what)
{
    DWORD code;

    /* wine-dropin: kernel32_tp-wine's DLL pair is the program's, not its
     * children's, and this variable stops a child on another pool. */
    if (getenv("KERNEL32_TP_TEST_EXPECT")) {
        helper_todo(1, "wine-dropin: a child process does not get kernel32_tp-wine's DLLs",
                    __FILE__, __LINE__);
        skip();
    }
    code = run_child(what);
    if (code == CHILD_OTHER_POOL) {
        helper_todo(1, "a child process is not on the parent's thread pool", __FILE__, __LINE__);
        skip();
    }
    assert_int_equal(code, CHILD_CODE);
}

/* One test a way of ending the child: what it does, as the test's state. */
static void exit_child_case(void **state)
{
    child_exits_with_code(*state);
}

#define CHILD_TEST(name, what) { #name, exit_child_case, NULL, NULL, (void *)(what) }

#ifndef __MINGW32__
/* ---- fork (Linux) ------------------------------------------------------------------ */

static void CALLBACK fork_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                  TP_WAIT_RESULT result)
{
    (void)inst;
    (void)wait;
    if (result == WAIT_OBJECT_0)
        InterlockedIncrement((volatile LONG *)ctx);
}

/* In a forked child: work on the default pool and on a new one, a timer
 * and a wait, each must run.  The child's exit code says which did not. */
static int fork_child_uses_pool(void)
{
    volatile LONG ran = 0;
    TP_CALLBACK_ENVIRON env;
    FILETIME ahead = { (DWORD)-10000, (DWORD)-1 };
    PTP_POOL pool;
    PTP_WORK work, own;
    PTP_TIMER timer;
    PTP_WAIT wait;
    HANDLE event;

    work = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, NULL);
    if (!work)
        return 10;
    submit_times(work, 10);
    if (!helper_wait_count(&ran, 10))
        return 11;
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);

    if (!(pool = CreateThreadpool(NULL)))
        return 12;
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, pool);
    if (!(own = CreateThreadpoolWork(count_runs_cb, (PVOID)&ran, &env)))
        return 13;
    SubmitThreadpoolWork(own);
    if (!helper_wait_count(&ran, 11))
        return 14;
    WaitForThreadpoolWorkCallbacks(own, FALSE);
    CloseThreadpoolWork(own);

    /* 1 ms ahead: the timer service's thread fires it, not the setter. */
    if (!(timer = CreateThreadpoolTimer(count_timer_runs_cb, (PVOID)&ran, &env)))
        return 15;
    SetThreadpoolTimer(timer, &ahead, 0, 0);
    if (!helper_wait_count(&ran, 12))
        return 16;
    WaitForThreadpoolTimerCallbacks(timer, FALSE);
    CloseThreadpoolTimer(timer);

    if (!(event = CreateEventW(NULL, FALSE, FALSE, NULL))
        || !(wait = CreateThreadpoolWait(fork_wait_cb, (PVOID)&ran, &env)))
        return 17;
    SetThreadpoolWait(wait, event, NULL);
    SetEvent(event);
    if (!helper_wait_count(&ran, 13))
        return 18;
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    CloseThreadpoolWait(wait);
    CloseHandle(event);
    CloseThreadpool(pool);
    return 0;
}

/* The parent keeps its pools busy while it forks: workers in callbacks,
 * others starting and retiring, the timer service firing, so that the fork
 * may catch any of their locks held. */
struct fork_load {
    PTP_WORK work;
    PTP_TIMER timer;
    volatile LONG ran;
};

static void fork_load_start(struct fork_load *l)
{
    FILETIME due = { (DWORD)-10000, (DWORD)-1 };

    memset(l, 0, sizeof(*l));
    l->work = CreateThreadpoolWork(count_runs_cb, (PVOID)&l->ran, NULL);
    l->timer = CreateThreadpoolTimer(count_timer_runs_cb, (PVOID)&l->ran, NULL);
    assert_non_null(l->work);
    assert_non_null(l->timer);
    SetThreadpoolTimer(l->timer, &due, 1, 0);
}

static void fork_load_stop(struct fork_load *l)
{
    SetThreadpoolTimer(l->timer, NULL, 0, 0);
    WaitForThreadpoolTimerCallbacks(l->timer, TRUE);
    WaitForThreadpoolWorkCallbacks(l->work, FALSE);
    CloseThreadpoolTimer(l->timer);
    CloseThreadpoolWork(l->work);
}

#define FORK_ROUNDS 20

/* Forks with 20 more callbacks queued on the busy parent's pool; the pid
 * (0 in the child). */
static pid_t fork_while_busy(struct fork_load *l)
{
    pid_t pid;

    submit_times(l->work, 20);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    return pid;
}

static void exit_fork_child_uses_pool(void **state)
{
    static struct fork_load l;
    pid_t pid;
    int round;

    (void)state;
#ifdef __SANITIZE_THREAD__
    /* TSan's runtime stops a child of a multi-threaded fork() that starts
     * a thread ("not supported"): the other modes cover this. */
    printf("skip: ThreadSanitizer does not support threads after a multi-threaded fork\n");
    skip();
#endif
#ifdef __SANITIZE_ADDRESS__
    /* GCC 12's AddressSanitizer allocator is not fork-safe: a parent thread
     * inside malloc at the fork leaves the allocator's region lock held in
     * the child, whose new threads then hang on their first allocation (seen
     * with gdb).  Under ASan the parent is quiet when it forks, so the child
     * still starts its pool afresh; the busy fork runs in the other modes. */
    for (round = 0; round < FORK_ROUNDS; round++) {
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(fork_child_uses_pool());
        assert_int_equal(fork_wait(pid, "fork, then the pool"), 0);
    }
    (void)l;
#else
    fork_load_start(&l);
    for (round = 0; round < FORK_ROUNDS; round++) {
        pid = fork_while_busy(&l);
        if (pid == 0)
            _exit(fork_child_uses_pool());
        assert_int_equal(fork_wait(pid, "fork, then the pool"), 0);
    }
    fork_load_stop(&l);
#endif
}

static void exit_fork_exec_always_works(void **state)
{
    char *argv[] = { self_path, (char *)"exec-child", NULL };
    static struct fork_load l;
    pid_t pid;
    int round;

    (void)state;
    fork_load_start(&l);
    for (round = 0; round < FORK_ROUNDS; round++) {
        pid = fork_while_busy(&l);
        if (pid == 0) {
            execve("/proc/self/exe", argv, environ);
            _exit(99);
        }
        assert_int_equal(fork_wait(pid, "fork, then exec"), CHILD_CODE);
    }
    fork_load_stop(&l);
}
#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        CHILD_TEST(exit_with_busy_pool_exits, "exit"),
        CHILD_TEST(exit_return_from_main_with_busy_pool_exits, "return"),
        CHILD_TEST(exit_exit_process_with_busy_pool_exits, "exit-process"),
        CHILD_TEST(exit_exit_process_in_callback_exits, "exit-in-callback"),
#ifndef __MINGW32__
        cmocka_unit_test(exit_fork_child_uses_pool),
        cmocka_unit_test(exit_fork_exec_always_works),
#endif
    };

    if (argc > 1 && !strcmp(argv[1], "exec-child"))
        return CHILD_CODE;
    if (argc > 2)
        return child_main(argv[1], argv[2]);
    self_path = argv[0];
    return cmocka_run_group_tests_name("exit", tests, NULL, NULL);
}

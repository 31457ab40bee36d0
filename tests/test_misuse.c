/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Misuse and the checked mode (docs/reliability.md): each misuse runs in a
 * child process, this program started again with "--misuse <case>" and
 * KERNEL32_TP_CHECK=1 (fork and exec natively, CreateProcess on Windows),
 * and the test asserts that the child stopped with exactly one line
 *     kernel32_tp: fatal: <call>: <object type> <pointer>: <what was wrong>
 * naming the call, the object (the child announces its pointer first) and
 * the misuse; natively the child ends with SIGABRT, with the DLL with the
 * noncontinuable STATUS_INVALID_PARAMETER that ntdll raises for an invalid
 * thread-pool object.  The legal paths next to each misuse run in a child
 * with the mode on and in this process as it was started, and must end
 * normally.
 *
 * Wine's own pool (the reference) validates nothing of this: a double close
 * there corrupts its heap or crashes at some later point, a self-waiting
 * callback hangs.  Those cases are skipped on the reference, visibly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef __MINGW32__
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
#endif

#include "helper.h"

#define ANNOUNCE "misuse-object "
#define FATAL "kernel32_tp: fatal: "
#define CHILD_LEGAL_EXIT 0
#define CHILD_NOT_OURS 77   /* the child's pool is not kernel32_tp's */
#ifndef STATUS_INVALID_PARAMETER
#define STATUS_INVALID_PARAMETER ((DWORD)0xC000000D)
#endif

/* ---- the child side ----------------------------------------------------------- */

/* The pointer as the checked mode prints it: 0x, lowercase hex, no padding. */
static void format_pointer(char *out, size_t size, const void *p)
{
    snprintf(out, size, "0x%llx", (unsigned long long)(uintptr_t)p);
}

/* Tells the parent which object the misuse is about, before it happens. */
static void announce(const void *object)
{
    char pointer[32], line[64];
    DWORD written;

    format_pointer(pointer, sizeof(pointer), object);
    snprintf(line, sizeof(line), ANNOUNCE "%s\n", pointer);
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), line, (DWORD)strlen(line), &written, NULL);
}

static void CALLBACK nop_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)ctx;
    (void)work;
}

static void CALLBACK nop_timer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    (void)inst;
    (void)ctx;
    (void)timer;
}

static void CALLBACK nop_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WAIT wait,
                                 TP_WAIT_RESULT result)
{
    (void)inst;
    (void)ctx;
    (void)wait;
    (void)result;
}

static void CALLBACK nop_io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                               ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    (void)inst;
    (void)ctx;
    (void)overlapped;
    (void)result;
    (void)bytes;
    (void)io;
}

static PTP_WORK new_work(void)
{
    PTP_WORK work = CreateThreadpoolWork(nop_work_cb, NULL, NULL);

    if (!work)
        exit(90);
    return work;
}

static PTP_TIMER new_timer(void)
{
    PTP_TIMER timer = CreateThreadpoolTimer(nop_timer_cb, NULL, NULL);

    if (!timer)
        exit(90);
    return timer;
}

/* An overlapped named pipe's server end: a file an I/O object can bind. */
static HANDLE new_pipe(void)
{
    char name[96];
    HANDLE pipe;

    snprintf(name, sizeof(name), "\\\\.\\pipe\\kernel32_tp_test_misuse_%lu",
             (unsigned long)GetCurrentProcessId());
    pipe = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                            PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    if (pipe == INVALID_HANDLE_VALUE)
        exit(91);
    return pipe;
}

/* State shared with the callbacks of the instance and deadlock cases. */
static struct {
    HANDLE started, release, done;
    PTP_CALLBACK_INSTANCE saved;
    PTP_WORK work;
    PTP_TIMER timer;
    PTP_CLEANUP_GROUP group;
} shared;

static void shared_init(void)
{
    shared.started = CreateEventA(NULL, FALSE, FALSE, NULL);
    shared.release = CreateEventA(NULL, TRUE, FALSE, NULL);
    shared.done = CreateEventA(NULL, TRUE, FALSE, NULL);
    if (!shared.started || !shared.release || !shared.done)
        exit(92);
}

static void CALLBACK save_instance_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)ctx;
    (void)work;
    shared.saved = inst;
    SetEvent(shared.started);
}

static void CALLBACK hold_instance_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)ctx;
    (void)work;
    shared.saved = inst;
    SetEvent(shared.started);
    WaitForSingleObject(shared.release, INFINITE);
}

static void CALLBACK use_other_instance_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)ctx;
    (void)work;
    announce(shared.saved);
    CallbackMayRunLong(shared.saved);
}

static void CALLBACK wait_own_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)ctx;
    announce(work);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    SetEvent(shared.done);
}

static void CALLBACK wait_own_timer_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_TIMER timer)
{
    (void)inst;
    (void)ctx;
    announce(timer);
    WaitForThreadpoolTimerCallbacks(timer, FALSE);
    SetEvent(shared.done);
}

static void CALLBACK close_own_group_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)ctx;
    (void)work;
    announce(shared.group);
    CloseThreadpoolCleanupGroupMembers(shared.group, FALSE, NULL);
    SetEvent(shared.done);
}

/* Legal: a callback that disassociated itself may wait for its own object. */
static void CALLBACK disassociated_wait_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)ctx;
    DisassociateCurrentThreadFromCallback(inst);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    SetEvent(shared.done);
}

/* Legal: a callback closes its own object. */
static void CALLBACK close_self_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)ctx;
    SetEventWhenCallbackReturns(inst, shared.done);
    CloseThreadpoolWork(work);
}

static void child_wait(HANDLE h)
{
    if (WaitForSingleObject(h, helper_timeout_ms()) != WAIT_OBJECT_0)
        exit(93);
}

/* Every kind through its whole legal life, and more objects than the
 * quarantine keeps.  Exits 0 when all went well. */
static int child_legal(void)
{
    TP_CALLBACK_ENVIRON env;
    PTP_CLEANUP_GROUP group;
    PTP_POOL pool;
    PTP_WORK work, works[64];
    PTP_TIMER timer;
    PTP_WAIT wait;
    PTP_IO io;
    HANDLE event, pipe;
    FILETIME due = { 0 };
    unsigned int i, round;

    shared_init();
    /* A work: submit, wait, close; several rounds, past the quarantine. */
    for (round = 0; round < 80; round++) {
        for (i = 0; i < 64; i++) {
            works[i] = new_work();
            SubmitThreadpoolWork(works[i]);
        }
        for (i = 0; i < 64; i++) {
            WaitForThreadpoolWorkCallbacks(works[i], FALSE);
            CloseThreadpoolWork(works[i]);
        }
    }
    /* A timer set, waited for, cancelled, closed. */
    timer = new_timer();
    SetThreadpoolTimer(timer, &due, 0, 0);
    WaitForThreadpoolTimerCallbacks(timer, FALSE);
    SetThreadpoolTimer(timer, NULL, 0, 0);
    if (IsThreadpoolTimerSet(timer))
        return 94;
    CloseThreadpoolTimer(timer);
    /* A wait on a signalled event. */
    event = CreateEventA(NULL, TRUE, TRUE, NULL);
    wait = CreateThreadpoolWait(nop_wait_cb, NULL, NULL);
    if (!event || !wait)
        return 90;
    SetThreadpoolWait(wait, event, NULL);
    WaitForThreadpoolWaitCallbacks(wait, FALSE);
    CloseThreadpoolWait(wait);
    CloseHandle(event);
    /* An I/O object announced and cancelled. */
    pipe = new_pipe();
    if (!(io = CreateThreadpoolIo(pipe, nop_io_cb, NULL, NULL)))
        return 90;
    StartThreadpoolIo(io);
    CancelThreadpoolIo(io);
    WaitForThreadpoolIoCallbacks(io, FALSE);
    CloseThreadpoolIo(io);
    CloseHandle(pipe);
    /* A private pool with a group, released with its members; the pool
     * closed while an object's callback is queued, then the object. */
    if (!(pool = CreateThreadpool(NULL)) || !(group = CreateThreadpoolCleanupGroup()))
        return 90;
    SetThreadpoolThreadMaximum(pool, 2);
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, pool);
    SetThreadpoolCallbackCleanupGroup(&env, group, NULL);
    for (i = 0; i < 8; i++) {
        if (!(work = CreateThreadpoolWork(nop_work_cb, NULL, &env)))
            return 90;
        SubmitThreadpoolWork(work);
    }
    CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    CloseThreadpoolCleanupGroup(group);
    SetThreadpoolCallbackCleanupGroup(&env, NULL, NULL);
    if (!(work = CreateThreadpoolWork(nop_work_cb, NULL, &env)))
        return 90;
    SubmitThreadpoolWork(work);
    CloseThreadpool(pool);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    DestroyThreadpoolEnvironment(&env);
    /* A callback that disassociates, then waits for its own object. */
    work = CreateThreadpoolWork(disassociated_wait_cb, NULL, NULL);
    if (!work)
        return 90;
    SubmitThreadpoolWork(work);
    child_wait(shared.done);
    WaitForThreadpoolWorkCallbacks(work, FALSE);
    CloseThreadpoolWork(work);
    /* A callback that closes its own object. */
    ResetEvent(shared.done);
    if (!(work = CreateThreadpoolWork(close_self_cb, NULL, NULL)))
        return 90;
    SubmitThreadpoolWork(work);
    child_wait(shared.done);
    return CHILD_LEGAL_EXIT;
}

/* One misuse each; returning from here means it was not caught. */
static int child_misuse(const char *name)
{
    PTP_WORK work;
    PTP_TIMER timer;
    PTP_WAIT wait;
    PTP_IO io;
    PTP_POOL pool;
    PTP_CLEANUP_GROUP group;
    TP_CALLBACK_ENVIRON env;
    HANDLE event;
    int local = 0;

    /* Under a launcher (the drop-in pair, the injector) only the first
     * process is ours: a child it did not start runs on the system's pool,
     * which checks nothing. */
    if (!helper_is_kernel32_tp())
        return CHILD_NOT_OURS;
    shared_init();
    if (!strcmp(name, "work-close-twice")) {
        work = new_work();
        CloseThreadpoolWork(work);
        announce(work);
        CloseThreadpoolWork(work);
    } else if (!strcmp(name, "work-submit-after-close")) {
        work = new_work();
        CloseThreadpoolWork(work);
        announce(work);
        SubmitThreadpoolWork(work);
    } else if (!strcmp(name, "work-wait-after-close")) {
        work = new_work();
        CloseThreadpoolWork(work);
        announce(work);
        WaitForThreadpoolWorkCallbacks(work, FALSE);
    } else if (!strcmp(name, "timer-close-twice")) {
        timer = new_timer();
        CloseThreadpoolTimer(timer);
        announce(timer);
        CloseThreadpoolTimer(timer);
    } else if (!strcmp(name, "timer-set-after-close")) {
        FILETIME due = { 0 };

        timer = new_timer();
        CloseThreadpoolTimer(timer);
        announce(timer);
        SetThreadpoolTimer(timer, &due, 0, 0);
    } else if (!strcmp(name, "wait-close-twice")) {
        if (!(wait = CreateThreadpoolWait(nop_wait_cb, NULL, NULL)))
            return 90;
        CloseThreadpoolWait(wait);
        announce(wait);
        CloseThreadpoolWait(wait);
    } else if (!strcmp(name, "wait-set-after-close")) {
        event = CreateEventA(NULL, TRUE, FALSE, NULL);
        if (!(wait = CreateThreadpoolWait(nop_wait_cb, NULL, NULL)))
            return 90;
        CloseThreadpoolWait(wait);
        announce(wait);
        SetThreadpoolWait(wait, event, NULL);
    } else if (!strcmp(name, "io-close-twice")) {
        if (!(io = CreateThreadpoolIo(new_pipe(), nop_io_cb, NULL, NULL)))
            return 90;
        CloseThreadpoolIo(io);
        announce(io);
        CloseThreadpoolIo(io);
    } else if (!strcmp(name, "io-start-after-close")) {
        if (!(io = CreateThreadpoolIo(new_pipe(), nop_io_cb, NULL, NULL)))
            return 90;
        CloseThreadpoolIo(io);
        announce(io);
        StartThreadpoolIo(io);
    } else if (!strcmp(name, "pool-close-twice")) {
        if (!(pool = CreateThreadpool(NULL)))
            return 90;
        CloseThreadpool(pool);
        announce(pool);
        CloseThreadpool(pool);
    } else if (!strcmp(name, "pool-use-after-close")) {
        if (!(pool = CreateThreadpool(NULL)))
            return 90;
        CloseThreadpool(pool);
        announce(pool);
        SetThreadpoolThreadMaximum(pool, 4);
    } else if (!strcmp(name, "pool-close-default")) {
        announce(NULL);
        CloseThreadpool(NULL);
    } else if (!strcmp(name, "group-close-twice")) {
        if (!(group = CreateThreadpoolCleanupGroup()))
            return 90;
        CloseThreadpoolCleanupGroup(group);
        announce(group);
        CloseThreadpoolCleanupGroup(group);
    } else if (!strcmp(name, "group-members-after-close")) {
        if (!(group = CreateThreadpoolCleanupGroup()))
            return 90;
        CloseThreadpoolCleanupGroup(group);
        announce(group);
        CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    } else if (!strcmp(name, "member-closed-after-group-release")) {
        if (!(group = CreateThreadpoolCleanupGroup()))
            return 90;
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackCleanupGroup(&env, group, NULL);
        if (!(work = CreateThreadpoolWork(nop_work_cb, NULL, &env)))
            return 90;
        CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
        announce(work);
        CloseThreadpoolWork(work);
    } else if (!strcmp(name, "work-created-in-closed-pool")) {
        if (!(pool = CreateThreadpool(NULL)))
            return 90;
        CloseThreadpool(pool);
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackPool(&env, pool);
        announce(pool);
        CreateThreadpoolWork(nop_work_cb, NULL, &env);
    } else if (!strcmp(name, "timer-created-with-closed-group")) {
        if (!(group = CreateThreadpoolCleanupGroup()))
            return 90;
        CloseThreadpoolCleanupGroup(group);
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackCleanupGroup(&env, group, NULL);
        announce(group);
        CreateThreadpoolTimer(nop_timer_cb, NULL, &env);
    } else if (!strcmp(name, "timer-passed-as-work")) {
        timer = new_timer();
        announce(timer);
        SubmitThreadpoolWork((PTP_WORK)timer);
    } else if (!strcmp(name, "pool-passed-as-group")) {
        if (!(pool = CreateThreadpool(NULL)))
            return 90;
        announce(pool);
        CloseThreadpoolCleanupGroup((PTP_CLEANUP_GROUP)pool);
    } else if (!strcmp(name, "stack-address-as-work")) {
        announce(&local);
        SubmitThreadpoolWork((PTP_WORK)&local);
    } else if (!strcmp(name, "heap-block-as-timer")) {
        void *block = malloc(256);

        memset(block, 0, 256);
        announce(block);
        CloseThreadpoolTimer((PTP_TIMER)block);
    } else if (!strcmp(name, "work-freed-long-ago")) {
        /* More than the quarantine keeps: the first one left it. */
        static PTP_WORK many[5000];
        unsigned int i;

        for (i = 0; i < 5000; i++)
            many[i] = new_work();
        for (i = 0; i < 5000; i++)
            CloseThreadpoolWork(many[i]);
        announce(many[0]);
        SubmitThreadpoolWork(many[0]);
    } else if (!strcmp(name, "instance-after-return")) {
        if (!(work = CreateThreadpoolWork(save_instance_cb, NULL, NULL)))
            return 90;
        SubmitThreadpoolWork(work);
        WaitForThreadpoolWorkCallbacks(work, FALSE);
        announce(shared.saved);
        SetEventWhenCallbackReturns(shared.saved, shared.done);
    } else if (!strcmp(name, "instance-of-other-callback")) {
        PTP_WORK other;

        if (!(work = CreateThreadpoolWork(hold_instance_cb, NULL, NULL))
            || !(other = CreateThreadpoolWork(use_other_instance_cb, NULL, NULL)))
            return 90;
        SubmitThreadpoolWork(work);
        child_wait(shared.started);
        SubmitThreadpoolWork(other);
        WaitForThreadpoolWorkCallbacks(other, FALSE);
        SetEvent(shared.release);
    } else if (!strcmp(name, "instance-foreign-pointer")) {
        announce(&local);
        DisassociateCurrentThreadFromCallback((PTP_CALLBACK_INSTANCE)&local);
    } else if (!strcmp(name, "work-waits-in-own-callback")) {
        if (!(work = CreateThreadpoolWork(wait_own_work_cb, NULL, NULL)))
            return 90;
        SubmitThreadpoolWork(work);
        child_wait(shared.done);
    } else if (!strcmp(name, "timer-waits-in-own-callback")) {
        FILETIME due = { 0 };

        if (!(timer = CreateThreadpoolTimer(wait_own_timer_cb, NULL, NULL)))
            return 90;
        SetThreadpoolTimer(timer, &due, 0, 0);
        child_wait(shared.done);
    } else if (!strcmp(name, "group-released-in-member-callback")) {
        if (!(shared.group = CreateThreadpoolCleanupGroup()))
            return 90;
        InitializeThreadpoolEnvironment(&env);
        SetThreadpoolCallbackCleanupGroup(&env, shared.group, NULL);
        if (!(work = CreateThreadpoolWork(close_own_group_cb, NULL, &env)))
            return 90;
        SubmitThreadpoolWork(work);
        child_wait(shared.done);
    } else {
        return 95;
    }
    return 0;
}

/* ---- the parent side ---------------------------------------------------------- */

static char self_path[MAX_PATH];

/* What a child did: how it ended and what it wrote to standard error. */
struct child_result {
    BOOL signalled;     /* natively: killed by a signal (signal in code) */
    DWORD code;         /* its exit code, or the signal */
    char err[4096];
};

/* Runs this program with args and KERNEL32_TP_CHECK=check ("" : unset). */
static void run_child(const char *mode, const char *name, const char *check,
                      struct child_result *r)
{
    char path[MAX_PATH];
    DWORD start = GetTickCount();
    size_t len;
    FILE *f;

    memset(r, 0, sizeof(*r));
    snprintf(path, sizeof(path), "misuse-%lu-%s.err", (unsigned long)GetCurrentProcessId(), name);
#ifdef __MINGW32__
    {
        SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
        PROCESS_INFORMATION pi;
        STARTUPINFOA si;
        char cmd[MAX_PATH + 128], saved[16], expect[64];
        DWORD had, had_expect;
        BOOL started;
        HANDLE file;

        file = CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                           CREATE_ALWAYS, 0, NULL);
        assert_true(file != INVALID_HANDLE_VALUE);
        memset(&si, 0, sizeof(si));
        si.cb = sizeof(si);
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
        si.hStdOutput = file;
        si.hStdError = file;
        snprintf(cmd, sizeof(cmd), "\"%s\" %s %s", self_path, mode, name);
        had = GetEnvironmentVariableA("KERNEL32_TP_CHECK", saved, sizeof(saved));
        SetEnvironmentVariableA("KERNEL32_TP_CHECK", *check ? check : NULL);
        /* The child finds out itself whether it runs on kernel32_tp: a
         * launcher (the drop-in pair, the injector) may not follow it. */
        had_expect = GetEnvironmentVariableA("KERNEL32_TP_TEST_EXPECT", expect, sizeof(expect));
        SetEnvironmentVariableA("KERNEL32_TP_TEST_EXPECT", NULL);
        started = helper_create_process(cmd, TRUE, &si, &pi);
        SetEnvironmentVariableA("KERNEL32_TP_CHECK", had && had < sizeof(saved) ? saved : NULL);
        SetEnvironmentVariableA("KERNEL32_TP_TEST_EXPECT",
                                had_expect && had_expect < sizeof(expect) ? expect : NULL);
        CloseHandle(file);
        if (!started) {
            DeleteFileA(path);      /* no child: nothing of it to keep */
            fail_msg("cannot start the child %s %s", mode, name);
        }
        if (WaitForSingleObject(pi.hProcess, helper_timeout_ms()) != WAIT_OBJECT_0) {
            TerminateProcess(pi.hProcess, 1);
            fail_msg("child %s %s did not end in time", mode, name);
        }
        assert_true(GetExitCodeProcess(pi.hProcess, &r->code));
        CloseHandle(pi.hProcess);
        CloseHandle(pi.hThread);
    }
#else
    {
        char *argv[] = { self_path, (char *)mode, (char *)name, NULL };
        char setting[64], **envp;
        size_t n = 0, i, j = 0;
        int status = 0, fd;
        pid_t pid;

        while (environ[n])
            n++;
        envp = calloc(n + 2, sizeof(*envp));
        assert_non_null(envp);
        for (i = 0; i < n; i++)
            if (strncmp(environ[i], "KERNEL32_TP_CHECK=", 18))
                envp[j++] = environ[i];
        snprintf(setting, sizeof(setting), "KERNEL32_TP_CHECK=%s", check);
        if (*check)
            envp[j++] = setting;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            execve("/proc/self/exe", argv, envp);
            _exit(127);
        }
        close(fd);
        free(envp);
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (GetTickCount() - start >= helper_timeout_ms()) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                fail_msg("child %s %s did not end in time", mode, name);
            }
            Sleep(5);
        }
        r->signalled = WIFSIGNALED(status);
        r->code = r->signalled ? (DWORD)WTERMSIG(status) : (DWORD)WEXITSTATUS(status);
    }
#endif
    (void)start;
    f = fopen(path, "rb");
    assert_non_null(f);
    len = fread(r->err, 1, sizeof(r->err) - 1, f);
    r->err[len] = 0;
    fclose(f);
    DeleteFileA(path);
}

/* The lines of text that begin with prefix. */
static int count_lines(const char *text, const char *prefix)
{
    const char *line = text;
    int count = 0;

    while (line && *line) {
        if (!strncmp(line, prefix, strlen(prefix)))
            count++;
        if ((line = strchr(line, '\n')))
            line++;
    }
    return count;
}

/* The text after prefix on its line, without the line end. */
static void line_after(const char *text, const char *prefix, char *out, size_t size)
{
    const char *at = strstr(text, prefix);
    size_t len;

    assert_non_null(at);
    at += strlen(prefix);
    len = strcspn(at, "\r\n");
    assert_true(len < size);
    memcpy(out, at, len);
    out[len] = 0;
}

/*
 * Runs case name in a checked child and asserts that it stopped with one
 * line "<call>: <type> <the announced pointer>: <what...>".
 */
static void expect_stop_with(const char *check, const char *name, const char *call,
                             const char *type, const char *what)
{
    struct child_result r;
    char pointer[64], fatal[512], expected[512];

    if (helper_not_run(MODES_REF, "Wine's own pool does not validate thread-pool handles: the "
                       "misuse corrupts or hangs the process instead of stopping it",
                       __FILE__, __LINE__)
        || helper_not_run(MODE_WINE_DROPIN | MODE_WINE_INJECT, "the child process would run on "
                          "Wine's pool: the launcher (the drop-in pair, the injector) does not "
                          "follow CreateProcess", __FILE__, __LINE__))
        skip();
    run_child("--misuse", name, check, &r);
    /* A child that printed nothing and exited with a small code (no
     * exception status) never reached this program's code: under Wine a
     * process start can fail that way (exit code 1, no output; the runner
     * has the same rule).  Run it once more and say so. */
    if (!r.signalled && !r.err[0] && r.code < 0x80000000u) {
        print_message("%s: the child ended with %#lx and no output; run again\n", name,
                      (unsigned long)r.code);
        run_child("--misuse", name, check, &r);
    }
    if (!r.signalled && r.code == CHILD_NOT_OURS)
        fail_msg("%s: the child process does not run on kernel32_tp", name);
#ifdef __MINGW32__
    if (r.code != STATUS_INVALID_PARAMETER)
        fail_msg("%s: exit code %#lx, expected STATUS_INVALID_PARAMETER; output:\n%s", name,
                 (unsigned long)r.code, r.err);
#else
    if (!r.signalled || r.code != SIGABRT)
        fail_msg("%s: ended with %s %lu, expected SIGABRT; output:\n%s", name,
                 r.signalled ? "signal" : "exit code", (unsigned long)r.code, r.err);
#endif
    assert_int_equal(count_lines(r.err, FATAL), 1);
    line_after(r.err, ANNOUNCE, pointer, sizeof(pointer));
    line_after(r.err, FATAL, fatal, sizeof(fatal));
    snprintf(expected, sizeof(expected), "%s: %s %s: %s", call, type, pointer, what);
    if (strncmp(fatal, expected, strlen(expected)))
        fail_msg("%s: the line was\n  %s\nexpected it to begin with\n  %s", name, fatal,
                 expected);
}

static void expect_stop(const char *name, const char *call, const char *type, const char *what)
{
    expect_stop_with("1", name, call, type, what);
}

static void expect_legal(const char *check)
{
    struct child_result r;

    run_child("--legal", "all", check, &r);
    if (r.signalled || r.code != CHILD_LEGAL_EXIT)
        fail_msg("legal child (KERNEL32_TP_CHECK=%s) ended with %s %lu; output:\n%s", check,
                 r.signalled ? "signal" : "code", (unsigned long)r.code, r.err);
    assert_int_equal(count_lines(r.err, FATAL), 0);
}

#define CLOSED_TWICE "closed twice"
#define USED_AFTER_CLOSE "used after it was closed"
#define NOT_OURS "not a thread-pool handle"
#define OWN_CALLBACK "called from the object's own callback, which it would wait for forever"

static void misuse_work_close_twice_stops(void **state)
{
    (void)state;
    expect_stop("work-close-twice", "CloseThreadpoolWork", "work", CLOSED_TWICE);
}

static void misuse_work_submit_after_close_stops(void **state)
{
    (void)state;
    expect_stop("work-submit-after-close", "SubmitThreadpoolWork", "work", USED_AFTER_CLOSE);
}

static void misuse_work_wait_after_close_stops(void **state)
{
    (void)state;
    expect_stop("work-wait-after-close", "WaitForThreadpoolWorkCallbacks", "work",
                USED_AFTER_CLOSE);
}

static void misuse_timer_close_twice_stops(void **state)
{
    (void)state;
    expect_stop("timer-close-twice", "CloseThreadpoolTimer", "timer", CLOSED_TWICE);
}

static void misuse_timer_set_after_close_stops(void **state)
{
    (void)state;
    expect_stop("timer-set-after-close", "SetThreadpoolTimer", "timer", USED_AFTER_CLOSE);
}

static void misuse_wait_close_twice_stops(void **state)
{
    (void)state;
    expect_stop("wait-close-twice", "CloseThreadpoolWait", "wait", CLOSED_TWICE);
}

static void misuse_wait_set_after_close_stops(void **state)
{
    (void)state;
    expect_stop("wait-set-after-close", "SetThreadpoolWait", "wait", USED_AFTER_CLOSE);
}

static void misuse_io_close_twice_stops(void **state)
{
    (void)state;
    expect_stop("io-close-twice", "CloseThreadpoolIo", "I/O", CLOSED_TWICE);
}

static void misuse_io_start_after_close_stops(void **state)
{
    (void)state;
    expect_stop("io-start-after-close", "StartThreadpoolIo", "I/O", USED_AFTER_CLOSE);
}

static void misuse_pool_close_twice_stops(void **state)
{
    (void)state;
    expect_stop("pool-close-twice", "CloseThreadpool", "pool", CLOSED_TWICE);
}

static void misuse_pool_use_after_close_stops(void **state)
{
    (void)state;
    expect_stop("pool-use-after-close", "SetThreadpoolThreadMaximum", "pool", USED_AFTER_CLOSE);
}

static void misuse_pool_close_default_stops(void **state)
{
    (void)state;
    expect_stop("pool-close-default", "CloseThreadpool", "pool",
                "the default pool (NULL) cannot be closed");
}

static void misuse_group_close_twice_stops(void **state)
{
    (void)state;
    expect_stop("group-close-twice", "CloseThreadpoolCleanupGroup", "cleanup group",
                CLOSED_TWICE);
}

static void misuse_group_members_after_close_stops(void **state)
{
    (void)state;
    expect_stop("group-members-after-close", "CloseThreadpoolCleanupGroupMembers",
                "cleanup group", USED_AFTER_CLOSE);
}

static void misuse_member_closed_after_group_release_stops(void **state)
{
    (void)state;
    expect_stop("member-closed-after-group-release", "CloseThreadpoolWork", "work",
                "closed after its cleanup group released it");
}

static void misuse_work_created_in_closed_pool_stops(void **state)
{
    (void)state;
    expect_stop("work-created-in-closed-pool", "CreateThreadpoolWork", "pool", USED_AFTER_CLOSE);
}

static void misuse_timer_created_with_closed_group_stops(void **state)
{
    (void)state;
    expect_stop("timer-created-with-closed-group", "CreateThreadpoolTimer", "cleanup group",
                USED_AFTER_CLOSE);
}

static void misuse_timer_passed_as_work_stops(void **state)
{
    (void)state;
    expect_stop("timer-passed-as-work", "SubmitThreadpoolWork", "timer",
                "a timer handle where a work is expected");
}

static void misuse_pool_passed_as_group_stops(void **state)
{
    (void)state;
    expect_stop("pool-passed-as-group", "CloseThreadpoolCleanupGroup", "pool",
                "a pool handle where a cleanup group is expected");
}

static void misuse_stack_address_as_work_stops(void **state)
{
    (void)state;
    expect_stop("stack-address-as-work", "SubmitThreadpoolWork", "work", NOT_OURS);
}

static void misuse_heap_block_as_timer_stops(void **state)
{
    (void)state;
    expect_stop("heap-block-as-timer", "CloseThreadpoolTimer", "timer", NOT_OURS);
}

static void misuse_work_freed_long_ago_stops(void **state)
{
    (void)state;
    expect_stop("work-freed-long-ago", "SubmitThreadpoolWork", "work", NOT_OURS);
}

static void misuse_instance_after_return_stops(void **state)
{
    (void)state;
    expect_stop("instance-after-return", "SetEventWhenCallbackReturns", "callback instance",
                "called outside a callback: the instance's callback has returned");
}

static void misuse_instance_of_other_callback_stops(void **state)
{
    (void)state;
    expect_stop("instance-of-other-callback", "CallbackMayRunLong", "callback instance",
                "the instance of a callback running on thread ");
}

static void misuse_instance_foreign_pointer_stops(void **state)
{
    (void)state;
    expect_stop("instance-foreign-pointer", "DisassociateCurrentThreadFromCallback",
                "callback instance", "called outside a callback, with a pointer that was "
                "never an instance");
}

static void misuse_work_waits_in_own_callback_stops(void **state)
{
    (void)state;
    expect_stop("work-waits-in-own-callback", "WaitForThreadpoolWorkCallbacks", "work",
                OWN_CALLBACK);
}

static void misuse_timer_waits_in_own_callback_stops(void **state)
{
    (void)state;
    expect_stop("timer-waits-in-own-callback", "WaitForThreadpoolTimerCallbacks", "timer",
                OWN_CALLBACK);
}

static void misuse_group_released_in_member_callback_stops(void **state)
{
    (void)state;
    expect_stop("group-released-in-member-callback", "CloseThreadpoolCleanupGroupMembers",
                "cleanup group", "called from a callback of one of its members");
}

/* The sanitizer builds check without being asked. */
static void misuse_sanitizer_builds_check_by_default(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    expect_stop_with("", "work-close-twice", "CloseThreadpoolWork", "work", CLOSED_TWICE);
#else
    skip();
#endif
}

/* The legal paths next to the misuses end normally with the mode on ... */
static void misuse_legal_paths_checked_run(void **state)
{
    (void)state;
    expect_legal("1");
}

/* ... with it off ... */
static void misuse_legal_paths_unchecked_run(void **state)
{
    (void)state;
    expect_legal("0");
}

/* ... and in this process, as it was started. */
static void misuse_legal_paths_in_process_run(void **state)
{
    (void)state;
    assert_int_equal(child_legal(), CHILD_LEGAL_EXIT);
}

#ifdef __MINGW32__
/* An unhandled exception ends the child with its code (no debugger). */
static LONG WINAPI child_filter(EXCEPTION_POINTERS *info)
{
    (void)info;
    return EXCEPTION_EXECUTE_HANDLER;
}
#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(misuse_work_close_twice_stops),
        cmocka_unit_test(misuse_work_submit_after_close_stops),
        cmocka_unit_test(misuse_work_wait_after_close_stops),
        cmocka_unit_test(misuse_timer_close_twice_stops),
        cmocka_unit_test(misuse_timer_set_after_close_stops),
        cmocka_unit_test(misuse_wait_close_twice_stops),
        cmocka_unit_test(misuse_wait_set_after_close_stops),
        cmocka_unit_test(misuse_io_close_twice_stops),
        cmocka_unit_test(misuse_io_start_after_close_stops),
        cmocka_unit_test(misuse_pool_close_twice_stops),
        cmocka_unit_test(misuse_pool_use_after_close_stops),
        cmocka_unit_test(misuse_pool_close_default_stops),
        cmocka_unit_test(misuse_group_close_twice_stops),
        cmocka_unit_test(misuse_group_members_after_close_stops),
        cmocka_unit_test(misuse_member_closed_after_group_release_stops),
        cmocka_unit_test(misuse_work_created_in_closed_pool_stops),
        cmocka_unit_test(misuse_timer_created_with_closed_group_stops),
        cmocka_unit_test(misuse_timer_passed_as_work_stops),
        cmocka_unit_test(misuse_pool_passed_as_group_stops),
        cmocka_unit_test(misuse_stack_address_as_work_stops),
        cmocka_unit_test(misuse_heap_block_as_timer_stops),
        cmocka_unit_test(misuse_work_freed_long_ago_stops),
        cmocka_unit_test(misuse_instance_after_return_stops),
        cmocka_unit_test(misuse_instance_of_other_callback_stops),
        cmocka_unit_test(misuse_instance_foreign_pointer_stops),
        cmocka_unit_test(misuse_work_waits_in_own_callback_stops),
        cmocka_unit_test(misuse_timer_waits_in_own_callback_stops),
        cmocka_unit_test(misuse_group_released_in_member_callback_stops),
        cmocka_unit_test(misuse_sanitizer_builds_check_by_default),
        cmocka_unit_test(misuse_legal_paths_checked_run),
        cmocka_unit_test(misuse_legal_paths_unchecked_run),
        cmocka_unit_test(misuse_legal_paths_in_process_run),
    };

    if (argc == 3 && !strcmp(argv[1], "--misuse")) {
#ifdef __MINGW32__
        SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        SetUnhandledExceptionFilter(child_filter);
#endif
        return child_misuse(argv[2]);
    }
    if (argc == 3 && !strcmp(argv[1], "--legal"))
        return child_legal();
    GetModuleFileNameA(NULL, self_path, sizeof(self_path));
    return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32_tp_inject.exe [--dll PATH\kernel32_tp.dll] PROGRAM.exe [ARGS...]
 *
 * Runs an unmodified Windows program on kernel32_tp's thread pool
 * (docs/inject.md).  Starts it suspended, queues two APCs to its first
 * thread, LoadLibraryW(our DLL) and then SetEvent(done), and resumes it.
 * The thread runs them once the process is initialised (its static DLLs
 * attached) and before the program's entry point.  KERNEL32_TP_INJECT in
 * the environment tells the DLL to redirect the thread-pool names while it
 * attaches; it then sets a named event.  If the done event comes without
 * the DLL's, the DLL did not load: the program is stopped before its entry
 * point runs and the launcher fails.  Otherwise it waits for the program
 * and exits with its exit code.
 *
 * The DLL defaults to kernel32_tp.dll next to this launcher.  Exit codes of
 * its own: 125 bad usage, 126 the program did not start, 127 injection
 * failed.
 */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

#define INJECT_ENV L"KERNEL32_TP_INJECT"
#define INJECT_READY_EVENT L"Local\\kernel32_tp_inject.%lu"     /* the process id */

static void usage(void)
{
    fwprintf(stderr, L"usage: kernel32_tp_inject [--dll PATH\\kernel32_tp.dll] "
                     L"PROGRAM.exe [ARGS...]\n");
    exit(125);
}

static void fail(int code, const wchar_t *what, DWORD err)
{
    fwprintf(stderr, L"kernel32_tp_inject: %ls (error %lu)\n", what, err);
    exit(code);
}

/* Appends arg to cmd quoted as CommandLineToArgvW reads it back. */
static wchar_t *quote_append(wchar_t *cmd, const wchar_t *arg)
{
    size_t backslashes;

    if (*arg && !wcspbrk(arg, L" \t\n\v\"")) {
        wcscpy(cmd, arg);
        return cmd + wcslen(arg);
    }
    *cmd++ = L'"';
    for (;; arg++) {
        backslashes = 0;
        while (*arg == L'\\') {
            arg++;
            backslashes++;
        }
        if (!*arg) {
            /* Doubled before the closing quote, so that it stays a quote. */
            while (backslashes--) { *cmd++ = L'\\'; *cmd++ = L'\\'; }
            break;
        }
        if (*arg == L'"') {
            while (backslashes--) { *cmd++ = L'\\'; *cmd++ = L'\\'; }
            *cmd++ = L'\\';
        } else {
            while (backslashes--)
                *cmd++ = L'\\';
        }
        *cmd++ = *arg;
    }
    *cmd++ = L'"';
    return cmd;
}

static wchar_t *command_line(int argc, wchar_t **argv)
{
    size_t size = 1;
    wchar_t *cmd, *end;
    int i;

    for (i = 0; i < argc; i++)
        size += 2 * wcslen(argv[i]) + 3;
    if (!(cmd = malloc(size * sizeof(*cmd))))
        fail(126, L"out of memory", ERROR_NOT_ENOUGH_MEMORY);
    for (i = 0, end = cmd; i < argc; i++) {
        if (i)
            *end++ = L' ';
        end = quote_append(end, argv[i]);
    }
    *end = 0;
    return cmd;
}

/* kernel32_tp.dll next to this program. */
static void default_dll(wchar_t *path, DWORD size)
{
    wchar_t *slash;
    DWORD len = GetModuleFileNameW(NULL, path, size);

    if (!len || len >= size)
        fail(125, L"cannot find the launcher's folder", GetLastError());
    slash = wcsrchr(path, L'\\');
    slash = slash ? slash + 1 : path;
    if ((size_t)(slash - path) + wcslen(L"kernel32_tp.dll") + 1 > size)
        fail(125, L"path too long", ERROR_FILENAME_EXCED_RANGE);
    wcscpy(slash, L"kernel32_tp.dll");
}

int wmain(int argc, wchar_t **argv)
{
    wchar_t dll_arg[MAX_PATH], dll[MAX_PATH], ready_name[64], *cmd;
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    HANDLE ready, done, remote_done, waits[2];
    void *remote_path;
    SIZE_T path_size;
    DWORD status, exit_code;
    int first = 1;

    if (argc > 1 && !wcscmp(argv[1], L"--dll")) {
        if (argc < 3)
            usage();
        wcsncpy(dll_arg, argv[2], MAX_PATH - 1);
        dll_arg[MAX_PATH - 1] = 0;
        first = 3;
    } else {
        default_dll(dll_arg, MAX_PATH);
    }
    if (first >= argc || argv[first][0] == L'-')
        usage();
    /* The program may change its folder before the APC runs: a full path. */
    if (!GetFullPathNameW(dll_arg, MAX_PATH, dll, NULL))
        fail(125, L"bad DLL path", GetLastError());
    if (GetFileAttributesW(dll) == INVALID_FILE_ATTRIBUTES) {
        fwprintf(stderr, L"kernel32_tp_inject: %ls: no such DLL\n", dll);
        return 125;
    }
    cmd = command_line(argc - first, argv + first);

    if (!SetEnvironmentVariableW(INJECT_ENV, L"1"))
        fail(126, L"cannot set " INJECT_ENV, GetLastError());
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi)) {
        fwprintf(stderr, L"kernel32_tp_inject: cannot start %ls (error %lu)\n", argv[first],
                 GetLastError());
        return 126;
    }
    SetEnvironmentVariableW(INJECT_ENV, NULL);

    swprintf(ready_name, sizeof(ready_name) / sizeof(*ready_name), INJECT_READY_EVENT,
             pi.dwProcessId);
    if (!(ready = CreateEventW(NULL, TRUE, FALSE, ready_name)) ||
        !(done = CreateEventW(NULL, TRUE, FALSE, NULL)) ||
        !DuplicateHandle(GetCurrentProcess(), done, pi.hProcess, &remote_done,
                         EVENT_MODIFY_STATE, FALSE, 0))
        goto fail_kill;
    path_size = (wcslen(dll) + 1) * sizeof(*dll);
    if (!(remote_path = VirtualAllocEx(pi.hProcess, NULL, path_size, MEM_COMMIT | MEM_RESERVE,
                                       PAGE_READWRITE)) ||
        !WriteProcessMemory(pi.hProcess, remote_path, dll, path_size, NULL))
        goto fail_kill;
    /*
     * kernel32 is mapped at the same address in every process of a session,
     * so our LoadLibraryW and SetEvent are the program's.  Both take one
     * pointer-sized argument, as an APC routine does; their results are
     * dropped.
     */
    if (!QueueUserAPC((PAPCFUNC)(void (*)(void))LoadLibraryW, pi.hThread, (ULONG_PTR)remote_path) ||
        !QueueUserAPC((PAPCFUNC)(void (*)(void))SetEvent, pi.hThread, (ULONG_PTR)remote_done))
        goto fail_kill;
    if (ResumeThread(pi.hThread) == (DWORD)-1)
        goto fail_kill;

    waits[0] = done;
    waits[1] = pi.hProcess;
    status = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    if (status == WAIT_OBJECT_0 && WaitForSingleObject(ready, 0) != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 127);
        fwprintf(stderr, L"kernel32_tp_inject: %ls did not load into %ls\n", dll, argv[first]);
        return 127;
    }
    if (status == WAIT_OBJECT_0 + 1 && WaitForSingleObject(ready, 0) != WAIT_OBJECT_0) {
        GetExitCodeProcess(pi.hProcess, &exit_code);
        fwprintf(stderr, L"kernel32_tp_inject: %ls ended (exit code %lu) before %ls loaded\n",
                 argv[first], exit_code, dll);
        return 127;
    }
    WaitForSingleObject(pi.hProcess, INFINITE);
    if (!GetExitCodeProcess(pi.hProcess, &exit_code))
        fail(126, L"no exit code", GetLastError());
    return (int)exit_code;

fail_kill:
    status = GetLastError();
    TerminateProcess(pi.hProcess, 127);
    fail(127, L"cannot inject the DLL", status);
    return 127;
}

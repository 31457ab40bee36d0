/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32_tp_start.exe: starts a Windows program under Wine with the
 * generated override pair (docs/wine-dropin.md), then waits for it and
 * exits with its exit code.  Run by kernel32_tp-wine, not by hand:
 *
 *   KERNEL32_TP_WINE_DLLPATH=/unix/dir[:/unix/dir...]
 *   WINEDLLOVERRIDES=kernel32,kernelbase=n,b[;...]
 *   wine kernel32_tp_start.exe /unix/path/PROGRAM.exe [ARGS...]
 *
 * Why a process of its own: a native kernel32.dll is only found in the
 * program's folder or in the prefix's system32, which must both stay as
 * they are.  The one other place Wine's loader takes the search path for
 * a process's first DLLs from is the DllPath of its process parameters,
 * which CreateProcess always leaves empty; RtlCreateUserProcess takes it.
 * The child gets the pair's directories first, then the search order Wine
 * would have used, and everything else as CreateProcess would give it:
 * this process's environment (less KERNEL32_TP_WINE_DLLPATH), current
 * directory, console and standard handles (inherited), and the command
 * line exactly as `wine PROGRAM.exe ARGS...` would have built it.
 *
 * This file owns no thread-pool code and is not part of the DLL.
 */
#include <windows.h>
#include <winternl.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

/* The head of RTL_USER_PROCESS_PARAMETERS (mingw-w64 keeps it opaque). */
struct process_params_head {
    ULONG allocation_size;
    ULONG size;
    ULONG flags;
    ULONG debug_flags;
    HANDLE console;
    ULONG console_flags;
    HANDLE std_input;
    HANDLE std_output;
    HANDLE std_error;
};

struct process_info {            /* RTL_USER_PROCESS_INFORMATION */
    ULONG length;
    HANDLE process;
    HANDLE thread;
    CLIENT_ID client_id;
    BYTE image_info[64];         /* SECTION_IMAGE_INFORMATION, unused */
};

#define PARAMS_NORMALIZED 1      /* PROCESS_PARAMS_FLAG_NORMALIZED */

typedef NTSTATUS (NTAPI *create_params_fn)(void **params, UNICODE_STRING *image,
    UNICODE_STRING *dll_path, UNICODE_STRING *cur_dir, UNICODE_STRING *cmdline, void *env,
    UNICODE_STRING *title, UNICODE_STRING *desktop, UNICODE_STRING *shell,
    UNICODE_STRING *runtime, ULONG flags);
typedef NTSTATUS (NTAPI *create_process_fn)(UNICODE_STRING *image, ULONG attributes,
    void *params, void *process_sd, void *thread_sd, HANDLE parent, BOOLEAN inherit,
    HANDLE debug, HANDLE token, struct process_info *info);
typedef BOOLEAN (NTAPI *dos_to_nt_fn)(const WCHAR *dos, UNICODE_STRING *nt, WCHAR **part,
    void *relative);
typedef NTSTATUS (NTAPI *resume_fn)(HANDLE thread, ULONG *count);
typedef WCHAR *(CDECL *dos_name_fn)(const char *unix_name);

static void fail(const char *what)
{
    fprintf(stderr, "kernel32_tp-wine: %s\n", what);
    exit(126);
}

/* Skips one argument of a Windows command line (CommandLineToArgvW's rules
 * for the first one: quotes group, nothing is unescaped). */
static const WCHAR *skip_argv0(const WCHAR *p)
{
    if (*p == L'"') {
        p++;
        while (*p && *p != L'"')
            p++;
        if (*p)
            p++;
    } else {
        while (*p && *p != L' ' && *p != L'\t')
            p++;
    }
    while (*p == L' ' || *p == L'\t')
        p++;
    return p;
}

/* Reads one later argument (quotes and backslashes as in CommandLineToArgvW)
 * into out; returns where the next argument starts. */
static const WCHAR *read_arg(const WCHAR *p, WCHAR *out, size_t out_len)
{
    size_t n = 0, i;
    int quoted = 0;

    while (*p && (quoted || (*p != L' ' && *p != L'\t'))) {
        size_t slashes = 0;

        while (*p == L'\\') {
            slashes++;
            p++;
        }
        if (*p == L'"') {
            for (i = 0; i < slashes / 2 && n + 1 < out_len; i++)
                out[n++] = L'\\';
            if (slashes % 2) {
                if (n + 1 < out_len)
                    out[n++] = L'"';
            } else if (quoted && p[1] == L'"') {
                if (n + 1 < out_len)
                    out[n++] = L'"';
                p++;
            } else {
                quoted = !quoted;
            }
            p++;
            continue;
        }
        for (i = 0; i < slashes && n + 1 < out_len; i++)
            out[n++] = L'\\';
        if (*p && (quoted || (*p != L' ' && *p != L'\t'))) {
            if (n + 1 < out_len)
                out[n++] = *p;
            p++;
        }
    }
    out[n] = 0;
    while (*p == L' ' || *p == L'\t')
        p++;
    return p;
}

/* Wine's code page of Unix names (CP_UNIXCP in Wine's headers): the one it
 * decoded our argv from, so the one that gives back the bytes of the path. */
#define WINE_CP_UNIXCP 65010

/* A Unix path, as Wine passed it in our command line, as a DOS path. */
static WCHAR *dos_path(dos_name_fn to_dos, const WCHAR *unix_w)
{
    char unix_name[4 * MAX_PATH];

    if (!WideCharToMultiByte(WINE_CP_UNIXCP, 0, unix_w, -1, unix_name, sizeof(unix_name),
                             NULL, NULL) &&
        !WideCharToMultiByte(CP_UTF8, 0, unix_w, -1, unix_name, sizeof(unix_name), NULL, NULL))
        return NULL;
    return to_dos(unix_name);
}

int main(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
    create_params_fn create_params;
    create_process_fn create_process;
    dos_to_nt_fn dos_to_nt;
    resume_fn resume;
    dos_name_fn to_dos;
    const WCHAR *rest, *args;
    WCHAR program[4 * MAX_PATH], *program_dos, *cmdline, *dll_path, *p, *dir, *next;
    WCHAR list[8 * MAX_PATH], sysdir[MAX_PATH], windir[MAX_PATH];
    UNICODE_STRING image, dll_path_us, cmdline_us, image_nt;
    struct process_params_head *params = NULL, *mine;
    struct process_info info;
    PROCESS_BASIC_INFORMATION basic;
    DWORD code = 1;
    size_t len;
    NTSTATUS status;

    create_params = (create_params_fn)(void *)GetProcAddress(ntdll, "RtlCreateProcessParametersEx");
    create_process = (create_process_fn)(void *)GetProcAddress(ntdll, "RtlCreateUserProcess");
    dos_to_nt = (dos_to_nt_fn)(void *)GetProcAddress(ntdll, "RtlDosPathNameToNtPathName_U");
    resume = (resume_fn)(void *)GetProcAddress(ntdll, "NtResumeThread");
    to_dos = (dos_name_fn)(void *)GetProcAddress(kernel32, "wine_get_dos_file_name");
    if (!create_params || !create_process || !dos_to_nt || !resume || !to_dos)
        fail("this Wine lacks RtlCreateUserProcess or wine_get_dos_file_name");

    /* The program: an absolute Unix path, the first argument. */
    rest = skip_argv0(GetCommandLineW());
    args = read_arg(rest, program, ARRAYSIZE(program));
    if (!program[0])
        fail("usage: kernel32_tp_start.exe /unix/path/PROGRAM.exe [ARGS...]");
    if (!(program_dos = dos_path(to_dos, program)))
        fail("the program's path has no DOS name in this prefix");

    /* The command line `wine PROGRAM.exe ARGS` gives: the quoted DOS path,
     * then the arguments as they were. */
    len = wcslen(program_dos) + wcslen(args) + 4;
    if (!(cmdline = malloc(len * sizeof(WCHAR))))
        fail("out of memory");
    swprintf(cmdline, len, *args ? L"\"%ls\" %ls" : L"\"%ls\"", program_dos, args);

    /* DllPath: the pair's directories, then Wine's own order (the
     * program's folder, system32, system, the Windows folder, PATH). */
    if (!GetEnvironmentVariableW(L"KERNEL32_TP_WINE_DLLPATH", list, ARRAYSIZE(list)))
        fail("KERNEL32_TP_WINE_DLLPATH is not set (run kernel32_tp-wine)");
    /* The program's environment is ours less this variable: it has done
     * its work, and only WINEDLLOVERRIDES (which the program's own loader
     * reads) keeps our entry. */
    SetEnvironmentVariableW(L"KERNEL32_TP_WINE_DLLPATH", NULL);
    GetSystemDirectoryW(sysdir, ARRAYSIZE(sysdir));
    GetWindowsDirectoryW(windir, ARRAYSIZE(windir));
    len = 16 * MAX_PATH + 32767;
    if (!(dll_path = malloc(len * sizeof(WCHAR))))
        fail("out of memory");
    dll_path[0] = 0;
    for (dir = list; dir && *dir; dir = next) {
        WCHAR *dos;

        if ((next = wcschr(dir, L':')))
            *next++ = 0;
        if (!(dos = dos_path(to_dos, dir)))
            fail("a directory of KERNEL32_TP_WINE_DLLPATH has no DOS name");
        wcscat(dll_path, dos);
        wcscat(dll_path, L";");
        HeapFree(GetProcessHeap(), 0, dos);
    }
    wcscat(dll_path, program_dos);
    if ((p = wcsrchr(dll_path, L'\\')))
        *p = 0;
    swprintf(dll_path + wcslen(dll_path), len - wcslen(dll_path), L";%ls;%ls\\system;%ls;",
             sysdir, windir, windir);
    GetEnvironmentVariableW(L"PATH", dll_path + wcslen(dll_path),
                            (DWORD)(len - wcslen(dll_path)));

    RtlInitUnicodeString(&image, program_dos);
    RtlInitUnicodeString(&dll_path_us, dll_path);
    RtlInitUnicodeString(&cmdline_us, cmdline);
    /* NULL environment and directory: this process's. */
    status = create_params((void **)&params, &image, &dll_path_us, NULL, &cmdline_us, NULL,
                           &image, NULL, NULL, NULL, PARAMS_NORMALIZED);
    if (status)
        fail("RtlCreateProcessParametersEx failed");

    /* As CreateProcess without flags: this process's console and its
     * standard handles, which the child inherits. */
    if (NtQueryInformationProcess(GetCurrentProcess(), ProcessBasicInformation, &basic,
                                  sizeof(basic), NULL))
        fail("cannot read this process's parameters");
    mine = (struct process_params_head *)basic.PebBaseAddress->ProcessParameters;
    params->console = mine->console;
    params->std_input = mine->std_input;
    params->std_output = mine->std_output;
    params->std_error = mine->std_error;

    if (!dos_to_nt(program_dos, &image_nt, NULL, NULL))
        fail("the program's path is not a valid DOS path");
    memset(&info, 0, sizeof(info));
    info.length = sizeof(info);
    status = create_process(&image_nt, OBJ_CASE_INSENSITIVE, params, NULL, NULL, NULL, TRUE,
                            NULL, NULL, &info);
    if (status) {
        fprintf(stderr, "kernel32_tp-wine: cannot start %ls (status 0x%08lx)\n", program_dos,
                (unsigned long)status);
        return 126;
    }
    resume(info.thread, NULL);
    CloseHandle(info.thread);
    WaitForSingleObject(info.process, INFINITE);
    GetExitCodeProcess(info.process, &code);
    CloseHandle(info.process);
    return (int)code;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the process.  ExitProcess, GetExitCodeProcess,
 * GetProcessId, the command line (GetCommandLineA/W), the environment
 * (GetEnvironmentVariableA/W), the error mode (SetErrorMode) and the
 * unhandled-exception filter (SetUnhandledExceptionFilter), which is
 * mapped onto the signals that Linux raises where Windows raises an
 * exception, and the exceptions this layer raises itself
 * (handle_raise_exception).
 *
 * There is one process (this one): a process handle is GetCurrentProcess()
 * or a duplicate of it (handle_table.c).  The command line is rebuilt once
 * from /proc/self/cmdline, each argument quoted as CommandLineToArgvW and
 * the C runtime parse it back.  The environment is read with getenv; this
 * layer never changes it.  Locks: the command line's pthread_once;
 * filter_lock around installing and removing the signal handlers; the
 * filter and the error mode are atomics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "handle.h"

/* ---- exit, exit code, id ------------------------------------------------- */

/***********************************************************************
 *           ExitProcess   (kernel32_tp.@)
 *
 * exit(code): atexit handlers and stdio buffers run, as DLL detach and the
 * CRT's do on Windows.  Linux keeps only the low 8 bits of the code.
 */
VOID WINAPI ExitProcess(UINT code)
{
    HANDLE_TRACE("%u", code);
    exit((int)code);
}

/* This process's object behind handle: ERROR_INVALID_HANDLE otherwise. */
static DWORD process_check(HANDLE handle)
{
    struct handle_object *obj;
    DWORD err;

    if ((err = handle_lookup(handle, HANDLE_TYPE_PROCESS, &obj)) == ERROR_SUCCESS)
        handle_object_unref(obj);
    return err;
}

/***********************************************************************
 *           GetExitCodeProcess   (kernel32_tp.@)
 *
 * The only process a handle can name is this one, which is running.
 */
BOOL WINAPI GetExitCodeProcess(HANDLE handle, LPDWORD code)
{
    DWORD err;

    HANDLE_TRACE("%p %p", handle, (void *)code);
    if ((err = process_check(handle)) == ERROR_SUCCESS && !code)
        err = ERROR_NOACCESS;
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    *code = STILL_ACTIVE;
    return TRUE;
}

/***********************************************************************
 *           GetProcessId   (kernel32_tp.@)
 */
DWORD WINAPI GetProcessId(HANDLE handle)
{
    DWORD err;

    HANDLE_TRACE("%p", handle);
    if ((err = process_check(handle)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    return (DWORD)getpid();
}

/* ---- the command line ------------------------------------------------------- */

static pthread_once_t command_line_once = PTHREAD_ONCE_INIT;
static char *command_line_a;        /* (c) after command_line_once; UTF-8 */
static WCHAR *command_line_w;       /* (c) after command_line_once */

/* Appends arg to out (room checked by the caller: 2 * len + 3 bytes),
 * quoted when it needs to be: backslashes are doubled only before a quote. */
static size_t command_line_quote(const char *arg, char *out)
{
    size_t n = 0, slashes = 0;
    BOOL quote = !*arg || strpbrk(arg, " \t\"") != NULL;

    if (quote)
        out[n++] = '"';
    for (; *arg; arg++) {
        if (*arg == '\\') {
            slashes++;
        } else {
            if (*arg == '"') {
                while (slashes--)
                    out[n++] = '\\';
                out[n++] = '\\';
            }
            slashes = 0;
        }
        out[n++] = *arg;
    }
    if (quote) {
        while (slashes--)
            out[n++] = '\\';
        out[n++] = '"';
    }
    return n;
}

static char *command_line_read(size_t *size)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap), *grown;
    ssize_t n;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || !buf) {
        if (fd >= 0)
            close(fd);
        free(buf);
        return NULL;
    }
    while ((n = read(fd, buf + len, cap - len)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0 && (len += (size_t)n) == cap) {
            if (!(grown = realloc(buf, cap * 2)))
                break;
            buf = grown;
            cap *= 2;
        }
    }
    close(fd);
    *size = len;
    return buf;
}

static void command_line_build(void)
{
    size_t size = 0, i, len = 0, wlen;
    char *args = command_line_read(&size), *line;

    if (!args || !(line = malloc(2 * size + 3 * (size + 1) + 1))) {
        free(args);
        return;
    }
    for (i = 0; i < size; i += strlen(args + i) + 1) {
        if (len)
            line[len++] = ' ';
        len += command_line_quote(args + i, line + len);
    }
    line[len] = 0;
    free(args);
    command_line_a = line;
    wlen = handle_utf8_to_utf16(line, len + 1, NULL, 0, NULL);
    if ((command_line_w = malloc(wlen * sizeof(WCHAR))))
        handle_utf8_to_utf16(line, len + 1, command_line_w, wlen, NULL);
}

/***********************************************************************
 *           GetCommandLineA   (kernel32_tp.@)
 *
 * The same pointer every time; arguments with spaces, tabs or quotes are
 * quoted.
 */
LPSTR WINAPI GetCommandLineA(void)
{
    static char empty[1];

    HANDLE_TRACE("%s", "()");
    pthread_once(&command_line_once, command_line_build);
    return command_line_a ? command_line_a : empty;
}

/***********************************************************************
 *           GetCommandLineW   (kernel32_tp.@)
 */
LPWSTR WINAPI GetCommandLineW(void)
{
    static WCHAR empty[1];

    HANDLE_TRACE("%s", "()");
    pthread_once(&command_line_once, command_line_build);
    return command_line_w ? command_line_w : empty;
}

/* ---- the environment ------------------------------------------------------ */

/* getenv for a Windows name: NULL with ERROR_ENVVAR_NOT_FOUND when unset;
 * a name containing '=' (after its first character) is never set. */
static const char *env_lookup(const char *name, DWORD *err)
{
    const char *value = NULL;

    if (!name)
        *err = ERROR_INVALID_PARAMETER;
    else if (!*name || strchr(name + 1, '=') || !(value = getenv(name)))
        *err = ERROR_ENVVAR_NOT_FOUND;
    else
        *err = ERROR_SUCCESS;
    return value;
}

/***********************************************************************
 *           GetEnvironmentVariableA   (kernel32_tp.@)
 *
 * The value's length when it fits in size (with its terminator), else the
 * size needed; 0 with ERROR_ENVVAR_NOT_FOUND when unset.  The value is the
 * bytes of the Linux environment (UTF-8; Windows: the ANSI code page).
 */
DWORD WINAPI GetEnvironmentVariableA(LPCSTR name, LPSTR buffer, DWORD size)
{
    const char *value;
    size_t len;
    DWORD err;

    HANDLE_TRACE("%s %p %u", name ? name : "(null)", (void *)buffer, (unsigned int)size);
    if (!(value = env_lookup(name, &err))) {
        os_set_last_error(err);
        return 0;
    }
    len = strlen(value);
    if (len >= size || !buffer)
        return (DWORD)len + 1;
    memcpy(buffer, value, len + 1);
    return (DWORD)len;
}

/***********************************************************************
 *           GetEnvironmentVariableW   (kernel32_tp.@)
 *
 * As the A call, in UTF-16 units; the environment's UTF-8 is converted.
 */
DWORD WINAPI GetEnvironmentVariableW(LPCWSTR name, LPWSTR buffer, DWORD size)
{
    const char *value;
    char *utf8;
    size_t len;
    DWORD err;

    HANDLE_TRACE("%p %p %u", (const void *)name, (void *)buffer, (unsigned int)size);
    if ((err = handle_utf8_from_utf16(name, &utf8)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    value = env_lookup(utf8, &err);
    free(utf8);
    if (!value) {
        os_set_last_error(err);
        return 0;
    }
    /* Invalid UTF-8 in the environment becomes U+FFFD. */
    len = handle_utf8_to_utf16(value, strlen(value), NULL, 0, NULL);
    if (len >= size || !buffer)
        return (DWORD)len + 1;
    handle_utf8_to_utf16(value, strlen(value), buffer, len, NULL);
    buffer[len] = 0;
    return (DWORD)len;
}

/* ---- error mode ------------------------------------------------------------ */

static _Atomic UINT error_mode;     /* (a) */

/***********************************************************************
 *           SetErrorMode   (kernel32_tp.@)
 *
 * Returns the previous mode.  The mode chooses which errors Windows shows
 * in a dialog box; Linux shows none, so every mode behaves as
 * SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX.
 */
UINT WINAPI SetErrorMode(UINT mode)
{
    HANDLE_TRACE("%#x", mode);
    return atomic_exchange_explicit(&error_mode, mode, memory_order_acq_rel);
}

/* ---- the unhandled-exception filter --------------------------------------- */

/* The signals Linux raises where Windows raises a hardware exception. */
static const int filter_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
#define FILTER_SIGNAL_COUNT (sizeof(filter_signals) / sizeof(filter_signals[0]))

static _Atomic LPTOP_LEVEL_EXCEPTION_FILTER filter;     /* (a) NULL: none */
static struct os_lock filter_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_U);    /* U */
static BOOL filter_installed;                               /* (filter_lock) */
static struct sigaction filter_saved[FILTER_SIGNAL_COUNT];  /* (filter_lock) */

/* The Windows exception code for a signal and its si_code. */
static DWORD filter_exception_code(const siginfo_t *info)
{
    switch (info->si_signo) {
    case SIGSEGV:
        return EXCEPTION_ACCESS_VIOLATION;
    case SIGBUS:
        return info->si_code == BUS_ADRALN ? EXCEPTION_DATATYPE_MISALIGNMENT
                                           : EXCEPTION_IN_PAGE_ERROR;
    case SIGILL:
        return info->si_code == ILL_PRVOPC ? EXCEPTION_PRIV_INSTRUCTION
                                           : EXCEPTION_ILLEGAL_INSTRUCTION;
    case SIGFPE:
        switch (info->si_code) {
        case FPE_INTDIV: return EXCEPTION_INT_DIVIDE_BY_ZERO;
        case FPE_INTOVF: return EXCEPTION_INT_OVERFLOW;
        case FPE_FLTDIV: return EXCEPTION_FLT_DIVIDE_BY_ZERO;
        case FPE_FLTOVF: return EXCEPTION_FLT_OVERFLOW;
        case FPE_FLTUND: return EXCEPTION_FLT_UNDERFLOW;
        case FPE_FLTRES: return EXCEPTION_FLT_INEXACT_RESULT;
        case FPE_FLTSUB: return EXCEPTION_ARRAY_BOUNDS_EXCEEDED;
        default: return EXCEPTION_FLT_INVALID_OPERATION;
        }
    default:
        return EXCEPTION_NONCONTINUABLE_EXCEPTION;
    }
}

/* The registers the filter may read, from the signal's context. */
static void filter_fill_context(CONTEXT *context, const ucontext_t *uc, void **address)
{
    memset(context, 0, sizeof(*context));
    *address = NULL;
#if defined(__x86_64__)
    context->ContextFlags = CONTEXT_CONTROL | CONTEXT_INTEGER;
    context->Rip = (DWORD64)uc->uc_mcontext.gregs[REG_RIP];
    context->Rsp = (DWORD64)uc->uc_mcontext.gregs[REG_RSP];
    context->Rbp = (DWORD64)uc->uc_mcontext.gregs[REG_RBP];
    context->Rax = (DWORD64)uc->uc_mcontext.gregs[REG_RAX];
    context->Rbx = (DWORD64)uc->uc_mcontext.gregs[REG_RBX];
    context->Rcx = (DWORD64)uc->uc_mcontext.gregs[REG_RCX];
    context->Rdx = (DWORD64)uc->uc_mcontext.gregs[REG_RDX];
    context->Rsi = (DWORD64)uc->uc_mcontext.gregs[REG_RSI];
    context->Rdi = (DWORD64)uc->uc_mcontext.gregs[REG_RDI];
    context->EFlags = (DWORD)uc->uc_mcontext.gregs[REG_EFL];
    *address = (void *)context->Rip;
#else
    (void)uc;
#endif
}

/*
 * A fault in some thread: the filter decides, as Windows' top-level
 * handler lets it.  EXCEPTION_EXECUTE_HANDLER ends the process with the
 * exception code as its exit status; EXCEPTION_CONTINUE_EXECUTION returns
 * to the faulting instruction (changes the filter makes to the CONTEXT are
 * not applied); EXCEPTION_CONTINUE_SEARCH gives the fault to the signal's
 * previous handler, by default its default action (the process dies of it,
 * with a core dump where enabled).
 */
static void filter_signal_handler(int signo, siginfo_t *info, void *ucontext)
{
    LPTOP_LEVEL_EXCEPTION_FILTER fn = atomic_load_explicit(&filter, memory_order_acquire);
    EXCEPTION_RECORD record;
    EXCEPTION_POINTERS pointers;
    CONTEXT context;
    LONG action = EXCEPTION_CONTINUE_SEARCH;

    memset(&record, 0, sizeof(record));
    record.ExceptionCode = filter_exception_code(info);
    filter_fill_context(&context, ucontext, &record.ExceptionAddress);
    if (signo == SIGSEGV) {
        /* Windows tells reads (0) from writes (1); Linux does not. */
        record.NumberParameters = 2;
        record.ExceptionInformation[0] = 0;
        record.ExceptionInformation[1] = (ULONG_PTR)info->si_addr;
    }
    pointers.ExceptionRecord = &record;
    pointers.ContextRecord = &context;
    if (fn)
        action = fn(&pointers);
    if (action == EXCEPTION_EXECUTE_HANDLER)
        _exit((int)record.ExceptionCode);
    if (action == EXCEPTION_CONTINUE_EXECUTION)
        return;
    /* The fault repeats, now for the handler there was before (by default
     * fatal).  No lock: sigaction is async-signal-safe, filter_saved is not
     * written while a filter is installed. */
    for (size_t i = 0; i < FILTER_SIGNAL_COUNT; i++) {
        if (filter_signals[i] == signo)
            sigaction(signo, &filter_saved[i], NULL);
    }
}

void handle_raise_exception(DWORD code)
{
    LPTOP_LEVEL_EXCEPTION_FILTER fn = atomic_load_explicit(&filter, memory_order_acquire);
    EXCEPTION_RECORD record;
    EXCEPTION_POINTERS pointers;
    CONTEXT context;

    memset(&record, 0, sizeof(record));
    memset(&context, 0, sizeof(context));
    record.ExceptionCode = code;
    record.ExceptionFlags = EXCEPTION_NONCONTINUABLE;
    record.ExceptionAddress = __builtin_return_address(0);
    pointers.ExceptionRecord = &record;
    pointers.ContextRecord = &context;
    /* Whatever the filter says: the exception cannot be continued, and
     * nothing else can handle it, so the process ends with the code. */
    if (fn)
        fn(&pointers);
    _exit((int)code);
}

/* Installs or removes the handlers.  Locking: filter_lock. */
static void filter_install_locked(BOOL install)
{
    struct sigaction action;
    size_t i;

    if (install == filter_installed)
        return;
    for (i = 0; i < FILTER_SIGNAL_COUNT; i++) {
        if (install) {
            memset(&action, 0, sizeof(action));
            action.sa_sigaction = filter_signal_handler;
            /* The signal stays blocked while the filter runs: a fault in
             * the filter itself kills the process instead of recursing. */
            action.sa_flags = SA_SIGINFO;
            sigemptyset(&action.sa_mask);
            sigaction(filter_signals[i], &action, &filter_saved[i]);
        } else {
            sigaction(filter_signals[i], &filter_saved[i], NULL);
        }
    }
    filter_installed = install;
}

/***********************************************************************
 *           SetUnhandledExceptionFilter   (kernel32_tp.@)
 *
 * Returns the previous filter.  A filter is called for SIGSEGV, SIGBUS,
 * SIGILL and SIGFPE, with the matching exception code (see docs/handles.md);
 * NULL restores the signal handlers there were before.
 */
LPTOP_LEVEL_EXCEPTION_FILTER WINAPI SetUnhandledExceptionFilter(
    LPTOP_LEVEL_EXCEPTION_FILTER new_filter)
{
    LPTOP_LEVEL_EXCEPTION_FILTER old;

    HANDLE_TRACE("%p", (void *)new_filter);
    os_lock_acquire(&filter_lock);
    old = atomic_exchange_explicit(&filter, new_filter, memory_order_acq_rel);
    filter_install_locked(new_filter != NULL);
    os_lock_release(&filter_lock);
    return old;
}

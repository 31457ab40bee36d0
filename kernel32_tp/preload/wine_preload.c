/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `LD_PRELOAD=libkernel32_tp.so wine PROGRAM.exe` (docs/wine-dropin.md).
 *
 * Under Wine an ELF preload never binds a PE program's imports: Wine's own
 * loader resolves them from export tables, so the library alone would
 * change nothing.  But its constructors run inside Wine's loader process
 * before Wine has read its environment or loaded any PE module.  This
 * constructor uses that moment to turn the process into
 * `kernel32_tp-wine PROGRAM.exe ARGS...` (an exec: same process id, same
 * arguments, same exit status), which arranges the override pair.
 *
 * In any process that is not a Wine loader (/proc/self/exe named wine,
 * wine64, wine-preloader or wine64-preloader) it does nothing at all.  In a
 * Wine loader it either execs kernel32_tp-wine or prints one line saying
 * why not and what to run instead: it never silently does nothing.  Wine
 * processes that kernel32_tp-wine starts (KERNEL32_TP_WINE_DLLPATH set) are
 * left alone, and so are the children of a process already told (the
 * line is printed once per process tree).
 *
 * Linux only, part of no API: no locks, no state, no pool.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WINE_PRELOAD_TOLD "KERNEL32_TP_WINE_TOLD"

/* One line on standard error, once per process tree. */
static void preload_tell(const char *fmt, ...)
{
    va_list args;

    fputs("kernel32_tp: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    setenv(WINE_PRELOAD_TOLD, "1", 1);
}

static int preload_is_wine_loader(const char *exe)
{
    const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;

    return !strcmp(base, "wine") || !strcmp(base, "wine64") ||
           !strcmp(base, "wine-preloader") || !strcmp(base, "wine64-preloader");
}

/* kernel32_tp-wine beside this library: build/linux/ -> build/win32/ in
 * the build tree, lib/ or lib/<triplet>/ -> bin/ when installed. */
static int preload_find_script(char *script, size_t len)
{
    static const char *const candidates[] = {
        "../win32/kernel32_tp-wine", "../bin/kernel32_tp-wine", "../../bin/kernel32_tp-wine",
    };
    char so[PATH_MAX], *slash;
    Dl_info info;
    size_t i;

    if (!dladdr((void *)preload_find_script, &info) || !info.dli_fname ||
        !realpath(info.dli_fname, so))
        return 0;
    if (!(slash = strrchr(so, '/')))
        return 0;
    *slash = 0;
    for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if ((size_t)snprintf(script, len, "%s/%s", so, candidates[i]) < len &&
            access(script, X_OK) == 0)
            return 1;
    }
    return 0;
}

__attribute__((constructor)) static void wine_preload(int argc, char **argv)
{
    char exe[PATH_MAX], script[PATH_MAX], **args;
    struct stat st;
    ssize_t n;
    char *suffix;
    int i;

    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    if (!preload_is_wine_loader(exe))
        return;
    if (getenv("KERNEL32_TP_WINE_DLLPATH") || getenv(WINE_PRELOAD_TOLD))
        return;
    /* `wine --version` and the like start no program. */
    if (argc < 2 || !argv || !argv[1] || argv[1][0] == '-')
        return;
    if (stat(argv[1], &st) != 0 || !S_ISREG(st.st_mode)) {
        preload_tell("'%s' is not a program file, so it runs on Wine's own thread pool "
                     "(LD_PRELOAD reaches Wine only through kernel32_tp-wine, which takes "
                     "the path of a .exe)", argv[1]);
        return;
    }
    if (!preload_find_script(script, sizeof(script))) {
        preload_tell("kernel32_tp-wine is not installed next to this library, so %s runs on "
                     "Wine's own thread pool; install it and run: kernel32_tp-wine %s",
                     argv[1], argv[1]);
        return;
    }
    /* The Wine the user chose; the preloader stage maps back to its loader. */
    if ((suffix = strstr(exe, "-preloader")) && suffix[sizeof("-preloader") - 1] == 0)
        *suffix = 0;
    if (!getenv("WINE"))
        setenv("WINE", exe, 1);
    if (!(args = calloc((size_t)argc + 1, sizeof(*args)))) {
        preload_tell("out of memory: %s runs on Wine's own thread pool", argv[1]);
        return;
    }
    args[0] = script;
    for (i = 1; i < argc; i++)
        args[i] = argv[i];
    execv(script, args);
    preload_tell("cannot start %s (%s), so %s runs on Wine's own thread pool; run: "
                 "kernel32_tp-wine %s", script, strerror(errno), argv[1], argv[1]);
    free(args);
}

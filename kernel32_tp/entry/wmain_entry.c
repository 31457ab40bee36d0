/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkernel32_tp_main.a: the entry point of a Windows program whose entry is
 * wmain (or _tmain under _UNICODE).  Not part of the library.
 *
 * pkg-config's Libs name this archive after the library.  A program that
 * defines main never needs its one member, so the linker leaves it out; a
 * program that defines wmain instead leaves main undefined (the C start-up
 * code refers to it), which pulls this main in.  It converts the arguments
 * and the environment from UTF-8 to UTF-16 (an invalid byte becomes U+FFFD)
 * and calls wmain(argc, argv, envp), as the Windows C runtime does.
 *
 * main is weak and wmain a weak reference, so the link also works when the
 * flags come before the program's objects on the command line: the member
 * is then pulled in before the program's own main is seen, and the
 * program's main, being strong, still wins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <kernel32_tp_format.h>

extern char **environ;

int wmain(int argc, WCHAR **argv, WCHAR **envp) __attribute__((weak));

/* A malloc'ed UTF-16 copy of a UTF-8 string; exits on lack of memory. */
static WCHAR *entry_widen(const char *str)
{
    size_t len = strlen(str), i = 0, n = 0, step;
    WCHAR *wide = malloc((len + 1) * sizeof(WCHAR));  /* never more units than bytes */
    unsigned int cp;

    if (!wide) {
        fputs("kernel32_tp: out of memory converting the arguments\n", stderr);
        exit(EXIT_FAILURE);
    }
    for (; i < len; i += step) {
        step = kernel32_tp_utf8_next((const unsigned char *)str + i, len - i, &cp);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            wide[n++] = (WCHAR)(0xd800 | (cp >> 10));
            wide[n++] = (WCHAR)(0xdc00 | (cp & 0x3ff));
        } else {
            wide[n++] = (WCHAR)cp;
        }
    }
    wide[n] = 0;
    return wide;
}

/* A NULL-terminated array of UTF-16 copies, kept for the life of the process. */
static WCHAR **entry_widen_all(char **strs, int count)
{
    WCHAR **wide = malloc(((size_t)count + 1) * sizeof(*wide));
    int i;

    if (!wide) {
        fputs("kernel32_tp: out of memory converting the arguments\n", stderr);
        exit(EXIT_FAILURE);
    }
    for (i = 0; i < count; i++)
        wide[i] = entry_widen(strs[i]);
    wide[count] = NULL;
    return wide;
}

__attribute__((weak)) int main(int argc, char **argv)
{
    int envc = 0;

    if (!wmain) {
        fputs("kernel32_tp: the program defines neither main nor wmain\n", stderr);
        return 127;
    }
    while (environ && environ[envc])
        envc++;
    return wmain(argc, entry_widen_all(argv, argc), entry_widen_all(environ, envc));
}

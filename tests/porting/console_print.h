/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The porting corpus's console output, written as Windows programs write
 * it: formatted with StringCchVPrintf, written with WriteConsole, and,
 * when standard output is not a console (redirected to a file or a pipe,
 * where WriteConsole fails), converted to UTF-8 and written with
 * WriteFile.  A line that begins with '~' differs from run to run (ids,
 * timings): the corpus runner leaves it out of the comparison.
 */
#ifndef PORTING_CONSOLE_PRINT_H
#define PORTING_CONSOLE_PRINT_H

#include <Windows.h>
#include <strsafe.h>

static void print_wide(const WCHAR *text)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD len = (DWORD)lstrlenW(text), written;
    char utf8[2048];
    int bytes;

    if (WriteConsoleW(out, text, len, &written, NULL))
        return;
    bytes = WideCharToMultiByte(CP_UTF8, 0, text, (int)len, utf8, sizeof(utf8), NULL, NULL);
    if (bytes > 0)
        WriteFile(out, utf8, (DWORD)bytes, &written, NULL);
}

/* printf to the console, in UTF-16. */
static void print(const WCHAR *fmt, ...)
{
    WCHAR line[1024];
    va_list ap;

    va_start(ap, fmt);
    StringCchVPrintfW(line, ARRAYSIZE(line), fmt, ap);
    va_end(ap);
    print_wide(line);
}

#endif

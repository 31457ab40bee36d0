/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A console program as Visual Studio's wizard writes one: _tmain under
 * UNICODE, TCHAR strings, StringCchPrintf, WriteConsole (with WriteFile
 * when the output is redirected), lstrlen, and the argument vector.
 */
#ifndef UNICODE
#define UNICODE
#endif
#ifndef _UNICODE
#define _UNICODE
#endif
#include <Windows.h>
#include <TChar.h>
#include <StrSafe.h>    /* after tchar.h, as the SDK requires */

static void Print(LPCTSTR text)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD written;
    char bytes[1024];
    int len;

    if (WriteConsole(out, text, lstrlen(text), &written, NULL))
        return;
    /* Not a console: the same text, in UTF-8, to the file or pipe. */
    len = WideCharToMultiByte(CP_UTF8, 0, text, lstrlen(text), bytes, sizeof(bytes), NULL, NULL);
    WriteFile(out, bytes, (DWORD)len, &written, NULL);
}

int _tmain(int argc, _TCHAR *argv[])
{
    TCHAR line[256];
    TCHAR shortbuf[6];
    size_t length = 0;
    HRESULT hr;
    int i;

    StringCchPrintf(line, ARRAYSIZE(line), TEXT("Hello from _tmain: %d arguments after the name\n"),
                    argc - 1);
    Print(line);
    for (i = 1; i < argc; i++) {
        StringCchPrintf(line, ARRAYSIZE(line), TEXT("argv[%d] = \"%s\" (%d characters)\n"), i,
                        argv[i], lstrlen(argv[i]));
        Print(line);
    }
    hr = StringCchCopy(shortbuf, ARRAYSIZE(shortbuf), TEXT("truncated"));
    StringCchPrintf(line, ARRAYSIZE(line), TEXT("StringCchCopy into 6: 0x%08lX \"%s\"\n"),
                    (unsigned long)hr, shortbuf);
    Print(line);
    hr = StringCchLength(TEXT("twelve chars"), STRSAFE_MAX_CCH, &length);
    StringCchPrintf(line, ARRAYSIZE(line), TEXT("StringCchLength: 0x%08lX %u\n"),
                    (unsigned long)hr, (unsigned int)length);
    Print(line);
    StringCchPrintf(line, ARRAYSIZE(line), TEXT("%-8s|%8s|%5.1f|%#06x|%c\n"), TEXT("left"),
                    TEXT("right"), 2.375, 0xbeef, TEXT('Z'));
    Print(line);
    StringCchPrintf(line, ARRAYSIZE(line), TEXT("~ process %lu thread %lu\n"),
                    GetCurrentProcessId(), GetCurrentThreadId());
    Print(line);
    Print(TEXT("Goodbye\n"));
    return 3;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel32's string calls as older Windows code uses them: lstrcpyn,
 * lstrcat, lstrcmp and lstrcmpi (sorted with a small insertion sort),
 * wsprintf, and round trips between UTF-16 and UTF-8.
 */
/* This program uses the lstr* calls on purpose: strsafe.h must not
 * deprecate them. */
#define STRSAFE_NO_DEPRECATE
#include <Windows.h>
#include "console_print.h"

static const WCHAR *words[] = {
    L"banana", L"Apple", L"cherry", L"apple", L"Banana", L"date",
};

static void Sort(const WCHAR **items, int count, int (WINAPI *compare)(LPCWSTR, LPCWSTR))
{
    int i, j;

    for (i = 1; i < count; i++) {
        const WCHAR *item = items[i];

        for (j = i; j > 0 && compare(items[j - 1], item) > 0; j--)
            items[j] = items[j - 1];
        items[j] = item;
    }
}

static void PrintList(const WCHAR *what, const WCHAR **items, int count)
{
    WCHAR line[256];
    int i;

    lstrcpyW(line, what);
    lstrcatW(line, L":");
    for (i = 0; i < count; i++) {
        lstrcatW(line, L" ");
        lstrcatW(line, items[i]);
    }
    lstrcatW(line, L"\n");
    print_wide(line);
}

int wmain(void)
{
    const WCHAR *sorted[ARRAYSIZE(words)];
    WCHAR wide[64], back[64], buf[32];
    char narrow[64], formatted[128];
    int n, i;

    for (i = 0; i < (int)ARRAYSIZE(words); i++)
        sorted[i] = words[i];
    Sort(sorted, ARRAYSIZE(words), lstrcmpiW);
    /* Equal without case: the insertion sort keeps their input order. */
    PrintList(L"lstrcmpi", sorted, ARRAYSIZE(words));
    Sort(sorted, ARRAYSIZE(words), lstrcmpW);
    PrintList(L"lstrcmp", sorted, ARRAYSIZE(words));

    lstrcpynW(buf, L"a long string to cut", 7);
    print(L"lstrcpyn(7): \"%s\" length %d\n", buf, lstrlenW(buf));

    n = wsprintfA(formatted, "%s|%5d|%-5d|%05u|%x|%lX|%c", "wsprintf", 42, 7, 9u, 255, 48879L,
                  'W');
    print(L"wsprintfA %d: %S\n", n, formatted);
    n = wsprintfW(wide, L"%s=%d", L"wide", -17);
    print(L"wsprintfW %d: %s\n", n, wide);

    n = WideCharToMultiByte(CP_UTF8, 0, L"caf\x00e9 \x20ac\xd83d\xde00", -1, narrow,
                            sizeof(narrow), NULL, NULL);
    print(L"UTF-8 bytes with the NUL: %d\n", n);
    n = MultiByteToWideChar(CP_UTF8, 0, narrow, -1, back, ARRAYSIZE(back));
    print(L"UTF-16 units with the NUL: %d, same text: %d\n", n,
          lstrcmpW(back, L"caf\x00e9 \x20ac\xd83d\xde00") == 0);
    return 0;
}

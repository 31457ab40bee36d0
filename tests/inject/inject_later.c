/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An unmodified program of the check-inject set (docs/inject.md): loads
 * inject_later_plugin.dll (from its own folder) with LoadLibrary after it
 * started and runs its callbacks.  Prints "expect N"; exits 0 when all ran.
 */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

typedef LONG (*later_run_fn)(void);

int main(void)
{
    WCHAR path[MAX_PATH], *slash;
    HMODULE dll;
    later_run_fn run;
    LONG hits;

    GetModuleFileNameW(NULL, path, MAX_PATH);
    slash = wcsrchr(path, L'\\');
    wcscpy(slash ? slash + 1 : path, L"inject_later_plugin.dll");
    if (!(dll = LoadLibraryW(path)))
        return 1;
    if (!(run = (later_run_fn)(void (*)(void))GetProcAddress(dll, "later_run")))
        return 2;
    hits = run();
    printf("expect %ld\n", hits);
    return hits == 6 ? 0 : 3;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32: the default thread stack is what the program's image asks for in
 * its PE header, as for every thread the system creates without a size.
 */
#include <windows.h>

#include "os.h"

void os_thread_default_stack(SIZE_T *reserve, SIZE_T *commit)
{
    const BYTE *base = (const BYTE *)GetModuleHandleW(NULL);
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + dos->e_lfanew);

    *reserve = (SIZE_T)nt->OptionalHeader.SizeOfStackReserve;
    *commit = (SIZE_T)nt->OptionalHeader.SizeOfStackCommit;
}

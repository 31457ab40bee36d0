/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: redirects the thread-pool names in the import and export tables
 * of one loaded image (inject.h).  Knows the PE format and nothing about
 * pools.  The caller holds the loader lock (it runs at our DLL's attach or
 * in a load notification), which serialises every call here; no lock of
 * our own.
 */
#include <string.h>

#include "inject.h"

/* Writes size bytes at dest in a loaded image, whatever its protection.
 * Code on the same page keeps running: an executable page stays
 * executable while it is writable. */
static BOOL image_write(void *dest, const void *src, SIZE_T size)
{
    MEMORY_BASIC_INFORMATION info;
    DWORD old, writable;

    if (!VirtualQuery(dest, &info, sizeof(info)))
        return FALSE;
    writable = (info.Protect & (PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE |
                                PAGE_EXECUTE_WRITECOPY)) ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
    if (!VirtualProtect(dest, size, writable, &old))
        return FALSE;
    memcpy(dest, src, size);
    VirtualProtect(dest, size, old, &old);
    return TRUE;
}

static IMAGE_NT_HEADERS *image_headers(HMODULE module)
{
    IMAGE_DOS_HEADER *dos = (IMAGE_DOS_HEADER *)module;
    IMAGE_NT_HEADERS *nt;

    if (!module || dos->e_magic != IMAGE_DOS_SIGNATURE)
        return NULL;
    nt = (IMAGE_NT_HEADERS *)((char *)module + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE ||
        nt->OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR_MAGIC)
        return NULL;
    return nt;
}

static void *image_directory(HMODULE module, unsigned int index, DWORD *size)
{
    IMAGE_NT_HEADERS *nt = image_headers(module);
    IMAGE_DATA_DIRECTORY *dir;

    if (!nt || index >= nt->OptionalHeader.NumberOfRvaAndSizes)
        return NULL;
    dir = &nt->OptionalHeader.DataDirectory[index];
    if (!dir->VirtualAddress || !dir->Size)
        return NULL;
    *size = dir->Size;
    return (char *)module + dir->VirtualAddress;
}

/* The DLLs whose thread-pool names we take over, as an import names them. */
static BOOL provider_dll(const char *name)
{
    return !_stricmp(name, "ntdll.dll") || !_stricmp(name, "kernel32.dll") ||
           !_stricmp(name, "kernelbase.dll") || !_strnicmp(name, "api-ms-win-", 11);
}

unsigned int tp_pe_patch_imports(HMODULE module)
{
    IMAGE_IMPORT_DESCRIPTOR *desc;
    IMAGE_THUNK_DATA *names, *slots;
    IMAGE_IMPORT_BY_NAME *by_name;
    const struct tp_inject_entry *entry;
    unsigned int patched = 0;
    DWORD size;

    if (!(desc = image_directory(module, IMAGE_DIRECTORY_ENTRY_IMPORT, &size)))
        return 0;
    for (; desc->Name; desc++) {
        if (!provider_dll((const char *)module + desc->Name))
            continue;
        /* Without the name table, an import is known only by its address. */
        if (!desc->OriginalFirstThunk)
            continue;
        names = (IMAGE_THUNK_DATA *)((char *)module + desc->OriginalFirstThunk);
        slots = (IMAGE_THUNK_DATA *)((char *)module + desc->FirstThunk);
        for (; names->u1.AddressOfData; names++, slots++) {
            if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal))
                continue;
            by_name = (IMAGE_IMPORT_BY_NAME *)((char *)module + names->u1.AddressOfData);
            if (!(entry = tp_inject_lookup((const char *)by_name->Name)))
                continue;
            if ((void *)slots->u1.Function == entry->target)
                continue;
            if (image_write(&slots->u1.Function, &entry->target, sizeof(entry->target)))
                patched++;
        }
    }
    return patched;
}

/*
 * A jump to one of our functions, placed where an export table can name
 * it: an export is a 32-bit offset from its module's base, and our DLL may
 * be loaded anywhere.  jmp qword ptr [rip+0], then the address.
 */
struct jump {
    unsigned char code[6];
    unsigned char pad[2];
    void *target;
};

#define JUMP_AREA_SIZE 0x10000      /* one allocation granule; room for 4096 jumps */

/* Allocates JUMP_AREA_SIZE bytes above module, within its 32-bit offsets. */
static struct jump *jump_area(HMODULE module)
{
    IMAGE_NT_HEADERS *nt = image_headers(module);
    ULONG_PTR base = (ULONG_PTR)module, at;
    void *area;

    at = base + nt->OptionalHeader.SizeOfImage + JUMP_AREA_SIZE - 1;
    at &= ~(ULONG_PTR)(JUMP_AREA_SIZE - 1);
    for (; at + JUMP_AREA_SIZE - base < 0x80000000u; at += JUMP_AREA_SIZE) {
        area = VirtualAlloc((void *)at, JUMP_AREA_SIZE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        if (area)
            return area;
    }
    return NULL;
}

unsigned int tp_pe_patch_exports(HMODULE module)
{
    IMAGE_EXPORT_DIRECTORY *exports;
    const struct tp_inject_entry *entry;
    struct jump *jumps;
    unsigned int i, used = 0, patched = 0;
    DWORD size, *functions, *names, rva, old;
    WORD *ordinals;

    if (!(exports = image_directory(module, IMAGE_DIRECTORY_ENTRY_EXPORT, &size)))
        return 0;
    functions = (DWORD *)((char *)module + exports->AddressOfFunctions);
    names = (DWORD *)((char *)module + exports->AddressOfNames);
    ordinals = (WORD *)((char *)module + exports->AddressOfNameOrdinals);
    for (i = 0; i < exports->NumberOfNames; i++)
        if (tp_inject_lookup((const char *)module + names[i]))
            break;
    if (i == exports->NumberOfNames || !(jumps = jump_area(module)))
        return 0;
    /* All jumps are written and executable before the first export names
     * one: another thread may look a name up at any time. */
    for (i = 0; i < exports->NumberOfNames && used < JUMP_AREA_SIZE / sizeof(*jumps); i++) {
        if (!(entry = tp_inject_lookup((const char *)module + names[i])))
            continue;
        jumps[used].code[0] = 0xff;     /* jmp qword ptr [rip+2]: past the padding */
        jumps[used].code[1] = 0x25;
        jumps[used].code[2] = 2;
        jumps[used].code[3] = jumps[used].code[4] = jumps[used].code[5] = 0;
        jumps[used].pad[0] = jumps[used].pad[1] = 0xcc;
        jumps[used].target = entry->target;
        used++;
    }
    VirtualProtect(jumps, JUMP_AREA_SIZE, PAGE_EXECUTE_READ, &old);
    FlushInstructionCache(GetCurrentProcess(), jumps, JUMP_AREA_SIZE);
    used = 0;
    for (i = 0; i < exports->NumberOfNames && used < JUMP_AREA_SIZE / sizeof(*jumps); i++) {
        if (!tp_inject_lookup((const char *)module + names[i]))
            continue;
        rva = (DWORD)((ULONG_PTR)&jumps[used++] - (ULONG_PTR)module);
        if (image_write(&functions[ordinals[i]], &rva, sizeof(rva)))
            patched++;
    }
    return patched;
}

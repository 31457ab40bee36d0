/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: the injection layer's start (inject.h, docs/inject.md).  When
 * the launcher loaded the DLL (KERNEL32_TP_INJECT in the environment), the
 * DLL, while it attaches: pins itself, saves the system's own functions for
 * the names it takes over, redirects the export tables of ntdll, kernel32
 * and kernelbase and the import tables of every loaded module, asks the
 * loader to report later loads (whose import tables it redirects before
 * their entry point runs), and tells the launcher it is done.  Runs under
 * the loader lock, which serialises it with every load notification; takes
 * no lock of its own.  Never undone: DLLs detached after ours at process
 * exit still call through the tables, and our exports stay callable
 * (docs/inject.md, "Exit").
 */
#include <stdio.h>
#include <string.h>

#include "tp_private.h"
#include "inject.h"

#define INJECT_ENV L"KERNEL32_TP_INJECT"
#define INJECT_READY_EVENT L"Local\\kernel32_tp_inject.%lu"     /* the process id */
#define LDR_DLL_NOTIFICATION_REASON_LOADED 1

/* ntdll's LDR_DLL_LOADED_NOTIFICATION_DATA, which mingw-w64 lacks. */
struct dll_loaded {
    ULONG flags;
    const void *full_name;          /* UNICODE_STRING */
    const void *base_name;          /* UNICODE_STRING */
    void *base;
    ULONG size;
};

typedef void (CALLBACK *dll_notify_fn)(ULONG reason, const struct dll_loaded *data,
                                       void *context);
typedef LONG (WINAPI *register_notify_fn)(ULONG flags, dll_notify_fn callback, void *context,
                                          void **cookie);

/* kernel32's, declared by psapi.h, which does not build with our flags. */
BOOL WINAPI K32EnumProcessModules(HANDLE process, HMODULE *modules, DWORD size, DWORD *needed);

static HMODULE self;                /* (c) set once at attach */

/* The table is sorted as the spec is (by strcmp): a binary search. */
const struct tp_inject_entry *tp_inject_lookup(const char *name)
{
    unsigned int low = 0, high = tp_inject_table_size, mid;
    int order;

    while (low < high) {
        mid = (low + high) / 2;
        order = strcmp(name, tp_inject_table[mid].name);
        if (!order)
            return &tp_inject_table[mid];
        if (order < 0)
            high = mid;
        else
            low = mid + 1;
    }
    return NULL;
}

void tp_inject_no_original(const char *name)
{
    os_panic("%s: a handle of the system's thread pool, but the system has no %s", name, name);
}

/* Each wrapper's system function, looked up before any table is touched. */
static void originals_save(void)
{
    static const WCHAR *const providers[] = { L"kernelbase.dll", L"kernel32.dll", L"ntdll.dll" };
    HMODULE module;
    unsigned int i, j;
    FARPROC proc;

    for (i = 0; i < tp_inject_table_size; i++) {
        if (!tp_inject_table[i].original)
            continue;
        for (j = 0, proc = NULL; j < sizeof(providers) / sizeof(*providers) && !proc; j++)
            if ((module = GetModuleHandleW(providers[j])))
                proc = GetProcAddress(module, tp_inject_table[i].name);
        *tp_inject_table[i].original = (void *)proc;
    }
}

static void CALLBACK dll_loaded(ULONG reason, const struct dll_loaded *data, void *context)
{
    unsigned int patched;

    (void)context;
    if (reason != LDR_DLL_NOTIFICATION_REASON_LOADED || data->base == (void *)self)
        return;
    patched = tp_pe_patch_imports(data->base);
    TRACE("module %p: %u imports\n", data->base, patched);
}

/* Tells the launcher the tables are redirected (it waits for that). */
static void launcher_notify(void)
{
    WCHAR name[64];
    HANDLE ready;

    swprintf(name, sizeof(name) / sizeof(*name), INJECT_READY_EVENT, GetCurrentProcessId());
    if ((ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, name))) {
        SetEvent(ready);
        CloseHandle(ready);
    }
}

/* Redirects what is loaded now; returns FALSE when the loader cannot report later loads. */
static BOOL inject_start(void)
{
    static const WCHAR *const providers[] = { L"ntdll.dll", L"kernelbase.dll", L"kernel32.dll" };
    HMODULE modules[1024], module;
    unsigned int i, exports = 0, imports = 0, count;
    register_notify_fn register_notify;
    DWORD needed;
    void *cookie;

    originals_save();
    for (i = 0; i < sizeof(providers) / sizeof(*providers); i++)
        if ((module = GetModuleHandleW(providers[i])))
            exports += tp_pe_patch_exports(module);
    /* Registered before the walk: a module loading meanwhile is not missed
     * (patching one twice is harmless: an entry already ours is skipped). */
    register_notify = (register_notify_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "LdrRegisterDllNotification");
    if (!register_notify || register_notify(0, dll_loaded, NULL, &cookie) != 0)
        return FALSE;
    if (!K32EnumProcessModules(GetCurrentProcess(), modules, sizeof(modules), &needed))
        return FALSE;
    count = needed / sizeof(*modules);
    if (count > sizeof(modules) / sizeof(*modules))
        count = sizeof(modules) / sizeof(*modules);
    for (i = 0; i < count; i++)
        if (modules[i] != self)
            imports += tp_pe_patch_imports(modules[i]);
    TRACE("%u exports, %u imports in %u modules\n", exports, imports, count);
    return TRUE;
}

/* Default priority: after the stamps' secret (101) and the trace switch (102). */
__attribute__((constructor)) static void inject_setup(void)
{
    WCHAR value[8];

    if (!GetEnvironmentVariableW(INJECT_ENV, value, sizeof(value) / sizeof(*value)))
        return;
    /* The program's own children start without it. */
    SetEnvironmentVariableW(INJECT_ENV, NULL);
    /* Pinned: the tables will point into this DLL until the process ends. */
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                            (LPCWSTR)(void *)inject_setup, &self))
        os_panic("inject: cannot pin kernel32_tp.dll: error %lu", GetLastError());
    if (!inject_start())
        os_panic("inject: the loader cannot report DLL loads");
    launcher_notify();
}

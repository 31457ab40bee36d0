/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: modules over dlopen/dlsym/dlclose.  LoadLibrary*,
 * GetModuleHandle*, GetProcAddress, FreeLibrary, GetModuleFileName*, and
 * os_library_addref / os_library_free for the pool (RaceDll,
 * FreeLibraryWhenCallbackReturns).
 *
 * An HMODULE is the dlopen handle, that is the module's struct link_map
 * (glibc), and its reference count is the dynamic loader's: LoadLibrary
 * is dlopen, FreeLibrary is dlclose, GetModuleHandle looks without keeping
 * a reference.  A module handle is checked against the loader's list of
 * loaded objects before use, so a stale or made-up HMODULE gets an error,
 * not a crash.  Names: see module_candidates().  The system modules whose
 * calls this library provides (kernel32, kernelbase, ntdll) name this
 * library itself: see module_system_name().  Module file names are Linux
 * paths (with '/').
 *
 * No locks of its own; the loader's lock is held during the list walk.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "handle.h"

#ifndef LOAD_LIBRARY_SAFE_CURRENT_DIRS
#define LOAD_LIBRARY_SAFE_CURRENT_DIRS 0x00002000
#endif

/* The main program's handle (GetModuleHandle(NULL)); never unloaded. */
static void *module_main(void)
{
    static void *_Atomic main_handle;   /* (a) */
    void *handle = atomic_load_explicit(&main_handle, memory_order_acquire);

    if (!handle) {
        handle = dlopen(NULL, RTLD_LAZY);
        atomic_store_explicit(&main_handle, handle, memory_order_release);
    }
    return handle;
}

struct module_search {
    const void *handle;
    BOOL found;
    char *path;         /* strdup'ed file name when wanted; NULL for the main program */
    BOOL want_path;
    BOOL no_memory;
};

/* dl_iterate_phdr holds the loader's lock that guards the list of loaded
 * objects: walk the whole list in the first call and stop. */
static int module_search_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct module_search *search = data;
    struct link_map *map;

    (void)info;
    (void)size;
    for (map = _r_debug.r_map; map; map = map->l_next) {
        if ((const void *)map != search->handle)
            continue;
        search->found = TRUE;
        if (search->want_path && map->l_name && map->l_name[0]
            && !(search->path = strdup(map->l_name)))
            search->no_memory = TRUE;
        break;
    }
    return 1;
}

/* Is module loaded now?  With path, also its file name (NULL: main).
 * ERROR_MOD_NOT_FOUND, ERROR_NOT_ENOUGH_MEMORY. */
static DWORD module_check(HMODULE module, char **path)
{
    struct module_search search = { module, FALSE, NULL, path != NULL, FALSE };

    if (!module)
        return ERROR_MOD_NOT_FOUND;
    dl_iterate_phdr(module_search_cb, &search);
    if (!search.found)
        return ERROR_MOD_NOT_FOUND;
    if (search.no_memory)
        return ERROR_NOT_ENOUGH_MEMORY;
    if (path)
        *path = search.path;
    return ERROR_SUCCESS;
}

/*
 * The file names tried for a Windows module name, in order, written to
 * out[] (each malloc'ed): the name as given, with '\' turned into '/';
 * then, when the file part ends in ".dll" (any case) or has no dot at all
 * (Windows would append ".dll"), lib<stem>.so and <stem>.so in the same
 * directory.  "kernel32_tp.dll" -> "kernel32_tp.dll", "libkernel32_tp.so",
 * "kernel32_tp.so".  Returns the count; 0 when out of memory.
 */
static int module_candidates(const char *name, char *out[3])
{
    size_t len = strlen(name), dir_len, stem_len;
    const char *file;
    char *given;
    int count = 0;

    if (!(given = strdup(name)))
        return 0;
    for (char *p = given; *p; p++) {
        if (*p == '\\')
            *p = '/';
    }
    out[count++] = given;
    file = strrchr(given, '/');
    file = file ? file + 1 : given;
    dir_len = (size_t)(file - given);
    stem_len = len - dir_len;
    if (stem_len > 4 && !strcasecmp(given + len - 4, ".dll"))
        stem_len -= 4;
    else if (strchr(file, '.') || !*file)
        return count;
    for (int lib = 1; lib >= 0; lib--) {
        size_t size = len + 8;
        char *cand = malloc(size);

        if (!cand)
            break;
        snprintf(cand, size, "%.*s%s%.*s.so", (int)dir_len, given, lib ? "lib" : "",
                 (int)stem_len, file);
        out[count++] = cand;
    }
    return count;
}

static void module_candidates_free(char *cands[3], int count)
{
    while (count-- > 0)
        free(cands[count]);
}

/* This library's own module (the link_map of libkernel32_tp.so). */
static void *module_self(void)
{
    static void *_Atomic self_handle;   /* (a) */
    void *handle = atomic_load_explicit(&self_handle, memory_order_acquire);
    struct link_map *map = NULL;
    Dl_info info;

    if (!handle) {
        if (!dladdr1((void *)module_self, &info, (void **)&map, RTLD_DL_LINKMAP) || !map)
            os_panic("dladdr1 does not know the library itself");
        handle = map;
        atomic_store_explicit(&self_handle, handle, memory_order_release);
    }
    return handle;
}

/*
 * Is name one of the system modules whose calls this library provides on
 * Linux?  kernel32, kernelbase and ntdll, in any case, with ".dll" or no
 * extension, without a directory.  Programs look their functions up with
 * GetProcAddress(GetModuleHandle("ntdll.dll"), ...): they find ours.
 */
static BOOL module_system_name(const char *name)
{
    static const char *const system[] = { "kernel32", "kernelbase", "ntdll" };
    size_t len = strlen(name);
    size_t i;

    if (len > 4 && !strcasecmp(name + len - 4, ".dll"))
        len -= 4;
    for (i = 0; i < sizeof(system) / sizeof(system[0]); i++) {
        if (strlen(system[i]) == len && !strncasecmp(name, system[i], len))
            return TRUE;
    }
    return FALSE;
}

/* dlopen for a Windows name (see module_candidates).  NULL when not found. */
static void *module_open(const char *name, int mode)
{
    char *cands[3];
    void *handle = NULL;
    char *path = NULL;
    int count, i;

    if (module_system_name(name)) {
        /* This library, by its file name: dlopen counts the reference.
         * Linked statically, the library is part of the main program. */
        if (module_check(module_self(), &path) != ERROR_SUCCESS)
            return NULL;
        if (!path)
            return dlopen(NULL, mode & ~RTLD_NOLOAD);
        handle = dlopen(path, mode | RTLD_NOLOAD);
        free(path);
        return handle;
    }
    if (!(count = module_candidates(name, cands)))
        return NULL;
    for (i = 0; i < count && !handle; i++) {
        handle = dlopen(cands[i], mode);
        if (!handle)
            HANDLE_TRACE("%s: %s", cands[i], dlerror());
    }
    module_candidates_free(cands, count);
    return handle;
}

/* ERROR_INVALID_PARAMETER, ERROR_NOT_SUPPORTED, ERROR_MOD_NOT_FOUND. */
static DWORD module_load(const char *name, HANDLE file, DWORD flags, HMODULE *module)
{
    /* Search-order flags: the dynamic loader's own search applies. */
    const DWORD search = LOAD_WITH_ALTERED_SEARCH_PATH | LOAD_IGNORE_CODE_AUTHZ_LEVEL
                         | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_APPLICATION_DIR
                         | LOAD_LIBRARY_SEARCH_USER_DIRS | LOAD_LIBRARY_SEARCH_SYSTEM32
                         | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SAFE_CURRENT_DIRS;
    /* Loading as data, without running initialisers or with signatures:
     * not something dlopen can do. */
    const DWORD unsupported = DONT_RESOLVE_DLL_REFERENCES | LOAD_LIBRARY_AS_DATAFILE
                              | LOAD_LIBRARY_AS_IMAGE_RESOURCE
                              | LOAD_LIBRARY_AS_DATAFILE_EXCLUSIVE
                              | LOAD_LIBRARY_REQUIRE_SIGNED_TARGET;
    void *handle;

    if (!name || file || (flags & ~(search | unsupported)))
        return ERROR_INVALID_PARAMETER;
    if (flags & unsupported)
        return ERROR_NOT_SUPPORTED;
    /* dlopen("") would be the main program. */
    if (!*name || !(handle = module_open(name, RTLD_NOW | RTLD_LOCAL)))
        return ERROR_MOD_NOT_FOUND;
    *module = handle;
    return ERROR_SUCCESS;
}

/* A loaded module by name without a reference (NULL: the main program). */
static DWORD module_lookup(const char *name, HMODULE *module)
{
    void *handle;

    if (!name) {
        *module = module_main();
        return ERROR_SUCCESS;
    }
    if (!*name || !(handle = module_open(name, RTLD_LAZY | RTLD_NOLOAD)))
        return ERROR_MOD_NOT_FOUND;
    /* NOLOAD took a reference: drop it, someone else keeps the module. */
    dlclose(handle);
    *module = handle;
    return ERROR_SUCCESS;
}

/* One more loader reference on a loaded module; pin: never unload it. */
static DWORD module_addref(HMODULE module, BOOL pin)
{
    char *path = NULL;
    void *handle;
    DWORD err;

    if ((err = module_check(module, &path)) != ERROR_SUCCESS)
        return err;
    handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD | (pin ? RTLD_NODELETE : 0));
    free(path);
    if (!handle)
        return ERROR_MOD_NOT_FOUND;
    if (handle != module) {     /* unloaded and something else loaded meanwhile */
        dlclose(handle);
        return ERROR_MOD_NOT_FOUND;
    }
    if (pin)
        dlclose(handle);    /* NODELETE sticks; the count need not grow */
    return ERROR_SUCCESS;
}

static DWORD module_free(HMODULE module)
{
    DWORD err;

    if (!module)
        return ERROR_INVALID_HANDLE;

    if ((err = module_check(module, NULL)) != ERROR_SUCCESS)
        return err;
    if (module == module_main())
        return ERROR_SUCCESS;   /* the program itself stays */
    if (dlclose(module)) {
        HANDLE_TRACE("%p: %s", (void *)module, dlerror());
        return ERROR_MOD_NOT_FOUND;
    }
    return ERROR_SUCCESS;
}

DWORD os_library_addref(HMODULE module)
{
    return module_addref(module, FALSE);
}

void os_library_free(HMODULE module)
{
    module_free(module);
}

static HMODULE load_result(DWORD err, HMODULE module)
{
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return module;
}

/* UTF-16 name to UTF-8 (NULL stays NULL). */
static DWORD name_from_w(const WCHAR *name, char **utf8)
{
    return handle_utf8_from_utf16(name, utf8);
}

/***********************************************************************
 *           LoadLibraryA   (kernel32_tp.@)
 *
 * "name.dll" is tried as given, then as libname.so and name.so (see
 * docs/handles.md).
 */
HMODULE WINAPI LoadLibraryA(LPCSTR name)
{
    HMODULE module = NULL;
    DWORD err;

    HANDLE_TRACE("%s", name ? name : "(null)");
    err = module_load(name, NULL, 0, &module);
    return load_result(err, module);
}

/***********************************************************************
 *           LoadLibraryW   (kernel32_tp.@)
 */
HMODULE WINAPI LoadLibraryW(LPCWSTR name)
{
    HMODULE module = NULL;
    char *utf8;
    DWORD err;

    HANDLE_TRACE("%p", (const void *)name);
    if ((err = name_from_w(name, &utf8)) == ERROR_SUCCESS) {
        err = module_load(utf8, NULL, 0, &module);
        free(utf8);
    }
    return load_result(err, module);
}

/***********************************************************************
 *           LoadLibraryExA   (kernel32_tp.@)
 *
 * Search-path flags are accepted (the dynamic loader's search applies);
 * DONT_RESOLVE_DLL_REFERENCES, the AS_DATAFILE/AS_IMAGE_RESOURCE flags and
 * LOAD_LIBRARY_REQUIRE_SIGNED_TARGET fail with ERROR_NOT_SUPPORTED.
 */
HMODULE WINAPI LoadLibraryExA(LPCSTR name, HANDLE file, DWORD flags)
{
    HMODULE module = NULL;
    DWORD err;

    HANDLE_TRACE("%s %p %#x", name ? name : "(null)", file, (unsigned int)flags);
    err = module_load(name, file, flags, &module);
    return load_result(err, module);
}

/***********************************************************************
 *           LoadLibraryExW   (kernel32_tp.@)
 */
HMODULE WINAPI LoadLibraryExW(LPCWSTR name, HANDLE file, DWORD flags)
{
    HMODULE module = NULL;
    char *utf8;
    DWORD err;

    HANDLE_TRACE("%p %p %#x", (const void *)name, file, (unsigned int)flags);
    if ((err = name_from_w(name, &utf8)) == ERROR_SUCCESS) {
        err = module_load(utf8, file, flags, &module);
        free(utf8);
    }
    return load_result(err, module);
}

/***********************************************************************
 *           GetModuleHandleA   (kernel32_tp.@)
 */
HMODULE WINAPI GetModuleHandleA(LPCSTR name)
{
    HMODULE module = NULL;
    DWORD err;

    HANDLE_TRACE("%s", name ? name : "(null)");
    err = module_lookup(name, &module);
    return load_result(err, module);
}

/***********************************************************************
 *           GetModuleHandleW   (kernel32_tp.@)
 */
HMODULE WINAPI GetModuleHandleW(LPCWSTR name)
{
    HMODULE module = NULL;
    char *utf8;
    DWORD err;

    HANDLE_TRACE("%p", (const void *)name);
    if ((err = name_from_w(name, &utf8)) == ERROR_SUCCESS) {
        err = module_lookup(utf8, &module);
        free(utf8);
    }
    return load_result(err, module);
}

/* GetModuleHandleEx's work once the name is UTF-8 (or an address). */
static DWORD module_handle_ex(DWORD flags, const char *name, const void *address,
                              HMODULE *module)
{
    const DWORD known = GET_MODULE_HANDLE_EX_FLAG_PIN
                        | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT
                        | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS;
    struct link_map *map = NULL;
    HMODULE found;
    Dl_info info;
    DWORD err;

    if (!module)
        return ERROR_INVALID_PARAMETER;
    *module = NULL;
    if ((flags & ~known) || ((flags & GET_MODULE_HANDLE_EX_FLAG_PIN)
                             && (flags & GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT)))
        return ERROR_INVALID_PARAMETER;
    if (flags & GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS) {
        if (!dladdr1(address, &info, (void **)&map, RTLD_DL_LINKMAP) || !map)
            return ERROR_MOD_NOT_FOUND;
        found = (HMODULE)map;
    } else if ((err = module_lookup(name, &found)) != ERROR_SUCCESS) {
        return err;
    }
    if (!(flags & GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT)
        && (err = module_addref(found, (flags & GET_MODULE_HANDLE_EX_FLAG_PIN) != 0))
               != ERROR_SUCCESS)
        return err;
    *module = found;
    return ERROR_SUCCESS;
}

/***********************************************************************
 *           GetModuleHandleExA   (kernel32_tp.@)
 */
BOOL WINAPI GetModuleHandleExA(DWORD flags, LPCSTR name, HMODULE *module)
{
    DWORD err;

    HANDLE_TRACE("%#x %p %p", (unsigned int)flags, (const void *)name, (void *)module);
    if ((err = module_handle_ex(flags, name, name, module)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           GetModuleHandleExW   (kernel32_tp.@)
 */
BOOL WINAPI GetModuleHandleExW(DWORD flags, LPCWSTR name, HMODULE *module)
{
    char *utf8 = NULL;
    DWORD err = ERROR_SUCCESS;

    HANDLE_TRACE("%#x %p %p", (unsigned int)flags, (const void *)name, (void *)module);
    if (!(flags & GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS))
        err = name_from_w(name, &utf8);
    if (err == ERROR_SUCCESS)
        err = module_handle_ex(flags, utf8, name, module);
    free(utf8);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/* Is sym defined by module itself?  dlsym on a module also searches the
 * libraries it depends on (libc): "kernel32.dll" must not offer malloc. */
static BOOL module_defines(HMODULE module, void *sym)
{
    struct link_map *map = NULL;
    Dl_info info;

    return dladdr1(sym, &info, (void **)&map, RTLD_DL_LINKMAP) && (HMODULE)map == module;
}

/***********************************************************************
 *           GetProcAddress   (kernel32_tp.@)
 *
 * Ordinals are not supported (ERROR_PROC_NOT_FOUND).  In this library's
 * own module (also "kernel32.dll", "ntdll.dll") only its exports are found,
 * not those of the libraries it links.  For the main
 * program (NULL or GetModuleHandle(NULL)) the loader's global scope is
 * searched: the program and the libraries it links.
 */
FARPROC WINAPI GetProcAddress(HMODULE module, LPCSTR name)
{
    void *sym;
    DWORD err;

    HANDLE_TRACE("%p %s", (void *)module,
                 (ULONG_PTR)name >> 16 ? name : "(ordinal)");
    if (!module)
        module = module_main();
    if ((err = module_check(module, NULL)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    if (!((ULONG_PTR)name >> 16) || !(sym = dlsym(module, name))
        || (module == module_self() && !module_defines(module, sym))) {
        os_set_last_error(ERROR_PROC_NOT_FOUND);
        return NULL;
    }
    return (FARPROC)(ULONG_PTR)sym;
}

/***********************************************************************
 *           FreeLibrary   (kernel32_tp.@)
 */
BOOL WINAPI FreeLibrary(HMODULE module)
{
    DWORD err;

    HANDLE_TRACE("%p", (void *)module);
    if ((err = module_free(module)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/* ---- module file names ---------------------------------------------------------- */

/* The file name of module (NULL: the program), malloc'ed.
 * ERROR_MOD_NOT_FOUND, ERROR_NOT_ENOUGH_MEMORY. */
static DWORD module_file_name(HMODULE module, char **name)
{
    char *path = NULL, *exe;
    ssize_t n;
    DWORD err;

    if (module && (err = module_check(module, &path)) != ERROR_SUCCESS)
        return err;
    if (path) {
        *name = path;
        return ERROR_SUCCESS;
    }
    if (!(exe = malloc(PATH_MAX)))
        return ERROR_NOT_ENOUGH_MEMORY;
    if ((n = readlink("/proc/self/exe", exe, PATH_MAX - 1)) < 0) {
        free(exe);
        return os_error_from_errno(errno);
    }
    exe[n] = 0;
    *name = exe;
    return ERROR_SUCCESS;
}

/*
 * Copies len units of name (narrow or wide) to buf of size units: all of
 * it and a NUL, or, when it does not fit, size - 1 units and a NUL with
 * ERROR_INSUFFICIENT_BUFFER, returning size (as Windows since Vista).
 */
static DWORD module_name_copy(const void *name, size_t len, BOOL wide, void *buf, DWORD size)
{
    size_t unit = wide ? sizeof(WCHAR) : 1, copy = len < size ? len : size ? size - 1 : 0;

    if (!size) {
        os_set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    memcpy(buf, name, copy * unit);
    if (wide)
        ((WCHAR *)buf)[copy] = 0;
    else
        ((char *)buf)[copy] = 0;
    if (copy < len) {
        os_set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return size;
    }
    return (DWORD)len;
}

/* GetModuleFileName's body: module's file name in buf of size units,
 * narrow (UTF-8) or wide (UTF-16). */
static DWORD module_file_name_get(HMODULE module, void *buf, DWORD size, BOOL wide)
{
    size_t len;
    WCHAR *utf16;
    char *name;
    DWORD err, ret;

    if ((err = module_file_name(module, &name)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    if (!wide) {
        ret = module_name_copy(name, strlen(name), FALSE, buf, size);
        free(name);
        return ret;
    }
    len = handle_utf8_to_utf16(name, strlen(name), NULL, 0, NULL);
    if (!(utf16 = malloc((len + 1) * sizeof(WCHAR)))) {
        free(name);
        os_set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return 0;
    }
    handle_utf8_to_utf16(name, strlen(name), utf16, len, NULL);
    free(name);
    ret = module_name_copy(utf16, len, TRUE, buf, size);
    free(utf16);
    return ret;
}

/***********************************************************************
 *           GetModuleFileNameA   (kernel32_tp.@)
 *
 * A Linux path: the program's (/proc/self/exe) for NULL or the program's
 * module, else the shared object's as the loader knows it.
 */
DWORD WINAPI GetModuleFileNameA(HMODULE module, LPSTR buf, DWORD size)
{
    HANDLE_TRACE("%p %p %u", (void *)module, (void *)buf, (unsigned int)size);
    return module_file_name_get(module, buf, size, FALSE);
}

/***********************************************************************
 *           GetModuleFileNameW   (kernel32_tp.@)
 */
DWORD WINAPI GetModuleFileNameW(HMODULE module, LPWSTR buf, DWORD size)
{
    HANDLE_TRACE("%p %p %u", (void *)module, (void *)buf, (unsigned int)size);
    return module_file_name_get(module, buf, size, TRUE);
}

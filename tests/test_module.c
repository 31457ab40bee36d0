/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Modules: LoadLibrary loads the test module (its path comes from
 * KERNEL32_TP_TEST_MODULE; the tests skip without it), GetProcAddress finds
 * its export, FreeLibrary unloads it at the last reference, GetModuleHandle
 * looks without a reference, GetModuleHandleEx by address and name, and the
 * errors for missing modules and procedures.
 *
 * The module counts calls in its own data: a count that starts over after
 * FreeLibrary proves the module was really unloaded.
 */
#include <stdlib.h>
#include <string.h>

#include <winternl.h>

#include "helper.h"

typedef LONG (WINAPI *count_fn)(void);

static const char *module_path(void)
{
    const char *path = getenv("KERNEL32_TP_TEST_MODULE");

    if (!path || !*path)
        skip();
    return path;
}

static count_fn get_count(HMODULE module)
{
    count_fn fn = (count_fn)(ULONG_PTR)GetProcAddress(module, "tp_test_module_count");

    assert_non_null((void *)(ULONG_PTR)fn);
    return fn;
}

static void module_free_last_reference_unloads(void **state)
{
    const char *path = module_path();
    HMODULE module;
    count_fn count;

    (void)state;
    assert_null(GetModuleHandleA(path));
    module = LoadLibraryA(path);
    assert_non_null(module);
    assert_true(GetModuleHandleA(path) == module);
    count = get_count(module);
    assert_int_equal(count(), 1);
    assert_int_equal(count(), 2);
    assert_true(FreeLibrary(module));
    assert_null_error(GetModuleHandleA(path), ERROR_MOD_NOT_FOUND);
    /* Loaded again, the module starts with fresh data. */
    module = LoadLibraryA(path);
    assert_non_null(module);
    assert_int_equal(get_count(module)(), 1);
    assert_true(FreeLibrary(module));
    assert_null(GetModuleHandleA(path));
}

static void module_load_twice_needs_two_frees(void **state)
{
    const char *path = module_path();
    HMODULE first, second;

    (void)state;
    first = LoadLibraryA(path);
    second = LoadLibraryExA(path, NULL, 0);
    assert_non_null(first);
    assert_true(first == second);
    assert_int_equal(get_count(first)(), 1);
    assert_true(FreeLibrary(second));
    assert_true(GetModuleHandleA(path) == first);   /* one reference left */
    assert_int_equal(get_count(first)(), 2);
    assert_true(FreeLibrary(first));
    assert_null(GetModuleHandleA(path));
}

/* Two loads under two names, and the handle the name finds: one module. */
static void assert_one_module(HMODULE first, HMODULE second, HMODULE by_name)
{
    assert_non_null(first);
    assert_true(second == first);
    assert_true(by_name == first);
}

static void module_wide_names_same_module(void **state)
{
    const char *path = module_path();
    WCHAR wpath[1024];
    HMODULE a, w;
    size_t i;

    (void)state;
    for (i = 0; path[i] && i < 1023; i++) {
        if ((unsigned char)path[i] >= 0x80)
            skip();     /* only ASCII converts the same way everywhere */
        wpath[i] = (WCHAR)path[i];
    }
    wpath[i] = 0;
    a = LoadLibraryA(path);
    w = LoadLibraryW(wpath);
    assert_one_module(a, w, GetModuleHandleW(wpath));
    assert_true(FreeLibrary(w));
    assert_true(LoadLibraryExW(wpath, NULL, 0) == a);
    assert_true(FreeLibrary(a));
    assert_true(FreeLibrary(a));
    assert_null(GetModuleHandleW(wpath));
}

static void module_handle_ex_by_address_and_refcount(void **state)
{
    const char *path = module_path();
    HMODULE module, found = NULL;
    count_fn count;

    (void)state;
    module = LoadLibraryA(path);
    assert_non_null(module);
    count = get_count(module);
    assert_true(GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS
                                   | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                                   (LPCSTR)(ULONG_PTR)count, &found));
    assert_true(found == module);
    /* Without UNCHANGED_REFCOUNT the lookup takes a reference. */
    found = NULL;
    assert_true(GetModuleHandleExA(0, path, &found));
    assert_true(found == module);
    assert_true(FreeLibrary(module));
    assert_true(GetModuleHandleA(path) == module);
    assert_int_equal(count(), 1);
    assert_true(FreeLibrary(module));
    assert_null(GetModuleHandleA(path));
}

static void module_handle_ex_bad_arguments_invalid_parameter(void **state)
{
    HMODULE module = (HMODULE)(ULONG_PTR)1;

    (void)state;
    SetLastError(0xdeadbeef);
    assert_false(GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_PIN
                                    | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, NULL, &module));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_null(module);
    SetLastError(0xdeadbeef);
    assert_false(GetModuleHandleExA(0x100, NULL, &module));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(GetModuleHandleExW(0, NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

static void module_main_program_handle(void **state)
{
    HMODULE main_module = GetModuleHandleA(NULL), found = NULL;

    (void)state;
    assert_non_null(main_module);
    assert_true(GetModuleHandleW(NULL) == main_module);
    assert_true(GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, NULL, &found));
    assert_true(found == main_module);
    assert_null_error((void *)(ULONG_PTR)GetProcAddress(main_module, "tp_no_such_procedure"),
                      ERROR_PROC_NOT_FOUND);
}

/* Programs find the system's calls through the system modules' handles. */
static void module_system_names_find_exports(void **state)
{
    static const WCHAR kernel32_w[] = { 'k', 'e', 'r', 'n', 'e', 'l', '3', '2', '.', 'd', 'l', 'l', 0 };
    HMODULE k32 = GetModuleHandleA("kernel32.dll"), ntdll = GetModuleHandleA("ntdll.dll");
    /* Referenced, so that a statically linked kernel32_tp keeps them. */
    static void *const volatile keep[] = {
        (void *)(ULONG_PTR)NtClose, (void *)(ULONG_PTR)CreateThreadpoolWork,
        (void *)(ULONG_PTR)QueueUserAPC,
    };
    HMODULE loaded;

    (void)state;
    assert_non_null(keep[0]);
    assert_non_null(k32);
    assert_non_null(ntdll);
    assert_non_null(GetModuleHandleA("kernelbase.dll"));
    /* Any case, with or without the extension, A or W. */
    assert_true(GetModuleHandleA("KERNEL32") == k32);
    assert_true(GetModuleHandleW(kernel32_w) == k32);
    assert_true(GetModuleHandleA("ntdll") == ntdll);
    assert_non_null((void *)(ULONG_PTR)GetProcAddress(ntdll, "NtClose"));
    assert_non_null((void *)(ULONG_PTR)GetProcAddress(k32, "CreateThreadpoolWork"));
    assert_non_null((void *)(ULONG_PTR)GetProcAddress(k32, "QueueUserAPC"));
    /* Only the module's own exports: not the C library's. */
    assert_null_error((void *)(ULONG_PTR)GetProcAddress(k32, "malloc"), ERROR_PROC_NOT_FOUND);
    /* Loading it is taking one more reference on the same module. */
    loaded = LoadLibraryA("kernel32.dll");
    assert_true(loaded == k32);
    assert_true(FreeLibrary(loaded));
    assert_true(GetModuleHandleA("kernel32.dll") == k32);
}

static void module_missing_errors(void **state)
{
    const char *path = module_path();
    HMODULE module;

    (void)state;
    assert_null_error(LoadLibraryA("kernel32_tp_no_such_module.dll"), ERROR_MOD_NOT_FOUND);
    assert_null_error(GetModuleHandleA("kernel32_tp_no_such_module.dll"), ERROR_MOD_NOT_FOUND);
    module = LoadLibraryA(path);
    assert_non_null(module);
    assert_null_error((void *)(ULONG_PTR)GetProcAddress(module, "tp_no_such_procedure"),
                      ERROR_PROC_NOT_FOUND);
    assert_true(FreeLibrary(module));
    SetLastError(0xdeadbeef);
    assert_false(FreeLibrary(NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* kernel32_tp's naming rule: "dir/name.dll" finds "dir/libname.so". */
static void module_dll_name_finds_shared_object(void **state)
{
    const char *path = module_path();
    const char *file = strrchr(path, '/');
    size_t dir_len, len = strlen(path);
    char dll[1024];
    HMODULE module, by_dll;

    (void)state;
    file = file ? file + 1 : path;
    dir_len = (size_t)(file - path);
    if (!helper_is_kernel32_tp() || strncmp(file, "lib", 3) || len < 3
        || strcmp(path + len - 3, ".so") || len + 8 > sizeof(dll))
        skip();
    memcpy(dll, path, dir_len);
    memcpy(dll + dir_len, file + 3, len - dir_len - 6);
    strcpy(dll + len - 6, ".DLL");
    module = LoadLibraryA(path);
    by_dll = LoadLibraryA(dll);
    assert_one_module(module, by_dll, GetModuleHandleA(dll));
    assert_true(FreeLibrary(by_dll));
    assert_true(FreeLibrary(module));
    assert_null(GetModuleHandleA(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(module_free_last_reference_unloads),
        cmocka_unit_test(module_load_twice_needs_two_frees),
        cmocka_unit_test(module_wide_names_same_module),
        cmocka_unit_test(module_handle_ex_by_address_and_refcount),
        cmocka_unit_test(module_handle_ex_bad_arguments_invalid_parameter),
        cmocka_unit_test(module_main_program_handle),
        cmocka_unit_test(module_system_names_find_exports),
        cmocka_unit_test(module_missing_errors),
        cmocka_unit_test(module_dll_name_finds_shared_object),
    };

    return cmocka_run_group_tests_name("module", tests, NULL, NULL);
}

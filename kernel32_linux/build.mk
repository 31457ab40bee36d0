# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel32_linux/: the Linux kernel32 emulation (docs/handles.md), as the
# top Makefile builds and tests it.  It owns its sources, its spec and its
# tests; the Makefile links it into libkernel32_tp.so and libkernel32_tp.a.

# The static library build/linux/libkernel32_linux.a is made of these.
EMU_SRC := $(addprefix kernel32_linux/, \
	console.c critical_section.c debugging.c file_disk.c file_object.c file_pipe.c \
	handle_table.c io_loop.c last_error.c memory.c module.c process.c strings.c \
	sync_objects.c sync_wait.c system_info.c time.c tls.c wait_service.c wide_string.c \
	win_heap.c win_thread.c)

# Its exports: the .so exports them, the DLL never (Windows has them).
EMU_SPEC := spec/kernel32_linux.spec

# Its tests.  Under Wine they exercise Wine's kernel32, which makes them the
# reference for the emulation (wine-ref); linked to our DLL they would test
# nothing of ours, so wine-tp leaves them out.
HANDLE_TESTS := test_sync test_handles test_critsec test_thread test_module test_files \
	test_strsafe test_tchar test_strings test_memory test_console test_process test_debug \
	test_heap test_apc

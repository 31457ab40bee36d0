# SPDX-License-Identifier: LGPL-2.1-or-later
# test_faults (tests/test_faults.c, docs/reliability.md), included by the
# Makefile: the fault hook is the test binary's own.  Linked with the static
# library, the library's calls of malloc, calloc, realloc and
# os_thread_start go to the test's __wrap_ functions; the library itself
# has no hook and exports nothing for it.
$(B)/tests/test_faults: TEST_LIBS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	-Wl,--wrap=os_thread_start

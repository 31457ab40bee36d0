# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel32_tp: one GNU Makefile for every product.
#
#   make                 libkernel32_tp.so/.a + kernel32_tp.pc (OS=linux, the default)
#   make demo            builds the demo, an unmodified Windows program, and runs it
#   make check           spec checks, the test suite natively, under ASan/UBSan and TSan,
#                        under Wine (also as a drop-in and through --inject), and the
#                        porting corpus (make check-porting)
#   make asan | tsan     the suite under one sanitizer only
#   make bench [QUICK=1] the pool measured against its peers (docs/performance.md)
#   make install PREFIX=/usr/local DESTDIR=   (+ lib/kernel32_tp/: the --inject launcher and DLL)
#   make deps            installs the build and test dependencies (apt-get; root)
#   WERROR=0             with any target: warnings do not stop the build
#
# Sources are listed, one list per piece (below): the core, the platform
# layer of $(OS), and for OS=linux the kernel32 emulation (its own static
# library, kernel32_linux/build.mk) and the Wine drop-in's LD_PRELOAD hook,
# for OS=win32 the injection layer.  Header dependencies are generated
# (-MMD -MP, $(B)/**/*.d).

OS ?= linux
SAN ?=
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
SOVERSION := 0
TEST_TIMEOUT ?= 120
# Warnings are errors by default (and in CI); WERROR=0 leaves them warnings.
WERROR ?= 1
WERROR_FLAG := $(if $(filter 0,$(WERROR)),,-Werror)

WINE_INCLUDE ?= /usr/include/wine/wine/windows

ifeq ($(SAN),asan)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),tsan)
SAN_FLAGS := -fsanitize=thread
else
SAN_FLAGS :=
endif

# The lock-order check (kernel32_tp/lock_order.h): sanitizer builds and DEBUG=1.
LOCK_RANK_FLAGS := $(if $(SAN)$(DEBUG),-DKERNEL32_TP_LOCK_RANKS)

B := build/$(OS)$(if $(SAN),-$(SAN))$(if $(DEBUG),-debug)
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

# What any Windows source needs to be compiled on Linux against Wine's headers.
# DECLSPEC_HIDDEN= : Wine marks API declarations hidden on ELF; users must not.
WIN_CFLAGS := -I$(CURDIR)/include/wine -I$(CURDIR)/include -I$(WINE_INCLUDE) \
	-fshort-wchar -D_WIN32 -DWIN32 -D_WIN64 -DWIN64

# The core, every product.
CORE_SRC := $(addprefix kernel32_tp/, check.c deadline.c debug.c group.c instance.c io.c \
	io_legacy.c legacy.c lock_rank.c object.c pool.c post.c scheduler.c stats.c status.c timer.c timer_queue.c timer_service.c \
	trace.c wait.c wait_legacy.c work.c)
# The platform layers behind os.h.
OS_SRC.linux := $(addprefix kernel32_tp/os/linux/, os_exit.c os_misuse.c os_once.c os_thread.c)
OS_SRC.win32 := $(addprefix kernel32_tp/os/win32/, os_cpu.c os_exit.c os_handle.c os_io.c \
	os_misuse.c os_once.c os_stack.c os_stamp.c os_thread.c wait_service.c)
OS_SRC := $(OS_SRC.$(OS))
# The DLL's injection layer (OS=win32); the .so's LD_PRELOAD hook (OS=linux).
INJECT_SRC := $(addprefix kernel32_tp/inject/, inject.c pe_patch.c)
PRELOAD_SRC := kernel32_tp/preload/wine_preload.c
# libkernel32_tp_main.a: the main that calls a program's wmain.
MAIN_SRC := kernel32_tp/entry/wmain_entry.c
# EMU_SRC, EMU_SPEC, HANDLE_TESTS: the Linux kernel32 emulation.
include kernel32_linux/build.mk
# A source file in none of the lists would be silently left out: stop.
SRC_UNLISTED := $(filter-out $(CORE_SRC) $(OS_SRC.linux) $(OS_SRC.win32) $(INJECT_SRC) \
	$(PRELOAD_SRC) $(MAIN_SRC) $(EMU_SRC),$(wildcard kernel32_tp/*.c kernel32_tp/*/*.c \
	kernel32_tp/*/*/*.c kernel32_linux/*.c))
ifneq ($(SRC_UNLISTED),)
$(error $(SRC_UNLISTED): in no source list (Makefile, kernel32_linux/build.mk))
endif
SPECS := spec/kernel32_tp.spec $(EMU_SPEC)
LIB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRC) $(OS_SRC))
# Every compile writes its header dependencies beside its output (.d).
DEP_FLAGS := -MMD -MP

# The library itself: exported declarations get default visibility, everything
# else is hidden, and the version script from the spec is the final filter.
# -mtls-dialect=gnu2: in a WINAPI (ms_abi) function, GCC 12 keeps using
# %rdi or %rsi across the __tls_get_addr call of the default TLS model as if
# it preserved them (TlsSetValue did, under ASan, in the .so); the TLS
# descriptor call clobbers %rax only.
LIB_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra $(WERROR_FLAG) -fPIC -fvisibility=hidden \
	-mtls-dialect=gnu2 \
	$(WIN_CFLAGS) '-DDECLSPEC_HIDDEN=__attribute__((visibility("default")))' \
	-Ikernel32_tp -Ikernel32_tp/os/$(OS) -D_REENTRANT $(DEP_FLAGS) $(SAN_FLAGS) $(LOCK_RANK_FLAGS) \
	$(EXTRA_CFLAGS)
# The checked mode (docs/reliability.md) is on by default in the sanitizer builds.
LIB_CFLAGS += $(if $(SAN),-DKERNEL32_TP_CHECK_DEFAULT=1)

TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra $(WERROR_FLAG) $(WIN_CFLAGS) -DDECLSPEC_HIDDEN= \
	-Itests $(DEP_FLAGS) $(SAN_FLAGS) $(EXTRA_CFLAGS)
TEST_LIBS := -lcmocka -lpthread -ldl -lm

SO := $(B)/libkernel32_tp.so
A := $(B)/libkernel32_tp.a
# The main that calls a program's wmain (pkg-config --libs names it).
MAIN_A := $(B)/libkernel32_tp_main.a
# Mixed-case header aliases (Windows.h, StrSafe.h...), generated from a list.
ALIAS_DIR := $(B)/include
ALIASES := $(ALIAS_DIR)/.stamp
MAP := $(B)/kernel32_tp.map
PC := $(B)/pkgconfig/kernel32_tp.pc

TEST_SRC := $(filter-out tests/helper.c,$(wildcard tests/test_*.c))
TEST_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
TEST_MODULE := $(B)/tests/libtp_test_module.so

.PHONY: all lib demo check check-native check-spec asan tsan install clean deps deps-if-missing tests
.PHONY: check-wine check-wine-tp check-wine-ref wine-tests-tp wine-tests-ref demo-wine
.PHONY: check-wine-dropin wine-tests-dropin install-wine check-inject inject-tests
.DELETE_ON_ERROR:

all: lib

# The generated header dependencies (DEP_FILES, after the OS sections).
-include $(shell find $(B) -name '*.d' 2>/dev/null)

$(ALIASES): include/header-aliases tools/gen-aliases
	tools/gen-aliases include/header-aliases $(ALIAS_DIR)
	touch $@

ifneq ($(OS),win32)
# ==== OS=linux: libkernel32_tp.so/.a, the suite natively ====================
# The Linux kernel32 emulation (kernel32_linux/build.mk, docs/handles.md): a
# static library of its own, linked whole into the .so and merged into the .a.
EMU_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(EMU_SRC))
EMU_LIB := $(B)/libkernel32_linux.a
LIB_OBJ += $(patsubst %.c,$(B)/obj/%.o,$(PRELOAD_SRC))

lib: $(SO) $(A) $(PC) $(MAIN_A) $(ALIASES)

# tools/elf-aliases: the spec's aliases, beside their targets' symbols.
$(B)/obj/%.o: %.c $(B)/obj/%.d $(SPECS) tools/elf-aliases tools/spec.awk
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@
	tools/elf-aliases $@ $(SPECS)

$(EMU_LIB): $(EMU_OBJ)
	rm -f $@
	ar rcs $@ $(EMU_OBJ)

$(MAP): $(SPECS) tools/spec2map tools/spec.awk
	@mkdir -p $(dir $@)
	tools/spec2map $(SPECS) > $@

# --no-undefined-version: a spec entry without a definition fails the link.
$(SO): $(LIB_OBJ) $(EMU_LIB) $(MAP)
	$(CC) -shared -o $@ $(LIB_OBJ) -Wl,--whole-archive $(EMU_LIB) -Wl,--no-whole-archive \
		-Wl,-soname,libkernel32_tp.so.$(SOVERSION) \
		-Wl,--version-script=$(MAP) -Wl,--no-undefined-version -Wl,--no-undefined \
		-Wl,-z,defs $(SAN_FLAGS) -lpthread -ldl
	ln -sf libkernel32_tp.so $(B)/libkernel32_tp.so.$(SOVERSION)
	nm -D --defined-only $@ | awk '$$2 ~ /^[TWDBRV]$$/ && $$3 !~ /^KERNEL32_TP_/ { sub(/@.*/, "", $$3); print $$3 }' > $(B)/exports.txt
	tools/check-spec --sources kernel32_tp --sources kernel32_tp/os/$(OS) --sources kernel32_linux \
		--sources kernel32_tp/preload --exports $(B)/exports.txt $(SPECS)

$(A): $(LIB_OBJ) $(EMU_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ) $(EMU_OBJ)

# Compiled as a program's code is (pkg-config's flags), not as the library.
$(B)/entry/wmain_entry.o: $(MAIN_SRC) $(B)/entry/wmain_entry.d
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra $(WERROR_FLAG) $(WIN_CFLAGS) -DDECLSPEC_HIDDEN= \
		$(DEP_FLAGS) $(SAN_FLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(MAIN_A): $(B)/entry/wmain_entry.o
	rm -f $@
	ar rcs $@ $<

# kernel32_tp.pc usable straight from the build tree.
$(PC): tools/gen-pc Makefile
	@mkdir -p $(dir $@)
	tools/gen-pc --build "$(CURDIR)" "$(CURDIR)/$(B)" "$(WINE_INCLUDE)" $(VERSION) > $@

check-spec: $(SO)

# ---- the demo: an unmodified Windows program built with pkg-config ----------
DEMO := $(B)/demo/tp_demo
$(DEMO): tools/demo/tp_demo.c $(SO) $(PC)
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall $(WERROR_FLAG) $$(PKG_CONFIG_PATH=$(CURDIR)/$(B)/pkgconfig pkg-config --cflags kernel32_tp) \
		-o $@ $< $$(PKG_CONFIG_PATH=$(CURDIR)/$(B)/pkgconfig pkg-config --libs kernel32_tp) $(SAN_FLAGS)

demo: deps-if-missing
	$(MAKE) --no-print-directory $(DEMO)
	LD_LIBRARY_PATH=$(CURDIR)/$(B) $(DEMO)

# The same demo under Wine on kernel32_tp.dll (see the OS=win32 section).
demo-wine: deps-if-missing
	$(MAKE) --no-print-directory OS=win32 demo-wine

# ---- tests -----------------------------------------------------------------
$(B)/tests/helper.o: tests/helper.c $(B)/tests/helper.d
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

# The tests link the shared object, as programs do, so that its version
# script is what they see (a name the spec lacks does not link); they find
# it beside them through their rpath.  GetProcAddress(GetModuleHandle(
# "kernel32.dll"), ...) looks in the .so.  STATIC_TESTS call what the
# library does not export (os.h, internal modules): they link the static
# library, where every object is whole, and see the core's headers and its
# lock-rank flag (os_lock calls are the checking ones where that is on)
# (-rdynamic: the library's exports are the program's, for GetProcAddress).
# Add to it anywhere (+=): it is read when a test is linked.
STATIC_TESTS := test_os test_deadline test_os_once test_lockorder test_faults
static_test = $(filter $(notdir $(1)),$(STATIC_TESTS))
$(B)/tests/%: tests/%.c $(B)/tests/%.d $(B)/tests/helper.o $(SO) $(A)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(if $(call static_test,$@),-Ikernel32_tp -Ikernel32_tp/os/$(OS) \
		$(LOCK_RANK_FLAGS)) \
		-MF $@.d -MT $@ -o $@ $< $(B)/tests/helper.o \
		$(if $(call static_test,$@),-rdynamic $(A),$(SO) -Wl,-rpath,'$$ORIGIN/..') $(TEST_LIBS)

# A tiny module for the LoadLibrary / FreeLibraryWhenCallbackReturns tests.
$(TEST_MODULE): tests/module/test_module.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -MF $@.d -MT $@ -shared -fPIC -o $@ $<

tests: $(TEST_BIN) $(TEST_MODULE)

# Runs every test binary under a timeout; prints one summary line per file.
# -k: a test file that does not build shows as NOT-BUILT; the others still run.
check-native: lib
	-$(MAKE) --no-print-directory -k tests
	tools/run-tests --timeout $(TEST_TIMEOUT) --label $(OS)$(if $(SAN),-$(SAN)) \
		--module $(TEST_MODULE) $(TEST_BIN)

# make soak, and check-soak: the 60-second soak in make check's sanitizer modes.
include tests/soak/soak.mk
# test_faults links the library with its own fault hook.
include tests/test_faults.mk
else
# ==== OS=win32: kernel32_tp.dll, and the suite under Wine ======================
#   make OS=win32 [CROSS=x86_64-w64-mingw32-]   kernel32_tp.dll + libkernel32_tp.dll.a
#   make OS=win32 check-wine-tp    the tests linked to our DLL, run under wine64
#   make OS=win32 check-wine-ref   the tests linked to kernel32 only: Wine's own pool
#   make OS=win32 demo-wine        the demo relinked with -lkernel32_tp, under wine64
#   make OS=win32 check-inject     unmodified programs under kernel32_tp_inject.exe
# mingw-w64's own headers throughout (never Wine's); include/ only for kernel32_tp.h.
# See docs/conformance.md.
CROSS ?= x86_64-w64-mingw32-
WCC := $(CROSS)gcc
# Windows 10 API level: the V3 environment, SetThreadpoolTimerEx and friends.
WIN32_DEFS := -D_WIN32_WINNT=0x0a00
# _KERNEL32_: mingw-w64 declares kernel32's API dllimport unless we are kernel32;
# our definitions of the same names must not follow a dllimport declaration.
DLL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra $(WERROR_FLAG) $(WIN32_DEFS) -D_KERNEL32_ \
	'-DKERNEL32_TP_API=' -Iinclude -Ikernel32_tp -Ikernel32_tp/os/win32 $(LOCK_RANK_FLAGS) \
	$(DEP_FLAGS) $(EXTRA_CFLAGS)
WIN_SPEC := spec/kernel32_tp.spec
DLL := $(B)/kernel32_tp.dll
IMPLIB := $(B)/libkernel32_tp.dll.a
DEF := $(B)/kernel32_tp.def
# What the DLL may import: system DLLs only (no libgcc_s, no libwinpthread).
DLL_IMPORTS_OK := KERNEL32.dll msvcrt.dll
# The Wine drop-in (docs/wine-dropin.md): kernel32_tp-wine, laid out in $(B)
# as it is installed in $(PREFIX)/lib/kernel32_tp (the script in bin/).
DROPIN := $(B)/kernel32_tp-wine $(B)/gen-wine-pair $(B)/wine-pair.awk $(B)/kernel32_tp_start.exe

# The injection layer's table of names and wrappers, from the spec and the
# definitions (tools/spec2inject, kernel32_tp/inject/inject.h).
INJECT_TABLE := $(B)/gen/inject_table.c
LIB_OBJ += $(patsubst %.c,$(B)/obj/%.o,$(INJECT_SRC))
LIB_OBJ += $(B)/obj/gen/inject_table.o
INJECT_EXE := $(B)/kernel32_tp_inject.exe

lib: $(DLL) $(DROPIN) $(INJECT_EXE)

$(B)/obj/%.o: %.c $(B)/obj/%.d
	@mkdir -p $(dir $@)
	$(WCC) $(DLL_CFLAGS) -c $< -o $@

$(INJECT_TABLE): $(WIN_SPEC) tools/spec2inject tools/spec.awk $(CORE_SRC) $(OS_SRC) $(INJECT_SRC)
	@mkdir -p $(dir $@)
	tools/spec2inject $(WIN_SPEC) kernel32_tp kernel32_tp/os/win32 kernel32_tp/inject > $@

$(B)/obj/gen/inject_table.o: $(INJECT_TABLE) $(B)/obj/gen/inject_table.d
	@mkdir -p $(dir $@)
	$(WCC) $(DLL_CFLAGS) -Ikernel32_tp/inject -c $< -o $@

# The launcher of --inject (docs/inject.md): a console program of its own,
# not linked to the DLL.
$(INJECT_EXE): tools/inject/kernel32_tp_inject.c
	$(WCC) -std=gnu11 -O2 -Wall -Wextra $(WERROR_FLAG) $(WIN32_DEFS) -municode -o $@ $< -static

$(DEF): $(WIN_SPEC) tools/spec2def tools/spec.awk
	@mkdir -p $(dir $@)
	tools/spec2def kernel32_tp.dll $(WIN_SPEC) > $@

# -static: libgcc (and winpthread, with the posix flavour of mingw-w64) are
# linked in.  The .def from the spec is the export list; the export table and
# the import list are checked after the link.
$(DLL): $(LIB_OBJ) $(DEF)
	$(WCC) -shared -o $@ $(LIB_OBJ) $(DEF) -static -Wl,--out-implib,$(IMPLIB)
	$(CROSS)objdump -p $@ | awk '/^\[Ordinal\/Name Pointer\] Table/ { on = 1; next } \
		on && /^$$/ { on = 0 } on { print $$NF }' > $(B)/exports.txt
	tools/check-spec --sources kernel32_tp --sources kernel32_tp/os/win32 --sources kernel32_tp/inject \
		--exports $(B)/exports.txt $(WIN_SPEC)
	@bad=$$($(CROSS)objdump -p $@ | awk '/DLL Name:/ { print $$3 }' | \
		grep -vxF $(foreach d,$(DLL_IMPORTS_OK),-e $(d))); \
	if [ -n "$$bad" ]; then echo "$@ imports non-system DLLs: $$bad"; rm -f $@; exit 1; fi

$(IMPLIB): $(DLL) ;

check-spec: $(DLL)

# ---- the Wine drop-in: kernel32_tp-wine and its pieces -----------------------
$(B)/kernel32_tp-wine $(B)/gen-wine-pair: $(B)/%: tools/wine-dropin/%
	@mkdir -p $(dir $@)
	install -m 755 $< $@

$(B)/wine-pair.awk: tools/wine-dropin/wine-pair.awk
	@mkdir -p $(dir $@)
	install -m 644 $< $@

# Its only imports are kernel32, ntdll and msvcrt (checked like the DLL's).
$(B)/kernel32_tp_start.exe: tools/wine-dropin/start.c
	@mkdir -p $(dir $@)
	$(WCC) -std=gnu11 -O2 -Wall -Wextra $(WERROR_FLAG) $(WIN32_DEFS) -o $@ $< -lntdll -static
	@bad=$$($(CROSS)objdump -p $@ | awk '/DLL Name:/ { print $$3 }' | \
		grep -vixF -e KERNEL32.dll -e ntdll.dll -e msvcrt.dll); \
	if [ -n "$$bad" ]; then echo "$@ imports $$bad"; rm -f $@; exit 1; fi

# ---- the suite, cross-built: wine-tp (our DLL) and wine-ref (Wine's pool) ----
# cmocka for Windows, built from Debian's source package into the build tree.
CMOCKA_WIN := $(B)/cmocka
# tests/win32_compat.h: what the tests use that mingw-w64's headers lack.
WTEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra $(WERROR_FLAG) $(WIN32_DEFS) -Itests -Iinclude \
	-I$(CMOCKA_WIN)/include -include tests/win32_compat.h $(DEP_FLAGS) $(EXTRA_CFLAGS)
WTEST_SRC := $(filter-out tests/helper.c tests/test_lockorder.c,$(wildcard tests/test_*.c))
# HANDLE_TESTS (kernel32_linux/build.mk): the emulation's tests, wine-ref only.
# test_os tests the platform layer itself, not an API: native only; so do
# test_deadline and test_os_once, of internal modules, and test_trace (our trace),
# and test_faults, whose fault hook is linked into the native tests only.
NATIVE_ONLY_TESTS := test_os test_deadline test_os_once test_trace test_faults
WTEST_TP_SRC := $(filter-out $(patsubst %,tests/%.c,$(HANDLE_TESTS) $(NATIVE_ONLY_TESTS)),$(WTEST_SRC))
WTEST_REF_SRC := $(filter-out $(patsubst %,tests/%.c,$(NATIVE_ONLY_TESTS)),$(WTEST_SRC))
WTEST_TP_BIN := $(patsubst tests/%.c,$(B)/tests-tp/%.exe,$(WTEST_TP_SRC))
WTEST_REF_BIN := $(patsubst tests/%.c,$(B)/tests-ref/%.exe,$(WTEST_REF_SRC))
WTEST_MODULE_SRC := $(wildcard tests/module/test_module.c)
WTEST_MODULE_TP := $(if $(WTEST_MODULE_SRC),$(B)/tests-tp/tp_test_module.dll)
WTEST_MODULE_REF := $(if $(WTEST_MODULE_SRC),$(B)/tests-ref/tp_test_module.dll)
WINE_RUN := tools/wine-run
export WINEPREFIX ?= $(CURDIR)/build/wineprefix

$(CMOCKA_WIN)/lib/libcmocka.a:
	tools/build-cmocka-win $(CMOCKA_WIN) $(CROSS)

$(B)/tests-tp/helper.o $(B)/tests-ref/helper.o: $(B)/%/helper.o: tests/helper.c $(B)/%/helper.d \
		$(CMOCKA_WIN)/lib/libcmocka.a
	@mkdir -p $(dir $@)
	$(WCC) $(WTEST_CFLAGS) $(if $(findstring tests-ref,$@),-DKERNEL32_TP_TEST_REFERENCE) \
		-c $< -o $@

# Our import library ahead of kernel32 (which the driver adds last) and ntdll
# (the Tp* names, tests/ntdll_tp.h): our DLL provides the thread-pool names,
# the system everything else.  Named as a file,
# because -static (no libgcc or winpthread DLLs) hides -l's .dll.a.  The DLL
# is copied next to the tests, where the loader looks first.  A test that
# would still take a thread-pool name from the system (one our DLL does not
# export) fails to build: in wine-tp it would test Wine's pool, not ours.
$(B)/tests-tp/%.exe: tests/%.c $(B)/tests-tp/%.exe.d $(B)/tests-tp/helper.o $(IMPLIB)
	@mkdir -p $(dir $@); rm -f $@
	$(WCC) $(WTEST_CFLAGS) -MF $@.d -MT $@ -o $@ $< $(B)/tests-tp/helper.o -L$(CMOCKA_WIN)/lib -lcmocka \
		$(IMPLIB) -lntdll -static
	tools/check-tp-imports $(CROSS)objdump $@ || { rm -f $@; exit 1; }

$(B)/tests-tp/kernel32_tp.dll: $(DLL)
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/tests-ref/%.exe: tests/%.c $(B)/tests-ref/%.exe.d $(B)/tests-ref/helper.o
	@mkdir -p $(dir $@); rm -f $@
	$(WCC) $(WTEST_CFLAGS) -MF $@.d -MT $@ -DKERNEL32_TP_TEST_REFERENCE -o $@ $< $(B)/tests-ref/helper.o \
		-L$(CMOCKA_WIN)/lib -lcmocka -lntdll -static

$(B)/tests-tp/tp_test_module.dll $(B)/tests-ref/tp_test_module.dll: $(WTEST_MODULE_SRC)
	@mkdir -p $(dir $@)
	$(WCC) $(WTEST_CFLAGS) -MF $@.d -MT $@ -shared -o $@ $< -static

wine-tests-tp: $(WTEST_TP_BIN) $(B)/tests-tp/kernel32_tp.dll $(WTEST_MODULE_TP)
wine-tests-ref: $(WTEST_REF_BIN) $(WTEST_MODULE_REF)

# The tests are built with -k, each old binary removed first: a test file
# that does not build shows as NOT-BUILT in the summary and the others still
# run.  wine-tp needs the DLL itself built from the current sources, or the
# mode does not run (never against a stale DLL).  The prefix is created first,
# so that Wine's first start (~10 s) does not count against the first test's
# timeout, and its server started to serve the whole mode (wine-run --server).
check-wine-tp:
	rm -f build/results/wine-tp.*
	$(MAKE) --no-print-directory lib
	-$(MAKE) --no-print-directory -k wine-tests-tp
	$(WINE_RUN) --server
	tools/run-tests --timeout $(TEST_TIMEOUT) --label wine-tp --runner $(WINE_RUN) \
		$(if $(WTEST_MODULE_TP),--module $(CURDIR)/$(WTEST_MODULE_TP)) $(WTEST_TP_BIN)

check-wine-ref:
	rm -f build/results/wine-ref.*
	-$(MAKE) --no-print-directory -k wine-tests-ref
	$(WINE_RUN) --server
	tools/run-tests --timeout $(TEST_TIMEOUT) --label wine-ref --runner $(WINE_RUN) \
		$(if $(WTEST_MODULE_REF),--module $(CURDIR)/$(WTEST_MODULE_REF)) $(WTEST_REF_BIN)

# ---- wine-dropin: the wine-ref binaries, unmodified, under kernel32_tp-wine --
# They link kernel32 and ntdll only (never kernel32_tp.dll: checked), and are
# judged as kernel32_tp (tests/helper.c finds kernel32_tp.dll behind kernel32
# at run time; KERNEL32_TP_TEST_EXPECT makes any other pool fail).  The files
# are wine-tp's, for the same reason (the handle tests would test Wine's
# kernel32 only), less test_ntdll: ntdll's Tp* names stay Wine's under the
# pair (no native ntdll is ever loaded; --inject reaches them), and so the
# three tests elsewhere that mix them with kernel32's objects skip, each
# listed as a known difference.  The pair is generated once, into
# build/cache.  dropin_pair and dropin_run test the generator, the script,
# each way of importing, LD_PRELOAD and that the prefix stays clean.
WTEST_DROPIN_BIN := $(patsubst tests/%.c,$(B)/tests-ref/%.exe,$(filter-out tests/test_ntdll.c,$(WTEST_TP_SRC)))
DROPIN_PROBES := $(B)/tests-dropin/probe_kernel32.exe $(B)/tests-dropin/probe_apiset.exe \
	$(B)/tests-dropin/probe_kernelbase.exe $(B)/tests-dropin/probe_getproc.exe \
	$(B)/tests-dropin/probe_late.exe $(B)/tests-dropin/dropin_late.dll
DROPIN_PROBE_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra $(WERROR_FLAG) $(WIN32_DEFS)

$(B)/tests-dropin/lib%.a: tests/dropin/%.def
	@mkdir -p $(dir $@)
	$(CROSS)dlltool -d $< -l $@

$(B)/tests-dropin/probe_kernel32.exe: tests/dropin/probe.c
	@mkdir -p $(dir $@)
	$(WCC) $(DROPIN_PROBE_CFLAGS) -o $@ $< -lversion -static

$(B)/tests-dropin/probe_getproc.exe: tests/dropin/probe.c
	@mkdir -p $(dir $@)
	$(WCC) $(DROPIN_PROBE_CFLAGS) -DPROBE_GETPROCADDRESS -o $@ $< -lversion -static

$(B)/tests-dropin/probe_late.exe: tests/dropin/probe.c
	@mkdir -p $(dir $@)
	$(WCC) $(DROPIN_PROBE_CFLAGS) -DPROBE_LATE -o $@ $< -lversion -static

$(B)/tests-dropin/probe_apiset.exe $(B)/tests-dropin/probe_kernelbase.exe: \
		$(B)/tests-dropin/probe_%.exe: tests/dropin/probe.c $(B)/tests-dropin/lib%.a
	$(WCC) $(DROPIN_PROBE_CFLAGS) -o $@ $< $(B)/tests-dropin/lib$*.a -lversion -static

$(B)/tests-dropin/dropin_late.dll: tests/dropin/late.c
	@mkdir -p $(dir $@)
	$(WCC) $(DROPIN_PROBE_CFLAGS) -shared -o $@ $< -static

# The drop-in's own test scripts run from the build tree (their logs land
# beside them, as every test's does).
DROPIN_SCRIPTS := $(B)/tests-dropin/dropin_pair $(B)/tests-dropin/dropin_run \
	$(B)/tests-dropin/lib.sh
$(DROPIN_SCRIPTS): $(B)/tests-dropin/%: tests/dropin/%
	@mkdir -p $(dir $@)
	install -m 755 $< $@

wine-tests-dropin: $(WTEST_DROPIN_BIN) $(WTEST_MODULE_REF) $(DROPIN_PROBES) $(DROPIN_SCRIPTS)

check-wine-dropin:
	rm -f build/results/wine-dropin.*
	$(MAKE) --no-print-directory lib
	$(MAKE) --no-print-directory -C . OS=linux lib
	-$(MAKE) --no-print-directory -k wine-tests-dropin
	$(WINE_RUN) --server
	XDG_CACHE_HOME=$(CURDIR)/build/cache tools/run-tests --timeout $(TEST_TIMEOUT) \
		--label wine-dropin $(B)/tests-dropin/dropin_pair $(B)/tests-dropin/dropin_run
	for t in $(WTEST_DROPIN_BIN); do [ ! -f $$t ] || tools/check-tp-imports --none \
		$(CROSS)objdump $$t || exit 1; done
	XDG_CACHE_HOME=$(CURDIR)/build/cache KERNEL32_TP_TEST_EXPECT=kernel32_tp tools/run-tests --append --timeout $(TEST_TIMEOUT) \
		--label wine-dropin --runner "$(WINE_RUN) --dropin" \
		$(if $(WTEST_MODULE_REF),--module $(CURDIR)/$(WTEST_MODULE_REF)) $(WTEST_DROPIN_BIN)
	@echo "wine-dropin: what kernel32_tp.dll served, per program:"
	@for t in $(WTEST_DROPIN_BIN); do \
		printf '  %-22s %s\n' "$$(basename $$t .exe)" \
			"$$(tr -d '\r' < $$t.log 2>/dev/null | sed -n 's/^kernel32_tp: kernel32.s thread pool was //p' | tail -n 1)"; \
	done | tee build/results/wine-dropin.served

check-wine:
	-$(MAKE) --no-print-directory check-wine-tp
	-$(MAKE) --no-print-directory check-wine-ref
	-$(MAKE) --no-print-directory check-wine-dropin
	tools/summarize wine-tp wine-ref wine-dropin

# ---- make OS=win32 check-inject: unmodified programs under the launcher ----
# tests/inject (docs/inject.md): each inject_*.c is a program linked the
# usual way (kernel32, ntdll, an API set), never with -lkernel32_tp;
# NAME_dll.c is a DLL NAME.exe imports, NAME_plugin.c one it loads later.
# inject_exit is also linked with -lkernel32_tp (linked/), exe and DLL both.
INJ := $(B)/inject
INJ_CFLAGS := -O1 -g -Wall -Wextra $(WERROR_FLAG) $(WIN32_DEFS)
INJ_EXE := $(patsubst tests/inject/%.c,$(INJ)/%.exe,\
	$(filter-out %_dll.c %_plugin.c,$(wildcard tests/inject/inject_*.c)))
INJ_DLL := $(patsubst tests/inject/%.c,$(INJ)/%.dll,$(wildcard tests/inject/*_dll.c))
INJ_PLUGIN := $(patsubst tests/inject/%.c,$(INJ)/%.dll,$(wildcard tests/inject/*_plugin.c))
INJ_LINKED := $(INJ)/linked/inject_exit.exe $(INJ)/linked/inject_exit_dll.dll \
	$(INJ)/linked/kernel32_tp.dll

$(INJ)/%_dll.dll: tests/inject/%_dll.c tests/inject/inject_probe.h
	@mkdir -p $(dir $@)
	$(WCC) $(INJ_CFLAGS) -shared -o $@ $< -Wl,--out-implib,$(INJ)/lib$*_dll.a -lntdll -static

$(INJ)/%_plugin.dll: tests/inject/%_plugin.c tests/inject/inject_probe.h
	@mkdir -p $(dir $@)
	$(WCC) $(INJ_CFLAGS) -shared -o $@ $< -lntdll -static

$(INJ)/libapiset.a: tests/inject/apiset.def
	@mkdir -p $(dir $@)
	$(CROSS)dlltool -d $< -l $@

# A program links with its own DLL's import library, if it has a DLL.
$(INJ)/%.exe: tests/inject/%.c tests/inject/inject_probe.h $(INJ_DLL) $(INJ)/libapiset.a
	@mkdir -p $(dir $@)
	$(WCC) $(INJ_CFLAGS) -o $@ $< $(if $(wildcard tests/inject/$*_dll.c),$(INJ)/lib$*_dll.a) \
		$(if $(filter inject_apiset,$*),$(INJ)/libapiset.a) -lntdll -static

$(INJ)/linked/inject_exit_dll.dll: tests/inject/inject_exit_dll.c $(IMPLIB)
	@mkdir -p $(dir $@)
	$(WCC) $(INJ_CFLAGS) -shared -o $@ $< -Wl,--out-implib,$(INJ)/linked/libinject_exit_dll.a \
		$(IMPLIB) -static

$(INJ)/linked/inject_exit.exe: tests/inject/inject_exit.c $(INJ)/linked/inject_exit_dll.dll
	$(WCC) $(INJ_CFLAGS) -o $@ $< $(INJ)/linked/libinject_exit_dll.a $(IMPLIB) -static

$(INJ)/kernel32_tp.dll $(INJ)/linked/kernel32_tp.dll: $(DLL)
	@mkdir -p $(dir $@)
	cp $< $@

$(INJ)/kernel32_tp_inject.exe: $(INJECT_EXE)
	@mkdir -p $(dir $@)
	cp $< $@

inject-tests: $(INJ_EXE) $(INJ_DLL) $(INJ_PLUGIN) $(INJ_LINKED) $(INJ)/kernel32_tp.dll \
	$(INJ)/kernel32_tp_inject.exe

# Then the reference suite's thread-pool tests (tests-ref: linked to kernel32
# and ntdll only, which run plainly is Wine's pool) under the launcher, where
# the same binaries run on ours: the wine-inject column.
WTEST_INJECT_BIN := $(patsubst tests/%.c,$(B)/tests-ref/%.exe,$(WTEST_TP_SRC))

# tools/check-inject's own checks are the column's row "kernel32_tp_inject".
check-inject:
	rm -f build/results/wine-inject.*
	$(MAKE) --no-print-directory lib
	-$(MAKE) --no-print-directory -k inject-tests wine-tests-ref
	$(WINE_RUN) --server
	-tools/run-tests --timeout 600 --label wine-inject --runner tools/check-inject \
		$(INJ)/kernel32_tp_inject.exe
	KERNEL32_TP_TEST_EXPECT=kernel32_tp tools/run-tests --append --timeout $(TEST_TIMEOUT) \
		--label wine-inject --runner "$(WINE_RUN) $(INJECT_EXE)" \
		$(if $(WTEST_MODULE_REF),--module $(CURDIR)/$(WTEST_MODULE_REF)) $(WTEST_INJECT_BIN)

# The demo, unmodified, relinked with -lkernel32_tp ahead of kernel32.
WDEMO := $(B)/demo/tp_demo.exe
$(WDEMO): tools/demo/tp_demo.c $(IMPLIB)
	@mkdir -p $(dir $@)
	$(WCC) -O2 -Wall $(WERROR_FLAG) $(WIN32_DEFS) -o $@ $< -L$(B) -lkernel32_tp -static-libgcc
	tools/check-tp-imports $(CROSS)objdump $@ || { rm -f $@; exit 1; }

$(B)/demo/kernel32_tp.dll: $(DLL)
	@mkdir -p $(dir $@)
	cp $< $@

# The same demo built against kernel32 only, run through kernel32_tp-wine.
WDEMO_PLAIN := $(B)/demo/tp_demo_plain.exe
$(WDEMO_PLAIN): tools/demo/tp_demo.c
	@mkdir -p $(dir $@)
	$(WCC) -O2 -Wall $(WERROR_FLAG) $(WIN32_DEFS) -o $@ $< -static-libgcc

# Runs both under Wine and shows that their callbacks ran on our DLL's pool.
demo-wine: $(WDEMO) $(B)/demo/kernel32_tp.dll $(WDEMO_PLAIN) $(DROPIN) $(DLL)
	$(WINE_RUN) --init
	tools/wine-demo $(CROSS)objdump $(WDEMO)
	XDG_CACHE_HOME=$(CURDIR)/build/cache tools/wine-demo --dropin $(CROSS)objdump $(WDEMO_PLAIN)

demo: demo-wine
endif

# A compiled target depends on its .d too, and each .d is named here as a
# target of its own with an empty recipe (so not an intermediate file): one
# that is missing, in a tree built before they were generated, makes its
# target rebuild once, which writes it.
DEP_FILES := $(LIB_OBJ:.o=.d) $(EMU_OBJ:.o=.d) $(B)/entry/wmain_entry.d $(B)/tests/helper.d \
	$(TEST_BIN:=.d) $(B)/tests-tp/helper.d $(B)/tests-ref/helper.d $(WTEST_TP_BIN:=.d) \
	$(WTEST_REF_BIN:=.d)
$(sort $(DEP_FILES)): ;

# ==== make bench [QUICK=1]: the pool against its peers (docs/performance.md) ====
# Never part of make check; built and run by tools/bench/Makefile.
.PHONY: bench bench-programs bench-io bench-io-programs
bench bench-programs bench-io bench-io-programs:
	@$(MAKE) --no-print-directory -f tools/bench/Makefile $@

# ==== make check-porting: the porting corpus (tests/porting/, docs/porting.md) ====
# Each program, unchanged, built natively with pkg-config's flags only, with
# mingw-w64 against our DLL and against Wine's pool; all three run, and
# their outputs must match (lines beginning with "~" aside).
PORTING_SRC := $(wildcard tests/porting/*.c)
.PHONY: check-porting

check-porting:
	rm -f build/results/porting.*
	-$(MAKE) --no-print-directory OS=linux lib
	-$(MAKE) --no-print-directory OS=win32 lib
	tools/run-porting --timeout $(TEST_TIMEOUT) build/porting $(PORTING_SRC)

asan:
	$(MAKE) --no-print-directory SAN=asan check-native

tsan:
	$(MAKE) --no-print-directory SAN=tsan check-native

# Every mode runs even when an earlier one failed; the summary decides.
check: deps-if-missing
	rm -rf build/results
	-$(MAKE) --no-print-directory check-native
	-$(MAKE) --no-print-directory asan
	-$(MAKE) --no-print-directory SAN=asan check-soak SOAK_SECONDS=60
	-$(MAKE) --no-print-directory tsan
	-$(MAKE) --no-print-directory SAN=tsan check-soak SOAK_SECONDS=60
	-$(MAKE) --no-print-directory OS=win32 check-wine-tp
	-$(MAKE) --no-print-directory OS=win32 check-wine-ref
	-$(MAKE) --no-print-directory OS=win32 check-wine-dropin
	-$(MAKE) --no-print-directory OS=win32 check-inject
	-$(MAKE) --no-print-directory check-porting
	tools/summarize $(OS) $(OS)-asan $(OS)-tsan wine-tp wine-ref wine-dropin wine-inject porting

deps:
	tools/install-deps

# Installs only when something is missing, so a prepared machine stays offline.
deps-if-missing:
	@tools/install-deps --if-missing

install: lib install-inject
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/kernel32_tp/wine
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/libkernel32_tp.so.$(VERSION)
	ln -sf libkernel32_tp.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libkernel32_tp.so.$(SOVERSION)
	ln -sf libkernel32_tp.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libkernel32_tp.so
	install -m 644 $(A) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/kernel32_tp/
	install -m 644 include/wine/*.h $(DESTDIR)$(PREFIX)/include/kernel32_tp/wine/
	install -m 644 $(MAIN_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(ALIAS_DIR)/*.h $(DESTDIR)$(PREFIX)/include/kernel32_tp/
	tools/gen-pc --install "$(PREFIX)" "$(WINE_INCLUDE)" $(VERSION) \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/kernel32_tp.pc
	$(MAKE) --no-print-directory OS=win32 install-wine

# kernel32_tp-wine (bin/, with its man page) and what it runs (lib/kernel32_tp/).
install-wine:
	$(MAKE) --no-print-directory OS=win32 lib
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kernel32_tp \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 build/win32/kernel32_tp-wine $(DESTDIR)$(PREFIX)/bin/
	install -m 644 build/win32/kernel32_tp.dll build/win32/kernel32_tp_start.exe \
		build/win32/wine-pair.awk $(DESTDIR)$(PREFIX)/lib/kernel32_tp/
	install -m 755 build/win32/gen-wine-pair $(DESTDIR)$(PREFIX)/lib/kernel32_tp/
	if [ -f build/win32/kernel32_tp_inject.exe ]; then \
		install -m 644 build/win32/kernel32_tp_inject.exe $(DESTDIR)$(PREFIX)/lib/kernel32_tp/; fi
	install -m 644 tools/wine-dropin/kernel32_tp-wine.1 $(DESTDIR)$(PREFIX)/share/man/man1/

# --inject (docs/inject.md): the launcher and the DLL it loads by default,
# side by side, built with mingw-w64.
.PHONY: install-inject
install-inject:
	$(MAKE) --no-print-directory OS=win32 lib
	install -d $(DESTDIR)$(PREFIX)/lib/kernel32_tp
	install -m 755 build/win32/kernel32_tp_inject.exe build/win32/kernel32_tp.dll \
		$(DESTDIR)$(PREFIX)/lib/kernel32_tp/

clean:
	rm -rf build

# ==== make conformance: Wine's own thread-pool tests (docs/conformance.md) ====
# The test functions of tools/conformance/functions, from Wine's source
# package (tools/fetch-wine-tests, into the build tree, never committed),
# each built into a program of its own (tools/conformance/wrapper.c) for
# three products: so (natively, on libkernel32_tp.so), dll (mingw-w64, under
# Wine, on kernel32_tp.dll) and wine (the same under Wine, on Wine's own
# pool: the reference).  tools/conformance/run runs them one process each
# and prints the table.  A program that does not build is NOT-BUILT (its
# build log says why) and the others still run.
CONF := build/conformance
CONF_LIST := tools/conformance/functions
CONF_SRC := $(CONF)/src/wine
CONF_CROSS ?= x86_64-w64-mingw32-
comma := ,
# "function,file,init" per line of the list (awk: \043 is '#', a comment).
CONF_ROWS := $(shell awk 'NF && substr($$1, 1, 1) != "\043" { print $$2 "," $$1 "," $$3 }' $(CONF_LIST))
CONF_FUNCS := $(foreach r,$(CONF_ROWS),$(word 1,$(subst $(comma), ,$(r))))
$(foreach r,$(CONF_ROWS),$(eval CONF_FILE.$(word 1,$(subst $(comma), ,$(r))) := \
	$(word 2,$(subst $(comma), ,$(r))))$(eval CONF_INIT.$(word 1,$(subst $(comma), ,$(r))) := \
	$(filter-out -,$(word 3,$(subst $(comma), ,$(r))))))
CONF_FILES := $(sort $(foreach f,$(CONF_FUNCS),$(CONF_FILE.$(f))))
CONF_SO_LIB := build/linux/libkernel32_tp.so
CONF_DLL := build/win32/kernel32_tp.dll
CONF_IMPLIB := build/win32/libkernel32_tp.dll.a
CONF_PC := PKG_CONFIG_PATH=$(CURDIR)/build/linux/pkgconfig pkg-config
CONF_DEPS := tools/conformance/wrapper.c tools/conformance/include/wine/test.h \
	$(CONF_SRC)/.complete $(CONF)/gen/.preludes $(CONF_LIST)
# Per program: the Wine test file, its prelude (its own leading #defines)
# and its init, from the list.
conf_file = $(CONF_SRC)/$(CONF_FILE.$(1))
conf_defs = -I$(dir $(call conf_file,$(1))) \
	'-DCONFORMANCE_PRELUDE="$(subst /,_,$(CONF_FILE.$(1))).prelude.h"' \
	'-DCONFORMANCE_FILE="$(notdir $(CONF_FILE.$(1)))"' -DCONFORMANCE_TEST=$(1) \
	$(if $(CONF_INIT.$(1)),-DCONFORMANCE_INIT=$(CONF_INIT.$(1)))
# Wine's code is compiled as Wine compiles it, without our warnings.
# native/ (the CRT's float.h) comes before the compiler's headers,
# native-fallback/ (io.h) after ours, so that the project's own wins.
CONF_NATIVE_CFLAGS = -O1 -g -w -Itools/conformance/include -Itools/conformance/native \
	-I$(CONF)/gen $$($(CONF_PC) --cflags kernel32_tp) -idirafter tools/conformance/native-fallback \
	-idirafter $(CONF_SRC)/include -DCONFORMANCE_NATIVE
# Wine's headers, CRT included (-nostdinc: not mingw-w64's), as Wine builds
# its tests; the compiler's own headers (stdarg.h...) only.
CONF_WIN_CFLAGS = -O1 -g -w -nostdinc -isystem $$($(CONF_CROSS)gcc -print-file-name=include) \
	-Itools/conformance/include -I$(CONF)/gen -I$(CONF_SRC)/include/msvcrt \
	-I$(CONF_SRC)/include -D__WINESRC__
CONF_PROGS := $(foreach f,$(CONF_FUNCS),$(CONF)/so/$(f) $(CONF)/dll/$(f).exe $(CONF)/wine/$(f).exe)
.PHONY: conformance conformance-programs

# The .so and the DLL are built first; one that does not build from the
# current sources leaves its product NOT-BUILT (never a stale library).
conformance: deps-if-missing
	rm -f $(CONF)/so/NOT-BUILT $(CONF)/dll/NOT-BUILT
	tools/fetch-wine-tests $(CONF)/src
	$(MAKE) --no-print-directory OS=linux lib || { mkdir -p $(CONF)/so; \
		echo "libkernel32_tp.so does not build from the current sources" > $(CONF)/so/NOT-BUILT; }
	$(MAKE) --no-print-directory OS=win32 lib || { mkdir -p $(CONF)/dll; \
		echo "kernel32_tp.dll does not build from the current sources" > $(CONF)/dll/NOT-BUILT; }
	-$(MAKE) --no-print-directory -k OS=linux SAN= conformance-programs
	tools/wine-run --server
	tools/conformance/run --list $(CONF_LIST) --expected tools/conformance/expected-failures \
		--dir $(CONF) --timeout $(CONFORMANCE_TIMEOUT)
CONFORMANCE_TIMEOUT ?= 60

conformance-programs: $(CONF_PROGS) $(CONF)/dll/kernel32_tp.dll

$(CONF_SRC)/.complete: tools/fetch-wine-tests
	tools/fetch-wine-tests $(CONF)/src

# The leading #defines of each Wine test file (before its first #include),
# and the few constants of Wine's CRT and winternl.h that the native build
# needs to compile code it then drops (tools/conformance/native/float.h).
$(CONF)/gen/.preludes: $(CONF_SRC)/.complete $(CONF_LIST)
	@mkdir -p $(dir $@)
	for f in $(CONF_FILES); do \
		awk '/^[ \t]*#[ \t]*include/ { exit } /^#define/ { print }' $(CONF_SRC)/$$f \
			> $(CONF)/gen/$$(echo $$f | tr / _).prelude.h || exit 1; \
	done
	{ echo "/* Generated by make conformance from Wine's float.h and winternl.h. */"; \
	  echo "#ifndef CONFORMANCE_NATIVE_DEFS_H"; echo "#define CONFORMANCE_NATIVE_DEFS_H"; \
	  grep -E '^#define _(MCW|EM|RC|PC|SW|IC|DN)_' $(CONF_SRC)/include/msvcrt/float.h; \
	  grep -E '^#define EXCEPTION_WINE_' $(CONF_SRC)/include/winternl.h; \
	  echo "#endif"; } > $(CONF)/gen/native-defs.h
	touch $@

$(CONF)/so/glue.o: tools/conformance/glue.c $(CONF_DEPS) $(CONF_SO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CONF_NATIVE_CFLAGS) -c $< -o $@

$(CONF)/dll/glue.o $(CONF)/wine/glue.o: tools/conformance/glue.c $(CONF_DEPS)
	@mkdir -p $(dir $@)
	$(CONF_CROSS)gcc $(CONF_WIN_CFLAGS) -c $< -o $@

$(CONF)/dll/kernel32_tp.dll: $(CONF_DLL)
	@mkdir -p $(dir $@)
	cp $< $@

# Each program's build output goes to PROGRAM.build.log: the runner shows
# why a program is NOT-BUILT (natively: the symbols the .so lacks).  The
# old program is removed first, so that nothing stale ever runs.
.SECONDEXPANSION:
$(CONF)/so/%: $$(call conf_file,$$*) $(CONF)/so/glue.o $(CONF_DEPS) $(CONF_SO_LIB)
	@rm -f $@; echo "  CONF    $@"
	@{ $(CC) $(CONF_NATIVE_CFLAGS) $(call conf_defs,$*) -c tools/conformance/wrapper.c -o $@.o && \
	   $(CC) -o $@ $@.o $(CONF)/so/glue.o $$($(CONF_PC) --libs kernel32_tp) -lm; } \
		> $@.build.log 2>&1 || { echo "  NOT-BUILT $@ (see $@.build.log)"; rm -f $@; exit 1; }

# Our import library ahead of ntdll and kernel32, and the wrapper's
# GetProcAddress redirect: our DLL serves every thread-pool name.
$(CONF)/dll/%.exe: $$(call conf_file,$$*) $(CONF)/dll/glue.o $(CONF_DEPS) $(CONF_IMPLIB)
	@rm -f $@; echo "  CONF    $@"
	@{ $(CONF_CROSS)gcc $(CONF_WIN_CFLAGS) $(call conf_defs,$*) -DCONFORMANCE_REDIRECT \
		-c tools/conformance/wrapper.c -o $@.o && \
	   $(CONF_CROSS)gcc -o $@ $@.o $(CONF)/dll/glue.o $(CONF_IMPLIB) -lntdll -lucrtbase -static && \
	   tools/check-tp-imports $(CONF_CROSS)objdump $@; } \
		> $@.build.log 2>&1 || { echo "  NOT-BUILT $@ (see $@.build.log)"; rm -f $@; exit 1; }

$(CONF)/wine/%.exe: $$(call conf_file,$$*) $(CONF)/wine/glue.o $(CONF_DEPS)
	@rm -f $@; echo "  CONF    $@"
	@{ $(CONF_CROSS)gcc $(CONF_WIN_CFLAGS) $(call conf_defs,$*) \
		-c tools/conformance/wrapper.c -o $@.o && \
	   $(CONF_CROSS)gcc -o $@ $@.o $(CONF)/wine/glue.o -lntdll -lucrtbase -static; } \
		> $@.build.log 2>&1 || { echo "  NOT-BUILT $@ (see $@.build.log)"; rm -f $@; exit 1; }

# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel32_tp: one GNU Makefile for every product.
#
#   make                 libkernel32_tp.so/.a + kernel32_tp.pc (OS=linux, the default)
#   make demo            builds the demo, an unmodified Windows program, and runs it
#   make check           spec checks, the test suite natively, under ASan/UBSan and TSan
#   make asan | tsan     the suite under one sanitizer only
#   make bench [QUICK=1] the pool measured against its peers (docs/performance.md)
#   make install PREFIX=/usr/local DESTDIR=
#   make deps            installs the build and test dependencies (apt-get; root)
#
# Sources come by wildcard: kernel32_tp/*.c (the core) + kernel32_tp/$(OS)/*.c.

OS ?= linux
SAN ?=
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
SOVERSION := 0
TEST_TIMEOUT ?= 120

WINE_INCLUDE ?= /usr/include/wine/wine/windows

ifeq ($(SAN),asan)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),tsan)
SAN_FLAGS := -fsanitize=thread
else
SAN_FLAGS :=
endif

B := build/$(OS)$(if $(SAN),-$(SAN))
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

# What any Windows source needs to be compiled on Linux against Wine's headers.
# DECLSPEC_HIDDEN= : Wine marks API declarations hidden on ELF; users must not.
WIN_CFLAGS := -I$(CURDIR)/include/wine -I$(CURDIR)/include -I$(WINE_INCLUDE) \
	-fshort-wchar -D_WIN32 -DWIN32 -D_WIN64 -DWIN64

CORE_SRC := $(wildcard kernel32_tp/*.c)
OS_SRC := $(wildcard kernel32_tp/$(OS)/*.c)
SPECS := spec/kernel32_tp.spec spec/linux_handles.spec
LIB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRC) $(OS_SRC))

# The library itself: exported declarations get default visibility, everything
# else is hidden, and the version script from the spec is the final filter.
LIB_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
	$(WIN_CFLAGS) '-DDECLSPEC_HIDDEN=__attribute__((visibility("default")))' \
	-Ikernel32_tp -Ikernel32_tp/$(OS) -D_REENTRANT $(SAN_FLAGS) $(EXTRA_CFLAGS)

TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(WIN_CFLAGS) -DDECLSPEC_HIDDEN= \
	-Itests $(SAN_FLAGS) $(EXTRA_CFLAGS)
TEST_LIBS := -lcmocka -lpthread -ldl -lm

SO := $(B)/libkernel32_tp.so
A := $(B)/libkernel32_tp.a
MAP := $(B)/kernel32_tp.map
PC := $(B)/pkgconfig/kernel32_tp.pc

TEST_SRC := $(filter-out tests/helper.c,$(wildcard tests/test_*.c))
TEST_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
TEST_MODULE := $(B)/tests/libtp_test_module.so

.PHONY: all lib demo check check-native check-spec asan tsan install clean deps deps-if-missing tests
.PHONY: check-wine check-wine-tp check-wine-ref wine-tests-tp wine-tests-ref demo-wine
.PHONY: check-wine-dropin wine-tests-dropin install-wine
.DELETE_ON_ERROR:

all: lib

ifneq ($(OS),win32)
# ==== OS=linux: libkernel32_tp.so/.a, the suite natively ====================
lib: $(SO) $(A) $(PC)

$(B)/obj/%.o: %.c kernel32_tp/*.h kernel32_tp/$(OS)/*.h include/*.h include/wine/*.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(MAP): $(SPECS) tools/spec2map tools/spec.awk
	@mkdir -p $(dir $@)
	tools/spec2map $(SPECS) > $@

# --no-undefined-version: a spec entry without a definition fails the link.
$(SO): $(LIB_OBJ) $(MAP)
	$(CC) -shared -o $@ $(LIB_OBJ) -Wl,-soname,libkernel32_tp.so.$(SOVERSION) \
		-Wl,--version-script=$(MAP) -Wl,--no-undefined-version -Wl,--no-undefined \
		-Wl,-z,defs $(SAN_FLAGS) -lpthread -ldl
	ln -sf libkernel32_tp.so $(B)/libkernel32_tp.so.$(SOVERSION)
	nm -D --defined-only $@ | awk '$$2 ~ /^[TWDBRV]$$/ && $$3 !~ /^KERNEL32_TP_/ { sub(/@.*/, "", $$3); print $$3 }' > $(B)/exports.txt
	tools/check-spec --sources kernel32_tp --sources kernel32_tp/$(OS) --exports $(B)/exports.txt $(SPECS)

$(A): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

# kernel32_tp.pc usable straight from the build tree.
$(PC): tools/gen-pc Makefile
	@mkdir -p $(dir $@)
	tools/gen-pc --build "$(CURDIR)" "$(CURDIR)/$(B)" "$(WINE_INCLUDE)" $(VERSION) > $@

check-spec: $(SO)

# ---- the demo: an unmodified Windows program built with pkg-config ----------
DEMO := $(B)/demo/tp_demo
$(DEMO): tools/demo/tp_demo.c $(SO) $(PC)
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Werror $$(PKG_CONFIG_PATH=$(CURDIR)/$(B)/pkgconfig pkg-config --cflags kernel32_tp) \
		-o $@ $< $$(PKG_CONFIG_PATH=$(CURDIR)/$(B)/pkgconfig pkg-config --libs kernel32_tp) $(SAN_FLAGS)

demo: deps-if-missing
	$(MAKE) --no-print-directory $(DEMO)
	LD_LIBRARY_PATH=$(CURDIR)/$(B) $(DEMO)

# The same demo under Wine on kernel32_tp.dll (see the OS=win32 section).
demo-wine: deps-if-missing
	$(MAKE) --no-print-directory OS=win32 demo-wine

# ---- tests -----------------------------------------------------------------
$(B)/tests/helper.o: tests/helper.c tests/helper.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(B)/tests/%: tests/%.c $(B)/tests/helper.o $(A) tests/helper.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(B)/tests/helper.o $(A) $(TEST_LIBS)

# A tiny module for the LoadLibrary / FreeLibraryWhenCallbackReturns tests.
$(TEST_MODULE): tests/module/test_module.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -shared -fPIC -o $@ $<

tests: $(TEST_BIN) $(TEST_MODULE)

# Runs every test binary under a timeout; prints one summary line per file.
# -k: a test file that does not build shows as NOT-BUILT; the others still run.
check-native: lib
	-$(MAKE) --no-print-directory -k tests
	tools/run-tests --timeout $(TEST_TIMEOUT) --label $(OS)$(if $(SAN),-$(SAN)) \
		--module $(TEST_MODULE) $(TEST_BIN)
else
# ==== OS=win32: kernel32_tp.dll, and the suite under Wine ======================
#   make OS=win32 [CROSS=x86_64-w64-mingw32-]   kernel32_tp.dll + libkernel32_tp.dll.a
#   make OS=win32 check-wine-tp    the tests linked to our DLL, run under wine64
#   make OS=win32 check-wine-ref   the tests linked to kernel32 only: Wine's own pool
#   make OS=win32 demo-wine        the demo relinked with -lkernel32_tp, under wine64
# mingw-w64's own headers throughout (never Wine's); include/ only for kernel32_tp.h.
# See docs/conformance.md.
CROSS ?= x86_64-w64-mingw32-
WCC := $(CROSS)gcc
# Windows 10 API level: the V3 environment, SetThreadpoolTimerEx and friends.
WIN32_DEFS := -D_WIN32_WINNT=0x0a00
# _KERNEL32_: mingw-w64 declares kernel32's API dllimport unless we are kernel32;
# our definitions of the same names must not follow a dllimport declaration.
DLL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror $(WIN32_DEFS) -D_KERNEL32_ \
	'-DKERNEL32_TP_API=' -Iinclude -Ikernel32_tp -Ikernel32_tp/win32 $(EXTRA_CFLAGS)
WIN_SPEC := spec/kernel32_tp.spec
DLL := $(B)/kernel32_tp.dll
IMPLIB := $(B)/libkernel32_tp.dll.a
DEF := $(B)/kernel32_tp.def
# What the DLL may import: system DLLs only (no libgcc_s, no libwinpthread).
DLL_IMPORTS_OK := KERNEL32.dll msvcrt.dll
# The Wine drop-in (docs/wine-dropin.md): kernel32_tp-wine, laid out in $(B)
# as it is installed in $(PREFIX)/lib/kernel32_tp (the script in bin/).
DROPIN := $(B)/kernel32_tp-wine $(B)/gen-wine-pair $(B)/wine-pair.awk $(B)/kernel32_tp_start.exe

lib: $(DLL) $(DROPIN)

$(B)/obj/%.o: %.c kernel32_tp/*.h kernel32_tp/win32/*.h include/*.h
	@mkdir -p $(dir $@)
	$(WCC) $(DLL_CFLAGS) -c $< -o $@

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
	tools/check-spec --sources kernel32_tp --sources kernel32_tp/win32 \
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
	$(WCC) -std=gnu11 -O2 -Wall -Wextra -Werror $(WIN32_DEFS) -o $@ $< -lntdll -static
	@bad=$$($(CROSS)objdump -p $@ | awk '/DLL Name:/ { print $$3 }' | \
		grep -vixF -e KERNEL32.dll -e ntdll.dll -e msvcrt.dll); \
	if [ -n "$$bad" ]; then echo "$@ imports $$bad"; rm -f $@; exit 1; fi

# ---- the suite, cross-built: wine-tp (our DLL) and wine-ref (Wine's pool) ----
# cmocka for Windows, built from Debian's source package into the build tree.
CMOCKA_WIN := $(B)/cmocka
# tests/win32_compat.h: what the tests use that mingw-w64's headers lack.
WTEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(WIN32_DEFS) -Itests -Iinclude \
	-I$(CMOCKA_WIN)/include -include tests/win32_compat.h $(EXTRA_CFLAGS)
WTEST_SRC := $(filter-out tests/helper.c,$(wildcard tests/test_*.c))
# Tests of the Linux handle layer: under Wine they exercise Wine's kernel32,
# which makes them the reference for that layer (wine-ref).  Linked to our DLL
# they would test nothing of ours, so wine-tp leaves them out.
HANDLE_TESTS := test_sync test_handles test_critsec test_thread test_module test_files
# test_os tests the platform layer itself, not an API: native only.
WTEST_TP_SRC := $(filter-out $(patsubst %,tests/%.c,$(HANDLE_TESTS) test_os),$(WTEST_SRC))
WTEST_REF_SRC := $(filter-out tests/test_os.c,$(WTEST_SRC))
WTEST_TP_BIN := $(patsubst tests/%.c,$(B)/tests-tp/%.exe,$(WTEST_TP_SRC))
WTEST_REF_BIN := $(patsubst tests/%.c,$(B)/tests-ref/%.exe,$(WTEST_REF_SRC))
WTEST_MODULE_SRC := $(wildcard tests/module/test_module.c)
WTEST_MODULE_TP := $(if $(WTEST_MODULE_SRC),$(B)/tests-tp/tp_test_module.dll)
WTEST_MODULE_REF := $(if $(WTEST_MODULE_SRC),$(B)/tests-ref/tp_test_module.dll)
WINE_RUN := tools/wine-run
export WINEPREFIX ?= $(CURDIR)/build/wineprefix

$(CMOCKA_WIN)/lib/libcmocka.a:
	tools/build-cmocka-win $(CMOCKA_WIN) $(CROSS)

$(B)/tests-tp/helper.o $(B)/tests-ref/helper.o: tests/helper.c tests/helper.h include/*.h \
		tests/win32_compat.h $(CMOCKA_WIN)/lib/libcmocka.a
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
$(B)/tests-tp/%.exe: tests/%.c $(B)/tests-tp/helper.o $(IMPLIB) tests/helper.h tests/win32_compat.h
	@mkdir -p $(dir $@); rm -f $@
	$(WCC) $(WTEST_CFLAGS) -o $@ $< $(B)/tests-tp/helper.o -L$(CMOCKA_WIN)/lib -lcmocka \
		$(IMPLIB) -lntdll -static
	tools/check-tp-imports $(CROSS)objdump $@ || { rm -f $@; exit 1; }

$(B)/tests-tp/kernel32_tp.dll: $(DLL)
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/tests-ref/%.exe: tests/%.c $(B)/tests-ref/helper.o tests/helper.h tests/win32_compat.h
	@mkdir -p $(dir $@); rm -f $@
	$(WCC) $(WTEST_CFLAGS) -DKERNEL32_TP_TEST_REFERENCE -o $@ $< $(B)/tests-ref/helper.o \
		-L$(CMOCKA_WIN)/lib -lcmocka -lntdll -static

$(B)/tests-tp/tp_test_module.dll $(B)/tests-ref/tp_test_module.dll: $(WTEST_MODULE_SRC)
	@mkdir -p $(dir $@)
	$(WCC) $(WTEST_CFLAGS) -shared -o $@ $< -static

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
DROPIN_PROBE_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(WIN32_DEFS)

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

# The demo, unmodified, relinked with -lkernel32_tp ahead of kernel32.
WDEMO := $(B)/demo/tp_demo.exe
$(WDEMO): tools/demo/tp_demo.c $(IMPLIB)
	@mkdir -p $(dir $@)
	$(WCC) -O2 -Wall -Werror $(WIN32_DEFS) -o $@ $< -L$(B) -lkernel32_tp -static-libgcc
	tools/check-tp-imports $(CROSS)objdump $@ || { rm -f $@; exit 1; }

$(B)/demo/kernel32_tp.dll: $(DLL)
	@mkdir -p $(dir $@)
	cp $< $@

# The same demo built against kernel32 only, run through kernel32_tp-wine.
WDEMO_PLAIN := $(B)/demo/tp_demo_plain.exe
$(WDEMO_PLAIN): tools/demo/tp_demo.c
	@mkdir -p $(dir $@)
	$(WCC) -O2 -Wall -Werror $(WIN32_DEFS) -o $@ $< -static-libgcc

# Runs both under Wine and shows that their callbacks ran on our DLL's pool.
demo-wine: $(WDEMO) $(B)/demo/kernel32_tp.dll $(WDEMO_PLAIN) $(DROPIN) $(DLL)
	$(WINE_RUN) --init
	tools/wine-demo $(CROSS)objdump $(WDEMO)
	XDG_CACHE_HOME=$(CURDIR)/build/cache tools/wine-demo --dropin $(CROSS)objdump $(WDEMO_PLAIN)

demo: demo-wine
endif

# ==== make bench [QUICK=1]: the pool against its peers (docs/performance.md) ====
# Never part of make check.  tools/bench/tp_bench.c is built on our .so and on
# WinPR natively, and with mingw-w64 on our DLL and on Wine's own pool (run
# under Wine); libuv, GLib and the floor have their own small sources.  A
# provider that does not build is reported and skipped.
BENCH := build/bench
BENCH_CROSS ?= x86_64-w64-mingw32-
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror
BENCH_TP_PC := PKG_CONFIG_PATH=$(CURDIR)/build/linux/pkgconfig pkg-config
BENCH_PROGS := $(BENCH)/tp_bench $(BENCH)/winpr_bench $(BENCH)/uv_bench $(BENCH)/glib_bench \
	$(BENCH)/floor_bench $(BENCH)/wine-tp/tp_bench.exe $(BENCH)/wine-tp/kernel32_tp.dll \
	$(BENCH)/wine/tp_bench.exe
BENCH_DEPS := tools/bench/bench.h tools/bench/bench_win32.h
.PHONY: bench bench-programs

bench:
	tools/install-deps --if-missing --bench
	-$(MAKE) --no-print-directory OS=linux lib
	-$(MAKE) --no-print-directory OS=win32 lib
	-$(MAKE) --no-print-directory -k bench-programs
	tools/bench/run-bench $(if $(QUICK),--quick) $(BENCH)
	-$(MAKE) --no-print-directory -k bench-io-programs
	tools/bench/run-io-bench $(if $(QUICK),--quick) $(BENCH)

bench-programs: $(BENCH_PROGS)

$(BENCH)/bench.o: tools/bench/bench.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(BENCH)/floor_bench: tools/bench/floor_bench.c $(BENCH)/bench.o
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH)/bench.o -lpthread

$(BENCH)/uv_bench: tools/bench/uv_bench.c $(BENCH)/bench.o
	$(CC) $(BENCH_CFLAGS) $$(pkg-config --cflags libuv) -o $@ $< $(BENCH)/bench.o \
		$$(pkg-config --libs libuv)

$(BENCH)/glib_bench: tools/bench/glib_bench.c $(BENCH)/bench.o
	$(CC) $(BENCH_CFLAGS) $$(pkg-config --cflags glib-2.0) -o $@ $< $(BENCH)/bench.o \
		$$(pkg-config --libs glib-2.0)

# WinPR's headers do not build with -Wextra -Werror: included as system headers.
$(BENCH)/winpr_bench: tools/bench/tp_bench.c $(BENCH)/bench.o $(BENCH_DEPS)
	$(CC) $(BENCH_CFLAGS) -DBENCH_WINPR $$(pkg-config --cflags winpr2 | sed 's/-I/-isystem /g') \
		-o $@ $< $(BENCH)/bench.o $$(pkg-config --libs winpr2)

$(BENCH)/tp_bench: tools/bench/tp_bench.c $(BENCH)/bench.o $(BENCH_DEPS) \
		build/linux/libkernel32_tp.so build/linux/pkgconfig/kernel32_tp.pc
	$(CC) $(BENCH_CFLAGS) $$($(BENCH_TP_PC) --cflags kernel32_tp) -o $@ $< $(BENCH)/bench.o \
		$$($(BENCH_TP_PC) --libs kernel32_tp)

# Windows: bench.c is compiled into each program (no shared object file).
$(BENCH)/wine/tp_bench.exe: tools/bench/tp_bench.c tools/bench/bench.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(BENCH_CROSS)gcc $(BENCH_CFLAGS) -D_WIN32_WINNT=0x0a00 -o $@ $< tools/bench/bench.c -static

$(BENCH)/wine-tp/tp_bench.exe: tools/bench/tp_bench.c tools/bench/bench.c $(BENCH_DEPS) \
		build/win32/libkernel32_tp.dll.a
	@mkdir -p $(dir $@)
	$(BENCH_CROSS)gcc $(BENCH_CFLAGS) -D_WIN32_WINNT=0x0a00 -o $@ $< tools/bench/bench.c \
		build/win32/libkernel32_tp.dll.a -static

$(BENCH)/wine-tp/kernel32_tp.dll: build/win32/kernel32_tp.dll
	@mkdir -p $(dir $@)
	cp $< $@

# Thread-pool I/O (docs/io.md): io_bench.c on the same providers as tp_bench.c
# (natively on our .so, its own pipes and files), and libuv's streams and
# uv_fs_read.  make bench runs them last; make bench-io alone.
BENCH_IO_PROGS := $(BENCH)/io_bench $(BENCH)/uv_io_bench $(BENCH)/wine/io_bench.exe \
	$(BENCH)/wine-tp/io_bench.exe $(BENCH)/wine-tp/kernel32_tp.dll
.PHONY: bench-io bench-io-programs

bench-io:
	-$(MAKE) --no-print-directory OS=linux lib
	-$(MAKE) --no-print-directory OS=win32 lib
	-$(MAKE) --no-print-directory -k bench-io-programs
	tools/bench/run-io-bench $(if $(QUICK),--quick) $(BENCH)

bench-io-programs: $(BENCH_IO_PROGS)

$(BENCH)/io_bench: tools/bench/io_bench.c $(BENCH)/bench.o build/linux/libkernel32_tp.so \
		build/linux/pkgconfig/kernel32_tp.pc
	$(CC) $(BENCH_CFLAGS) $$($(BENCH_TP_PC) --cflags kernel32_tp) -o $@ $< $(BENCH)/bench.o \
		$$($(BENCH_TP_PC) --libs kernel32_tp)

$(BENCH)/uv_io_bench: tools/bench/uv_io_bench.c $(BENCH)/bench.o
	$(CC) $(BENCH_CFLAGS) $$(pkg-config --cflags libuv) -o $@ $< $(BENCH)/bench.o \
		$$(pkg-config --libs libuv)

$(BENCH)/wine/io_bench.exe: tools/bench/io_bench.c tools/bench/bench.c tools/bench/bench.h
	@mkdir -p $(dir $@)
	$(BENCH_CROSS)gcc $(BENCH_CFLAGS) -D_WIN32_WINNT=0x0a00 -o $@ $< tools/bench/bench.c -static

$(BENCH)/wine-tp/io_bench.exe: tools/bench/io_bench.c tools/bench/bench.c tools/bench/bench.h \
		build/win32/libkernel32_tp.dll.a
	@mkdir -p $(dir $@)
	$(BENCH_CROSS)gcc $(BENCH_CFLAGS) -D_WIN32_WINNT=0x0a00 -o $@ $< tools/bench/bench.c \
		build/win32/libkernel32_tp.dll.a -static

asan:
	$(MAKE) --no-print-directory SAN=asan check-native

tsan:
	$(MAKE) --no-print-directory SAN=tsan check-native

# Every mode runs even when an earlier one failed; the summary decides.
check: deps-if-missing
	rm -rf build/results
	-$(MAKE) --no-print-directory check-native
	-$(MAKE) --no-print-directory asan
	-$(MAKE) --no-print-directory tsan
	-$(MAKE) --no-print-directory OS=win32 check-wine-tp
	-$(MAKE) --no-print-directory OS=win32 check-wine-ref
	-$(MAKE) --no-print-directory OS=win32 check-wine-dropin
	tools/summarize $(OS) $(OS)-asan $(OS)-tsan wine-tp wine-ref wine-dropin

deps:
	tools/install-deps

# Installs only when something is missing, so a prepared machine stays offline.
deps-if-missing:
	@tools/install-deps --if-missing

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/kernel32_tp/wine
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/libkernel32_tp.so.$(VERSION)
	ln -sf libkernel32_tp.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libkernel32_tp.so.$(SOVERSION)
	ln -sf libkernel32_tp.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libkernel32_tp.so
	install -m 644 $(A) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/kernel32_tp/
	install -m 644 include/wine/*.h $(DESTDIR)$(PREFIX)/include/kernel32_tp/wine/
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

clean:
	rm -rf build

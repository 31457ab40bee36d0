# SPDX-License-Identifier: LGPL-2.1-or-later
# The soak (tests/soak/soak.c, docs/reliability.md), included by the Makefile.
#
#   make soak [SAN=asan|tsan] [SOAK_SECONDS=600]   builds it on the .so and runs it
#   make check-soak SAN=... SOAK_SECONDS=60        the same, counted in the mode's results
#                                                  (make check runs it in linux-asan and
#                                                  linux-tsan)
# Built natively on the .so of the build (the sanitizer's, with SAN=), found
# through its run path.  SOAK_SEED= replays a run (the seed is printed).
SOAK_SECONDS ?= 600
SOAK_BIN := $(B)/soak/soak
.PHONY: soak check-soak

$(SOAK_BIN): tests/soak/soak.c $(SO) include/*.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -L$(B) -lkernel32_tp -Wl,-rpath,$(CURDIR)/$(B) -lpthread

soak: lib
	$(MAKE) --no-print-directory $(SOAK_BIN)
	SOAK_SECONDS=$(SOAK_SECONDS) $(SOAK_BIN)

# Its time bound: the run, then up to two minutes for the drains and
# for workers and services to retire.
check-soak: lib
	-$(MAKE) --no-print-directory $(SOAK_BIN)
	SOAK_SECONDS=$(SOAK_SECONDS) tools/run-tests --append --timeout $$(($(SOAK_SECONDS) + 180)) \
		--label $(OS)$(if $(SAN),-$(SAN)) $(SOAK_BIN)

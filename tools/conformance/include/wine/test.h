/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <wine/test.h> for the conformance programs: Wine's own (from the fetched
 * source tree, found after this directory), then its START_TEST turned into
 * an unused static function, so that only the function the program names in
 * its test list is compiled in (tools/conformance/wrapper.c).
 */
#include_next <wine/test.h>
#undef START_TEST
#define START_TEST(name) static void conformance_unused_##name(void)

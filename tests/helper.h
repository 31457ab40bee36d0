/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared test helpers.  Tests are ordinary Windows programs: the same
 * sources build natively against kernel32_tp and with mingw-w64 against our
 * DLL or the system's kernel32 (the reference).
 *
 * Rules (see docs/conformance.md): callbacks never call cmocka's assert_*; they
 * record through a probe and the test thread asserts.  Order with gates and
 * events, never with Sleep.
 */
#ifndef KERNEL32_TP_TEST_HELPER_H
#define KERNEL32_TP_TEST_HELPER_H

#include <windows.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#if !defined(__MINGW32__)
/* Wine's headers need _WIN32 on Linux; cmocka must not take it for ILP32. */
#define _UINTPTR_T_DEFINED
#endif
#include <cmocka.h>

#include "kernel32_tp.h"

/* Bounded waits: TP_TEST_TIMEOUT_MS x KERNEL32_TP_TEST_TIMEOUT_MULT. */
#define TP_TEST_TIMEOUT_MS 10000
DWORD helper_timeout_ms(void);

/* A probe: callbacks count hits and record the first failed check. */
struct probe {
    volatile LONG hits;
    volatile LONG failed;
    const char *file;
    int line;
    const char *expr;
};
#define PROBE_INIT { 0, 0, NULL, 0, NULL }
#define PROBE_CHECK(p, e) probe_check((p), !!(e), #e, __FILE__, __LINE__)
void probe_check(struct probe *p, int ok, const char *expr, const char *file, int line);
void probe_hit(struct probe *p);
LONG probe_hits(struct probe *p);
void probe_assert_clean_at(struct probe *p, const char *file, int line);
#define probe_assert_clean(p) probe_assert_clean_at((p), __FILE__, __LINE__)

/* A gate: a semaphore a callback waits on until the test opens it. */
struct gate {
    HANDLE sem;
};
void gate_init(struct gate *g);
void gate_open(struct gate *g, LONG count);
BOOL gate_pass(struct gate *g);   /* from callbacks: FALSE on timeout */
void gate_destroy(struct gate *g);

/* Waits for h with the bounded timeout and asserts it was signalled. */
#define helper_wait(h) helper_wait_at((h), __FILE__, __LINE__)
void helper_wait_at(HANDLE h, const char *file, int line);
/* Asserts that h stays unsignalled for ms milliseconds. */
#define helper_wait_not(h, ms) helper_wait_not_at((h), (ms), __FILE__, __LINE__)
void helper_wait_not_at(HANDLE h, DWORD ms, const char *file, int line);

/* Spins (yielding) until *value reaches at least target; FALSE on timeout. */
BOOL helper_wait_count(volatile LONG *value, LONG target);

/*
 * A private pool and a V3 environment naming it, for one test:
 * use helper_setup_pool/helper_teardown_pool as setup/teardown and
 * helper_env(state) in the test.  Teardown closes the pool and checks that
 * no thread-pool object leaked (kernel32_tp only).
 */
struct helper_pool {
    PTP_POOL pool;
    TP_CALLBACK_ENVIRON env;
};
int helper_setup_pool(void **state);
int helper_teardown_pool(void **state);
PTP_CALLBACK_ENVIRON helper_env(void **state);

/* Implementation under test: 1 for kernel32_tp, 0 for the reference.  A
 * reference build finds out at run time (it is kernel32_tp under
 * kernel32_tp-wine). */
int helper_is_kernel32_tp(void);

/*
 * Known differences, visibly counted (a "todo:" line each; the summary
 * counts them).  TODO_TP skips the check on kernel32_tp only; TODO_REF on the
 * reference only.  Usage: TODO_TP("why") assert_int_equal(a, b);
 */
int helper_todo(int applies, const char *why, const char *file, int line);
#define TODO_TP(why) if (helper_todo(helper_is_kernel32_tp(), (why), __FILE__, __LINE__)) {} else
#define TODO_REF(why) if (helper_todo(!helper_is_kernel32_tp(), (why), __FILE__, __LINE__)) {} else

/*
 * Whether ntdll's Tp* names are served by the implementation that serves
 * kernel32's.  Always so, except under kernel32_tp-wine's override pair
 * (wine-dropin), which serves kernel32 and kernelbase but never ntdll: a
 * test that hands kernel32's objects (a pool in helper_env) to ntdll's
 * names starts with SKIP_UNLESS_NTDLL_MATCHES(), a visible known difference.
 */
int helper_ntdll_matches(void);
#define SKIP_UNLESS_NTDLL_MATCHES() do { \
        if (!helper_ntdll_matches()) { \
            helper_todo(1, "wine-dropin: ntdll's Tp* names stay Wine's under the override pair", \
                        __FILE__, __LINE__); \
            skip(); \
        } \
    } while (0)

/* Number of live thread-pool objects in kernel32_tp; -1 on the reference. */
LONG helper_live_objects(void);
/* Worker threads of a pool in kernel32_tp; 0 on the reference. */
DWORD helper_pool_threads(PTP_POOL pool);
#ifdef KERNEL32_TP_TEST_REFERENCE
/* Linked to kernel32 only: kernel32_tp's introspection, looked up at run
 * time when kernel32_tp.dll serves kernel32 (wine-dropin); 0 otherwise. */
LONGLONG helper_callbacks_run(void);
#define tp_debug_callbacks_run() helper_callbacks_run()
#endif

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checked mode (check.c, docs/reliability.md): with KERNEL32_TP_CHECK=1
 * in the environment (on by default in the sanitizer builds) every entry
 * point validates the handle it was given before touching it, and misuse
 * stops the process with one line naming the call, the object and what was
 * wrong.  Without it each hook costs one load and one untaken branch.
 *
 * Included by tp_private.h; the hooks are the only interface.
 */
#ifndef KERNEL32_TP_CHECK_H
#define KERNEL32_TP_CHECK_H

/* What a handle is: the object kinds (enum tp_object_type), then the rest. */
enum tp_check_kind {
    TP_CHECK_SIMPLE = TP_OBJECT_SIMPLE,
    TP_CHECK_WORK = TP_OBJECT_WORK,
    TP_CHECK_TIMER = TP_OBJECT_TIMER,
    TP_CHECK_WAIT = TP_OBJECT_WAIT,
    TP_CHECK_IO = TP_OBJECT_IO,
    TP_CHECK_POOL,
    TP_CHECK_GROUP,
    TP_CHECK_INSTANCE,
};

/* What an entry point does with the handle. */
enum tp_check_op {
    TP_CHECK_USE,       /* any use of a live object */
    TP_CHECK_CLOSE,     /* Close* / Tp*Release*: the user's handle ends here */
    TP_CHECK_DRAIN,     /* waits for the object's callbacks: must not be one of them */
};

extern int tp_check_enabled;    /* (c) after library start: KERNEL32_TP_CHECK */

/* The entry point's check: stops the process on misuse, else returns. */
void tp_check_call(const char *func, const void *api, enum tp_check_kind kind,
                   enum tp_check_op op);
#define TP_CHECK(api, kind, op) \
    do { \
        if (__builtin_expect(tp_check_enabled, 0)) \
            tp_check_call(__func__, (api), (kind), (op)); \
    } while (0)

/* The pool and cleanup group a Create* call's environment names. */
void tp_check_environment(const char *func, const TP_CALLBACK_ENVIRON *env);
#define TP_CHECK_ENV(env) \
    do { \
        if (__builtin_expect(tp_check_enabled, 0)) \
            tp_check_environment(__func__, (env)); \
    } while (0)

/* An instance handed to an instance call (tp_instance_from_api). */
void tp_check_instance(const char *func, const void *api);

/* Lifetime events, called only when tp_check_enabled. */
void tp_check_created(const void *handle, enum tp_check_kind kind);
void tp_check_group_released(const struct tp_object *obj);
void tp_check_instance_enter(const struct tp_instance *inst);
void tp_check_instance_leave(const struct tp_instance *inst);
/* Keeps the memory of a dead object, pool or group in the quarantine
 * instead of freeing it; the quarantine frees it later. */
void tp_check_object_freed(struct tp_object *obj);
void tp_check_memory_freed(void *memory, size_t size);

#endif

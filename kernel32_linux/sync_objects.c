/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: events, semaphores and mutexes, and the names that
 * objects of the process share (Create* of an existing name, Open*).  Their
 * exports, the handle actions of os.h (os_handle_set_event, ...), and the
 * abandonment of the mutexes of a thread that ends.
 *
 * These objects live in user space: setting an event or releasing a
 * semaphore nobody waits for is a lookup, an uncontended lock and a few
 * stores (no system call); waiters are handed the object under its lock by
 * handle_object_wake_locked (sync_wait.c).
 *
 * Names live in one table for the process, guarded by the name lock (N);
 * a name disappears with the last handle to its object, as on Windows.
 * Locks: N, then obj->lock (O), then a thread record's lock (D).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "handle.h"

struct handle_event {
    struct handle_object obj;       /* (c) first */
    BOOL manual_reset;              /* (c) */
    BOOL signalled;                 /* (O) */
};

struct handle_semaphore {
    struct handle_object obj;       /* (c) first */
    LONG count;                     /* (O) */
    LONG max;                       /* (c) */
};

struct handle_mutex {
    struct handle_object obj;       /* (c) first */
    DWORD owner_tid;                /* (O) 0 when free */
    struct handle_thread *owner_ts; /* (O) the owner's record, when it has one */
    LONG recursion;                 /* (O) acquisitions by the owner */
    BOOL abandoned;                 /* (O) the last owner ended without releasing */
    struct list owned_entry;        /* (D of owner_ts) on owner_ts->owned_mutexes */
};

static struct handle_event *impl_from_event(struct handle_object *obj)
{
    return (struct handle_event *)obj;
}

static struct handle_semaphore *impl_from_semaphore(struct handle_object *obj)
{
    return (struct handle_semaphore *)obj;
}

static struct handle_mutex *impl_from_mutex(struct handle_object *obj)
{
    return (struct handle_mutex *)obj;
}

/* ---- names --------------------------------------------------------------- */

#define NAME_BUCKETS 256

static struct os_lock name_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_N);   /* N */
static struct list name_buckets[NAME_BUCKETS];                  /* (N) */
static BOOL name_buckets_ready;                                  /* (N) */

static struct list *name_bucket_locked(const char *name)
{
    unsigned int hash = 2166136261u;
    unsigned int i;

    if (!name_buckets_ready) {
        for (i = 0; i < NAME_BUCKETS; i++)
            list_init(&name_buckets[i]);
        name_buckets_ready = TRUE;
    }
    for (; *name; name++)
        hash = (hash ^ (unsigned char)*name) * 16777619u;
    return &name_buckets[hash % NAME_BUCKETS];
}

static struct handle_object *name_find_locked(const char *name)
{
    struct list *bucket = name_bucket_locked(name), *node;

    for (node = bucket->next; node != bucket; node = node->next) {
        struct handle_object *obj = LIST_ENTRY(node, struct handle_object, name_entry);

        if (!strcmp(obj->name, name))
            return obj;
    }
    return NULL;
}

void handle_name_handle_opened(struct handle_object *obj)
{
    os_lock_acquire(&name_lock);
    obj->name_handles++;
    os_lock_release(&name_lock);
}

void handle_name_handle_closed(struct handle_object *obj)
{
    os_lock_acquire(&name_lock);
    if (--obj->name_handles == 0)
        list_remove(&obj->name_entry);
    os_lock_release(&name_lock);
}

/*
 * Checks a name and makes the table's key of it, in place: "Local\" is
 * this session's namespace, that is the plain name; "Global\" stays part
 * of the name; any other backslash names a directory that does not exist.
 * Names are case-sensitive, as on Windows.  On failure frees *name.
 * ERROR_PATH_NOT_FOUND, ERROR_INVALID_NAME (a namespace without a name).
 */
static DWORD name_normalize(char **name)
{
    static const char local[] = "Local\\", global[] = "Global\\";
    char *rest = *name;
    DWORD err = ERROR_SUCCESS;

    if (!strncmp(rest, local, sizeof(local) - 1))
        memmove(rest, rest + sizeof(local) - 1, strlen(rest + sizeof(local) - 1) + 1);
    else if (!strncmp(rest, global, sizeof(global) - 1))
        rest += sizeof(global) - 1;
    if (!*rest)
        err = ERROR_INVALID_NAME;
    else if (strchr(rest, '\\'))
        err = ERROR_PATH_NOT_FOUND;
    if (err != ERROR_SUCCESS) {
        free(*name);
        *name = NULL;
    }
    return err;
}

/*
 * A name as a Create or Open call gives it.  Both the A and the W exports
 * make one (name_a, name_w), so that one create and one open path serve
 * them: converting the name is all that differs.
 */
struct call_name {
    char *key;      /* the table's key, owned; NULL: unnamed (NULL or ""), or err is set */
    DWORD err;      /* what making the key gave */
    BOOL absent;    /* no name at all (NULL), which Open* tells from "" */
};

static struct call_name name_a(const char *name)
{
    struct call_name n = { NULL, ERROR_SUCCESS, !name };

    if (!name || !*name)
        return n;
    /* The A calls convert through a MAX_PATH buffer on Windows. */
    if (strlen(name) >= MAX_PATH)
        n.err = ERROR_FILENAME_EXCED_RANGE;
    else if (!(n.key = strdup(name)))
        n.err = ERROR_NOT_ENOUGH_MEMORY;
    else
        n.err = name_normalize(&n.key);
    return n;
}

static struct call_name name_w(const WCHAR *name)
{
    struct call_name n = { NULL, ERROR_SUCCESS, !name };

    if (name && *name && (n.err = handle_utf8_from_utf16(name, &n.key)) == ERROR_SUCCESS)
        n.err = name_normalize(&n.key);
    return n;
}

/*
 * The first step of a Create call: a fresh object (size bytes, refs 1,
 * ours) of ops' type in *obj.  The name's error comes first, then args_err
 * (what checking the call's other arguments gave).  On failure the name is
 * freed.
 */
static DWORD named_alloc(size_t size, const struct handle_ops *ops, DWORD args_err,
                         struct call_name *name, struct handle_object **obj)
{
    if (name->err != ERROR_SUCCESS)
        return name->err;
    if (args_err == ERROR_SUCCESS && !(*obj = calloc(1, size)))
        args_err = ERROR_NOT_ENOUGH_MEMORY;
    if (args_err != ERROR_SUCCESS) {
        free(name->key);
        return args_err;
    }
    handle_object_init(*obj, ops);
    return ERROR_SUCCESS;
}

/*
 * The end of every Create call: gives obj (from named_alloc, whose err it
 * is given) a handle under name (owned; NULL: unnamed).  When name exists
 * already, obj is dropped, *existing (may be NULL) is set and the handle is
 * to the object of that name; ERROR_INVALID_HANDLE when that object has
 * another type.  Sets the last error: the failure's, or on success 0 or
 * ERROR_ALREADY_EXISTS (Windows clears it, so callers can test for
 * ERROR_ALREADY_EXISTS).
 */
static HANDLE named_create(DWORD err, struct handle_object *obj, char *name, BOOL *existing)
{
    struct handle_object *found;
    HANDLE handle = NULL;
    BOOL named_existing = FALSE;

    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    if (name) {
        os_lock_acquire(&name_lock);
        if ((found = name_find_locked(name))) {
            if (found->ops->type != obj->ops->type) {
                os_lock_release(&name_lock);
                free(name);
                handle_object_unref(obj);
                os_set_last_error(ERROR_INVALID_HANDLE);
                return NULL;
            }
            found->name_handles++;
            handle_object_ref(found);
            os_lock_release(&name_lock);
            free(name);
            handle_object_unref(obj);
            obj = found;
            named_existing = TRUE;
        } else {
            obj->name = name;
            obj->name_handles = 1;
            list_add_tail(name_bucket_locked(name), &obj->name_entry);
            os_lock_release(&name_lock);
        }
    }
    if ((err = handle_alloc(obj, &handle)) != ERROR_SUCCESS && obj->name)
        handle_name_handle_closed(obj);
    handle_object_unref(obj);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    if (existing)
        *existing = named_existing;
    os_set_last_error(named_existing ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return handle;
}

/*
 * A handle to the existing object of that name of that type.  Errors: the
 * name's, ERROR_INVALID_PARAMETER (no name), ERROR_INVALID_HANDLE ("": the
 * namespace itself, which is no object of the type; or a name of another
 * type), ERROR_FILE_NOT_FOUND.
 */
static DWORD named_open_handle(enum handle_type type, struct call_name name, HANDLE *handle)
{
    struct handle_object *obj;
    DWORD err;

    if (name.err != ERROR_SUCCESS)
        return name.err;
    if (!name.key)
        return name.absent ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE;
    os_lock_acquire(&name_lock);
    if (!(obj = name_find_locked(name.key))) {
        os_lock_release(&name_lock);
        free(name.key);
        return ERROR_FILE_NOT_FOUND;
    }
    free(name.key);
    if (obj->ops->type != type) {
        os_lock_release(&name_lock);
        return ERROR_INVALID_HANDLE;
    }
    obj->name_handles++;
    handle_object_ref(obj);
    os_lock_release(&name_lock);
    if ((err = handle_alloc(obj, handle)) != ERROR_SUCCESS)
        handle_name_handle_closed(obj);
    handle_object_unref(obj);
    return err;
}

/* named_open_handle, ending as an Open* call does: NULL and the last error on failure. */
static HANDLE named_open(enum handle_type type, struct call_name name)
{
    HANDLE handle = NULL;
    DWORD err;

    if ((err = named_open_handle(type, name, &handle)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return handle;
}

/* The bodies of the Open*A and Open*W exports; func names the export in the trace. */
static HANDLE named_open_a(const char *func, enum handle_type type, DWORD access, BOOL inherit,
                           LPCSTR name)
{
    HANDLE_TRACE_FOR(func, "%#x %d %s", (unsigned int)access, inherit, name ? name : "(null)");
    return named_open(type, name_a(name));
}

static HANDLE named_open_w(const char *func, enum handle_type type, DWORD access, BOOL inherit,
                           LPCWSTR name)
{
    HANDLE_TRACE_FOR(func, "%#x %d %p", (unsigned int)access, inherit, (const void *)name);
    return named_open(type, name_w(name));
}

/* ---- events -------------------------------------------------------------- */

static int event_ready(struct handle_object *obj, const struct handle_waiter *waiter)
{
    (void)waiter;
    return impl_from_event(obj)->signalled ? HANDLE_READY : HANDLE_NOT_READY;
}

static void event_consume(struct handle_object *obj, struct handle_waiter *waiter)
{
    struct handle_event *event = impl_from_event(obj);

    (void)waiter;
    if (!event->manual_reset)
        event->signalled = FALSE;
}

static const struct handle_ops event_ops = {
    .type = HANDLE_TYPE_EVENT,
    .ready = event_ready,
    .consume = event_consume,
};

static HANDLE event_create(BOOL manual_reset, BOOL initial_state, struct call_name name)
{
    struct handle_object *obj = NULL;
    DWORD err;

    err = named_alloc(sizeof(struct handle_event), &event_ops, ERROR_SUCCESS, &name, &obj);
    if (err == ERROR_SUCCESS) {
        impl_from_event(obj)->manual_reset = manual_reset;
        impl_from_event(obj)->signalled = initial_state;
    }
    return named_create(err, obj, name.key, NULL);
}

DWORD handle_event_change(HANDLE handle, BOOL signalled)
{
    struct handle_object *obj;
    DWORD err;

    if ((err = handle_lookup(handle, HANDLE_TYPE_EVENT, &obj)) != ERROR_SUCCESS)
        return err;
    os_lock_acquire(&obj->lock);
    impl_from_event(obj)->signalled = signalled;
    if (signalled && !list_empty(&obj->waiters))
        handle_object_wake_locked(obj);
    os_lock_release(&obj->lock);
    handle_object_unref(obj);
    return ERROR_SUCCESS;
}

/* The body of SetEvent and ResetEvent (func: which). */
static BOOL event_change_export(const char *func, HANDLE handle, BOOL signalled)
{
    HANDLE_TRACE_FOR(func, "%p", handle);
    return os_bool_result(handle_event_change(handle, signalled));
}

/***********************************************************************
 *           CreateEventA   (kernel32_tp.@)
 *
 * Names are UTF-8 in the A calls; security attributes are ignored.
 */
HANDLE WINAPI CreateEventA(SECURITY_ATTRIBUTES *sa, BOOL manual_reset, BOOL initial_state,
                           LPCSTR name)
{
    HANDLE_TRACE("%p %d %d %s", (void *)sa, manual_reset, initial_state, name ? name : "(null)");
    return event_create(manual_reset, initial_state, name_a(name));
}

/***********************************************************************
 *           CreateEventW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateEventW(SECURITY_ATTRIBUTES *sa, BOOL manual_reset, BOOL initial_state,
                           LPCWSTR name)
{
    HANDLE_TRACE("%p %d %d %p", (void *)sa, manual_reset, initial_state, (const void *)name);
    return event_create(manual_reset, initial_state, name_w(name));
}

/***********************************************************************
 *           CreateEventExA   (kernel32_tp.@)
 *
 * The access mask is accepted and not enforced.
 */
HANDLE WINAPI CreateEventExA(SECURITY_ATTRIBUTES *sa, LPCSTR name, DWORD flags, DWORD access)
{
    HANDLE_TRACE("%p %s %#x %#x", (void *)sa, name ? name : "(null)", (unsigned int)flags,
                 (unsigned int)access);
    return event_create((flags & CREATE_EVENT_MANUAL_RESET) != 0,
                        (flags & CREATE_EVENT_INITIAL_SET) != 0, name_a(name));
}

/***********************************************************************
 *           CreateEventExW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateEventExW(SECURITY_ATTRIBUTES *sa, LPCWSTR name, DWORD flags, DWORD access)
{
    HANDLE_TRACE("%p %p %#x %#x", (void *)sa, (const void *)name, (unsigned int)flags,
                 (unsigned int)access);
    return event_create((flags & CREATE_EVENT_MANUAL_RESET) != 0,
                        (flags & CREATE_EVENT_INITIAL_SET) != 0, name_w(name));
}

/***********************************************************************
 *           OpenEventA   (kernel32_tp.@)
 */
HANDLE WINAPI OpenEventA(DWORD access, BOOL inherit, LPCSTR name)
{
    return named_open_a(__func__, HANDLE_TYPE_EVENT, access, inherit, name);
}

/***********************************************************************
 *           OpenEventW   (kernel32_tp.@)
 */
HANDLE WINAPI OpenEventW(DWORD access, BOOL inherit, LPCWSTR name)
{
    return named_open_w(__func__, HANDLE_TYPE_EVENT, access, inherit, name);
}

/***********************************************************************
 *           SetEvent   (kernel32_tp.@)
 */
BOOL WINAPI SetEvent(HANDLE handle)
{
    return event_change_export(__func__, handle, TRUE);
}

/***********************************************************************
 *           ResetEvent   (kernel32_tp.@)
 */
BOOL WINAPI ResetEvent(HANDLE handle)
{
    return event_change_export(__func__, handle, FALSE);
}

BOOL os_handle_set_event(HANDLE event, DWORD *err)
{
    return (*err = handle_event_change(event, TRUE)) == ERROR_SUCCESS;
}

/* ---- semaphores ---------------------------------------------------------- */

static int semaphore_ready(struct handle_object *obj, const struct handle_waiter *waiter)
{
    (void)waiter;
    return impl_from_semaphore(obj)->count > 0 ? HANDLE_READY : HANDLE_NOT_READY;
}

static void semaphore_consume(struct handle_object *obj, struct handle_waiter *waiter)
{
    (void)waiter;
    impl_from_semaphore(obj)->count--;
}

static const struct handle_ops semaphore_ops = {
    .type = HANDLE_TYPE_SEMAPHORE,
    .ready = semaphore_ready,
    .consume = semaphore_consume,
};

static HANDLE semaphore_create(LONG initial, LONG max, struct call_name name)
{
    DWORD args_err = ERROR_SUCCESS, err;
    struct handle_object *obj = NULL;

    if (max <= 0 || initial < 0 || initial > max)
        args_err = ERROR_INVALID_PARAMETER;
    err = named_alloc(sizeof(struct handle_semaphore), &semaphore_ops, args_err, &name, &obj);
    if (err == ERROR_SUCCESS) {
        impl_from_semaphore(obj)->count = initial;
        impl_from_semaphore(obj)->max = max;
    }
    return named_create(err, obj, name.key, NULL);
}

/* Adds count to a semaphore; *previous (may be NULL) gets the old count.
 * ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_TOO_MANY_POSTS. */
static DWORD handle_semaphore_release(HANDLE handle, LONG count, LONG *previous)
{
    struct handle_semaphore *sem;
    struct handle_object *obj;
    DWORD err = ERROR_SUCCESS;
    LONG old;

    if ((err = handle_lookup(handle, HANDLE_TYPE_SEMAPHORE, &obj)) != ERROR_SUCCESS)
        return err;
    if (count <= 0) {
        handle_object_unref(obj);
        return ERROR_INVALID_PARAMETER;
    }
    sem = impl_from_semaphore(obj);
    os_lock_acquire(&obj->lock);
    old = sem->count;
    if (count > sem->max - old) {
        err = ERROR_TOO_MANY_POSTS;
    } else {
        sem->count = old + count;
        if (!list_empty(&obj->waiters))
            handle_object_wake_locked(obj);
    }
    os_lock_release(&obj->lock);
    handle_object_unref(obj);
    if (err == ERROR_SUCCESS && previous)
        *previous = old;
    return err;
}

/***********************************************************************
 *           CreateSemaphoreA   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreA(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCSTR name)
{
    HANDLE_TRACE("%p %d %d %s", (void *)sa, (int)initial, (int)max, name ? name : "(null)");
    return semaphore_create(initial, max, name_a(name));
}

/***********************************************************************
 *           CreateSemaphoreW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreW(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCWSTR name)
{
    HANDLE_TRACE("%p %d %d %p", (void *)sa, (int)initial, (int)max, (const void *)name);
    return semaphore_create(initial, max, name_w(name));
}

/***********************************************************************
 *           CreateSemaphoreExA   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreExA(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCSTR name,
                                 DWORD flags, DWORD access)
{
    HANDLE_TRACE("%p %d %d %s %#x %#x", (void *)sa, (int)initial, (int)max,
                 name ? name : "(null)", (unsigned int)flags, (unsigned int)access);
    return semaphore_create(initial, max, name_a(name));
}

/***********************************************************************
 *           CreateSemaphoreExW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreExW(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCWSTR name,
                                 DWORD flags, DWORD access)
{
    HANDLE_TRACE("%p %d %d %p %#x %#x", (void *)sa, (int)initial, (int)max,
                 (const void *)name, (unsigned int)flags, (unsigned int)access);
    return semaphore_create(initial, max, name_w(name));
}

/***********************************************************************
 *           OpenSemaphoreA   (kernel32_tp.@)
 */
HANDLE WINAPI OpenSemaphoreA(DWORD access, BOOL inherit, LPCSTR name)
{
    return named_open_a(__func__, HANDLE_TYPE_SEMAPHORE, access, inherit, name);
}

/***********************************************************************
 *           OpenSemaphoreW   (kernel32_tp.@)
 */
HANDLE WINAPI OpenSemaphoreW(DWORD access, BOOL inherit, LPCWSTR name)
{
    return named_open_w(__func__, HANDLE_TYPE_SEMAPHORE, access, inherit, name);
}

/***********************************************************************
 *           ReleaseSemaphore   (kernel32_tp.@)
 *
 * A release past the maximum changes nothing: ERROR_TOO_MANY_POSTS.
 */
BOOL WINAPI ReleaseSemaphore(HANDLE handle, LONG count, LONG *previous)
{
    HANDLE_TRACE("%p %d %p", handle, (int)count, (void *)previous);
    return os_bool_result(handle_semaphore_release(handle, count, previous));
}

BOOL os_handle_release_semaphore(HANDLE semaphore, LONG count, DWORD *err)
{
    return (*err = handle_semaphore_release(semaphore, count, NULL)) == ERROR_SUCCESS;
}

/* ---- mutexes ------------------------------------------------------------- */

static int mutex_ready(struct handle_object *obj, const struct handle_waiter *waiter)
{
    struct handle_mutex *mutex = impl_from_mutex(obj);

    if (!mutex->owner_tid)
        return mutex->abandoned ? HANDLE_READY_ABANDONED : HANDLE_READY;
    if (waiter && mutex->owner_tid == waiter->tid && mutex->recursion < MAXLONG)
        return HANDLE_READY;
    return HANDLE_NOT_READY;
}

/* Records ownership in the owner's thread record, which holds a reference
 * until the release or the thread's end.  Locking: obj->lock. */
static void mutex_take_locked(struct handle_mutex *mutex, DWORD tid, struct handle_thread *ts)
{
    mutex->owner_tid = tid;
    mutex->owner_ts = ts;
    mutex->recursion = 1;
    mutex->abandoned = FALSE;
    if (ts) {
        handle_object_ref(&mutex->obj);
        os_lock_acquire(&ts->lock);
        list_add_tail(&ts->owned_mutexes, &mutex->owned_entry);
        os_lock_release(&ts->lock);
    }
}

static void mutex_consume(struct handle_object *obj, struct handle_waiter *waiter)
{
    struct handle_mutex *mutex = impl_from_mutex(obj);

    if (mutex->owner_tid)
        mutex->recursion++;
    else
        mutex_take_locked(mutex, waiter->tid, waiter->ts);
}

static const struct handle_ops mutex_ops = {
    .type = HANDLE_TYPE_MUTEX,
    .ready = mutex_ready,
    .consume = mutex_consume,
};

/* Frees the mutex and hands it on.  Locking: obj->lock.  Returns the
 * owner's reference, which the caller drops after unlocking. */
static BOOL mutex_free_locked(struct handle_mutex *mutex, BOOL abandoned)
{
    struct handle_thread *ts = mutex->owner_ts;

    mutex->owner_tid = 0;
    mutex->owner_ts = NULL;
    mutex->recursion = 0;
    mutex->abandoned = abandoned;
    if (ts) {
        os_lock_acquire(&ts->lock);
        if (list_linked(&mutex->owned_entry))
            list_remove(&mutex->owned_entry);
        os_lock_release(&ts->lock);
    }
    if (!list_empty(&mutex->obj.waiters))
        handle_object_wake_locked(&mutex->obj);
    return ts != NULL;
}

static HANDLE mutex_create(BOOL initial_owner, struct call_name name)
{
    struct handle_object *obj = NULL;
    struct handle_mutex *mutex;
    BOOL existing = FALSE;
    HANDLE handle;
    DWORD err;

    err = named_alloc(sizeof(struct handle_mutex), &mutex_ops, ERROR_SUCCESS, &name, &obj);
    if (err != ERROR_SUCCESS)
        return named_create(err, NULL, NULL, NULL);
    mutex = impl_from_mutex(obj);
    list_init(&mutex->owned_entry);
    /* Owned before anyone can see it; recorded below if it is the one used. */
    if (initial_owner) {
        mutex->owner_tid = os_thread_current_id();
        mutex->recursion = 1;
    }
    handle_object_ref(&mutex->obj);
    handle = named_create(ERROR_SUCCESS, &mutex->obj, name.key, &existing);
    if (handle && initial_owner && !existing) {
        os_lock_acquire(&mutex->obj.lock);
        mutex->recursion = 0;
        mutex_take_locked(mutex, os_thread_current_id(), handle_thread_current());
        os_lock_release(&mutex->obj.lock);
    }
    handle_object_unref(&mutex->obj);
    return handle;
}

/* ERROR_INVALID_HANDLE, ERROR_NOT_OWNER. */
static DWORD handle_mutex_release(HANDLE handle)
{
    struct handle_mutex *mutex;
    struct handle_object *obj;
    BOOL owner_ref = FALSE;
    DWORD err = ERROR_SUCCESS;

    if ((err = handle_lookup(handle, HANDLE_TYPE_MUTEX, &obj)) != ERROR_SUCCESS)
        return err;
    mutex = impl_from_mutex(obj);
    os_lock_acquire(&obj->lock);
    if (mutex->owner_tid != os_thread_current_id())
        err = ERROR_NOT_OWNER;
    else if (--mutex->recursion == 0)
        owner_ref = mutex_free_locked(mutex, FALSE);
    os_lock_release(&obj->lock);
    if (owner_ref)
        handle_object_unref(obj);
    handle_object_unref(obj);
    return err;
}

void handle_mutex_abandon_all(struct handle_thread *ts)
{
    struct handle_mutex *mutex;
    BOOL owner_ref;

    for (;;) {
        os_lock_acquire(&ts->lock);
        if (list_empty(&ts->owned_mutexes)) {
            os_lock_release(&ts->lock);
            return;
        }
        mutex = LIST_ENTRY(ts->owned_mutexes.next, struct handle_mutex, owned_entry);
        os_lock_release(&ts->lock);
        /* Only this thread releases what it owns, so the entry stays ours
         * until mutex_free_locked removes it. */
        os_lock_acquire(&mutex->obj.lock);
        owner_ref = mutex_free_locked(mutex, TRUE);
        os_lock_release(&mutex->obj.lock);
        if (owner_ref)
            handle_object_unref(&mutex->obj);
    }
}

/***********************************************************************
 *           CreateMutexA   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexA(SECURITY_ATTRIBUTES *sa, BOOL initial_owner, LPCSTR name)
{
    HANDLE_TRACE("%p %d %s", (void *)sa, initial_owner, name ? name : "(null)");
    return mutex_create(initial_owner, name_a(name));
}

/***********************************************************************
 *           CreateMutexW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexW(SECURITY_ATTRIBUTES *sa, BOOL initial_owner, LPCWSTR name)
{
    HANDLE_TRACE("%p %d %p", (void *)sa, initial_owner, (const void *)name);
    return mutex_create(initial_owner, name_w(name));
}

/***********************************************************************
 *           CreateMutexExA   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexExA(SECURITY_ATTRIBUTES *sa, LPCSTR name, DWORD flags, DWORD access)
{
    HANDLE_TRACE("%p %s %#x %#x", (void *)sa, name ? name : "(null)", (unsigned int)flags,
                 (unsigned int)access);
    return mutex_create((flags & CREATE_MUTEX_INITIAL_OWNER) != 0, name_a(name));
}

/***********************************************************************
 *           CreateMutexExW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexExW(SECURITY_ATTRIBUTES *sa, LPCWSTR name, DWORD flags, DWORD access)
{
    HANDLE_TRACE("%p %p %#x %#x", (void *)sa, (const void *)name, (unsigned int)flags,
                 (unsigned int)access);
    return mutex_create((flags & CREATE_MUTEX_INITIAL_OWNER) != 0, name_w(name));
}

/***********************************************************************
 *           OpenMutexA   (kernel32_tp.@)
 */
HANDLE WINAPI OpenMutexA(DWORD access, BOOL inherit, LPCSTR name)
{
    return named_open_a(__func__, HANDLE_TYPE_MUTEX, access, inherit, name);
}

/***********************************************************************
 *           OpenMutexW   (kernel32_tp.@)
 */
HANDLE WINAPI OpenMutexW(DWORD access, BOOL inherit, LPCWSTR name)
{
    return named_open_w(__func__, HANDLE_TYPE_MUTEX, access, inherit, name);
}

/***********************************************************************
 *           ReleaseMutex   (kernel32_tp.@)
 */
BOOL WINAPI ReleaseMutex(HANDLE handle)
{
    HANDLE_TRACE("%p", handle);
    return os_bool_result(handle_mutex_release(handle));
}

BOOL os_handle_release_mutex(HANDLE mutex, DWORD *err)
{
    return (*err = handle_mutex_release(mutex)) == ERROR_SUCCESS;
}

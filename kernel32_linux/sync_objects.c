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

/* The table's key for an A or W name: NULL (unnamed) for NULL or "". */
static DWORD name_from_a(const char *name, char **key)
{
    *key = NULL;
    if (!name || !*name)
        return ERROR_SUCCESS;
    /* The A calls convert through a MAX_PATH buffer on Windows. */
    if (strlen(name) >= MAX_PATH)
        return ERROR_FILENAME_EXCED_RANGE;
    if (!(*key = strdup(name)))
        return ERROR_NOT_ENOUGH_MEMORY;
    return name_normalize(key);
}

static DWORD name_from_w(const WCHAR *name, char **key)
{
    DWORD err;

    *key = NULL;
    if (!name || !*name)
        return ERROR_SUCCESS;
    if ((err = handle_utf8_from_utf16(name, key)) != ERROR_SUCCESS)
        return err;
    return name_normalize(key);
}

/*
 * Gives obj (fresh, refs 1, ours) a handle under name (owned; NULL:
 * unnamed).  When name exists already, obj is dropped, *existing is set and
 * the handle is to the object of that name; ERROR_INVALID_HANDLE when that
 * object has another type.  On success *handle is set.
 */
static DWORD named_create(struct handle_object *obj, char *name, HANDLE *handle, BOOL *existing)
{
    struct handle_object *found;
    DWORD err;

    *existing = FALSE;
    if (name) {
        os_lock_acquire(&name_lock);
        if ((found = name_find_locked(name))) {
            if (found->ops->type != obj->ops->type) {
                os_lock_release(&name_lock);
                free(name);
                handle_object_unref(obj);
                return ERROR_INVALID_HANDLE;
            }
            found->name_handles++;
            handle_object_ref(found);
            os_lock_release(&name_lock);
            free(name);
            handle_object_unref(obj);
            obj = found;
            *existing = TRUE;
        } else {
            obj->name = name;
            obj->name_handles = 1;
            list_add_tail(name_bucket_locked(name), &obj->name_entry);
            os_lock_release(&name_lock);
        }
    }
    if ((err = handle_alloc(obj, handle)) != ERROR_SUCCESS && obj->name)
        handle_name_handle_closed(obj);
    handle_object_unref(obj);
    return err;
}

/*
 * A handle to the existing object of that name (owned; NULL: no name at
 * all, name_err: what converting it gave).  ERROR_INVALID_PARAMETER (no
 * name), ERROR_INVALID_HANDLE ("": the namespace itself, which is no
 * object of the type; or a name of another type), ERROR_FILE_NOT_FOUND.
 */
static DWORD named_open(enum handle_type type, BOOL no_name, DWORD name_err, char *name,
                        HANDLE *handle)
{
    struct handle_object *obj;
    DWORD err;

    if (name_err != ERROR_SUCCESS)
        return name_err;
    if (!name)
        return no_name ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE;
    os_lock_acquire(&name_lock);
    if (!(obj = name_find_locked(name))) {
        os_lock_release(&name_lock);
        free(name);
        return ERROR_FILE_NOT_FOUND;
    }
    free(name);
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

/* The last error a Create* leaves: 0, or ERROR_ALREADY_EXISTS (Windows
 * clears it, so callers can test for ERROR_ALREADY_EXISTS). */
static HANDLE create_result(DWORD err, HANDLE handle, BOOL existing)
{
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    os_set_last_error(existing ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return handle;
}

static HANDLE open_result(DWORD err, HANDLE handle)
{
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return handle;
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

static DWORD event_create(BOOL manual_reset, BOOL initial_state, DWORD name_err, char *name,
                          HANDLE *handle, BOOL *existing)
{
    struct handle_event *event;

    if (name_err != ERROR_SUCCESS)
        return name_err;
    if (!(event = calloc(1, sizeof(*event)))) {
        free(name);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    handle_object_init(&event->obj, &event_ops);
    event->manual_reset = manual_reset;
    event->signalled = initial_state;
    return named_create(&event->obj, name, handle, existing);
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

/***********************************************************************
 *           CreateEventA   (kernel32_tp.@)
 *
 * Names are UTF-8 in the A calls; security attributes are ignored.
 */
HANDLE WINAPI CreateEventA(SECURITY_ATTRIBUTES *sa, BOOL manual_reset, BOOL initial_state,
                           LPCSTR name)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %d %s", (void *)sa, manual_reset, initial_state, name ? name : "(null)");
    err = name_from_a(name, &key);
    err = event_create(manual_reset, initial_state, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateEventW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateEventW(SECURITY_ATTRIBUTES *sa, BOOL manual_reset, BOOL initial_state,
                           LPCWSTR name)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %d %p", (void *)sa, manual_reset, initial_state, (const void *)name);
    err = name_from_w(name, &key);
    err = event_create(manual_reset, initial_state, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateEventExA   (kernel32_tp.@)
 *
 * The access mask is accepted and not enforced.
 */
HANDLE WINAPI CreateEventExA(SECURITY_ATTRIBUTES *sa, LPCSTR name, DWORD flags, DWORD access)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %s %#x %#x", (void *)sa, name ? name : "(null)", (unsigned int)flags,
                 (unsigned int)access);
    err = name_from_a(name, &key);
    err = event_create((flags & CREATE_EVENT_MANUAL_RESET) != 0,
                       (flags & CREATE_EVENT_INITIAL_SET) != 0, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateEventExW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateEventExW(SECURITY_ATTRIBUTES *sa, LPCWSTR name, DWORD flags, DWORD access)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %p %#x %#x", (void *)sa, (const void *)name, (unsigned int)flags,
                 (unsigned int)access);
    err = name_from_w(name, &key);
    err = event_create((flags & CREATE_EVENT_MANUAL_RESET) != 0,
                       (flags & CREATE_EVENT_INITIAL_SET) != 0, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           OpenEventA   (kernel32_tp.@)
 */
HANDLE WINAPI OpenEventA(DWORD access, BOOL inherit, LPCSTR name)
{
    HANDLE handle = NULL;
    char *key;
    DWORD err;

    HANDLE_TRACE("%#x %d %s", (unsigned int)access, inherit, name ? name : "(null)");
    err = name_from_a(name, &key);
    err = named_open(HANDLE_TYPE_EVENT, !name, err, key, &handle);
    return open_result(err, handle);
}

/***********************************************************************
 *           OpenEventW   (kernel32_tp.@)
 */
HANDLE WINAPI OpenEventW(DWORD access, BOOL inherit, LPCWSTR name)
{
    HANDLE handle = NULL;
    char *key;
    DWORD err;

    HANDLE_TRACE("%#x %d %p", (unsigned int)access, inherit, (const void *)name);
    err = name_from_w(name, &key);
    err = named_open(HANDLE_TYPE_EVENT, !name, err, key, &handle);
    return open_result(err, handle);
}

/***********************************************************************
 *           SetEvent   (kernel32_tp.@)
 */
BOOL WINAPI SetEvent(HANDLE handle)
{
    DWORD err;

    HANDLE_TRACE("%p", handle);
    if ((err = handle_event_change(handle, TRUE)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

/***********************************************************************
 *           ResetEvent   (kernel32_tp.@)
 */
BOOL WINAPI ResetEvent(HANDLE handle)
{
    DWORD err;

    HANDLE_TRACE("%p", handle);
    if ((err = handle_event_change(handle, FALSE)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
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

static DWORD semaphore_create(LONG initial, LONG max, DWORD name_err, char *name,
                              HANDLE *handle, BOOL *existing)
{
    struct handle_semaphore *sem;

    if (name_err != ERROR_SUCCESS)
        return name_err;
    if (max <= 0 || initial < 0 || initial > max) {
        free(name);
        return ERROR_INVALID_PARAMETER;
    }
    if (!(sem = calloc(1, sizeof(*sem)))) {
        free(name);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    handle_object_init(&sem->obj, &semaphore_ops);
    sem->count = initial;
    sem->max = max;
    return named_create(&sem->obj, name, handle, existing);
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
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %d %s", (void *)sa, (int)initial, (int)max, name ? name : "(null)");
    err = name_from_a(name, &key);
    err = semaphore_create(initial, max, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateSemaphoreW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreW(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCWSTR name)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %d %p", (void *)sa, (int)initial, (int)max, (const void *)name);
    err = name_from_w(name, &key);
    err = semaphore_create(initial, max, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateSemaphoreExA   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreExA(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCSTR name,
                                 DWORD flags, DWORD access)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %d %s %#x %#x", (void *)sa, (int)initial, (int)max,
                 name ? name : "(null)", (unsigned int)flags, (unsigned int)access);
    err = name_from_a(name, &key);
    err = semaphore_create(initial, max, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateSemaphoreExW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateSemaphoreExW(SECURITY_ATTRIBUTES *sa, LONG initial, LONG max, LPCWSTR name,
                                 DWORD flags, DWORD access)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %d %p %#x %#x", (void *)sa, (int)initial, (int)max,
                 (const void *)name, (unsigned int)flags, (unsigned int)access);
    err = name_from_w(name, &key);
    err = semaphore_create(initial, max, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           OpenSemaphoreA   (kernel32_tp.@)
 */
HANDLE WINAPI OpenSemaphoreA(DWORD access, BOOL inherit, LPCSTR name)
{
    HANDLE handle = NULL;
    char *key;
    DWORD err;

    HANDLE_TRACE("%#x %d %s", (unsigned int)access, inherit, name ? name : "(null)");
    err = name_from_a(name, &key);
    err = named_open(HANDLE_TYPE_SEMAPHORE, !name, err, key, &handle);
    return open_result(err, handle);
}

/***********************************************************************
 *           OpenSemaphoreW   (kernel32_tp.@)
 */
HANDLE WINAPI OpenSemaphoreW(DWORD access, BOOL inherit, LPCWSTR name)
{
    HANDLE handle = NULL;
    char *key;
    DWORD err;

    HANDLE_TRACE("%#x %d %p", (unsigned int)access, inherit, (const void *)name);
    err = name_from_w(name, &key);
    err = named_open(HANDLE_TYPE_SEMAPHORE, !name, err, key, &handle);
    return open_result(err, handle);
}

/***********************************************************************
 *           ReleaseSemaphore   (kernel32_tp.@)
 *
 * A release past the maximum changes nothing: ERROR_TOO_MANY_POSTS.
 */
BOOL WINAPI ReleaseSemaphore(HANDLE handle, LONG count, LONG *previous)
{
    DWORD err;

    HANDLE_TRACE("%p %d %p", handle, (int)count, (void *)previous);
    if ((err = handle_semaphore_release(handle, count, previous)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
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

static DWORD mutex_create(BOOL initial_owner, DWORD name_err, char *name, HANDLE *handle,
                          BOOL *existing)
{
    struct handle_mutex *mutex;
    DWORD err;

    if (name_err != ERROR_SUCCESS)
        return name_err;
    if (!(mutex = calloc(1, sizeof(*mutex)))) {
        free(name);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    handle_object_init(&mutex->obj, &mutex_ops);
    list_init(&mutex->owned_entry);
    /* Owned before anyone can see it; recorded below if it is the one used. */
    if (initial_owner) {
        mutex->owner_tid = os_thread_current_id();
        mutex->recursion = 1;
    }
    handle_object_ref(&mutex->obj);
    err = named_create(&mutex->obj, name, handle, existing);
    if (err == ERROR_SUCCESS && initial_owner && !*existing) {
        os_lock_acquire(&mutex->obj.lock);
        mutex->recursion = 0;
        mutex_take_locked(mutex, os_thread_current_id(), handle_thread_current());
        os_lock_release(&mutex->obj.lock);
    }
    handle_object_unref(&mutex->obj);
    return err;
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
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %s", (void *)sa, initial_owner, name ? name : "(null)");
    err = name_from_a(name, &key);
    err = mutex_create(initial_owner, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateMutexW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexW(SECURITY_ATTRIBUTES *sa, BOOL initial_owner, LPCWSTR name)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %d %p", (void *)sa, initial_owner, (const void *)name);
    err = name_from_w(name, &key);
    err = mutex_create(initial_owner, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateMutexExA   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexExA(SECURITY_ATTRIBUTES *sa, LPCSTR name, DWORD flags, DWORD access)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %s %#x %#x", (void *)sa, name ? name : "(null)", (unsigned int)flags,
                 (unsigned int)access);
    err = name_from_a(name, &key);
    err = mutex_create((flags & CREATE_MUTEX_INITIAL_OWNER) != 0, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           CreateMutexExW   (kernel32_tp.@)
 */
HANDLE WINAPI CreateMutexExW(SECURITY_ATTRIBUTES *sa, LPCWSTR name, DWORD flags, DWORD access)
{
    HANDLE handle = NULL;
    BOOL existing = FALSE;
    char *key;
    DWORD err;

    HANDLE_TRACE("%p %p %#x %#x", (void *)sa, (const void *)name, (unsigned int)flags,
                 (unsigned int)access);
    err = name_from_w(name, &key);
    err = mutex_create((flags & CREATE_MUTEX_INITIAL_OWNER) != 0, err, key, &handle, &existing);
    return create_result(err, handle, existing);
}

/***********************************************************************
 *           OpenMutexA   (kernel32_tp.@)
 */
HANDLE WINAPI OpenMutexA(DWORD access, BOOL inherit, LPCSTR name)
{
    HANDLE handle = NULL;
    char *key;
    DWORD err;

    HANDLE_TRACE("%#x %d %s", (unsigned int)access, inherit, name ? name : "(null)");
    err = name_from_a(name, &key);
    err = named_open(HANDLE_TYPE_MUTEX, !name, err, key, &handle);
    return open_result(err, handle);
}

/***********************************************************************
 *           OpenMutexW   (kernel32_tp.@)
 */
HANDLE WINAPI OpenMutexW(DWORD access, BOOL inherit, LPCWSTR name)
{
    HANDLE handle = NULL;
    char *key;
    DWORD err;

    HANDLE_TRACE("%#x %d %p", (unsigned int)access, inherit, (const void *)name);
    err = name_from_w(name, &key);
    err = named_open(HANDLE_TYPE_MUTEX, !name, err, key, &handle);
    return open_result(err, handle);
}

/***********************************************************************
 *           ReleaseMutex   (kernel32_tp.@)
 */
BOOL WINAPI ReleaseMutex(HANDLE handle)
{
    DWORD err;

    HANDLE_TRACE("%p", handle);
    if ((err = handle_mutex_release(handle)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    return TRUE;
}

BOOL os_handle_release_mutex(HANDLE mutex, DWORD *err)
{
    return (*err = handle_mutex_release(mutex)) == ERROR_SUCCESS;
}

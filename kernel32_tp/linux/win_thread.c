/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: Win32 threads.  The per-thread record (owned mutexes,
 * the thread's own object) and its exit hook, thread objects (waitable,
 * signalled when the thread has ended), CreateThread, ExitThread,
 * GetExitCodeThread, GetThreadId, Get/SetThreadPriority and the
 * current-thread queries.
 *
 * Any pthread gets a record on first use; a pthread key destructor runs
 * when it ends (by returning or by ExitThread/pthread_exit): it abandons
 * the mutexes the thread still owns, then signals its thread object, so
 * whoever waits for the thread sees the mutexes abandoned.  CreateThread
 * uses pthreads directly (not os_thread_start): it needs the exit code and
 * the end of the thread.
 *
 * Locks: obj->lock of a thread object (O); a record's lock (T) is taken by
 * sync_objects.c.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "handle.h"

struct win_thread {
    struct handle_object obj;       /* (c) first */
    BOOL exited;                    /* (O) */
    DWORD exit_code;                /* (O) valid once exited */
    unsigned int tid;               /* (a) 0 until the thread runs; a futex word */
    int priority;                   /* (O) THREAD_PRIORITY_*, as last set */
};

static struct win_thread *impl_from_thread(struct handle_object *obj)
{
    return (struct win_thread *)obj;
}

static int thread_ready(struct handle_object *obj, const struct handle_waiter *waiter)
{
    (void)waiter;
    return impl_from_thread(obj)->exited ? HANDLE_READY : HANDLE_NOT_READY;
}

static void thread_consume(struct handle_object *obj, struct handle_waiter *waiter)
{
    (void)obj;      /* an ended thread stays signalled */
    (void)waiter;
}

static const struct handle_ops thread_ops = {
    .type = HANDLE_TYPE_THREAD,
    .ready = thread_ready,
    .consume = thread_consume,
};

static struct win_thread *thread_object_new(DWORD tid)
{
    struct win_thread *thread = calloc(1, sizeof(*thread));

    if (!thread)
        return NULL;
    handle_object_init(&thread->obj, &thread_ops);
    thread->tid = tid;
    return thread;
}

/* ---- the per-thread record ------------------------------------------------ */

static pthread_key_t record_key;
static pthread_once_t record_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct handle_thread record;      /* (X) */
static _Thread_local BOOL record_initialized;          /* (X) */

static void thread_exit_hook(void *arg);

static void record_key_create(void)
{
    if (pthread_key_create(&record_key, thread_exit_hook))
        os_panic("pthread_key_create failed");
}

struct handle_thread *handle_thread_current(void)
{
    struct handle_thread *ts = &record;

    if (!ts->registered) {
        if (!record_initialized) {
            if (pthread_mutex_init(&ts->lock, NULL))
                os_panic("pthread_mutex_init failed");
            list_init(&ts->owned_mutexes);
            ts->tid = os_thread_current_id();
            record_initialized = TRUE;
        }
        pthread_once(&record_key_once, record_key_create);
        /* Without the key the hook cannot run at the end: CreateThread's
         * threads then run it themselves (see thread_main, ExitThread). */
        ts->registered = pthread_setspecific(record_key, ts) == 0;
    }
    return ts;
}

/* The thread ends: it abandons its mutexes, then its object is signalled. */
static void thread_exit_hook(void *arg)
{
    struct handle_thread *ts = arg;
    struct handle_object *self = ts->self;

    ts->registered = FALSE;     /* a later use during exit registers again */
    handle_mutex_abandon_all(ts);
    if (self) {
        ts->self = NULL;
        pthread_mutex_lock(&self->lock);
        impl_from_thread(self)->exited = TRUE;
        impl_from_thread(self)->exit_code = ts->exit_code;
        if (!list_empty(&self->waiters))
            handle_object_wake_locked(self);
        pthread_mutex_unlock(&self->lock);
        handle_object_unref(self);
    }
}

struct handle_object *handle_thread_self_object(void)
{
    struct handle_thread *ts = handle_thread_current();
    struct win_thread *thread;

    if (!ts->self) {
        /* A thread CreateThread did not start: its exit code is 0 unless it
         * calls ExitThread. */
        if (!(thread = thread_object_new(ts->tid)))
            return NULL;
        ts->self = &thread->obj;    /* the record's reference */
    }
    handle_object_ref(ts->self);
    return ts->self;
}

/* ---- CreateThread ---------------------------------------------------------- */

struct thread_start {
    LPTHREAD_START_ROUTINE fn;
    void *arg;
    struct win_thread *thread;      /* the new thread's reference */
};

static void *thread_main(void *param)
{
    struct thread_start start = *(struct thread_start *)param;
    struct handle_thread *ts = handle_thread_current();

    free(param);
    ts->self = &start.thread->obj;
    ts->exit_code = 0;
    __atomic_store_n(&start.thread->tid, ts->tid, __ATOMIC_RELEASE);
    os_futex_wake(&start.thread->tid, INT_MAX);
    ts->exit_code = start.fn(start.arg);
    if (!ts->registered)
        thread_exit_hook(ts);
    return NULL;
}

/*
 * glibc's stack sizes include the static TLS block, which can be large (a
 * sanitizer's runtime takes most of a megabyte): glibc's minimum stack
 * tells how large.  A private glibc function, so looked up at run time.
 */
static size_t (*get_minstack)(const pthread_attr_t *attr);     /* (c) after minstack_once */
static pthread_once_t minstack_once = PTHREAD_ONCE_INIT;

static void minstack_lookup(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "__pthread_get_minstack");

    memcpy(&get_minstack, &sym, sizeof(sym));
}

/* pthread's stack size for CreateThread's: like Windows, a commit size is
 * never less than the usual 1 MiB reserve; 64 KiB granularity; plus what
 * glibc takes from the stack for itself. */
static size_t thread_stack_size(const pthread_attr_t *attr, SIZE_T stack_size, DWORD flags)
{
    size_t size = stack_size;

    if (!(flags & STACK_SIZE_PARAM_IS_A_RESERVATION) && size < 0x100000)
        size = 0x100000;
    pthread_once(&minstack_once, minstack_lookup);
    size += get_minstack ? get_minstack(attr) : (size_t)PTHREAD_STACK_MIN;
    return (size + 0xffff) & ~(size_t)0xffff;
}

static DWORD thread_create(SIZE_T stack_size, LPTHREAD_START_ROUTINE fn, void *arg, DWORD flags,
                           HANDLE *handle, DWORD *tid)
{
    struct thread_start *start;
    struct win_thread *thread;
    pthread_attr_t attr;
    pthread_t pthread;
    DWORD err;
    int ret;

    if (!fn)
        return ERROR_INVALID_PARAMETER;
    /* There is no ResumeThread here to start a suspended thread later. */
    if (flags & CREATE_SUSPENDED)
        return ERROR_NOT_SUPPORTED;
    if (!(thread = thread_object_new(0)))
        return ERROR_NOT_ENOUGH_MEMORY;
    if (!(start = malloc(sizeof(*start)))) {
        err = ERROR_NOT_ENOUGH_MEMORY;
        goto fail_start;
    }
    if ((err = handle_alloc(&thread->obj, handle)) != ERROR_SUCCESS)
        goto fail_handle;
    start->fn = fn;
    start->arg = arg;
    start->thread = thread;
    handle_object_ref(&thread->obj);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size)
        pthread_attr_setstacksize(&attr, thread_stack_size(&attr, stack_size, flags));
    ret = pthread_create(&pthread, &attr, thread_main, start);
    pthread_attr_destroy(&attr);
    if (ret) {
        err = os_error_from_errno(ret);
        handle_object_unref(&thread->obj);
        handle_close(*handle);
        goto fail_handle;
    }
    if (tid) {
        /* The id is the kernel's thread id, known once the thread runs. */
        while (!(*tid = __atomic_load_n(&thread->tid, __ATOMIC_ACQUIRE)))
            os_futex_wait(&thread->tid, 0, 0);
    }
    handle_object_unref(&thread->obj);
    return ERROR_SUCCESS;

fail_handle:
    free(start);
fail_start:
    handle_object_unref(&thread->obj);
    return err;
}

DWORD handle_thread_create(SIZE_T stack_size, LPTHREAD_START_ROUTINE fn, void *arg, DWORD flags,
                           HANDLE *handle, DWORD *tid)
{
    return thread_create(stack_size, fn, arg, flags, handle, tid);
}

/***********************************************************************
 *           CreateThread   (kernel32_tp.@)
 *
 * CREATE_SUSPENDED is refused with ERROR_NOT_SUPPORTED (no ResumeThread on
 * Linux).  Security attributes are ignored.
 */
HANDLE WINAPI CreateThread(SECURITY_ATTRIBUTES *sa, SIZE_T stack_size,
                           LPTHREAD_START_ROUTINE fn, void *arg, DWORD flags, DWORD *tid)
{
    HANDLE handle = NULL;
    DWORD err;

    HANDLE_TRACE("%p %zu %p %p %#x %p", (void *)sa, (size_t)stack_size, (void *)fn, arg,
                 (unsigned int)flags, (void *)tid);
    if ((err = thread_create(stack_size, fn, arg, flags, &handle, tid)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return handle;
}

/***********************************************************************
 *           ExitThread   (kernel32_tp.@)
 */
VOID WINAPI ExitThread(DWORD code)
{
    HANDLE_TRACE("%u", (unsigned int)code);
    handle_thread_exit(code);
}

void handle_thread_exit(DWORD code)
{
    struct handle_thread *ts = handle_thread_current();

    ts->exit_code = code;
    if (!ts->registered)
        thread_exit_hook(ts);
    pthread_exit(NULL);
}

/***********************************************************************
 *           GetThreadId   (kernel32_tp.@)
 */
DWORD WINAPI GetThreadId(HANDLE handle)
{
    struct handle_object *obj;
    struct win_thread *thread;
    DWORD err, tid;

    HANDLE_TRACE("%p", handle);
    if ((err = handle_lookup(handle, HANDLE_TYPE_THREAD, &obj)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    thread = impl_from_thread(obj);
    /* CreateThread returns before the new thread knows its id: wait. */
    while (!(tid = __atomic_load_n(&thread->tid, __ATOMIC_ACQUIRE)))
        os_futex_wait(&thread->tid, 0, 0);
    handle_object_unref(obj);
    return tid;
}

/*
 * THREAD_PRIORITY_* to a nice value of the thread (Linux schedules threads
 * one by one, and each has its own nice value).  FALSE: not a priority of
 * the normal classes.
 */
static BOOL priority_to_nice(int priority, int *nice_value)
{
    switch (priority) {
    case THREAD_PRIORITY_IDLE: *nice_value = 19; return TRUE;
    case THREAD_PRIORITY_LOWEST: *nice_value = 10; return TRUE;
    case THREAD_PRIORITY_BELOW_NORMAL: *nice_value = 5; return TRUE;
    case THREAD_PRIORITY_NORMAL: *nice_value = 0; return TRUE;
    case THREAD_PRIORITY_ABOVE_NORMAL: *nice_value = -5; return TRUE;
    case THREAD_PRIORITY_HIGHEST: *nice_value = -10; return TRUE;
    case THREAD_PRIORITY_TIME_CRITICAL: *nice_value = -20; return TRUE;
    default: return FALSE;
    }
}

/***********************************************************************
 *           SetThreadPriority   (kernel32_tp.@)
 *
 * The priority becomes the thread's nice value (IDLE 19, LOWEST 10,
 * BELOW_NORMAL 5, NORMAL 0, ABOVE_NORMAL -5, HIGHEST -10, TIME_CRITICAL
 * -20).  Where Linux does not allow it (raising a priority needs
 * CAP_SYS_NICE or RLIMIT_NICE; the thread may have ended) the call still
 * succeeds and records the priority, which GetThreadPriority reports: a
 * Windows program may always ask for these priorities.  Other values are
 * ERROR_INVALID_PARAMETER (docs/handles.md).
 */
BOOL WINAPI SetThreadPriority(HANDLE handle, INT priority)
{
    struct handle_object *obj;
    struct win_thread *thread;
    int nice_value;
    DWORD err, tid;

    HANDLE_TRACE("%p %d", handle, priority);
    if ((err = handle_lookup(handle, HANDLE_TYPE_THREAD, &obj)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (!priority_to_nice(priority, &nice_value)) {
        handle_object_unref(obj);
        os_set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    thread = impl_from_thread(obj);
    while (!(tid = __atomic_load_n(&thread->tid, __ATOMIC_ACQUIRE)))
        os_futex_wait(&thread->tid, 0, 0);
    pthread_mutex_lock(&obj->lock);
    thread->priority = priority;
    if (!thread->exited)
        setpriority(PRIO_PROCESS, (id_t)tid, nice_value);   /* best effort, see above */
    pthread_mutex_unlock(&obj->lock);
    handle_object_unref(obj);
    return TRUE;
}

/***********************************************************************
 *           GetThreadPriority   (kernel32_tp.@)
 *
 * The priority last set (THREAD_PRIORITY_NORMAL at first).
 */
INT WINAPI GetThreadPriority(HANDLE handle)
{
    struct handle_object *obj;
    DWORD err;
    int priority;

    HANDLE_TRACE("%p", handle);
    if ((err = handle_lookup(handle, HANDLE_TYPE_THREAD, &obj)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return THREAD_PRIORITY_ERROR_RETURN;
    }
    pthread_mutex_lock(&obj->lock);
    priority = impl_from_thread(obj)->priority;
    pthread_mutex_unlock(&obj->lock);
    handle_object_unref(obj);
    return priority;
}

/***********************************************************************
 *           GetExitCodeThread   (kernel32_tp.@)
 */
BOOL WINAPI GetExitCodeThread(HANDLE handle, DWORD *code)
{
    struct handle_object *obj;
    struct win_thread *thread;
    DWORD err;

    HANDLE_TRACE("%p %p", handle, (void *)code);
    if ((err = handle_lookup(handle, HANDLE_TYPE_THREAD, &obj)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return FALSE;
    }
    if (!code) {
        handle_object_unref(obj);
        os_set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    thread = impl_from_thread(obj);
    pthread_mutex_lock(&obj->lock);
    *code = thread->exited ? thread->exit_code : STILL_ACTIVE;
    pthread_mutex_unlock(&obj->lock);
    handle_object_unref(obj);
    return TRUE;
}

/***********************************************************************
 *           GetCurrentThread   (kernel32_tp.@)
 */
HANDLE WINAPI GetCurrentThread(void)
{
    HANDLE_TRACE("%s", "()");
    return (HANDLE)~(ULONG_PTR)1;
}

/***********************************************************************
 *           GetCurrentThreadId   (kernel32_tp.@)
 */
DWORD WINAPI GetCurrentThreadId(void)
{
    HANDLE_TRACE("%s", "()");
    return os_thread_current_id();
}

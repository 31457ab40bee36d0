/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: Win32 threads.  The per-thread record (owned mutexes,
 * the thread's own object) and its exit hook, thread objects (waitable,
 * signalled when the thread has ended), the registry of thread objects by
 * thread id (OpenThread), user APCs (QueueUserAPC; sync_wait.c runs them
 * in alertable waits), CreateThread, ExitThread and the C runtime's
 * _beginthreadex/_endthreadex, GetExitCodeThread, GetThreadId,
 * Get/SetThreadPriority, and the current-thread calls (SwitchToThread,
 * GetCurrentThread*).
 *
 * Any pthread gets a record on first use; a pthread key destructor runs
 * when it ends (by returning or by ExitThread/pthread_exit): it abandons
 * the mutexes the thread still owns, then signals its thread object, so
 * whoever waits for the thread sees the mutexes abandoned.  CreateThread
 * uses pthreads directly (not os_thread_start): it needs the exit code and
 * the end of the thread.
 *
 * A thread has at most one thread object, found through the registry: the
 * thread's own record adopts the object OpenThread made for its id, so
 * QueueUserAPC through any handle reaches the same queue.  APCs wait on
 * that object's list until the thread waits alertably; QueueUserAPC wakes
 * such a wait by claiming its waiter with WAIT_IO_COMPLETION (the same
 * compare-and-swap that signallers use, so an object and an APC never both
 * satisfy one wait).  A pool thread that waits alertably on a cond (the
 * legacy I/O threads, os_cond_wait_until_alertable) publishes an os_alert
 * instead, through the hooks this file installs in os_thread.c at load;
 * QueueUserAPC wakes it with os_alert_wake.  The platform side thus knows
 * only a futex word, and this side nothing of conds.
 *
 * Locks: obj->lock of a thread object (O); registry_lock (Y), taken before
 * or without O; a record's lock (D) is taken by sync_objects.c.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handle.h"
#include <process.h>

struct win_thread {
    struct handle_object obj;       /* (c) first */
    BOOL exited;                    /* (O) */
    DWORD exit_code;                /* (O) valid once exited */
    _Atomic unsigned int tid;       /* (a) 0 until the thread runs; a futex word */
    int priority;                   /* (O) THREAD_PRIORITY_*, as last set */
    struct list registry_entry;     /* (Y) in the registry while the thread may run */
    struct list apcs;               /* (O) struct thread_apc.entry, FIFO */
    struct handle_waiter *alerted;  /* (O) the thread's alertable wait, or NULL */
    struct os_alert *cond_alert;    /* (O) its alertable cond wait, or NULL */
};

/* One QueueUserAPC call, waiting for the thread's next alertable wait. */
struct thread_apc {
    struct list entry;              /* (O) on thread->apcs */
    PAPCFUNC fn;                    /* (c) */
    ULONG_PTR arg;                  /* (c) */
};

static struct os_lock registry_lock = OS_LOCK_INITIALIZER(OS_LOCK_RANK_Y);  /* Y */
static struct list registry = LIST_INIT(registry);   /* (Y) struct win_thread.registry_entry */

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

/* The last reference: APCs never run are dropped, as when a thread ends. */
static void thread_destroy(struct handle_object *obj)
{
    struct win_thread *thread = impl_from_thread(obj);

    os_lock_acquire(&registry_lock);
    if (list_linked(&thread->registry_entry))
        list_remove(&thread->registry_entry);
    os_lock_release(&registry_lock);
    while (!list_empty(&thread->apcs)) {
        struct thread_apc *apc = LIST_ENTRY(thread->apcs.next, struct thread_apc, entry);

        list_remove(&apc->entry);
        free(apc);
    }
}

static const struct handle_ops thread_ops = {
    .type = HANDLE_TYPE_THREAD,
    .ready = thread_ready,
    .consume = thread_consume,
    .destroy = thread_destroy,
};

static struct win_thread *thread_object_new(DWORD tid)
{
    struct win_thread *thread = calloc(1, sizeof(*thread));

    if (!thread)
        return NULL;
    handle_object_init(&thread->obj, &thread_ops);
    thread->tid = tid;
    list_init(&thread->registry_entry);
    list_init(&thread->apcs);
    return thread;
}

/* ---- the registry of thread objects by id ---------------------------------- */

/* A reference to the registered object of tid, or NULL.  An object whose
 * last reference is being dropped (its destroy waits for Y) is skipped.
 * Locking: Y. */
static struct win_thread *registry_find_locked(DWORD tid)
{
    struct list *node;

    for (node = registry.next; node != &registry; node = node->next) {
        struct win_thread *thread = LIST_ENTRY(node, struct win_thread, registry_entry);
        LONG refs = atomic_load_explicit(&thread->obj.refs, memory_order_acquire);

        if (atomic_load_explicit(&thread->tid, memory_order_acquire) != tid)
            continue;
        while (refs > 0) {
            if (atomic_compare_exchange_strong_explicit(&thread->obj.refs, &refs, refs + 1,
                                                        memory_order_acq_rel, memory_order_acquire))
                return thread;
        }
    }
    return NULL;
}

/* A reference to the object for tid: the registered one, else a new one,
 * registered.  NULL: out of memory. */
static struct win_thread *registry_get(DWORD tid)
{
    struct win_thread *thread;

    os_lock_acquire(&registry_lock);
    if (!(thread = registry_find_locked(tid)) && (thread = thread_object_new(tid)))
        list_add_tail(&registry, &thread->registry_entry);
    os_lock_release(&registry_lock);
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
            os_lock_init(&ts->lock, OS_LOCK_RANK_D);
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
    os_lock_acquire(&registry_lock);
    /* An object OpenThread made that this thread never used: signal it too. */
    if (!self) {
        struct win_thread *found = registry_find_locked(ts->tid);    /* its reference */

        self = found ? &found->obj : NULL;
    }
    if (self && list_linked(&impl_from_thread(self)->registry_entry))
        list_remove(&impl_from_thread(self)->registry_entry);
    os_lock_release(&registry_lock);
    if (self) {
        ts->self = NULL;
        os_lock_acquire(&self->lock);
        impl_from_thread(self)->exited = TRUE;
        impl_from_thread(self)->exit_code = ts->exit_code;
        if (!list_empty(&self->waiters))
            handle_object_wake_locked(self);
        os_lock_release(&self->lock);
        handle_object_unref(self);
    }
}

struct handle_object *handle_thread_self_object(void)
{
    struct handle_thread *ts = handle_thread_current();
    struct win_thread *thread;

    if (!ts->self) {
        /* A thread CreateThread did not start: its exit code is 0 unless it
         * calls ExitThread.  OpenThread may have made its object already. */
        if (!(thread = registry_get(ts->tid)))
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
    /* Registered before the id is published: OpenThread(id) finds it. */
    os_lock_acquire(&registry_lock);
    atomic_store_explicit(&start.thread->tid, ts->tid, memory_order_release);
    list_add_tail(&registry, &start.thread->registry_entry);
    os_lock_release(&registry_lock);
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
        while (!(*tid = atomic_load_explicit(&thread->tid, memory_order_acquire)))
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

/* ExitThread's work, also _endthreadex's: the calling thread ends with code. */
static void __attribute__((noreturn)) thread_exit(DWORD code)
{
    struct handle_thread *ts = handle_thread_current();

    ts->exit_code = code;
    if (!ts->registered)
        thread_exit_hook(ts);
    pthread_exit(NULL);
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
    thread_exit(code);
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
    while (!(tid = atomic_load_explicit(&thread->tid, memory_order_acquire)))
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
    while (!(tid = atomic_load_explicit(&thread->tid, memory_order_acquire)))
        os_futex_wait(&thread->tid, 0, 0);
    os_lock_acquire(&obj->lock);
    thread->priority = priority;
    if (!thread->exited)
        setpriority(PRIO_PROCESS, (id_t)tid, nice_value);   /* best effort, see above */
    os_lock_release(&obj->lock);
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
    os_lock_acquire(&obj->lock);
    priority = impl_from_thread(obj)->priority;
    os_lock_release(&obj->lock);
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
    os_lock_acquire(&obj->lock);
    *code = thread->exited ? thread->exit_code : STILL_ACTIVE;
    os_lock_release(&obj->lock);
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

/* ---- SwitchToThread, _beginthreadex, _endthreadex -------------------------- */

/***********************************************************************
 *           SwitchToThread   (kernel32_tp.@)
 *
 * Yields; TRUE when the thread was switched out meanwhile (its context
 * switch counts moved), that is when another thread ran.
 */
BOOL WINAPI SwitchToThread(void)
{
    struct rusage before, after;

    HANDLE_TRACE("%s", "()");
    if (getrusage(RUSAGE_THREAD, &before))
        return FALSE;
    sched_yield();
    if (getrusage(RUSAGE_THREAD, &after))
        return FALSE;
    return after.ru_nvcsw + after.ru_nivcsw != before.ru_nvcsw + before.ru_nivcsw;
}

/***********************************************************************
 *           _beginthreadex   (kernel32_tp.@)
 *
 * The C runtime's thread start: a waitable thread handle (close it with
 * CloseHandle), 0 with errno on failure (EINVAL for no start routine or
 * CREATE_SUSPENDED, which this layer cannot do; EAGAIN otherwise).
 */
uintptr_t __cdecl _beginthreadex(void *security, unsigned int stack_size,
                                 _beginthreadex_start_routine_t start, void *arg,
                                 unsigned int flags, unsigned int *tid)
{
    LPTHREAD_START_ROUTINE fn;
    HANDLE handle = NULL;
    DWORD err, id = 0;

    HANDLE_TRACE("%p %u %p %p %#x %p", security, stack_size, (void *)start, arg, flags,
                 (void *)tid);
    if (!start) {
        errno = EINVAL;
        return 0;
    }
    /* unsigned (__stdcall *)(void *) and DWORD (WINAPI *)(void *): one ABI. */
    memcpy(&fn, &start, sizeof(fn));
    if ((err = thread_create(stack_size, fn, arg, flags, &handle, tid ? &id : NULL))
        != ERROR_SUCCESS) {
        errno = err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_PARAMETER ? EINVAL : EAGAIN;
        os_set_last_error(err);
        return 0;
    }
    if (tid)
        *tid = id;
    return (uintptr_t)handle;
}

/***********************************************************************
 *           _endthreadex   (kernel32_tp.@)
 *
 * Ends the calling thread with code, as ExitThread.
 */
void __cdecl _endthreadex(unsigned int code)
{
    HANDLE_TRACE("%u", code);
    thread_exit(code);
}

/* ---- OpenThread ------------------------------------------------------------ */

/* Is tid a thread of this process now?  tgkill with signal 0 checks. */
static BOOL thread_id_alive(DWORD tid)
{
    return tid && syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) == 0;
}

/***********************************************************************
 *           OpenThread   (kernel32_tp.@)
 *
 * A handle to the thread object of any thread of this process; the access
 * mask and inheritance are accepted and not enforced.  A thread that never
 * calls into this library is not known to end: its object is signalled
 * only if it does (docs/handles.md).  ERROR_INVALID_PARAMETER for an id
 * that names no thread of this process.
 */
HANDLE WINAPI OpenThread(DWORD access, BOOL inherit, DWORD tid)
{
    struct win_thread *thread = NULL;
    HANDLE handle = NULL;
    DWORD err = ERROR_SUCCESS;

    HANDLE_TRACE("%#x %d %u", (unsigned int)access, inherit, (unsigned int)tid);
    os_lock_acquire(&registry_lock);
    if (!(thread = registry_find_locked(tid))) {
        if (!thread_id_alive(tid))
            err = ERROR_INVALID_PARAMETER;
        else if (!(thread = thread_object_new(tid)))
            err = ERROR_NOT_ENOUGH_MEMORY;
        else    /* the thread adopts it when it first needs its object */
            list_add_tail(&registry, &thread->registry_entry);
    }
    os_lock_release(&registry_lock);
    if (thread) {
        err = handle_alloc(&thread->obj, &handle);
        handle_object_unref(&thread->obj);
    }
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return NULL;
    }
    return handle;
}

/* ---- user APCs ------------------------------------------------------------- */

/* Claims an alertable waiter for an APC and wakes its thread.  Locking: the
 * thread object's lock (the waiter stays alive while it is published). */
static void thread_alert_locked(struct handle_waiter *waiter)
{
    unsigned int state = atomic_load_explicit(&waiter->state, memory_order_acquire);

    while (state == HANDLE_WAIT_PENDING || state == HANDLE_WAIT_KICKED) {
        if (atomic_compare_exchange_strong_explicit(&waiter->state, &state, WAIT_IO_COMPLETION,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            os_futex_wake(&waiter->state, 1);
            return;
        }
    }
}

BOOL handle_apc_arm(struct handle_object *self, struct handle_waiter *waiter)
{
    struct win_thread *thread = impl_from_thread(self);
    BOOL queued;

    os_lock_acquire(&self->lock);
    if (!(queued = !list_empty(&thread->apcs)))
        thread->alerted = waiter;
    os_lock_release(&self->lock);
    return queued;
}

void handle_apc_disarm(struct handle_object *self)
{
    os_lock_acquire(&self->lock);
    impl_from_thread(self)->alerted = NULL;
    os_lock_release(&self->lock);
}

BOOL handle_apc_run_all(struct handle_object *self)
{
    struct win_thread *thread = impl_from_thread(self);
    struct thread_apc *apc;
    BOOL ran = FALSE;

    for (;;) {
        os_lock_acquire(&self->lock);
        apc = list_empty(&thread->apcs) ? NULL
              : LIST_ENTRY(thread->apcs.next, struct thread_apc, entry);
        if (apc)
            list_remove(&apc->entry);
        os_lock_release(&self->lock);
        if (!apc)
            return ran;
        /* User code: no lock held.  An APC it queues runs in this round. */
        HANDLE_TRACE("calling APC %p(%#lx)", (void *)apc->fn, (unsigned long)apc->arg);
        apc->fn(apc->arg);
        HANDLE_TRACE("APC %p returned", (void *)apc->fn);
        free(apc);
        ran = TRUE;
    }
}

/*
 * The alert hooks of os_cond_wait_until_alertable (os_linux.h): the
 * calling thread's object holds the published alert from arm to finish;
 * alert->owner carries the reference.
 */
static BOOL apc_cond_arm(struct os_alert *alert)
{
    struct handle_object *self = handle_thread_self_object();
    struct win_thread *thread;
    BOOL queued;

    if (!(alert->owner = self))
        return FALSE;   /* no memory for the object: a plain wait */
    thread = impl_from_thread(self);
    os_lock_acquire(&self->lock);
    if (!(queued = !list_empty(&thread->apcs)))
        thread->cond_alert = alert;
    os_lock_release(&self->lock);
    return queued;
}

static BOOL apc_cond_finish(struct os_alert *alert)
{
    struct handle_object *self = alert->owner;
    BOOL ran;

    if (!self)
        return FALSE;
    /* Unpublished before the alert goes: QueueUserAPC may be looking at it. */
    os_lock_acquire(&self->lock);
    impl_from_thread(self)->cond_alert = NULL;
    os_lock_release(&self->lock);
    ran = handle_apc_run_all(self);
    handle_object_unref(self);
    return ran;
}

static const struct os_alert_hooks apc_alert_hooks = {
    .arm = apc_cond_arm,
    .finish = apc_cond_finish,
};

__attribute__((constructor)) static void apc_alert_hooks_install(void)
{
    os_thread_set_alert_hooks(&apc_alert_hooks);
}

/***********************************************************************
 *           QueueUserAPC   (kernel32_tp.@)
 *
 * The APC runs on the thread, in FIFO order with the others, the next time
 * it waits or sleeps alertably (SleepEx, WaitFor*Ex with alertable TRUE),
 * which then returns WAIT_IO_COMPLETION; a thread that is in such a wait
 * now is woken for it.  A thread that has ended: ERROR_GEN_FAILURE.
 */
DWORD WINAPI QueueUserAPC(PAPCFUNC fn, HANDLE handle, ULONG_PTR arg)
{
    struct handle_object *obj;
    struct win_thread *thread;
    struct thread_apc *apc;
    DWORD err;

    HANDLE_TRACE("%p %p %#lx", (void *)fn, handle, (unsigned long)arg);
    if ((err = handle_lookup(handle, HANDLE_TYPE_THREAD, &obj)) != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    thread = impl_from_thread(obj);
    if (!fn)
        err = ERROR_INVALID_PARAMETER;
    else if (!(apc = malloc(sizeof(*apc))))
        err = ERROR_NOT_ENOUGH_MEMORY;
    if (err == ERROR_SUCCESS) {
        apc->fn = fn;
        apc->arg = arg;
        os_lock_acquire(&obj->lock);
        if (thread->exited) {
            err = ERROR_GEN_FAILURE;
        } else {
            list_add_tail(&thread->apcs, &apc->entry);
            if (thread->alerted)
                thread_alert_locked(thread->alerted);
            else if (thread->cond_alert)
                os_alert_wake(thread->cond_alert);
        }
        os_lock_release(&obj->lock);
        if (err != ERROR_SUCCESS)
            free(apc);
    }
    handle_object_unref(obj);
    if (err != ERROR_SUCCESS) {
        os_set_last_error(err);
        return 0;
    }
    return 1;
}

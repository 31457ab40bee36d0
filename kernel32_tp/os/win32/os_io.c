/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: the I/O completion source of os.h.  One completion port for the
 * process and one service thread that dequeues its packets and hands each
 * to the completion function its file was bound to.  Knows nothing about
 * pools.
 *
 * The thread takes one packet per call (ntdll's NtRemoveIoCompletion, as
 * Wine's own pool does), not a batch (GetQueuedCompletionStatusEx, used
 * only when ntdll lacks the call).  Under Wine every packet taken is a
 * server request either way, and a batch costs one more: the request that
 * finds the port empty and ends it, on top of the one (and the wait) the
 * next call starts with.  On Windows a batch would save system calls when
 * packets queue up; under Wine, which the DLL stands in for, it only adds.
 *
 * A file is bound by associating it with the port under a key that names a
 * slot of the binding table and the slot's generation.  The system offers
 * no way to dissociate a file from a port, so unbinding frees the slot and
 * bumps its generation: a completion that comes later names a stale
 * generation and is dropped, never delivered to a freed binding.  Bindings
 * for the file's whole life (binding NULL) share one slot per completion
 * function and key.
 *
 * The system does not tell when a file is closed.  For a binding the core
 * watches (os_io_watch: it waits for operations given up on, which may
 * never complete), the thread wakes every IO_WATCH_MS and looks whether the
 * handle is still open; once it is not, the binding has ended
 * (complete(key, NULL)).  A handle value that the system reuses for
 * another object meanwhile delays that until the new one is closed too.
 *
 * Packets come from a free list that grows in blocks when more completions
 * wait for their callbacks than ever before; while memory is short the
 * thread leaves the completions in the port and retries.
 *
 * While IO_BACKLOG packets it handed out still wait for workers (the core
 * releases a packet when its callback starts), the thread yields the
 * processor once before it dequeues more (io_let_workers_run).  Under Wine
 * every dequeue is a server request, and one that finds the port empty
 * costs a second one and a wait: dequeuing ahead of busy workers empties
 * the port early, and on a small machine takes a processor from them.  One
 * yield lets a worker that waits for this processor run first, so
 * completions gather in the port, each then taken by one request.  It used
 * to yield again and again for up to 200 us until the workers caught up:
 * as few requests, but with many pipes the yielding thread kept taking the
 * processor back from the server and the workers it waited for: a sixth
 * fewer round trips per second with 256 pipes (docs/io.md, "Round three").
 *
 * Locks: table_lock (I: bindings; held around the calls of the completion
 * functions, which take the pool lock inside), packet_lock (a leaf: the
 * free packets).
 */
#include <stdlib.h>

#include "os_win32.h"

#define IO_ENTRIES 64           /* packets dequeued per system call */
#define IO_PACKET_BLOCK 64      /* packets allocated at a time */
#define IO_RETRY_MS 10          /* wait before retrying when memory is short */
#define IO_WATCH_MS 50          /* how often watched handles are looked at */
#define IO_BACKLOG 2            /* packets waiting for workers that make the thread yield */

struct os_io_binding {
    os_io_complete_fn complete; /* (c) */
    void *key;                  /* (c) */
    DWORD index;                /* (c) its slot */
    BOOL permanent;             /* (c) bound for the file's life: never unbound */
    HANDLE file;                /* (c) the handle it was bound with */
    LONG watched;               /* (a) os_io_watch was called */
    BOOL ended;                 /* (I) complete(key, NULL) was called */
};

struct io_slot {
    struct os_io_binding *binding;  /* (I) NULL while free */
    DWORD gen;                      /* (I) bumped when the slot is freed */
    DWORD next_free;                /* (I) free list, 1-based, 0 = end */
};

static SRWLOCK table_lock = SRWLOCK_INIT;       /* I */
static struct io_slot *slots;                   /* (I) */
static DWORD slot_count, slot_capacity;         /* (I) */
static DWORD free_slot;                         /* (I) 1-based head of the free list */
static HANDLE port;                             /* (I) created with the first binding */
static BOOL thread_started;                     /* (I) */
static LONG watching;                           /* (a) watched bindings not ended */

static SRWLOCK packet_lock = SRWLOCK_INIT;
static struct os_io_packet *free_packets;       /* (packet_lock) linked by next */
/* Packets the core handed back so far; the service thread counts those it
 * handed out, and the difference is what waits for workers. */
static ULONG packets_released;                  /* (packet_lock; read without it, atomic) */

typedef ULONG (WINAPI *status_to_error_fn)(NTSTATUS status);
static status_to_error_fn status_to_error;      /* (c) after the first binding */

/* ntdll's IO_STATUS_BLOCK, which the headers the DLL builds with lack. */
struct io_status {
    union {
        LONG status;
        void *pointer;
    } u;
    ULONG_PTR information;
};
typedef LONG (WINAPI *remove_completion_fn)(HANDLE port, ULONG_PTR *key, ULONG_PTR *value,
                                            struct io_status *io, LARGE_INTEGER *timeout);
#define IO_STATUS_TIMEOUT 0x102

static ULONG_PTR key_of(DWORD index, DWORD gen)
{
    return ((ULONG_PTR)gen << 32) | index;
}

/* ---- packets ----------------------------------------------------------------- */

/* A free packet, or NULL when memory is short. */
static struct os_io_packet *packet_get(void)
{
    struct os_io_packet *packet, *block;
    int i;

    AcquireSRWLockExclusive(&packet_lock);
    if (!free_packets && (block = calloc(IO_PACKET_BLOCK, sizeof(*block)))) {
        /* Blocks are never freed: they serve every later peak. */
        for (i = 0; i < IO_PACKET_BLOCK; i++) {
            block[i].next = free_packets;
            free_packets = &block[i];
        }
    }
    if ((packet = free_packets))
        free_packets = packet->next;
    ReleaseSRWLockExclusive(&packet_lock);
    return packet;
}

/* Back to the free list; counted released when the core had it. */
static void packet_put(struct os_io_packet *packet, BOOL from_core)
{
    AcquireSRWLockExclusive(&packet_lock);
    packet->next = free_packets;
    free_packets = packet;
    if (from_core)
        __atomic_store_n(&packets_released, packets_released + 1, __ATOMIC_RELEASE);
    ReleaseSRWLockExclusive(&packet_lock);
}

void os_io_packet_release(struct os_io_packet *packet)
{
    packet_put(packet, TRUE);
}

/* ---- the service thread ------------------------------------------------------------ */

/* Packets handed to the core; only the service thread touches it. */
static ULONG packets_delivered;

/* Hands one dequeued completion to its binding.  Takes I. */
static void io_deliver(const OVERLAPPED_ENTRY *entry, struct os_io_packet *packet)
{
    DWORD index = (DWORD)(entry->lpCompletionKey & 0xffffffffu);
    DWORD gen = (DWORD)((ULONG_PTR)entry->lpCompletionKey >> 32);
    OVERLAPPED *ov = entry->lpOverlapped;
    struct os_io_binding *binding;

    packet->next = NULL;
    packet->overlapped = ov;
    /* The entry is the system's FILE_IO_COMPLETION_INFORMATION: Internal is
     * the IO_STATUS_BLOCK's status.  Never read it from the OVERLAPPED: the
     * caller may have reused it once the operation completed. */
    packet->status = (LONG)entry->Internal;
    packet->err = packet->status ? status_to_error(packet->status) : ERROR_SUCCESS;
    packet->bytes = entry->dwNumberOfBytesTransferred;
    AcquireSRWLockExclusive(&table_lock);
    binding = index < slot_count && slots[index].gen == gen ? slots[index].binding : NULL;
    if (binding) {
        /* Counted first: complete() may release it at once. */
        packets_delivered++;
        binding->complete(binding->key, packet);
    }
    ReleaseSRWLockExclusive(&table_lock);
    if (!binding)
        packet_put(packet, FALSE);      /* its file was unbound: nobody expects it */
}

/* Handed out and not yet back: the completions that wait for workers. */
static ULONG io_packets_waiting(void)
{
    return packets_delivered - __atomic_load_n(&packets_released, __ATOMIC_ACQUIRE);
}

/*
 * Yields the processor once while IO_BACKLOG packets wait for workers (file
 * header).  No server request: SwitchToThread is a plain system call under
 * Wine, and returns at once when no other thread wants this processor.
 */
static void io_let_workers_run(void)
{
    if (io_packets_waiting() >= IO_BACKLOG)
        SwitchToThread();
}

/* Reports the end of each watched binding whose handle is closed.  Takes I. */
static void io_check_watched(void)
{
    DWORD i, flags;

    AcquireSRWLockExclusive(&table_lock);
    for (i = 0; i < slot_count; i++) {
        struct os_io_binding *binding = slots[i].binding;

        if (!binding || binding->ended || !InterlockedCompareExchange(&binding->watched, 0, 0)
            || GetHandleInformation(binding->file, &flags))
            continue;
        binding->ended = TRUE;
        InterlockedDecrement(&watching);
        binding->complete(binding->key, NULL);
    }
    ReleaseSRWLockExclusive(&table_lock);
}

/*
 * One packet from the port into *entry, as GetQueuedCompletionStatusEx
 * fills it (Internal: the status): 1, or 0 when timeout_ms passed first.
 */
static ULONG io_remove_one(remove_completion_fn remove, OVERLAPPED_ENTRY *entry,
                           DWORD timeout_ms)
{
    LARGE_INTEGER timeout;
    struct io_status io;
    ULONG_PTR key, value;
    LONG status;

    timeout.QuadPart = -(LONGLONG)timeout_ms * 10000;
    status = remove(port, &key, &value, &io, timeout_ms == INFINITE ? NULL : &timeout);
    if (status == IO_STATUS_TIMEOUT)
        return 0;
    if (status)
        os_panic("NtRemoveIoCompletion failed: status %#lx", (unsigned long)status);
    entry->lpCompletionKey = key;
    entry->lpOverlapped = (OVERLAPPED *)value;
    entry->Internal = (ULONG_PTR)(ULONG)io.u.status;
    entry->dwNumberOfBytesTransferred = (DWORD)io.information;
    return 1;
}

static void io_service_main(void *arg)
{
    static os_win32_proc remove_proc;
    static LONG remove_looked_up;
    remove_completion_fn remove = (remove_completion_fn)os_win32_ntdll_proc(
        "NtRemoveIoCompletion", &remove_proc, &remove_looked_up);
    OVERLAPPED_ENTRY entries[IO_ENTRIES];
    struct os_io_packet *packet;
    ULONGLONG checked_ns = 0, now_ns;
    ULONG count, i;
    DWORD timeout_ms;

    (void)arg;
    for (;;) {
        io_let_workers_run();
        timeout_ms = InterlockedCompareExchange(&watching, 0, 0) ? IO_WATCH_MS : INFINITE;
        if (remove) {
            count = io_remove_one(remove, &entries[0], timeout_ms);
        } else if (!GetQueuedCompletionStatusEx(port, entries, IO_ENTRIES, &count, timeout_ms,
                                                FALSE)) {
            if (GetLastError() != WAIT_TIMEOUT)
                os_panic("GetQueuedCompletionStatusEx failed: error %lu", GetLastError());
            count = 0;
        }
        if (InterlockedCompareExchange(&watching, 0, 0)
            && (now_ns = os_clock_monotonic_ns()) - checked_ns >= IO_WATCH_MS * 1000000ull) {
            checked_ns = now_ns;
            io_check_watched();
        }
        for (i = 0; i < count; i++) {
            if (!entries[i].lpOverlapped)
                continue;       /* os_io_watch's wake-up: nobody else posts to this port */
            while (!(packet = packet_get()))
                Sleep(IO_RETRY_MS);
            io_deliver(&entries[i], packet);
        }
    }
}

/* ---- bindings ------------------------------------------------------------------------- */

/* The port, the thread and a free slot.  Locking: I. */
static DWORD io_prepare_locked(DWORD *index)
{
    struct io_slot *grown;
    DWORD capacity, err;

    if (!port) {
        if (!status_to_error)
            status_to_error = (status_to_error_fn)(void (*)(void))GetProcAddress(
                GetModuleHandleW(L"ntdll.dll"), "RtlNtStatusToDosError");
        if (!status_to_error)
            return ERROR_PROC_NOT_FOUND;
        if (!(port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1)))
            return GetLastError();
    }
    if (!thread_started) {
        if ((err = os_thread_start(io_service_main, NULL, 0)) != ERROR_SUCCESS)
            return err;
        thread_started = TRUE;
    }
    if (free_slot) {
        *index = free_slot - 1;
        return ERROR_SUCCESS;
    }
    if (slot_count == slot_capacity) {
        capacity = slot_capacity ? slot_capacity * 2 : 64;
        if (!(grown = realloc(slots, capacity * sizeof(*slots))))
            return ERROR_NOT_ENOUGH_MEMORY;
        slots = grown;
        slot_capacity = capacity;
    }
    slots[slot_count].binding = NULL;
    slots[slot_count].gen = 1;
    slots[slot_count].next_free = 0;
    *index = slot_count;
    return ERROR_SUCCESS;
}

/* A permanent binding for (complete, key), if one exists.  Locking: I. */
static struct os_io_binding *io_find_permanent_locked(os_io_complete_fn complete, void *key)
{
    DWORD i;

    for (i = 0; i < slot_count; i++) {
        struct os_io_binding *binding = slots[i].binding;

        if (binding && binding->permanent && binding->complete == complete
            && binding->key == key)
            return binding;
    }
    return NULL;
}

DWORD os_io_bind(HANDLE file, os_io_complete_fn complete, void *key,
                 struct os_io_binding **out)
{
    struct os_io_binding *binding = NULL, *created = NULL;
    DWORD err, index = 0;

    AcquireSRWLockExclusive(&table_lock);
    if ((err = io_prepare_locked(&index)) != ERROR_SUCCESS)
        goto done;
    if (!out)
        binding = io_find_permanent_locked(complete, key);
    if (!binding) {
        if (!(binding = created = malloc(sizeof(*binding)))) {
            err = ERROR_NOT_ENOUGH_MEMORY;
            goto done;
        }
        binding->complete = complete;
        binding->key = key;
        binding->index = index;
        binding->permanent = !out;
        binding->file = file;
        binding->watched = 0;
        binding->ended = FALSE;
    }
    if (!CreateIoCompletionPort(file, port, key_of(binding->index, slots[binding->index].gen),
                                0)) {
        err = GetLastError();
        free(created);
        goto done;
    }
    if (created) {
        if (index == slot_count)
            slot_count++;
        else
            free_slot = slots[index].next_free;
        slots[index].binding = created;
    }
    if (out)
        *out = binding;
done:
    ReleaseSRWLockExclusive(&table_lock);
    return err;
}

void *os_io_object_alloc(size_t size)
{
    return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);
}

void os_io_object_free(void *memory)
{
    HeapFree(GetProcessHeap(), 0, memory);
}

void os_io_watch(struct os_io_binding *binding)
{
    /* Called under the core's locks: no lock here.  The wake-up makes the
     * thread start its timed waits; the port exists since the binding does. */
    if (InterlockedExchange(&binding->watched, 1))
        return;
    InterlockedIncrement(&watching);
    PostQueuedCompletionStatus(port, 0, 0, NULL);
}

void os_io_unbind(struct os_io_binding *binding)
{
    DWORD index = binding->index;

    /* Waits for a completion function that runs right now. */
    AcquireSRWLockExclusive(&table_lock);
    if (InterlockedCompareExchange(&binding->watched, 0, 0) && !binding->ended)
        InterlockedDecrement(&watching);
    slots[index].binding = NULL;
    slots[index].gen++;
    slots[index].next_free = free_slot;
    free_slot = index + 1;
    ReleaseSRWLockExclusive(&table_lock);
    free(binding);
}

/* The completion port's thread delivers every completion: the workers have
 * nothing to poll (os.h). */
BOOL os_io_poll(void)
{
    return FALSE;
}

void os_io_poller_active(BOOL active)
{
    (void)active;
}

BOOL os_io_pollable(void)
{
    return FALSE;
}

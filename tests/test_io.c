/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thread-pool I/O: CreateThreadpoolIo, StartThreadpoolIo, CancelThreadpoolIo,
 * WaitForThreadpoolIoCallbacks, CloseThreadpoolIo, their ntdll names
 * (TpAllocIoCompletion, TpStartAsyncIoOperation, TpCancelAsyncIoOperation,
 * TpWaitForIoCompletion, TpReleaseIoCompletion) and BindIoCompletionCallback,
 * on regular files and named pipes opened for overlapped I/O.
 *
 * Each completion is one callback with its own OVERLAPPED, result and byte
 * count; callbacks record them and the test thread checks.  An overlapped
 * read of a regular file may complete at once or later, as on Windows: the
 * tests accept either and check the result both ways.  A read of an empty
 * pipe is always pending, which orders the pipe tests.
 */
#include <stdio.h>
#include <string.h>

#include "helper.h"
#include <winternl.h>

#ifdef __MINGW32__
typedef void (CALLBACK *PTP_IO_CALLBACK)(PTP_CALLBACK_INSTANCE, void *, void *,
                                         IO_STATUS_BLOCK *, PTP_IO);
NTSTATUS WINAPI TpAllocIoCompletion(PTP_IO *io, HANDLE file, PTP_IO_CALLBACK callback,
                                    void *userdata, PTP_CALLBACK_ENVIRON env);
void WINAPI TpStartAsyncIoOperation(PTP_IO io);
void WINAPI TpCancelAsyncIoOperation(PTP_IO io);
void WINAPI TpWaitForIoCompletion(PTP_IO io, BOOL cancel_pending);
void WINAPI TpReleaseIoCompletion(PTP_IO io);
NTSTATUS WINAPI RtlSetIoCompletionCallback(HANDLE file, LPOVERLAPPED_COMPLETION_ROUTINE routine,
                                           ULONG flags);
#endif

#define TEST_STATUS_SUCCESS ((LONG)0x00000000)
#define TEST_STATUS_PIPE_BROKEN ((LONG)0xC000014B)

/* How long a callback that must not come is given to show up anyway. */
#define NO_CALLBACK_MS 300

/* ---- recording callbacks ------------------------------------------------- */

#define IO_RECORDS 512

struct io_record {
    struct probe probe;
    HANDLE event;               /* auto-reset: set after each callback recorded */
    PTP_IO io;                  /* the object callbacks must be handed, once known */
    CRITICAL_SECTION lock;      /* callbacks fill a record, then publish it in count */
    volatile LONG count;
    OVERLAPPED *ov[IO_RECORDS];
    DWORD err[IO_RECORDS];
    ULONG_PTR bytes[IO_RECORDS];
    HANDLE set_event;           /* SetEventWhenCallbackReturns, when not NULL */
    struct gate *gate;          /* callbacks pass it first, when not NULL */
};

static void record_init(struct io_record *r)
{
    memset(r, 0, sizeof(*r));         /* PROBE_INIT is all zeros */
    r->event = event_new(FALSE, FALSE);
    InitializeCriticalSection(&r->lock);
}

static void record_destroy(struct io_record *r)
{
    probe_assert_clean(&r->probe);
    CloseHandle(r->event);
    DeleteCriticalSection(&r->lock);
}

/* The record is written before count makes it visible to the test thread. */
static void record_add(struct io_record *r, OVERLAPPED *ov, DWORD err, ULONG_PTR bytes)
{
    LONG i;

    EnterCriticalSection(&r->lock);
    i = InterlockedCompareExchange(&r->count, 0, 0);
    PROBE_CHECK(&r->probe, i < IO_RECORDS);
    if (i < IO_RECORDS) {
        r->ov[i] = ov;
        r->err[i] = err;
        r->bytes[i] = bytes;
    }
    InterlockedIncrement(&r->count);
    LeaveCriticalSection(&r->lock);
    SetEvent(r->event);
}

static void CALLBACK record_io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                                  ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct io_record *r = ctx;

    PROBE_CHECK(&r->probe, inst != NULL);
    PROBE_CHECK(&r->probe, r->io == NULL || io == r->io);
    if (r->gate)
        PROBE_CHECK(&r->probe, gate_pass(r->gate));
    if (r->set_event)
        SetEventWhenCallbackReturns(inst, r->set_event);
    record_add(r, overlapped, result, bytes);
}

/* Waits for the callback number n (1-based) to have been recorded.  The
 * event may stay set: reset it before checking that no callback comes. */
static void record_wait(struct io_record *r, LONG n)
{
    while (InterlockedCompareExchange(&r->count, 0, 0) < n)
        helper_wait(r->event);
}

static void CALLBACK legacy_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov);

/* ---- files and pipes ----------------------------------------------------- */

static OVERLAPPED *ov_init(OVERLAPPED *ov, ULONGLONG offset)
{
    memset(ov, 0, sizeof(*ov));
    ov->Offset = (DWORD)offset;
    ov->OffsetHigh = (DWORD)(offset >> 32);
    return ov;
}

/* A temporary file holding size bytes of pattern(i), reopened with flags. */
static BYTE pattern(DWORD i)
{
    return (BYTE)(i * 7 + i / 251);
}

static HANDLE temp_file_open(char *path, DWORD size, DWORD flags)
{
    char dir[MAX_PATH];
    BYTE buf[4096];
    DWORD done = 0, chunk, written, i;
    HANDLE file;

    assert_true(GetTempPathA(sizeof(dir), dir) > 0);
    assert_true(GetTempFileNameA(dir, "ktp", 0, path) != 0);
    file = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    while (done < size) {
        chunk = size - done < sizeof(buf) ? size - done : (DWORD)sizeof(buf);
        for (i = 0; i < chunk; i++)
            buf[i] = pattern(done + i);
        assert_true(WriteFile(file, buf, chunk, &written, NULL));
        assert_int_equal(written, chunk);
        done += chunk;
    }
    assert_true(CloseHandle(file));
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, flags, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    return file;
}

static void temp_file_close(HANDLE file, const char *path)
{
    assert_true(CloseHandle(file));
    assert_true(DeleteFileA(path));
}

struct pipe_pair {
    HANDLE server;      /* overlapped */
    HANDLE client;      /* synchronous unless asked otherwise */
};

static void pipe_pair_open(struct pipe_pair *pp, DWORD type, DWORD client_flags)
{
    char name[96];
    OVERLAPPED ov;

    unique_pipe_name(name, sizeof(name), "test_io");
    pp->server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                  type | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    assert_true(pp->server != INVALID_HANDLE_VALUE);
    pp->client = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                             client_flags, NULL);
    assert_true(pp->client != INVALID_HANDLE_VALUE);
    /* The client is connected already: no operation starts. */
    assert_false(ConnectNamedPipe(pp->server, ov_init(&ov, 0)));
    assert_int_equal(GetLastError(), ERROR_PIPE_CONNECTED);
}

static void pipe_pair_close(struct pipe_pair *pp)
{
    if (pp->client)
        assert_true(CloseHandle(pp->client));
    if (pp->server)
        assert_true(CloseHandle(pp->server));
}

/* Most tests' start: a byte pipe pair and an I/O object on its server end
 * that records into r. */
static void record_on_pipe_open(void **state, struct pipe_pair *pp, struct io_record *r)
{
    record_init(r);
    pipe_pair_open(pp, PIPE_TYPE_BYTE, 0);
    r->io = CreateThreadpoolIo(pp->server, record_io_cb, r, helper_env(state));
    assert_non_null(r->io);
}

/* And their end: the object closed (its callbacks are done), then the pipe. */
static void record_on_pipe_close(struct pipe_pair *pp, struct io_record *r)
{
    CloseThreadpoolIo(r->io);
    pipe_pair_close(pp);
    record_destroy(r);
}

static void pipe_write(HANDLE client, const void *data, DWORD size)
{
    DWORD written = 0;

    assert_true(WriteFile(client, data, size, &written, NULL));
    assert_int_equal(written, size);
}

/* Starts an overlapped read of an empty pipe: it must be pending. */
static void pipe_read_pending(HANDLE server, void *buf, DWORD size, OVERLAPPED *ov)
{
    DWORD read = 0;

    assert_false(ReadFile(server, buf, size, &read, ov_init(ov, 0)));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
}

/* ---- files --------------------------------------------------------------- */

static void io_file_read_completes_with_bytes(void **state)
{
    struct io_record r;
    char path[MAX_PATH];
    BYTE buf[1000];
    OVERLAPPED ov;
    DWORD read = 0, i;
    HANDLE file;

    record_init(&r);
    file = temp_file_open(path, 10000, FILE_FLAG_OVERLAPPED);
    r.io = CreateThreadpoolIo(file, record_io_cb, &r, helper_env(state));
    assert_non_null(r.io);

    StartThreadpoolIo(r.io);
    if (!ReadFile(file, buf, sizeof(buf), &read, ov_init(&ov, 3000)))
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    /* Done at once or later, the completion reaches the callback. */
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], sizeof(buf));
    for (i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], pattern(3000 + i));
    assert_true(GetOverlappedResult(file, &ov, &read, FALSE));
    assert_int_equal(read, sizeof(buf));

    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    assert_int_equal(r.count, 1);
    CloseThreadpoolIo(r.io);
    temp_file_close(file, path);
    record_destroy(&r);
}

static void io_file_write_completes_with_bytes(void **state)
{
    struct io_record r;
    char path[MAX_PATH];
    BYTE data[3000], back[3000];
    OVERLAPPED ov;
    DWORD written = 0, read = 0, i;
    LARGE_INTEGER size;
    HANDLE file;

    record_init(&r);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (BYTE)(255 - i);
    file = temp_file_open(path, 1000, FILE_FLAG_OVERLAPPED);
    r.io = CreateThreadpoolIo(file, record_io_cb, &r, helper_env(state));
    assert_non_null(r.io);

    /* Past the end: the file grows to 500 + 3000 bytes. */
    StartThreadpoolIo(r.io);
    if (!WriteFile(file, data, sizeof(data), &written, ov_init(&ov, 500)))
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], sizeof(data));
    assert_true(GetFileSizeEx(file, &size));
    assert_int_equal(size.QuadPart, 3500);

    /* Read back the written bytes and one before them. */
    StartThreadpoolIo(r.io);
    if (!ReadFile(file, back, sizeof(back), &read, ov_init(&ov, 499)))
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    record_wait(&r, 2);
    assert_int_equal(r.err[1], ERROR_SUCCESS);
    assert_int_equal(r.bytes[1], sizeof(back));
    assert_int_equal(back[0], pattern(499));
    assert_memory_equal(back + 1, data, sizeof(back) - 1);

    CloseThreadpoolIo(r.io);
    temp_file_close(file, path);
    record_destroy(&r);
}

/*
 * At the end of the file a read fails with ERROR_HANDLE_EOF: at once, with
 * no completion (the caller cancels its announcement), or through the
 * callback.
 */
static void io_file_read_at_end_reports_handle_eof(void **state)
{
    struct io_record r;
    char path[MAX_PATH];
    BYTE buf[100];
    OVERLAPPED ov;
    DWORD read = 0;
    HANDLE file;

    record_init(&r);
    file = temp_file_open(path, 1000, FILE_FLAG_OVERLAPPED);
    r.io = CreateThreadpoolIo(file, record_io_cb, &r, helper_env(state));
    assert_non_null(r.io);

    StartThreadpoolIo(r.io);
    if (!ReadFile(file, buf, sizeof(buf), &read, ov_init(&ov, 1000))
        && GetLastError() != ERROR_IO_PENDING) {
        assert_int_equal(GetLastError(), ERROR_HANDLE_EOF);
        CancelThreadpoolIo(r.io);
    } else {
        record_wait(&r, 1);
        assert_ptr_equal(r.ov[0], &ov);
        assert_int_equal(r.err[0], ERROR_HANDLE_EOF);
        assert_int_equal(r.bytes[0], 0);
    }
    assert_false(GetOverlappedResult(file, &ov, &read, TRUE));
    assert_int_equal(GetLastError(), ERROR_HANDLE_EOF);
    assert_int_equal(read, 0);
    /* Balanced: the wait returns. */
    WaitForThreadpoolIoCallbacks(r.io, FALSE);

    CloseThreadpoolIo(r.io);
    temp_file_close(file, path);
    record_destroy(&r);
}

/* Many operations in flight at once: one callback each, with its own OVERLAPPED. */
static void io_file_many_reads_one_callback_each(void **state)
{
    enum { COUNT = 64, BLOCK = 512 };
    static BYTE bufs[COUNT][BLOCK];
    static OVERLAPPED ovs[COUNT];
    BOOL seen[COUNT] = { 0 };
    struct io_record r;
    char path[MAX_PATH];
    DWORD read, i, j;
    HANDLE file;

    record_init(&r);
    file = temp_file_open(path, COUNT * BLOCK, FILE_FLAG_OVERLAPPED);
    r.io = CreateThreadpoolIo(file, record_io_cb, &r, helper_env(state));
    assert_non_null(r.io);
    for (i = 0; i < COUNT; i++) {
        StartThreadpoolIo(r.io);
        if (!ReadFile(file, bufs[i], BLOCK, &read, ov_init(&ovs[i], (ULONGLONG)i * BLOCK)))
            assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    }
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    assert_int_equal(r.count, COUNT);
    for (i = 0; i < COUNT; i++) {
        j = (DWORD)(r.ov[i] - ovs);
        assert_true(j < COUNT);
        assert_false(seen[j]);
        seen[j] = TRUE;
        assert_int_equal(r.err[i], ERROR_SUCCESS);
        assert_int_equal(r.bytes[i], BLOCK);
        assert_int_equal(bufs[j][0], pattern(j * BLOCK));
        assert_int_equal(bufs[j][BLOCK - 1], pattern(j * BLOCK + BLOCK - 1));
    }
    CloseThreadpoolIo(r.io);
    temp_file_close(file, path);
    record_destroy(&r);
}

/* ---- pipes --------------------------------------------------------------- */

static void io_pipe_read_completes_when_written(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    helper_wait_not(r.event, 50);
    pipe_write(pp.client, "hello", 5);
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], 5);
    assert_memory_equal(buf, "hello", 5);

    record_on_pipe_close(&pp, &r);
}

static void io_pipe_write_completes_with_bytes(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD written = 0, read = 0;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    if (!WriteFile(pp.server, "0123456789", 10, &written, ov_init(&ov, 0)))
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], 10);
    assert_true(ReadFile(pp.client, buf, sizeof(buf), &read, NULL));
    assert_int_equal(read, 10);
    assert_memory_equal(buf, "0123456789", 10);

    record_on_pipe_close(&pp, &r);
}

static void io_pipe_read_broken_reports_broken_pipe(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 1;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    assert_true(CloseHandle(pp.client));
    pp.client = NULL;
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_BROKEN_PIPE);
    assert_int_equal(r.bytes[0], 0);
    assert_false(GetOverlappedResult(pp.server, &ov, &read, FALSE));
    assert_int_equal(GetLastError(), ERROR_BROKEN_PIPE);

    record_on_pipe_close(&pp, &r);
}

static void io_pipe_read_cancelled_reports_aborted(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    assert_true(CancelIoEx(pp.server, &ov));
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_OPERATION_ABORTED);
    assert_int_equal(r.bytes[0], 0);

    record_on_pipe_close(&pp, &r);
}

/*
 * An operation that fails at once queues no completion: the caller takes
 * its announcement back, and then a wait has nothing left to wait for.
 */
static void io_sync_failure_then_cancel_runs_no_callback(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    record_on_pipe_open(state, &pp, &r);
    assert_true(CloseHandle(pp.client));
    pp.client = NULL;

    StartThreadpoolIo(r.io);
    assert_false(ReadFile(pp.server, buf, sizeof(buf), &read, ov_init(&ov, 0)));
    assert_int_equal(GetLastError(), ERROR_BROKEN_PIPE);
    CancelThreadpoolIo(r.io);
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    helper_wait_not(r.event, NO_CALLBACK_MS);
    assert_int_equal(r.count, 0);

    record_on_pipe_close(&pp, &r);
}

/* A read that finds data completes at once and still queues its completion. */
static void io_sync_success_still_runs_callback(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    record_on_pipe_open(state, &pp, &r);
    pipe_write(pp.client, "abc", 3);

    StartThreadpoolIo(r.io);
    assert_true(ReadFile(pp.server, buf, sizeof(buf), &read, ov_init(&ov, 0)));
    assert_int_equal(read, 3);
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], 3);

    record_on_pipe_close(&pp, &r);
}

/* FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: a synchronous success queues nothing. */
static void io_skip_on_success_runs_no_callback(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    record_on_pipe_open(state, &pp, &r);
    assert_true(SetFileCompletionNotificationModes(pp.server,
                                                   FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));
    pipe_write(pp.client, "abc", 3);

    StartThreadpoolIo(r.io);
    assert_true(ReadFile(pp.server, buf, sizeof(buf), &read, ov_init(&ov, 0)));
    assert_int_equal(read, 3);
    CancelThreadpoolIo(r.io);
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    helper_wait_not(r.event, NO_CALLBACK_MS);
    assert_int_equal(r.count, 0);

    /* A pending operation still completes through the callback. */
    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "de", 2);
    record_wait(&r, 1);
    assert_int_equal(r.bytes[0], 2);

    record_on_pipe_close(&pp, &r);
}

/* An event handle with its low bit set: the event is set, no completion is queued. */
static void io_event_low_bit_runs_no_callback(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;
    HANDLE event;

    record_on_pipe_open(state, &pp, &r);
    event = event_new(TRUE, FALSE);

    StartThreadpoolIo(r.io);
    ov_init(&ov, 0);
    ov.hEvent = (HANDLE)((ULONG_PTR)event | 1);
    assert_false(ReadFile(pp.server, buf, sizeof(buf), &read, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    pipe_write(pp.client, "xyz", 3);
    helper_wait(event);
    assert_true(GetOverlappedResult(pp.server, &ov, &read, FALSE));
    assert_int_equal(read, 3);
    helper_wait_not(r.event, NO_CALLBACK_MS);
    assert_int_equal(r.count, 0);
    CancelThreadpoolIo(r.io);

    CloseThreadpoolIo(r.io);
    CloseHandle(event);
    pipe_pair_close(&pp);
    record_destroy(&r);
}

/*
 * The OVERLAPPED of a completed operation may be reused at once, before its
 * callback ran: the callback still gets that operation's result.
 * Regression: the DLL read the status from the reused OVERLAPPED.
 */
static void io_regress_overlapped_reused_at_once_keeps_result(void **state)
{
    enum { ROUNDS = 200 };
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;
    LONG i;

    record_on_pipe_open(state, &pp, &r);
    for (i = 0; i < ROUNDS; i++) {
        pipe_write(pp.client, "a", 1);
        StartThreadpoolIo(r.io);
        assert_true(ReadFile(pp.server, buf, sizeof(buf), &read, ov_init(&ov, 0)));
        /* Done: the same OVERLAPPED goes to the next, pending, read. */
        StartThreadpoolIo(r.io);
        pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
        pipe_write(pp.client, "bc", 2);
        record_wait(&r, 2 * (i + 1));
    }
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    for (i = 0; i < 2 * ROUNDS; i++) {
        assert_int_equal(r.err[i], ERROR_SUCCESS);
        assert_true(r.bytes[i] == 1 || r.bytes[i] == 2);
    }
    record_on_pipe_close(&pp, &r);
}

/* ---- waits and closes ---------------------------------------------------- */

struct waiter_thread {
    PTP_IO io;
    struct io_record *r;
    LONG count_when_done;       /* callbacks recorded when the wait returned */
};

static DWORD WINAPI wait_io_thread(void *arg)
{
    struct waiter_thread *w = arg;

    WaitForThreadpoolIoCallbacks(w->io, FALSE);
    w->count_when_done = InterlockedCompareExchange(&w->r->count, 0, 0);
    return 0;
}

/* Without cancel, a wait also waits for the operations announced and in flight. */
static void io_wait_waits_for_operation_in_flight(void **state)
{
    struct waiter_thread w;
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    HANDLE thread;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    w.io = r.io;
    w.r = &r;
    w.count_when_done = -1;
    thread = CreateThread(NULL, 0, wait_io_thread, &w, 0, NULL);
    assert_non_null(thread);
    helper_wait_not(thread, NO_CALLBACK_MS);
    pipe_write(pp.client, "data", 4);
    helper_wait(thread);
    assert_int_equal(w.count_when_done, 1);
    assert_int_equal(r.bytes[0], 4);
    CloseHandle(thread);

    record_on_pipe_close(&pp, &r);
}

/*
 * With cancel, a wait gives up on the operations in flight: it returns at
 * once, and their completions run no callback.
 */
static void io_wait_cancel_gives_up_on_operation_in_flight(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    WaitForThreadpoolIoCallbacks(r.io, TRUE);
    pipe_write(pp.client, "late", 4);
    assert_true(GetOverlappedResult(pp.server, &ov, &read, TRUE));
    assert_int_equal(read, 4);
    helper_wait_not(r.event, NO_CALLBACK_MS);
    assert_int_equal(r.count, 0);

    /* The object works on: the next operation runs its callback. */
    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "next", 4);
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.bytes[0], 4);

    record_on_pipe_close(&pp, &r);
}

/*
 * A cancelling wait gives up on an announced operation that was never
 * issued, and returns.  Windows counts announcements, it does not pair
 * them with operations: the next announced operation's completion runs
 * its callback, and a wait then returns once it did.
 */
static void io_wait_cancel_gives_up_on_operation_never_issued(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    WaitForThreadpoolIoCallbacks(r.io, TRUE);
    assert_int_equal(r.count, 0);

    /* Completed at once: the completion is queued all the same. */
    StartThreadpoolIo(r.io);
    pipe_write(pp.client, "xy", 2);
    assert_true(ReadFile(pp.server, buf, sizeof(buf), &read, ov_init(&ov, 0)));
    assert_int_equal(read, 2);
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    assert_int_equal(r.count, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], 2);

    /* And once more, pending this time. */
    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "z", 1);
    record_wait(&r, 2);
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.bytes[1], 1);

    record_on_pipe_close(&pp, &r);
}

static void CALLBACK block_work_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PTP_WORK work)
{
    (void)inst;
    (void)work;
    gate_pass(ctx);
}

/*
 * A TP_IO on a byte pipe's server end, in a pool whose only thread a work
 * callback holds until the gate opens: completions' callbacks must queue.
 */
struct busy_pool_io {
    struct pipe_pair pp;
    struct io_record r;
    struct gate gate;
    PTP_WORK work;
};

static void busy_pool_io_open(struct busy_pool_io *b, void **state)
{
    record_init(&b->r);
    gate_init(&b->gate);
    pipe_pair_open(&b->pp, PIPE_TYPE_BYTE, 0);
    SetThreadpoolThreadMaximum(helper_env(state)->Pool, 1);
    b->r.io = CreateThreadpoolIo(b->pp.server, record_io_cb, &b->r, helper_env(state));
    assert_non_null(b->r.io);
    b->work = CreateThreadpoolWork(block_work_cb, &b->gate, helper_env(state));
    assert_non_null(b->work);
    SubmitThreadpoolWork(b->work);
}

/* Cancels the queued callbacks, frees the thread and checks that none of
 * them ran, then closes everything. */
static void busy_pool_io_cancel_and_close(struct busy_pool_io *b)
{
    WaitForThreadpoolIoCallbacks(b->r.io, TRUE);
    gate_open(&b->gate, 1);
    WaitForThreadpoolWorkCallbacks(b->work, FALSE);
    helper_wait_not(b->r.event, NO_CALLBACK_MS);
    assert_int_equal(b->r.count, 0);

    CloseThreadpoolWork(b->work);
    CloseThreadpoolIo(b->r.io);
    pipe_pair_close(&b->pp);
    gate_destroy(&b->gate);
    record_destroy(&b->r);
}

/* With cancel, a wait drops a completion whose callback has not started. */
static void io_wait_cancel_drops_queued_callback(void **state)
{
    struct busy_pool_io b;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    busy_pool_io_open(&b, state);
    StartThreadpoolIo(b.r.io);
    pipe_read_pending(b.pp.server, buf, sizeof(buf), &ov);
    pipe_write(b.pp.client, "q", 1);
    assert_true(GetOverlappedResult(b.pp.server, &ov, &read, TRUE));
    busy_pool_io_cancel_and_close(&b);
}

/*
 * Closed with an operation in flight, the object stays until it completes:
 * its callback still runs, and nothing leaks (the teardown counts objects).
 */
static void io_close_with_operation_in_flight_runs_its_callback(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    CloseThreadpoolIo(r.io);
    pipe_write(pp.client, "after", 5);
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_SUCCESS);
    assert_int_equal(r.bytes[0], 5);

    pipe_pair_close(&pp);
    record_destroy(&r);
}

/* The same, when closing the pipe ends the operation: a pipe reports it broken. */
static void io_close_then_file_close_runs_broken_pipe_callback(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;

    record_on_pipe_open(state, &pp, &r);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    CloseThreadpoolIo(r.io);
    assert_true(CloseHandle(pp.server));
    pp.server = NULL;
    record_wait(&r, 1);
    assert_ptr_equal(r.ov[0], &ov);
    assert_int_equal(r.err[0], ERROR_BROKEN_PIPE);

    pipe_pair_close(&pp);
    record_destroy(&r);
}

/*
 * Waits until the I/O object at io is freed: HeapValidate no longer finds
 * it (Windows allocates I/O objects from the process heap) and, on
 * kernel32_tp, the live objects are back to live_before (the count before
 * it was made: its pool counts too).  The object goes on another
 * thread, after the event that ends it: there is nothing to wait on but
 * this, bounded by the test timeout.  FALSE on timeout.
 */
static BOOL io_wait_freed(PTP_IO io, LONG live_before)
{
    DWORD start = GetTickCount();

    for (;;) {
        if (!HeapValidate(GetProcessHeap(), 0, io)
            && (!helper_is_kernel32_tp() || helper_live_objects() == live_before))
            return TRUE;
        if (GetTickCount() - start >= helper_timeout_ms())
            return FALSE;
        Sleep(1);
    }
}

/*
 * The common start of the tests of an object closed after a cancelling wait
 * gave up on an announced operation: a pipe pair, an I/O object on its
 * server end (file_first: the server end closed first), the announcement,
 * the cancelling wait and the close.  While the file is open the object
 * stays (HeapValidate still finds it).  Returns the live objects before
 * the object was made, for io_wait_freed.
 */
static LONG io_given_up_and_closed(void **state, struct pipe_pair *pp, struct io_record *r,
                                   BOOL file_first)
{
    LONG live;

    record_init(r);
    pipe_pair_open(pp, PIPE_TYPE_BYTE, 0);
    live = helper_live_objects();
    r->io = CreateThreadpoolIo(pp->server, record_io_cb, r, helper_env(state));
    assert_non_null(r->io);
    assert_true(HeapValidate(GetProcessHeap(), 0, r->io));
    if (file_first) {
        assert_true(CloseHandle(pp->server));
        pp->server = NULL;
    }

    StartThreadpoolIo(r->io);
    WaitForThreadpoolIoCallbacks(r->io, TRUE);
    CloseThreadpoolIo(r->io);
    if (!file_first)
        assert_true(HeapValidate(GetProcessHeap(), 0, r->io));
    return live;
}

/* The file is closed: kernel32_tp frees the object, Windows keeps it for
 * the life of the process.  No callback ran. */
static void io_given_up_object_freed_at_file_close(struct pipe_pair *pp, struct io_record *r,
                                                   LONG live)
{
    TODO_REF("the reference keeps the object as long as the process lives")
        CHECK(io_wait_freed(r->io, live));
    assert_int_equal(r->count, 0);

    pipe_pair_close(pp);
    probe_assert_clean(&r->probe);
    record_destroy(r);
}

/*
 * Closed after a cancelling wait gave up on an announced operation, the
 * object stays (HeapValidate still finds it): the operation may have been
 * issued, and its completion may come.  When a completion comes, it pays
 * off the operation given up on, runs no callback, and the object goes.
 */
static void io_close_keeps_object_until_given_up_completion(void **state)
{
    LONG live;
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    live = io_given_up_and_closed(state, &pp, &r, FALSE);

    /* Not announced: the completion goes to the operation given up on. */
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "late", 4);
    assert_true(GetOverlappedResult(pp.server, &ov, &read, TRUE));
    assert_int_equal(read, 4);
    assert_true(io_wait_freed(r.io, live));
    assert_int_equal(r.count, 0);

    pipe_pair_close(&pp);
    probe_assert_clean(&r.probe);
    record_destroy(&r);
}

/*
 * The same object, when no completion ever comes (the operation given up
 * on was never issued): closing the file ends the wait for one, and the
 * object goes.  Windows keeps it for the life of the process.
 */
static void io_close_given_up_object_freed_at_file_close(void **state)
{
    LONG live;
    struct pipe_pair pp;
    struct io_record r;

    live = io_given_up_and_closed(state, &pp, &r, FALSE);
    assert_true(CloseHandle(pp.server));
    pp.server = NULL;
    io_given_up_object_freed_at_file_close(&pp, &r, live);
}

/* ---- callback instances and groups --------------------------------------- */

static void io_callback_is_an_instance_with_actions(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    HANDLE done;

    record_init(&r);
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    done = event_new(TRUE, FALSE);
    r.set_event = done;
    r.io = CreateThreadpoolIo(pp.server, record_io_cb, &r, helper_env(state));
    assert_non_null(r.io);

    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "x", 1);
    helper_wait(done);
    assert_int_equal(r.count, 1);

    CloseThreadpoolIo(r.io);
    CloseHandle(done);
    pipe_pair_close(&pp);
    record_destroy(&r);
}

static void CALLBACK count_cancel_cb(PVOID object_ctx, PVOID cleanup_ctx)
{
    (void)object_ctx;
    InterlockedIncrement((volatile LONG *)cleanup_ctx);
}

/* A group close with cancel closes the member and gives up on its operation in flight. */
static void io_group_close_cancel_gives_up_on_operation(void **state)
{
    TP_CALLBACK_ENVIRON env = *helper_env(state);
    volatile LONG cancels = 0;
    PTP_CLEANUP_GROUP group;
    struct pipe_pair pp;
    struct io_record r;
    char buf[64];
    OVERLAPPED ov;
    DWORD read = 0;

    record_init(&r);
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    group = CreateThreadpoolCleanupGroup();
    assert_non_null(group);
    SetThreadpoolCallbackCleanupGroup(&env, group, count_cancel_cb);
    r.io = CreateThreadpoolIo(pp.server, record_io_cb, &r, &env);
    assert_non_null(r.io);

    /* One completed operation, then one in flight. */
    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "1", 1);
    record_wait(&r, 1);
    ResetEvent(r.event);
    StartThreadpoolIo(r.io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);

    CloseThreadpoolCleanupGroupMembers(group, TRUE, (void *)&cancels);
    assert_int_equal(cancels, 1);
    pipe_write(pp.client, "2", 1);
    assert_true(GetOverlappedResult(pp.server, &ov, &read, TRUE));
    helper_wait_not(r.event, NO_CALLBACK_MS);
    assert_int_equal(r.count, 1);

    CloseThreadpoolCleanupGroup(group);
    pipe_pair_close(&pp);
    record_destroy(&r);
}

/* ---- creation ------------------------------------------------------------ */

static void io_create_bad_arguments_fail(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    PTP_IO second;

    record_on_pipe_open(state, &pp, &r);
    /* A file goes to one completion port only. */
    SetLastError(0xdeadbeef);
    second = CreateThreadpoolIo(pp.server, record_io_cb, &r, helper_env(state));
    assert_null(second);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    CloseThreadpoolIo(r.io);

    /* A handle that is not open. */
    SetLastError(0xdeadbeef);
    assert_null(CreateThreadpoolIo((HANDLE)(ULONG_PTR)0xdead0, record_io_cb, &r,
                                   helper_env(state)));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);

    pipe_pair_close(&pp);
    record_destroy(&r);
}

/*
 * A file opened without FILE_FLAG_OVERLAPPED takes no completion port:
 * CreateThreadpoolIo and BindIoCompletionCallback refuse it with
 * ERROR_INVALID_PARAMETER, for regular files and pipe ends alike.
 */
static void io_synchronous_handle_cannot_be_bound(void **state)
{
    char path[MAX_PATH], name[96];
    struct io_record r;
    HANDLE file, server;

    record_init(&r);
    file = temp_file_open(path, 16, 0);
    SetLastError(0xdeadbeef);
    assert_null(CreateThreadpoolIo(file, record_io_cb, &r, helper_env(state)));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(BindIoCompletionCallback(file, legacy_routine, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    temp_file_close(file, path);

    snprintf(name, sizeof(name), "\\\\.\\pipe\\kernel32_tp_test_io_sync_%lu",
             (unsigned long)GetCurrentProcessId());
    server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096,
                              4096, 0, NULL);
    assert_true(server != INVALID_HANDLE_VALUE);
    SetLastError(0xdeadbeef);
    assert_null(CreateThreadpoolIo(server, record_io_cb, &r, helper_env(state)));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    SetLastError(0xdeadbeef);
    assert_false(BindIoCompletionCallback(server, legacy_routine, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_true(CloseHandle(server));
    record_destroy(&r);
}

/* ---- ntdll names --------------------------------------------------------- */

struct nt_record {
    struct probe probe;
    HANDLE event;
    volatile LONG count;
    void *ov;
    LONG status;
    ULONG_PTR info;
};

static void CALLBACK nt_io_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, void *overlapped,
                              IO_STATUS_BLOCK *iosb, PTP_IO io)
{
    struct nt_record *r = ctx;

    PROBE_CHECK(&r->probe, inst != NULL);
    PROBE_CHECK(&r->probe, io != NULL);
    r->ov = overlapped;
    r->status = (LONG)iosb->Status;
    r->info = iosb->Information;
    InterlockedIncrement(&r->count);
    SetEvent(r->event);
}

static void io_ntdll_names_report_io_status(void **state)
{
    struct nt_record r = { PROBE_INIT, NULL, 0, NULL, 0, 0 };
    struct pipe_pair pp;
    char buf[64];
    OVERLAPPED ov;
    PTP_IO io = NULL;
    LONG status;

    SKIP_UNLESS_NTDLL_MATCHES();
    r.event = event_new(FALSE, FALSE);
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    status = (LONG)TpAllocIoCompletion(&io, pp.server, nt_io_cb, &r, helper_env(state));
    assert_int_equal(status, TEST_STATUS_SUCCESS);
    assert_non_null(io);

    TpStartAsyncIoOperation(io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "nt", 2);
    helper_wait(r.event);
    assert_ptr_equal(r.ov, &ov);
    assert_int_equal(r.status, TEST_STATUS_SUCCESS);
    assert_int_equal(r.info, 2);

    TpStartAsyncIoOperation(io);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    assert_true(CloseHandle(pp.client));
    pp.client = NULL;
    helper_wait(r.event);
    assert_int_equal(r.status, TEST_STATUS_PIPE_BROKEN);
    assert_int_equal(r.info, 0);

    /* A synchronous failure, taken back. */
    TpStartAsyncIoOperation(io);
    assert_false(ReadFile(pp.server, buf, sizeof(buf), NULL, ov_init(&ov, 0)));
    TpCancelAsyncIoOperation(io);
    TpWaitForIoCompletion(io, FALSE);
    assert_int_equal(r.count, 2);

    TpReleaseIoCompletion(io);
    pipe_pair_close(&pp);
    CloseHandle(r.event);
    probe_assert_clean(&r.probe);
}

/* ---- BindIoCompletionCallback -------------------------------------------- */

/* The same when the file was closed before the wait gave up on the operation. */
static void io_given_up_after_file_close_object_freed(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    LONG live;

    live = io_given_up_and_closed(state, &pp, &r, TRUE);
    io_given_up_object_freed_at_file_close(&pp, &r, live);
}

/*
 * The ntdll names, as ntdll's conformance test uses them: after
 * TpWaitForIoCompletion(TRUE) gave up on an announced operation,
 * TpReleaseIoCompletion leaves the object in the heap.
 */
static void io_ntdll_release_keeps_object_of_given_up_operation(void **state)
{
    LONG live;
    struct nt_record rec = { 0 };
    struct pipe_pair pp;
    PTP_IO io = NULL;

    SKIP_UNLESS_NTDLL_MATCHES();
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    live = helper_live_objects();
    assert_int_equal(TpAllocIoCompletion(&io, pp.server, nt_io_cb, &rec, helper_env(state)), 0);
    assert_true(HeapValidate(GetProcessHeap(), 0, io));
    TpStartAsyncIoOperation(io);
    TpWaitForIoCompletion(io, TRUE);
    TpReleaseIoCompletion(io);
    assert_true(HeapValidate(GetProcessHeap(), 0, io));
    pipe_pair_close(&pp);
    if (helper_is_kernel32_tp())
        assert_true(io_wait_freed(io, live));
    assert_int_equal(rec.count, 0);
}

static struct io_record legacy_record;

static void CALLBACK legacy_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov)
{
    record_add(&legacy_record, ov, err, bytes);
}

static void io_bind_callback_delivers_every_completion(void **state)
{
    struct io_record *r = &legacy_record;
    struct pipe_pair pp, other;
    char buf[64], buf2[64];
    OVERLAPPED ov, ov2;
    DWORD written = 0;

    (void)state;
    record_init(r);
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    pipe_pair_open(&other, PIPE_TYPE_BYTE, 0);
    assert_true(BindIoCompletionCallback(pp.server, legacy_routine, 0));
    /* A second file with the same routine. */
    assert_true(BindIoCompletionCallback(other.server, legacy_routine, 0));

    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "legacy", 6);
    record_wait(r, 1);
    assert_ptr_equal(r->ov[0], &ov);
    assert_int_equal(r->err[0], ERROR_SUCCESS);
    assert_int_equal(r->bytes[0], 6);

    /* A synchronous success completes too; no announcement is needed. */
    if (!WriteFile(other.server, "w", 1, &written, ov_init(&ov2, 0)))
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    record_wait(r, 2);
    assert_ptr_equal(r->ov[1], &ov2);
    assert_int_equal(r->err[1], ERROR_SUCCESS);
    assert_int_equal(r->bytes[1], 1);
    assert_true(ReadFile(other.client, buf2, sizeof(buf2), &written, NULL));

    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    assert_true(CloseHandle(pp.client));
    pp.client = NULL;
    record_wait(r, 3);
    assert_ptr_equal(r->ov[2], &ov);
    assert_int_equal(r->err[2], ERROR_BROKEN_PIPE);

    /* Bound already. */
    SetLastError(0xdeadbeef);
    assert_false(BindIoCompletionCallback(pp.server, legacy_routine, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    pipe_pair_close(&pp);
    pipe_pair_close(&other);
    record_destroy(r);
}

static struct io_record rtl_record;

static void CALLBACK rtl_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov)
{
    record_add(&rtl_record, ov, err, bytes);
}

/* ntdll's name for the same binding, with NTSTATUS results. */
static void io_rtl_set_completion_callback_delivers(void **state)
{
    struct io_record *r = &rtl_record;
    struct pipe_pair pp;
    char buf[64];
    OVERLAPPED ov;

    (void)state;
    record_init(r);
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    assert_int_equal((DWORD)RtlSetIoCompletionCallback(pp.server, (void *)rtl_routine, 0), 0);
    pipe_read_pending(pp.server, buf, sizeof(buf), &ov);
    pipe_write(pp.client, "rtl", 3);
    record_wait(r, 1);
    assert_ptr_equal(r->ov[0], &ov);
    assert_int_equal(r->err[0], ERROR_SUCCESS);
    assert_int_equal(r->bytes[0], 3);
    /* Bound already, to this routine or to none. */
    assert_int_equal((DWORD)RtlSetIoCompletionCallback(pp.server, (void *)rtl_routine, 0),
                     (DWORD)0xC000000D /* STATUS_INVALID_PARAMETER */);
    assert_int_equal((DWORD)RtlSetIoCompletionCallback(pp.server, NULL, 0),
                     (DWORD)0xC000000D /* STATUS_INVALID_PARAMETER */);
    pipe_pair_close(&pp);
    record_destroy(r);
}

/* ---- closing a file with writes in flight ---------------------------------- */

/*
 * Many threads issue overlapped writes at distinct offsets to one file, and
 * the handle is closed as soon as the last one is issued.  Closing cancels
 * nothing: each write still completes, once, with its bytes, and the file
 * holds all of them.
 */
enum { CLOSE_THREADS = 16, CLOSE_PER_THREAD = 160, CLOSE_WRITES = CLOSE_THREADS * CLOSE_PER_THREAD,
       CLOSE_BLOCK = 512 };

struct close_load {
    HANDLE file;
    PTP_IO io;                          /* NULL: bound with BindIoCompletionCallback */
    BYTE data[CLOSE_WRITES * CLOSE_BLOCK];
    OVERLAPPED ovs[CLOSE_WRITES];
    volatile LONG hits[CLOSE_WRITES];   /* completions per write */
    volatile LONG completed;            /* completions of any write */
    volatile LONG bad;                  /* failed, short, or not one of ours */
    volatile LONG issue_failures;
    LONG next_thread;
    volatile LONG issuing;              /* threads still issuing: the last one closes */
    BOOL closed;
};

static struct close_load close_load;

static void close_load_completed(OVERLAPPED *ov, DWORD err, ULONG_PTR bytes)
{
    struct close_load *l = &close_load;
    ULONG_PTR i = (ULONG_PTR)(ov - l->ovs);

    if (ov < l->ovs || i >= CLOSE_WRITES || err != ERROR_SUCCESS || bytes != CLOSE_BLOCK)
        InterlockedIncrement(&l->bad);
    else
        InterlockedIncrement(&l->hits[i]);
    InterlockedIncrement(&l->completed);
}

static void CALLBACK close_load_io_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                                      ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    (void)inst;
    (void)ctx;
    (void)io;
    close_load_completed(overlapped, result, bytes);
}

static void CALLBACK close_load_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov)
{
    close_load_completed(ov, err, bytes);
}

static DWORD WINAPI close_load_writer(void *arg)
{
    struct close_load *l = arg;
    LONG t = InterlockedIncrement(&l->next_thread) - 1;
    DWORD i, n;

    for (n = 0; n < CLOSE_PER_THREAD; n++) {
        i = (DWORD)t + n * CLOSE_THREADS;      /* the threads' offsets interleave */
        if (l->io)
            StartThreadpoolIo(l->io);
        if (WriteFile(l->file, l->data + (SIZE_T)i * CLOSE_BLOCK, CLOSE_BLOCK, NULL,
                      ov_init(&l->ovs[i], (ULONGLONG)i * CLOSE_BLOCK)))
            continue;  /* done at once: the completion still comes */
        if (GetLastError() == ERROR_IO_PENDING)
            continue;
        InterlockedIncrement(&l->issue_failures);
        if (l->io)
            CancelThreadpoolIo(l->io);
    }
    /* At once, with the other threads' writes still in flight. */
    if (!InterlockedDecrement(&l->issuing))
        l->closed = CloseHandle(l->file);
    return 0;
}

static void close_with_writes_in_flight(void **state, BOOL legacy)
{
    struct close_load *l = &close_load;
    HANDLE threads[CLOSE_THREADS];
    static BYTE back[CLOSE_WRITES * CLOSE_BLOCK];
    char path[MAX_PATH];
    DWORD i, read = 0;
    HANDLE file;

    memset(l, 0, sizeof(*l));
    for (i = 0; i < sizeof(l->data); i++)
        l->data[i] = pattern(i);
    l->file = temp_file_open(path, 0, FILE_FLAG_OVERLAPPED);
    if (legacy) {
        assert_true(BindIoCompletionCallback(l->file, close_load_routine, 0));
    } else {
        l->io = CreateThreadpoolIo(l->file, close_load_io_cb, NULL, helper_env(state));
        assert_non_null(l->io);
    }
    l->issuing = CLOSE_THREADS;
    for (i = 0; i < CLOSE_THREADS; i++) {
        threads[i] = CreateThread(NULL, 0, close_load_writer, l, 0, NULL);
        assert_non_null(threads[i]);
    }
    for (i = 0; i < CLOSE_THREADS; i++) {
        helper_wait(threads[i]);
        CloseHandle(threads[i]);
    }
    assert_true(l->closed);
    assert_int_equal(l->issue_failures, 0);

    assert_true(helper_wait_count(&l->completed, CLOSE_WRITES));
    if (l->io) {
        WaitForThreadpoolIoCallbacks(l->io, FALSE);
        CloseThreadpoolIo(l->io);
    }
    assert_int_equal(l->bad, 0);
    assert_int_equal(l->completed, CLOSE_WRITES);
    for (i = 0; i < CLOSE_WRITES; i++)
        assert_int_equal(l->hits[i], 1);

    file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_int_equal(GetFileSize(file, NULL), sizeof(back));
    assert_true(ReadFile(file, back, sizeof(back), &read, NULL));
    assert_int_equal(read, sizeof(back));
    assert_memory_equal(back, l->data, sizeof(back));
    temp_file_close(file, path);
}

static void io_close_file_keeps_writes_in_flight(void **state)
{
    close_with_writes_in_flight(state, FALSE);
}

static void io_close_file_keeps_writes_in_flight_bound_callback(void **state)
{
    close_with_writes_in_flight(state, TRUE);
}

/* ---- completions while the workers are busy ------------------------------- */

/*
 * An echo over one pipe, both ends driven by callbacks on the test's
 * one-thread pool; its last callback then keeps the worker busy without
 * any wait the pool can see, until the test thread says so.
 */
struct busy_echo {
    struct pipe_pair pp;            /* both ends overlapped */
    PTP_IO server_io, client_io;
    OVERLAPPED server_read, server_write, client_read, client_write;
    char server_buf[8], server_out[8], client_buf[8], client_out[8];
    volatile LONG left;             /* round trips still to start */
    volatile LONG stopping;         /* closing: the pending read ends, broken */
    volatile LONG release;          /* the test thread lets the last callback go */
    volatile LONG released;         /* the last callback saw release in time */
    HANDLE busy;                    /* the last callback started its busy loop */
};

static void busy_echo_start(struct busy_echo *e, BOOL server, BOOL read)
{
    HANDLE file = server ? e->pp.server : e->pp.client;
    OVERLAPPED *ov = server ? (read ? &e->server_read : &e->server_write)
                            : (read ? &e->client_read : &e->client_write);
    char *buf = server ? (read ? e->server_buf : e->server_out)
                       : (read ? e->client_buf : e->client_out);
    BOOL ok;

    StartThreadpoolIo(server ? e->server_io : e->client_io);
    ok = read ? ReadFile(file, buf, sizeof(e->server_buf), NULL, ov_init(ov, 0))
              : WriteFile(file, buf, sizeof(e->server_buf), NULL, ov_init(ov, 0));
    if (!ok && GetLastError() != ERROR_IO_PENDING)
        CancelThreadpoolIo(server ? e->server_io : e->client_io);
}

static void CALLBACK busy_echo_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                                  ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct busy_echo *e = ctx;
    BOOL server = io == e->server_io;
    ULONGLONG t0;

    (void)inst;
    if (InterlockedCompareExchange(&e->stopping, 0, 0) || result != ERROR_SUCCESS
        || bytes != sizeof(e->server_buf))
        return;
    if (overlapped == &e->server_write || overlapped == &e->client_write)
        return;
    if (server) {
        memcpy(e->server_out, e->server_buf, sizeof(e->server_out));
        busy_echo_start(e, TRUE, FALSE);
        busy_echo_start(e, TRUE, TRUE);
        return;
    }
    if (InterlockedDecrement(&e->left) > 0) {
        busy_echo_start(e, FALSE, TRUE);
        busy_echo_start(e, FALSE, FALSE);
        return;
    }
    /* Busy, not waiting: no block hook, no wait of the handle layer. */
    SetEvent(e->busy);
    t0 = GetTickCount64();
    while (!InterlockedCompareExchange(&e->release, 0, 0) && GetTickCount64() - t0 < 30000)
        YieldProcessor();
    InterlockedExchange(&e->released, InterlockedCompareExchange(&e->release, 0, 0));
}

/*
 * On Linux the pool's workers collect ready I/O between callbacks and the
 * event loop's thread leaves it to them while they do (docs/io.md,
 * Performance).  An operation nobody's callback made ready must complete
 * all the same while the only worker is busy in a callback that never
 * waits: here a read of another pipe, with an event and no pool.
 */
static void io_completes_while_workers_busy_in_callbacks(void **state)
{
    struct busy_echo e;
    struct pipe_pair probe;
    OVERLAPPED ov;
    char buf[4];
    DWORD bytes = 0;

    memset(&e, 0, sizeof(e));
    /* One worker: the busy one is the only one that could look. */
    SetThreadpoolThreadMaximum(((struct helper_pool *)*state)->pool, 1);
    e.left = 2000;
    e.busy = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(e.busy);
    pipe_pair_open(&e.pp, PIPE_TYPE_BYTE, FILE_FLAG_OVERLAPPED);
    pipe_pair_open(&probe, PIPE_TYPE_BYTE, 0);
    e.server_io = CreateThreadpoolIo(e.pp.server, busy_echo_cb, &e, helper_env(state));
    e.client_io = CreateThreadpoolIo(e.pp.client, busy_echo_cb, &e, helper_env(state));
    assert_non_null(e.server_io);
    assert_non_null(e.client_io);
    memset(e.client_out, 'e', sizeof(e.client_out));

    busy_echo_start(&e, TRUE, TRUE);
    busy_echo_start(&e, FALSE, TRUE);
    busy_echo_start(&e, FALSE, FALSE);
    assert_int_equal(WaitForSingleObject(e.busy, 20000), WAIT_OBJECT_0);

    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(ov.hEvent);
    assert_false(ReadFile(probe.server, buf, sizeof(buf), NULL, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    pipe_write(probe.client, "ping", 4);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 10000), WAIT_OBJECT_0);
    assert_true(GetOverlappedResult(probe.server, &ov, &bytes, FALSE));
    assert_int_equal(bytes, 4);
    assert_memory_equal(buf, "ping", 4);

    InterlockedExchange(&e.release, 1);
    InterlockedExchange(&e.stopping, 1);
    pipe_pair_close(&e.pp);
    WaitForThreadpoolIoCallbacks(e.client_io, FALSE);
    WaitForThreadpoolIoCallbacks(e.server_io, FALSE);
    assert_int_equal(InterlockedCompareExchange(&e.released, 0, 0), 1);
    CloseThreadpoolIo(e.client_io);
    CloseThreadpoolIo(e.server_io);
    pipe_pair_close(&probe);
    CloseHandle(ov.hEvent);
    CloseHandle(e.busy);
}

/* ---- callbacks that start the next operation ------------------------------- */

#define CHAIN_MESSAGES 200
#define CHAIN_SIZE 4

/*
 * A reader whose callback checks what its read brought and starts the next
 * read, until `left` runs out: the pattern of a server, where the next
 * operation is announced from the callback of the last one.
 */
struct chain {
    struct probe probe;
    PTP_IO io;
    HANDLE file;
    OVERLAPPED ov;
    char buf[CHAIN_SIZE];
    LONG next;                  /* the message the pending read must bring */
    LONG left;                  /* reads still to start (callbacks run one at a time) */
    volatile LONG callbacks;
    BOOL skip_mode;             /* FILE_SKIP_COMPLETION_PORT_ON_SUCCESS set */
    volatile LONG inline_reads; /* reads that completed inline, then were cancelled */
    HANDLE done;                /* set by the callback that starts nothing */
};

static void chain_message(LONG i, char *out)
{
    out[0] = 'm';
    out[1] = (char)('0' + i / 100 % 10);
    out[2] = (char)('0' + i / 10 % 10);
    out[3] = (char)('0' + i % 10);
}

/* Starts the next read; TRUE when it is pending (its callback will come). */
static BOOL chain_start(struct chain *c)
{
    DWORD read = 0;

    StartThreadpoolIo(c->io);
    if (!ReadFile(c->file, c->buf, CHAIN_SIZE, &read, ov_init(&c->ov, 0))) {
        PROBE_CHECK(&c->probe, GetLastError() == ERROR_IO_PENDING);
        return TRUE;
    }
    if (!c->skip_mode)
        return TRUE;    /* done at once, and its completion still comes */
    /* Done inline with no completion: the announcement is taken back. */
    CancelThreadpoolIo(c->io);
    PROBE_CHECK(&c->probe, read == CHAIN_SIZE);
    InterlockedIncrement(&c->inline_reads);
    return FALSE;
}

static void CALLBACK chain_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                              ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct chain *c = ctx;
    char expected[CHAIN_SIZE];

    (void)inst;
    InterlockedIncrement(&c->callbacks);
    PROBE_CHECK(&c->probe, io == c->io);
    PROBE_CHECK(&c->probe, overlapped == &c->ov);
    PROBE_CHECK(&c->probe, result == ERROR_SUCCESS);
    PROBE_CHECK(&c->probe, bytes == CHAIN_SIZE);
    for (;;) {
        chain_message(c->next++, expected);
        PROBE_CHECK(&c->probe, memcmp(c->buf, expected, CHAIN_SIZE) == 0);
        if (c->left == 0) {
            SetEvent(c->done);
            return;
        }
        c->left--;
        if (chain_start(c))
            return;
        /* Read inline: its data is checked here, in this callback. */
    }
}

/*
 * Messages written before: every read the callbacks start completes at
 * once, and without FILE_SKIP_COMPLETION_PORT_ON_SUCCESS each still runs
 * one callback, which starts the next (with it, the read is done inline,
 * the announcement taken back, and one callback reads them all).  Each
 * message is seen once and in order; when the last callback starts
 * nothing, nothing is announced (the wait returns at once) and, once
 * closed, the object goes (the teardown counts objects): the operations'
 * reference that a completion leaves to its callback goes with it.
 */
static void io_callbacks_start_next_reads_in_order(void **state)
{
    struct pipe_pair pp;
    struct chain c;
    char message[CHAIN_SIZE];
    LONG i;

    memset(&c, 0, sizeof(c));
    c.skip_mode = (BOOL)helper_param(state);
    c.done = event_new(TRUE, FALSE);
    pipe_pair_open(&pp, PIPE_TYPE_BYTE, 0);
    if (c.skip_mode)
        assert_true(SetFileCompletionNotificationModes(pp.server,
                                                       FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));
    c.file = pp.server;
    c.io = CreateThreadpoolIo(pp.server, chain_cb, &c, helper_env(state));
    assert_non_null(c.io);
    c.left = CHAIN_MESSAGES - 1;

    /* The first read pends: its completion comes through the callback. */
    StartThreadpoolIo(c.io);
    assert_false(ReadFile(pp.server, c.buf, CHAIN_SIZE, NULL, ov_init(&c.ov, 0)));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    for (i = 0; i < CHAIN_MESSAGES; i++) {
        chain_message(i, message);
        pipe_write(pp.client, message, CHAIN_SIZE);
    }
    helper_wait(c.done);
    WaitForThreadpoolIoCallbacks(c.io, FALSE);
    assert_int_equal(c.next, CHAIN_MESSAGES);
    assert_int_equal(c.callbacks + c.inline_reads, CHAIN_MESSAGES);
    if (!c.skip_mode)
        assert_int_equal(c.inline_reads, 0);
    probe_assert_clean(&c.probe);

    CloseThreadpoolIo(c.io);
    pipe_pair_close(&pp);
    CloseHandle(c.done);
}

#define MANY_READS 48

/*
 * Many reads pending on one object, satisfied one message each, in the
 * order they were issued: every completion runs exactly one callback, with
 * its own OVERLAPPED and the message written for it, while several
 * workers start the object's callbacks at once.
 */
static void io_many_pending_reads_each_complete_once_with_their_data(void **state)
{
    struct pipe_pair pp;
    struct io_record r;
    static OVERLAPPED ov[MANY_READS];
    static char buf[MANY_READS][CHAIN_SIZE];
    char message[CHAIN_SIZE];
    int seen[MANY_READS] = { 0 };
    LONG i, j;

    record_on_pipe_open(state, &pp, &r);
    assert_true(SetThreadpoolThreadMinimum(helper_env(state)->Pool, 4));
    for (i = 0; i < MANY_READS; i++) {
        StartThreadpoolIo(r.io);
        pipe_read_pending(pp.server, buf[i], CHAIN_SIZE, &ov[i]);
    }
    for (i = 0; i < MANY_READS; i++) {
        chain_message(i, message);
        pipe_write(pp.client, message, CHAIN_SIZE);
    }
    record_wait(&r, MANY_READS);
    WaitForThreadpoolIoCallbacks(r.io, FALSE);
    assert_int_equal(r.count, MANY_READS);
    for (i = 0; i < MANY_READS; i++) {
        j = (LONG)(r.ov[i] - ov);
        assert_true(j >= 0 && j < MANY_READS);
        seen[j]++;
        assert_int_equal(r.err[i], ERROR_SUCCESS);
        assert_int_equal(r.bytes[i], CHAIN_SIZE);
    }
    for (i = 0; i < MANY_READS; i++) {
        assert_int_equal(seen[i], 1);
        chain_message(i, message);
        assert_memory_equal(buf[i], message, CHAIN_SIZE);
    }

    record_on_pipe_close(&pp, &r);
}

/*
 * The same with the pool's one thread busy while the completions queue:
 * a cancelling wait drops every queued callback, and no callback runs
 * once the thread is free (their packets were dropped with them); the
 * object, closed, goes.
 */
static void io_wait_cancel_drops_many_queued_callbacks(void **state)
{
    struct busy_pool_io b;
    static OVERLAPPED ov[MANY_READS];
    static char buf[MANY_READS][CHAIN_SIZE];
    char message[CHAIN_SIZE];
    DWORD read = 0;
    LONG i;

    busy_pool_io_open(&b, state);
    for (i = 0; i < MANY_READS; i++) {
        StartThreadpoolIo(b.r.io);
        pipe_read_pending(b.pp.server, buf[i], CHAIN_SIZE, &ov[i]);
    }
    for (i = 0; i < MANY_READS; i++) {
        chain_message(i, message);
        pipe_write(b.pp.client, message, CHAIN_SIZE);
    }
    for (i = 0; i < MANY_READS; i++)
        assert_true(GetOverlappedResult(b.pp.server, &ov[i], &read, TRUE));
    busy_pool_io_cancel_and_close(&b);
}

/* Well above kernel32_tp's monitor tick (15 ms), well below its idle
 * timeout (2 s), after which an idle worker looks at the queue anyway. */
#define OWN_WRITE_BOUND_MS 1000

struct spin_for_write {
    struct pipe_pair pp;
    OVERLAPPED read_ov, write_ov;
    char in[4], out[4];
    volatile LONG write_ran;
    LONG write_failed;          /* the callback's WriteFile failed at once */
    LONG saw_write;             /* the read's callback saw the write's run */
    DWORD write_tick;           /* GetTickCount() when the write was issued */
    DWORD write_ran_tick;       /* ...and when its callback ran */
    HANDLE done;
};

static void CALLBACK spin_for_write_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                                       ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct spin_for_write *s = ctx;

    (void)inst;
    (void)result;
    (void)bytes;
    if (overlapped == &s->write_ov) {
        s->write_ran_tick = GetTickCount();
        InterlockedExchange(&s->write_ran, 1);
        return;
    }
    StartThreadpoolIo(io);
    s->write_tick = GetTickCount();
    if (!WriteFile(s->pp.server, s->out, sizeof(s->out), NULL, ov_init(&s->write_ov, 0))
        && GetLastError() != ERROR_IO_PENDING) {
        CancelThreadpoolIo(io);
        s->write_failed = 1;
    } else {
        s->saw_write = spin_until_set(&s->write_ran);
    }
    SetEvent(s->done);
}

/*
 * A read's callback writes on the same pipe end, which the pipe takes at
 * once, then spins (no wait the pool could see) until the write's callback
 * has run: it runs on the pool's other thread meanwhile, as on Windows.
 * kernel32_tp wakes no other worker for a completion that a callback of
 * the same object made on its own thread, counting on that thread to come
 * back for it (an echo's round trip then stays on one thread,
 * docs/performance.md): its spinner or its monitor must still see that the
 * thread does not.
 */
static void io_own_write_while_callback_spins_runs_on_the_other_thread(void **state)
{
    struct helper_pool *hp = *state;
    static struct spin_for_write s;
    char echoed[sizeof(s.out)];
    DWORD read = 0;
    PTP_IO io;

    memset(&s, 0, sizeof(s));
    memcpy(s.out, "pong", sizeof(s.out));
    s.done = event_new(TRUE, FALSE);
    SetThreadpoolThreadMaximum(hp->pool, 2);
    assert_true(SetThreadpoolThreadMinimum(hp->pool, 2));
    pipe_pair_open(&s.pp, PIPE_TYPE_BYTE, 0);
    io = CreateThreadpoolIo(s.pp.server, spin_for_write_cb, &s, helper_env(state));
    assert_non_null(io);
    StartThreadpoolIo(io);
    pipe_read_pending(s.pp.server, s.in, sizeof(s.in), &s.read_ov);
    pipe_write(s.pp.client, "ping", 4);
    helper_wait(s.done);
    WaitForThreadpoolIoCallbacks(io, FALSE);
    assert_int_equal(s.write_failed, 0);
    assert_int_equal(s.saw_write, 1);
    assert_true(s.write_ran_tick - s.write_tick < OWN_WRITE_BOUND_MS);
    assert_true(ReadFile(s.pp.client, echoed, sizeof(echoed), &read, NULL));
    assert_int_equal(read, sizeof(echoed));
    assert_memory_equal(echoed, "pong", sizeof(echoed));
    CloseThreadpoolIo(io);
    pipe_pair_close(&s.pp);
    CloseHandle(s.done);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, helper_setup_pool, helper_teardown_pool)

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(io_file_read_completes_with_bytes),
        POOL_TEST(io_file_write_completes_with_bytes),
        POOL_TEST(io_file_read_at_end_reports_handle_eof),
        POOL_TEST(io_file_many_reads_one_callback_each),
        POOL_TEST(io_pipe_read_completes_when_written),
        POOL_TEST(io_pipe_write_completes_with_bytes),
        POOL_TEST(io_pipe_read_broken_reports_broken_pipe),
        POOL_TEST(io_pipe_read_cancelled_reports_aborted),
        POOL_TEST(io_sync_failure_then_cancel_runs_no_callback),
        POOL_TEST(io_sync_success_still_runs_callback),
        POOL_TEST(io_skip_on_success_runs_no_callback),
        POOL_TEST(io_event_low_bit_runs_no_callback),
        POOL_TEST(io_regress_overlapped_reused_at_once_keeps_result),
        POOL_TEST(io_wait_waits_for_operation_in_flight),
        POOL_TEST(io_wait_cancel_gives_up_on_operation_in_flight),
        POOL_TEST(io_wait_cancel_gives_up_on_operation_never_issued),
        POOL_TEST(io_wait_cancel_drops_queued_callback),
        POOL_TEST(io_close_with_operation_in_flight_runs_its_callback),
        POOL_TEST(io_close_then_file_close_runs_broken_pipe_callback),
        POOL_TEST(io_close_keeps_object_until_given_up_completion),
        POOL_TEST(io_close_file_keeps_writes_in_flight),
        POOL_TEST(io_close_file_keeps_writes_in_flight_bound_callback),
        POOL_TEST(io_close_given_up_object_freed_at_file_close),
        POOL_TEST(io_given_up_after_file_close_object_freed),
        POOL_TEST(io_ntdll_release_keeps_object_of_given_up_operation),
        POOL_TEST(io_callback_is_an_instance_with_actions),
        POOL_TEST(io_group_close_cancel_gives_up_on_operation),
        POOL_TEST(io_create_bad_arguments_fail),
        POOL_TEST(io_synchronous_handle_cannot_be_bound),
        POOL_TEST(io_ntdll_names_report_io_status),
        POOL_TEST(io_completes_while_workers_busy_in_callbacks),
        PARAM_TEST(io_callbacks_start_next_reads_in_order, io_callbacks_start_next_reads_in_order,
                   FALSE),
        PARAM_TEST(io_callbacks_start_next_reads_in_order_skip_on_success,
                   io_callbacks_start_next_reads_in_order, TRUE),
        POOL_TEST(io_many_pending_reads_each_complete_once_with_their_data),
        POOL_TEST(io_wait_cancel_drops_many_queued_callbacks),
        POOL_TEST(io_own_write_while_callback_spins_runs_on_the_other_thread),
        cmocka_unit_test(io_bind_callback_delivers_every_completion),
        cmocka_unit_test(io_rtl_set_completion_callback_delivers),
    };

    return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thread-pool I/O scenarios of make bench, on the Win32 API: natively on
 * our libkernel32_tp.so (its own files and pipes), and built with mingw-w64
 * under Wine on Wine's pool or our DLL.  Run as  io_bench SCENARIO N.
 *
 *   IO1   echo over one named pipe, both ends driven by TP_IO callbacks:
 *         N round trips of a 64-byte message; round trips per second
 *   IO16  the same over 16 pipes at once, N round trips in all
 *   IO256 the same over 256 pipes (512 descriptors)
 *   IOF   overlapped reads of a 64 MiB file (in the page cache) in 64 KiB
 *         blocks, 8 in flight, through TP_IO: N MiB read; MB per second
 *
 * Every completion is a callback; the next operation is started from it.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MSG_SIZE 64
#define PIPES_MAX 256
#define FILE_SIZE (64u << 20)
#define BLOCK (64u << 10)
#define IN_FLIGHT 8

/* ---- echo over named pipes --------------------------------------------------- */

struct end {
    HANDLE handle;
    PTP_IO io;
    OVERLAPPED ov_read, ov_write;
    char in[MSG_SIZE], out[MSG_SIZE];
    struct pair *pair;
    BOOL server;
};

struct pair {
    struct end server, client;
    struct echo *echo;
};

struct echo {
    struct pair pairs[PIPES_MAX];
    volatile LONG remaining;    /* round trips still to start */
    volatile LONG running;      /* pairs still running */
    volatile LONG stopping;     /* closing: reads end with a broken pipe */
    HANDLE done;
};

static void start_io(struct end *end, BOOL read)
{
    OVERLAPPED *ov = read ? &end->ov_read : &end->ov_write;
    BOOL ok;

    memset(ov, 0, sizeof(*ov));
    StartThreadpoolIo(end->io);
    ok = read ? ReadFile(end->handle, end->in, MSG_SIZE, NULL, ov)
              : WriteFile(end->handle, end->out, MSG_SIZE, NULL, ov);
    if (!ok && GetLastError() != ERROR_IO_PENDING) {
        CancelThreadpoolIo(end->io);
        /* A callback that started before the handles were closed. */
        if (end->pair->echo->stopping)
            return;
        fprintf(stderr, "bench: error %lu\n", (unsigned long)GetLastError());
        bench_fail(read ? "pipe ReadFile" : "pipe WriteFile");
    }
}

static VOID CALLBACK echo_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                             ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct end *end = ctx;
    struct echo *echo = end->pair->echo;

    (void)inst;
    (void)io;
    if (echo->stopping)
        return;
    if (result != ERROR_SUCCESS || bytes != MSG_SIZE)
        bench_fail("pipe completion");
    if (overlapped == &end->ov_write)
        return;
    bench_note_thread();
    if (end->server) {
        /* Echo it back, then wait for the next message. */
        memcpy(end->out, end->in, MSG_SIZE);
        start_io(end, FALSE);
        start_io(end, TRUE);
        return;
    }
    if (InterlockedDecrement(&echo->remaining) < 0) {
        if (InterlockedDecrement(&echo->running) == 0)
            SetEvent(echo->done);
        return;
    }
    start_io(end, TRUE);
    start_io(end, FALSE);
}

static void echo_open(struct echo *echo, struct pair *pair, int index)
{
    char name[96];
    OVERLAPPED ov;

    snprintf(name, sizeof(name), "\\\\.\\pipe\\kernel32_tp_bench_%lu_%d",
             (unsigned long)GetCurrentProcessId(), index);
    pair->echo = echo;
    pair->server.pair = pair->client.pair = pair;
    pair->server.server = TRUE;
    pair->server.handle = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                           PIPE_TYPE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    if (pair->server.handle == INVALID_HANDLE_VALUE)
        bench_fail("CreateNamedPipe");
    pair->client.handle = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                      FILE_FLAG_OVERLAPPED, NULL);
    if (pair->client.handle == INVALID_HANDLE_VALUE)
        bench_fail("CreateFile (pipe)");
    memset(&ov, 0, sizeof(ov));
    if (!ConnectNamedPipe(pair->server.handle, &ov) && GetLastError() != ERROR_PIPE_CONNECTED)
        bench_fail("ConnectNamedPipe");
    pair->server.io = CreateThreadpoolIo(pair->server.handle, echo_cb, &pair->server, NULL);
    pair->client.io = CreateThreadpoolIo(pair->client.handle, echo_cb, &pair->client, NULL);
    if (!pair->server.io || !pair->client.io)
        bench_fail("CreateThreadpoolIo");
    memset(pair->client.out, 'm', MSG_SIZE);
}

static void echo_close(struct pair *pair)
{
    /* Closing the handles ends the reads still pending; then the objects. */
    CloseHandle(pair->client.handle);
    CloseHandle(pair->server.handle);
    WaitForThreadpoolIoCallbacks(pair->client.io, FALSE);
    WaitForThreadpoolIoCallbacks(pair->server.io, FALSE);
    CloseThreadpoolIo(pair->client.io);
    CloseThreadpoolIo(pair->server.io);
}

static void run_echo(const char *scenario, int pipes, long n)
{
    static struct echo echo;
    uint64_t t0, t1;
    int i;

    echo.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    echo.remaining = n - pipes;     /* each pair's first round trip starts below */
    echo.running = pipes;
    for (i = 0; i < pipes; i++)
        echo_open(&echo, &echo.pairs[i], i);
    t0 = bench_now_ns();
    for (i = 0; i < pipes; i++) {
        start_io(&echo.pairs[i].server, TRUE);
        start_io(&echo.pairs[i].client, TRUE);
        start_io(&echo.pairs[i].client, FALSE);
    }
    if (WaitForSingleObject(echo.done, 600000) != WAIT_OBJECT_0)
        bench_fail("echo did not finish");
    t1 = bench_now_ns();
    bench_result(scenario, "round_trips_per_s", (double)n * 1e9 / (double)(t1 - t0));
    bench_result(scenario, "us_per_round_trip", (double)(t1 - t0) / 1e3 / (double)n * pipes);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    InterlockedExchange(&echo.stopping, 1);
    for (i = 0; i < pipes; i++)
        echo_close(&echo.pairs[i]);
    CloseHandle(echo.done);
}

/* ---- overlapped file reads ------------------------------------------------------- */

struct read_slot {
    OVERLAPPED ov;
    char *buf;
};

static struct {
    HANDLE file;
    PTP_IO io;
    struct read_slot slots[IN_FLIGHT];
    volatile LONG next;         /* blocks started */
    LONG blocks;                /* blocks to read in all */
    volatile LONG finished;
    HANDLE done;
} reads;

static void read_block(struct read_slot *slot, LONG index)
{
    ULONGLONG offset = (ULONGLONG)index * BLOCK % FILE_SIZE;

    memset(&slot->ov, 0, sizeof(slot->ov));
    slot->ov.Offset = (DWORD)offset;
    slot->ov.OffsetHigh = (DWORD)(offset >> 32);
    StartThreadpoolIo(reads.io);
    if (!ReadFile(reads.file, slot->buf, BLOCK, NULL, &slot->ov)
        && GetLastError() != ERROR_IO_PENDING) {
        CancelThreadpoolIo(reads.io);
        bench_fail("file ReadFile");
    }
}

static VOID CALLBACK read_cb(PTP_CALLBACK_INSTANCE inst, PVOID ctx, PVOID overlapped,
                             ULONG result, ULONG_PTR bytes, PTP_IO io)
{
    struct read_slot *slot = (struct read_slot *)overlapped;
    LONG index;

    (void)inst;
    (void)ctx;
    (void)io;
    bench_note_thread();
    if (result != ERROR_SUCCESS || bytes != BLOCK)
        bench_fail("file completion");
    if (InterlockedIncrement(&reads.finished) == reads.blocks)
        SetEvent(reads.done);
    if ((index = InterlockedIncrement(&reads.next) - 1) < reads.blocks)
        read_block(slot, index);
}

static void run_file(const char *scenario, long mib)
{
    char dir[MAX_PATH], path[MAX_PATH];
    uint64_t t0, t1;
    DWORD written, i;
    HANDLE file;
    char *chunk;

    if (!GetTempPathA(sizeof(dir), dir) || !GetTempFileNameA(dir, "kbe", 0, path))
        bench_fail("temporary file name");
    file = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (file == INVALID_HANDLE_VALUE || !(chunk = malloc(1 << 20)))
        bench_fail("temporary file");
    memset(chunk, 'f', 1 << 20);
    for (i = 0; i < FILE_SIZE >> 20; i++) {
        if (!WriteFile(file, chunk, 1 << 20, &written, NULL) || written != 1 << 20)
            bench_fail("writing the file");
    }
    CloseHandle(file);
    free(chunk);

    reads.file = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING,
                             FILE_FLAG_OVERLAPPED | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (reads.file == INVALID_HANDLE_VALUE)
        bench_fail("opening the file");
    if (!(reads.io = CreateThreadpoolIo(reads.file, read_cb, NULL, NULL)))
        bench_fail("CreateThreadpoolIo");
    reads.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    reads.blocks = (LONG)(mib * (1 << 20) / BLOCK);
    reads.next = IN_FLIGHT;
    for (i = 0; i < IN_FLIGHT; i++) {
        if (!(reads.slots[i].buf = malloc(BLOCK)))
            bench_fail("buffers");
    }
    t0 = bench_now_ns();
    for (i = 0; i < IN_FLIGHT; i++)
        read_block(&reads.slots[i], (LONG)i);
    if (WaitForSingleObject(reads.done, 600000) != WAIT_OBJECT_0)
        bench_fail("reads did not finish");
    t1 = bench_now_ns();
    WaitForThreadpoolIoCallbacks(reads.io, FALSE);
    bench_result(scenario, "mb_per_s", (double)mib * 1048576.0 / 1e6 * 1e9 / (double)(t1 - t0));
    bench_result(scenario, "us_per_block",
                 (double)(t1 - t0) / 1e3 / (double)reads.blocks);
    bench_result(scenario, "threads", (double)bench_threads_seen());
    CloseThreadpoolIo(reads.io);
    CloseHandle(reads.file);
    for (i = 0; i < IN_FLIGHT; i++)
        free(reads.slots[i].buf);
}

int main(int argc, char **argv)
{
    struct bench_args args;

    bench_parse(argc, argv, &args);
    bench_run_io(&args, PIPES_MAX, run_echo, run_file);
    return 0;
}

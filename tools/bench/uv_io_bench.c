/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The I/O scenarios of io_bench.c on libuv, as a libuv program writes them:
 * everything on one loop thread (pipes are uv_pipe_t streams, callbacks run
 * on the loop), file reads on libuv's pool (uv_fs_read, UV_THREADPOOL_SIZE
 * threads, 4 by default) with completions back on the loop.
 *
 *   IO1, IO16, IO256  echo of a 64-byte message over 1, 16 or 256
 *              Unix-socket pipes, N round trips in all
 *   IOF        64 KiB reads of a 64 MiB file in the page cache, 8 in
 *              flight, N MiB in all
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bench.h"

#define MSG_SIZE 64
#define PIPES_MAX 256
#define FILE_SIZE (64u << 20)
#define BLOCK (64u << 10)
#define IN_FLIGHT 8

static uv_loop_t *loop;

/* ---- echo ---------------------------------------------------------------------- */

struct end {
    uv_pipe_t pipe;
    char in[MSG_SIZE];
    size_t have;
    char out[MSG_SIZE];
    uv_write_t write;
    int server;
};

static struct end servers[PIPES_MAX], clients[PIPES_MAX];
static uv_pipe_t listener;
static uv_connect_t connects[PIPES_MAX];
static long remaining, accepted, pipes, running;
static uint64_t t0, t1;
static char path[108];

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct end *end = handle->data;

    (void)suggested;
    *buf = uv_buf_init(end->in + end->have, MSG_SIZE - (unsigned)end->have);
}

static void write_done(uv_write_t *req, int status)
{
    (void)req;
    if (status < 0)
        bench_fail("uv_write");
}

static void send_msg(struct end *end)
{
    uv_buf_t buf = uv_buf_init(end->out, MSG_SIZE);

    if (uv_write(&end->write, (uv_stream_t *)&end->pipe, &buf, 1, write_done))
        bench_fail("uv_write");
}

static void read_cb(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct end *end = stream->data;
    int i;

    (void)buf;
    if (n < 0)
        bench_fail("read");
    end->have += (size_t)n;
    if (end->have < MSG_SIZE)
        return;
    end->have = 0;
    if (end->server) {
        memcpy(end->out, end->in, MSG_SIZE);
        send_msg(end);
        return;
    }
    if (--remaining >= 0) {
        send_msg(end);
        return;
    }
    if (--running == 0) {
        t1 = bench_now_ns();
        for (i = 0; i < pipes; i++) {
            uv_close((uv_handle_t *)&clients[i].pipe, NULL);
            uv_close((uv_handle_t *)&servers[i].pipe, NULL);
        }
        uv_close((uv_handle_t *)&listener, NULL);
    }
}

static void start_all(void)
{
    int i;

    t0 = bench_now_ns();
    for (i = 0; i < pipes; i++) {
        uv_read_start((uv_stream_t *)&servers[i].pipe, alloc_cb, read_cb);
        uv_read_start((uv_stream_t *)&clients[i].pipe, alloc_cb, read_cb);
        send_msg(&clients[i]);
    }
}

static void connection_cb(uv_stream_t *server, int status)
{
    struct end *end = &servers[accepted];

    if (status < 0)
        bench_fail("connection");
    uv_pipe_init(loop, &end->pipe, 0);
    end->pipe.data = end;
    end->server = 1;
    if (uv_accept(server, (uv_stream_t *)&end->pipe))
        bench_fail("uv_accept");
    if (++accepted == pipes)
        start_all();
}

static void connect_cb(uv_connect_t *req, int status)
{
    (void)req;
    if (status < 0)
        bench_fail("uv_pipe_connect");
}

static void run_echo(const char *scenario, int count, long n)
{
    int i;

    pipes = running = count;
    remaining = n - count;
    snprintf(path, sizeof(path), "%s/kernel32_tp_uv_bench_%d", P_tmpdir, (int)getpid());
    unlink(path);
    uv_pipe_init(loop, &listener, 0);
    if (uv_pipe_bind(&listener, path) || uv_listen((uv_stream_t *)&listener, PIPES_MAX, connection_cb))
        bench_fail("listen");
    for (i = 0; i < count; i++) {
        uv_pipe_init(loop, &clients[i].pipe, 0);
        clients[i].pipe.data = &clients[i];
        memset(clients[i].out, 'm', MSG_SIZE);
        uv_pipe_connect(&connects[i], &clients[i].pipe, path, connect_cb);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    unlink(path);
    bench_result(scenario, "round_trips_per_s", (double)n * 1e9 / (double)(t1 - t0));
    bench_result(scenario, "us_per_round_trip", (double)(t1 - t0) / 1e3 / (double)n * count);
}

/* ---- file reads ----------------------------------------------------------------------- */

struct slot {
    uv_fs_t req;
    char *buf;
};

static struct slot slots[IN_FLIGHT];
static long next_block, blocks, finished;
static uv_file file_fd;

static void read_block(struct slot *slot, long index);

static void fs_read_cb(uv_fs_t *req)
{
    struct slot *slot = req->data;

    if (req->result != BLOCK)
        bench_fail("uv_fs_read");
    uv_fs_req_cleanup(req);
    if (++finished == blocks)
        t1 = bench_now_ns();
    if (next_block < blocks)
        read_block(slot, next_block++);
}

static void read_block(struct slot *slot, long index)
{
    uv_buf_t buf = uv_buf_init(slot->buf, BLOCK);

    slot->req.data = slot;
    if (uv_fs_read(loop, &slot->req, file_fd, &buf, 1,
                   (int64_t)((unsigned long long)index * BLOCK % FILE_SIZE), fs_read_cb))
        bench_fail("uv_fs_read");
}

static void run_file(const char *scenario, long mib)
{
    char *chunk = malloc(1 << 20);
    char name[256];
    int fd, i;

    snprintf(name, sizeof(name), "%s/kernel32_tp_uv_bench_XXXXXX", P_tmpdir);
    fd = mkstemp(name);

    if (fd < 0 || !chunk)
        bench_fail("temporary file");
    memset(chunk, 'f', 1 << 20);
    for (i = 0; i < (int)(FILE_SIZE >> 20); i++) {
        if (write(fd, chunk, 1 << 20) != 1 << 20)
            bench_fail("writing the file");
    }
    free(chunk);
    file_fd = fd;
    blocks = mib * (1 << 20) / BLOCK;
    next_block = IN_FLIGHT;
    for (i = 0; i < IN_FLIGHT; i++) {
        if (!(slots[i].buf = malloc(BLOCK)))
            bench_fail("buffers");
    }
    t0 = bench_now_ns();
    for (i = 0; i < IN_FLIGHT; i++)
        read_block(&slots[i], i);
    uv_run(loop, UV_RUN_DEFAULT);
    bench_result(scenario, "mb_per_s", (double)mib * 1048576.0 / 1e6 * 1e9 / (double)(t1 - t0));
    bench_result(scenario, "us_per_block", (double)(t1 - t0) / 1e3 / (double)blocks);
    close(fd);
    unlink(name);
}

int main(int argc, char **argv)
{
    struct bench_args args;

    bench_parse(argc, argv, &args);
    loop = uv_default_loop();
    bench_run_io(&args, PIPES_MAX, run_echo, run_file);
    return 0;
}

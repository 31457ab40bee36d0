/*
 * tp_demo: an ordinary Windows program that uses the thread pool.  It is
 * built unchanged on Windows (any compiler), with mingw-w64, and on Linux
 * against kernel32_tp (pkg-config --cflags --libs kernel32_tp).
 *
 * It checksums 64 blocks of generated data in parallel on a private pool
 * with a cleanup group, signals completion through
 * SetEventWhenCallbackReturns, hands a lock back with
 * LeaveCriticalSectionWhenCallbackReturns, and compares the result with a
 * serial computation.
 */
#include <windows.h>
#include <stdio.h>

#define BLOCKS 64
#define BLOCK_BYTES 65536

struct job {
    const unsigned char *data;
    DWORD checksum;
    HANDLE done;
};

static CRITICAL_SECTION report_lock;
static LONG blocks_done;
static DWORD combined;

static DWORD adler32(const unsigned char *data, SIZE_T len)
{
    DWORD a = 1, b = 0;
    SIZE_T i;

    for (i = 0; i < len; i++) {
        a = (a + data[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

static VOID CALLBACK checksum_block(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_WORK work)
{
    struct job *job = context;

    (void)work;
    job->checksum = adler32(job->data, BLOCK_BYTES);
    /* The event is set only after this callback has fully returned. */
    SetEventWhenCallbackReturns(instance, job->done);
}

static VOID CALLBACK combine(PTP_CALLBACK_INSTANCE instance, PVOID context)
{
    struct job *job = context;

    EnterCriticalSection(&report_lock);
    combined += job->checksum;
    InterlockedIncrement(&blocks_done);
    /* The pool leaves the critical section for us once we return. */
    LeaveCriticalSectionWhenCallbackReturns(instance, &report_lock);
}

int main(void)
{
    static unsigned char data[BLOCKS][BLOCK_BYTES];
    static struct job jobs[BLOCKS];
    TP_CALLBACK_ENVIRON env;
    PTP_CLEANUP_GROUP group;
    PTP_WORK work[BLOCKS];
    DWORD serial = 0, start, i, j;
    PTP_POOL pool;
    HANDLE events[BLOCKS];

    for (i = 0; i < BLOCKS; i++)
        for (j = 0; j < BLOCK_BYTES; j++)
            data[i][j] = (unsigned char)(i * 31 + j * 7 + (j >> 8));

    InitializeCriticalSection(&report_lock);
    pool = CreateThreadpool(NULL);
    group = CreateThreadpoolCleanupGroup();
    if (!pool || !group) {
        fprintf(stderr, "cannot create the pool: error %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    SetThreadpoolThreadMaximum(pool, 4);
    InitializeThreadpoolEnvironment(&env);
    SetThreadpoolCallbackPool(&env, pool);
    SetThreadpoolCallbackCleanupGroup(&env, group, NULL);

    start = GetTickCount();
    for (i = 0; i < BLOCKS; i++) {
        jobs[i].data = data[i];
        jobs[i].done = events[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        work[i] = CreateThreadpoolWork(checksum_block, &jobs[i], &env);
        if (!events[i] || !work[i]) {
            fprintf(stderr, "cannot create block %lu: error %lu\n", (unsigned long)i,
                    (unsigned long)GetLastError());
            return 1;
        }
        SubmitThreadpoolWork(work[i]);
    }
    if (WaitForMultipleObjects(BLOCKS, events, TRUE, 30000) != WAIT_OBJECT_0) {
        fprintf(stderr, "the blocks did not finish\n");
        return 1;
    }
    printf("checksummed %d blocks of %d KiB on the pool in %lu ms\n", BLOCKS,
           BLOCK_BYTES / 1024, (unsigned long)(GetTickCount() - start));

    for (i = 0; i < BLOCKS; i++) {
        if (!TrySubmitThreadpoolCallback(combine, &jobs[i], &env)) {
            fprintf(stderr, "TrySubmitThreadpoolCallback failed: %lu\n",
                    (unsigned long)GetLastError());
            return 1;
        }
    }
    /* Waits for every member's callbacks, then closes the members. */
    CloseThreadpoolCleanupGroupMembers(group, FALSE, NULL);
    CloseThreadpoolCleanupGroup(group);
    CloseThreadpool(pool);

    for (i = 0; i < BLOCKS; i++) {
        serial += adler32(data[i], BLOCK_BYTES);
        CloseHandle(events[i]);
    }
    DeleteCriticalSection(&report_lock);
    printf("combined %ld results: %08lx (serial: %08lx) %s\n", (long)blocks_done,
           (unsigned long)combined, (unsigned long)serial,
           combined == serial && blocks_done == BLOCKS ? "OK" : "MISMATCH");
    return combined == serial && blocks_done == BLOCKS ? 0 : 1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Overlapped file writes through a TP_IO: StartThreadpoolIo before each
 * WriteFile at its own offset, completions counted in the callback,
 * WaitForThreadpoolIoCallbacks, then the file read back synchronously.
 */
#include <Windows.h>
#include "console_print.h"

#define BLOCKS 8
#define BLOCK_SIZE 4096

struct io_state {
    volatile LONG completions;
    volatile LONG bytes;
    volatile LONG errors;
    HANDLE done;
};

static VOID CALLBACK IoCallback(PTP_CALLBACK_INSTANCE instance, PVOID context, PVOID overlapped,
                                ULONG result, ULONG_PTR transferred, PTP_IO io)
{
    struct io_state *state = context;

    UNREFERENCED_PARAMETER(instance);
    UNREFERENCED_PARAMETER(overlapped);
    UNREFERENCED_PARAMETER(io);
    if (result != NO_ERROR)
        InterlockedIncrement(&state->errors);
    InterlockedExchangeAdd(&state->bytes, (LONG)transferred);
    if (InterlockedIncrement(&state->completions) == BLOCKS)
        SetEvent(state->done);
}

int wmain(void)
{
    static char blocks[BLOCKS][BLOCK_SIZE];
    static char check[BLOCKS * BLOCK_SIZE];
    OVERLAPPED ov[BLOCKS];
    struct io_state state = { 0, 0, 0, NULL };
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    DWORD read = 0, ret;
    HANDLE file, reader;
    PTP_IO io;
    int i, j, mismatches = 0;

    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"tpi", 0, path);
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_FLAG_OVERLAPPED, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        print(L"CreateFileW failed: %lu\n", GetLastError());
        return 1;
    }
    state.done = CreateEventW(NULL, TRUE, FALSE, NULL);
    io = CreateThreadpoolIo(file, IoCallback, &state, NULL);
    if (!io) {
        print(L"CreateThreadpoolIo failed: %lu\n", GetLastError());
        return 1;
    }
    for (i = 0; i < BLOCKS; i++) {
        for (j = 0; j < BLOCK_SIZE; j++)
            blocks[i][j] = (char)('a' + (i + j) % 26);
        ZeroMemory(&ov[i], sizeof(ov[i]));
        ov[i].Offset = (DWORD)(i * BLOCK_SIZE);
        StartThreadpoolIo(io);
        if (!WriteFile(file, blocks[i], BLOCK_SIZE, NULL, &ov[i])
            && GetLastError() != ERROR_IO_PENDING) {
            CancelThreadpoolIo(io);     /* no completion will come */
            print(L"WriteFile failed: %lu\n", GetLastError());
        }
    }
    ret = WaitForSingleObject(state.done, 10000);
    WaitForThreadpoolIoCallbacks(io, FALSE);
    print(L"writes: %lu, completions %ld, bytes %ld, errors %ld\n", ret, state.completions,
          state.bytes, state.errors);
    CloseThreadpoolIo(io);
    CloseHandle(file);

    reader = CreateFileW(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_FLAG_DELETE_ON_CLOSE,
                         NULL);
    if (!ReadFile(reader, check, sizeof(check), &read, NULL))
        print(L"ReadFile failed: %lu\n", GetLastError());
    for (i = 0; i < BLOCKS; i++) {
        for (j = 0; j < BLOCK_SIZE; j++)
            mismatches += check[i * BLOCK_SIZE + j] != blocks[i][j];
    }
    print(L"read back %lu bytes, %d mismatches\n", read, mismatches);
    CloseHandle(reader);
    CloseHandle(state.done);
    return 0;
}

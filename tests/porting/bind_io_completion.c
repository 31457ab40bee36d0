/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Overlapped file writes completed through BindIoCompletionCallback, the
 * legacy way: the callback gets the error code, the bytes and the
 * OVERLAPPED, which here is the first member of the program's request.
 */
#include <Windows.h>
#include "console_print.h"

#define REQUESTS 5

struct request {
    OVERLAPPED ov;          /* first: the callback's OVERLAPPED is the request */
    int index;
    char data[100];
};

static volatile LONG completed;
static volatile LONG index_sum;
static volatile LONG byte_sum;
static HANDLE all_done;

static VOID CALLBACK Completion(DWORD error, DWORD bytes, LPOVERLAPPED overlapped)
{
    struct request *req = (struct request *)overlapped;

    if (error == ERROR_SUCCESS) {
        InterlockedExchangeAdd(&index_sum, req->index);
        InterlockedExchangeAdd(&byte_sum, (LONG)bytes);
    }
    if (InterlockedIncrement(&completed) == REQUESTS)
        SetEvent(all_done);
}

int main(void)
{
    static struct request reqs[REQUESTS];
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    LARGE_INTEGER size;
    HANDLE file;
    DWORD ret;
    int i;

    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"bic", 0, path);
    file = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                       FILE_FLAG_OVERLAPPED | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        print(L"CreateFileW failed: %lu\n", GetLastError());
        return 1;
    }
    all_done = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!BindIoCompletionCallback(file, Completion, 0)) {
        print(L"BindIoCompletionCallback failed: %lu\n", GetLastError());
        return 1;
    }
    print(L"bound\n");
    for (i = 0; i < REQUESTS; i++) {
        reqs[i].index = i + 1;
        FillMemory(reqs[i].data, sizeof(reqs[i].data), (BYTE)('0' + i));
        reqs[i].ov.Offset = (DWORD)(i * sizeof(reqs[i].data));
        if (!WriteFile(file, reqs[i].data, sizeof(reqs[i].data), NULL, &reqs[i].ov)
            && GetLastError() != ERROR_IO_PENDING)
            print(L"WriteFile %d failed: %lu\n", i, GetLastError());
    }
    ret = WaitForSingleObject(all_done, 10000);
    print(L"completions: %lu, count %ld, index sum %ld, bytes %ld\n", ret, completed, index_sum,
          byte_sum);
    if (GetFileSizeEx(file, &size))
        print(L"file size: %ld\n", (long)size.QuadPart);
    CloseHandle(file);
    CloseHandle(all_done);
    return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Standard input and output as handles: ReadFile on STD_INPUT_HANDLE until
 * the end of the input (0 bytes from a file, ERROR_BROKEN_PIPE from a
 * pipe), lines counted and echoed numbered through WriteFile, and a
 * message to standard error.
 */
#include <Windows.h>
#include <strsafe.h>

static void Write(HANDLE h, const char *text)
{
    size_t len = 0;
    DWORD written;

    StringCchLengthA(text, STRSAFE_MAX_CCH, &len);
    WriteFile(h, text, (DWORD)len, &written, NULL);
}

int main(int argc, char **argv)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    char buf[64], line[256], out_line[300];
    DWORD got, total = 0, lines = 0;
    size_t len = 0;

    UNREFERENCED_PARAMETER(argc);
    UNREFERENCED_PARAMETER(argv);
    line[0] = 0;
    for (;;) {
        DWORD i;

        if (!ReadFile(in, buf, sizeof(buf), &got, NULL)) {
            if (GetLastError() != ERROR_BROKEN_PIPE) {
                StringCchPrintfA(out_line, ARRAYSIZE(out_line), "ReadFile failed: %lu\n",
                                 GetLastError());
                Write(out, out_line);
            }
            break;
        }
        if (!got)
            break;
        total += got;
        for (i = 0; i < got; i++) {
            if (buf[i] == '\r')
                continue;
            if (buf[i] != '\n') {
                if (len + 1 < sizeof(line)) {
                    line[len++] = buf[i];
                    line[len] = 0;
                }
                continue;
            }
            lines++;
            StringCchPrintfA(out_line, ARRAYSIZE(out_line), "%3lu: %s\n", lines, line);
            Write(out, out_line);
            len = 0;
            line[0] = 0;
        }
    }
    if (len) {
        lines++;
        StringCchPrintfA(out_line, ARRAYSIZE(out_line), "%3lu: %s (no newline)\n", lines, line);
        Write(out, out_line);
    }
    StringCchPrintfA(out_line, ARRAYSIZE(out_line), "%lu lines, %lu bytes\n", lines, total);
    Write(out, out_line);
    Write(GetStdHandle(STD_ERROR_HANDLE), "echo_stdin: done\n");
    return (int)lines;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <io.h> of the Windows C runtime, for Windows sources built on Linux
 * against kernel32_tp: the POSIX calls it also declares (read, write,
 * close, isatty, access, ...) come from <unistd.h>, and _get_osfhandle
 * maps the standard descriptors to the standard handles.
 */
#ifndef KERNEL32_TP_IO_H
#define KERNEL32_TP_IO_H

#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <windows.h>

/*
 * The handle behind a C runtime descriptor.  Only 0, 1 and 2 have one
 * (GetStdHandle's); any other descriptor is not a Windows handle here:
 * -1 (INVALID_HANDLE_VALUE) with errno EBADF, as the CRT answers for a
 * descriptor it does not know.
 */
static inline intptr_t _get_osfhandle(int fd)
{
    static const DWORD std_ids[3] = { STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE };

    if (fd < 0 || fd > 2) {
        errno = EBADF;
        return -1;
    }
    return (intptr_t)GetStdHandle(std_ids[fd]);
}

#endif

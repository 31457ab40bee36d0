/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: the secret of the ownership stamps (os.h, os_types.h), chosen
 * once per process when the DLL starts, before any export can run.  Takes
 * no lock.
 */
#include "os.h"

ULONG os_stamp_secret;

/*
 * Not a cryptographic secret: it only has to differ from whatever a foreign
 * structure holds at the same place, and a value that changes with every
 * process and every load address makes a match by accident negligible.
 */
__attribute__((constructor(101))) static void stamp_setup(void)
{
    LARGE_INTEGER counter;
    ULONGLONG secret;

    QueryPerformanceCounter(&counter);
    secret = (ULONGLONG)counter.QuadPart * 0x9e3779b97f4a7c15ull;
    secret ^= (ULONGLONG)GetCurrentProcessId() * 0xc2b2ae3d27d4eb4full;
    secret ^= (ULONGLONG)(ULONG_PTR)&os_stamp_secret;
    os_stamp_secret = (ULONG)(secret ^ (secret >> 32));
}

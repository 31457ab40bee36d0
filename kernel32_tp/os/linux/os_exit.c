/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: whether the process is exiting (os.h).  exit() runs the atexit
 * handlers and the destructors while every thread still runs, and the
 * threads end only with the process: nothing a thread held stays held for
 * good, so the answer is always no.
 */
#include "os_linux.h"

BOOL os_process_exiting(void)
{
    return FALSE;
}

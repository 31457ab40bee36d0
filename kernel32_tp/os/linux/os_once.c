/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: os_once (os.h) on pthread_once, whose fast path, once done, is
 * one acquire load.  Takes no lock of its own.
 */
#include <string.h>

#include "os_linux.h"

void os_once(struct os_once *once, void (*fn)(void))
{
    int err = pthread_once(&once->once, fn);

    if (err)
        os_panic("pthread_once failed: %s", strerror(err));
}

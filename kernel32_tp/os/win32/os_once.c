/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows: os_once (os.h) on InitOnceExecuteOnce, whose fast path, once
 * done, is one load.  Takes no lock of its own.
 */
#include "os.h"

/* The function to run travels in the call's context: no global state. */
struct once_call {
    void (*fn)(void);
};

static BOOL CALLBACK once_run(INIT_ONCE *init_once, void *param, void **context)
{
    (void)init_once;
    (void)context;
    ((struct once_call *)param)->fn();
    return TRUE;
}

void os_once(struct os_once *once, void (*fn)(void))
{
    struct once_call call = { fn };

    if (!InitOnceExecuteOnce(&once->init_once, once_run, &call, NULL))
        os_panic("InitOnceExecuteOnce failed: error %lu", (unsigned long)GetLastError());
}

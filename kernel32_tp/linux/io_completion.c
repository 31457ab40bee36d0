/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: the I/O completion source of os.h (os_io_bind).  The handle layer
 * has no file objects yet, so no handle can be bound.
 */
#include "handle.h"

DWORD os_io_bind(HANDLE file, os_io_complete_fn complete, void *key,
                 struct os_io_binding **binding)
{
    struct handle_object *obj;
    DWORD err;

    (void)complete;
    (void)key;
    (void)binding;
    if ((err = handle_lookup(file, HANDLE_TYPE_ANY, &obj)) != ERROR_SUCCESS)
        return err;
    handle_object_unref(obj);
    return ERROR_INVALID_HANDLE;    /* not a file: the layer has none yet */
}

void os_io_unbind(struct os_io_binding *binding)
{
    (void)binding;
}

void os_io_packet_release(struct os_io_packet *packet)
{
    (void)packet;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: misuse that Windows reports with an exception.  There is no
 * structured exception handling to raise into, so the process stops with a
 * message naming the function, the misuse and the object; so does misuse
 * the checked mode caught (check.c).
 */
#include "os_linux.h"

void os_raise_invalid_parameter(const char *func, const char *what, const void *object)
{
    os_panic("%s: %s (%p): Windows raises STATUS_INVALID_PARAMETER here", func, what, object);
}

void os_misuse_stop(const char *line)
{
    os_panic("%s", line);
}

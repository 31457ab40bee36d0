/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* win32: the spin-loop hint. */
#include <windows.h>

#include "os.h"

void os_cpu_relax(void)
{
    YieldProcessor();
}

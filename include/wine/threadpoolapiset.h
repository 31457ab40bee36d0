/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* <threadpoolapiset.h> on Linux: the whole API comes with our <windows.h>. */
#include <windows.h>

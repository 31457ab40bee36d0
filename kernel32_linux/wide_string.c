/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux handle layer: the W calls' strings.  WCHAR is UTF-16 (the build
 * uses -fshort-wchar); Linux names are UTF-8.  No locks, no state.
 */
#include <stdlib.h>

#include "handle.h"

DWORD handle_utf8_from_utf16(const WCHAR *str, char **utf8)
{
    size_t len = 0, i, out = 0;
    unsigned int cp;
    char *buf;

    *utf8 = NULL;
    if (!str)
        return ERROR_SUCCESS;
    while (str[len])
        len++;
    /* At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2). */
    if (!(buf = malloc(len * 3 + 1)))
        return ERROR_NOT_ENOUGH_MEMORY;
    for (i = 0; i < len; i++) {
        cp = str[i];
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len
            && str[i + 1] >= 0xdc00 && str[i + 1] <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (str[i + 1] - 0xdc00u);
            i++;
        }
        /* A lone surrogate is encoded as itself (WTF-8): distinct names stay
         * distinct, and the conversion cannot fail. */
        if (cp < 0x80) {
            buf[out++] = (char)cp;
        } else if (cp < 0x800) {
            buf[out++] = (char)(0xc0 | (cp >> 6));
            buf[out++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            buf[out++] = (char)(0xe0 | (cp >> 12));
            buf[out++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            buf[out++] = (char)(0x80 | (cp & 0x3f));
        } else {
            buf[out++] = (char)(0xf0 | (cp >> 18));
            buf[out++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            buf[out++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            buf[out++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    buf[out] = 0;
    *utf8 = buf;
    return ERROR_SUCCESS;
}

# SPDX-License-Identifier: LGPL-2.1-or-later
# Reads Wine-syntax .spec files: "@ stdcall Name(long ptr ...)".
#   mode=names: one exported name a line.
#   mode=args:  "Name count" a line (the argument count).
# Rejects anything else (stubs, ordinals, unknown types) and unsorted names,
# so a spec line can never silently export nothing.  A comment line that
# begins "# ==" starts a block of its own, sorted on its own (an area's
# entries kept together, so that areas added in parallel merge cleanly).
function fail(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
    failed = 1
    exit 1
}
/^# ==/ { lastname = ""; next }
/^[ \t]*(#|$)/ { next }
{
    if ($1 != "@" || ($2 != "stdcall" && $2 != "cdecl" && $2 != "varargs"))
        fail("expected '@ stdcall|cdecl|varargs Name(args)', got: " $0)
    if (match($3, /^[A-Za-z_][A-Za-z0-9_]*\(/) == 0 || substr($0, length($0)) != ")")
        fail("malformed entry: " $0)
    name = substr($3, 1, RLENGTH - 1)
    args = $0
    sub(/^[^(]*\(/, "", args)
    sub(/\)$/, "", args)
    n = split(args, types, /[ \t]+/)
    count = 0
    for (i = 1; i <= n; i++) {
        if (types[i] == "") continue
        if (types[i] != "ptr" && types[i] != "long" && types[i] != "int64" && types[i] != "wstr" && types[i] != "str")
            fail("unknown argument type '" types[i] "' in " name)
        count++
    }
    if (FILENAME == lastfile && name <= lastname)
        fail("entries must be sorted by name: " name " after " lastname)
    if (seen[name]++)
        fail("duplicate entry " name)
    lastfile = FILENAME
    lastname = name
    # The definition of a varargs function has one more parameter: "...".
    if (mode == "args") print name, count + ($2 == "varargs")
    else print name
}

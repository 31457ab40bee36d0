# SPDX-License-Identifier: LGPL-2.1-or-later
# Reads Wine-syntax .spec files: "@ stdcall Name(long ptr ...) [Target]".
# A Target makes Name an alias: a second exported name for the function
# Target, another entry of the same spec with the same arguments (Wine's
# specs forward one name to the other the same way).  The tools export both
# names at one address: spec2def writes "Name=Target", tools/elf-aliases
# adds the ELF symbol; only Target has a definition in the sources.
#   mode=names:   one exported name a line (aliases included).
#   mode=args:    "Name count" a line (the argument count) of each entry
#                 that has a definition of its own (aliases left out).
#   mode=aliases: "Name Target" a line, one per alias.
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
    if (match($3, /^[A-Za-z_][A-Za-z0-9_]*\(/) == 0)
        fail("malformed entry: " $0)
    name = substr($3, 1, RLENGTH - 1)
    line = $0
    target = ""
    if (substr(line, length(line)) != ")") {
        if (match(line, /\)[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*$/) == 0)
            fail("malformed entry: " $0)
        target = substr(line, RSTART + 1)
        gsub(/[ \t]/, "", target)
        line = substr(line, 1, RSTART)
    }
    args = line
    sub(/^[^(]*\(/, "", args)
    sub(/\)$/, "", args)
    n = split(args, types, /[ \t]+/)
    count = 0
    typelist = ""
    for (i = 1; i <= n; i++) {
        if (types[i] == "") continue
        typelist = typelist " " types[i]
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
    # An alias is checked at the end, when every entry has been read.
    sig[name] = $2 "(" substr(typelist, 2) ")"
    if (target != "") {
        alias[name] = target
        aliasline[name] = FILENAME ":" FNR
        if (mode == "aliases") print name, target
        else if (mode == "names") print name
        next
    }
    # The definition of a varargs function has one more parameter: "...".
    if (mode == "args") print name, count + ($2 == "varargs")
    else if (mode == "names") print name
}
END {
    if (failed)
        exit 1
    for (name in alias) {
        target = alias[name]
        msg = ""
        if (!(target in sig))
            msg = name " is an alias of " target ", which is not an entry"
        else if (target in alias)
            msg = name " is an alias of " target ", itself an alias"
        else if (sig[target] != sig[name])
            msg = name " " sig[name] " and its target " target " " sig[target] \
                  " differ in calling convention or arguments"
        if (msg != "") {
            printf "%s: %s\n", aliasline[name], msg > "/dev/stderr"
            exit 1
        }
    }
}

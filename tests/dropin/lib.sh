# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the drop-in test scripts (tests/dropin/dropin_*): checks that
# report like cmocka, so tools/run-tests counts them like any test file.
#   check NAME CMD...      runs CMD; passes when it exits 0
#   finish                 prints the totals; exits 1 when a check failed
# A check's output goes to the log only when it fails.
passed=0 failed=0
check() {
    name=$1
    shift
    echo "[ RUN      ] $name"
    if out=$("$@" 2>&1); then
        echo "[       OK ] $name"
        passed=$((passed + 1))
    else
        printf '%s\n' "$out" | sed 's/^/    /'
        echo "[  FAILED  ] $name"
        failed=$((failed + 1))
    fi
}
finish() {
    echo "[==========] $((passed + failed)) test(s) run."
    echo "[  PASSED  ] $passed test(s)."
    [ "$failed" -eq 0 ] || { echo "[  FAILED  ] $failed test(s)."; exit 1; }
    exit 0
}

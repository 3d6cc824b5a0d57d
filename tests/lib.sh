# SPDX-License-Identifier: Apache-2.0
# Shared by the command-line test scripts (tests/cli.sh, check.sh, run.sh, html.sh, ...): source
# it after `set -u`. It checks KPSIM and SRCDIR, enters the source tree, makes $tmp (removed on
# exit) with $out and $err for the last command's output, keeps the pass/fail counts, and
# defines:
#   expect STATUS DESCRIPTION -- ARGS...   run kpsim ARGS, require exit STATUS
#   ok / ko DESCRIPTION                    count a pass / report and count a failure
#   check DESCRIPTION COMMAND...           pass when COMMAND succeeds
#   grep_in FILE PATTERN DESCRIPTION       require PATTERN in FILE
#   grep_not FILE PATTERN DESCRIPTION      require PATTERN not in FILE
#   empty FILE DESCRIPTION                 require FILE to be empty
#   finish NAME                            print "NAME: P passed, F failed" and set the status
: "${KPSIM:?KPSIM must name the kpsim binary}" "${SRCDIR:?SRCDIR must name the source tree}"
cd "$SRCDIR" || exit 1
tmp=$(mktemp -d)
out=$tmp/out
err=$tmp/err
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0

ok() { pass=$((pass + 1)); }
ko() {
    echo "FAIL $*"
    fail=$((fail + 1))
}
check() {
    what=$1
    shift
    if "$@"; then ok; else ko "$what"; fi
}

expect() {
    want=$1
    what=$2
    shift 3
    "$KPSIM" "$@" >"$out" 2>"$err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $what: exit $rc, want $want (kpsim $*)"
        sed 's/^/    stdout: /' "$out" | head -10
        sed 's/^/    stderr: /' "$err" | head -5
        fail=$((fail + 1))
        return 1
    fi
    pass=$((pass + 1))
    return 0
}

grep_in() {
    if grep -q -- "$2" "$1"; then
        pass=$((pass + 1))
    else
        echo "FAIL $3: '$2' not found"
        sed 's/^/    /' "$1" | head -10
        fail=$((fail + 1))
    fi
}

grep_not() {
    if grep -q -- "$2" "$1"; then
        echo "FAIL $3: '$2' found"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

empty() {
    if [ -s "$1" ]; then
        echo "FAIL $2: output not empty"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

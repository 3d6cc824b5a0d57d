#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bad-input tests: every tests/bad/NAME.yaml is broken in exactly one way, and NAME.err holds the
# exact first line `kpsim get` must print on stderr for it. Each case must exit with status 2,
# print nothing on stdout, and report that error line verbatim (paths relative to the source
# root, as the file is passed). Files under tests/bad/include/ are helpers the cases read
# through spec.manifests, not cases of their own.
#
# Environment: KPSIM (the kpsim binary) and SRCDIR (the source tree root).

: "${KPSIM:?KPSIM must name the kpsim binary}"
: "${SRCDIR:?SRCDIR must name the source tree root}"

cd "$SRCDIR" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpsim-bad.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
for input in tests/bad/*.yaml; do
    name=${input%.yaml}
    name=${name#tests/bad/}
    expected_file="tests/bad/$name.err"
    if [ ! -f "$expected_file" ]; then
        echo "FAIL $name: missing $expected_file"
        fail=$((fail + 1))
        continue
    fi
    "$KPSIM" get "$input" services >"$tmp/out" 2>"$tmp/err"
    status=$?
    expected=$(cat "$expected_file")
    actual=$(head -n 1 "$tmp/err")
    problem=""
    if [ "$status" -ne 2 ]; then
        problem="exit status $status, expected 2"
    elif [ -s "$tmp/out" ]; then
        problem="wrote to stdout: $(head -n 1 "$tmp/out")"
    elif [ "$actual" != "$expected" ]; then
        problem="stderr differs
  expected: $expected
  actual:   $actual"
    fi
    if [ -n "$problem" ]; then
        echo "FAIL $name: $problem"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done

echo "bad inputs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

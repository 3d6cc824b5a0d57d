#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Golden tests: each line of tests/golden/TESTLIST is "NAME kpsim-arguments..."; the command's
# stdout must equal tests/golden/NAME.out byte for byte (run from the source tree root, so paths
# in the output are stable). UPDATE_GOLDEN=1 rewrites the files instead (`make golden-update`);
# review the diff before committing it.
set -u
: "${KPSIM:?KPSIM must name the kpsim binary}" "${SRCDIR:?SRCDIR must name the source tree}"
cd "$SRCDIR" || exit 1
pass=0
fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
while read -r name args; do
    case "$name" in '' | '#'*) continue ;; esac
    # shellcheck disable=SC2086
    "$KPSIM" $args >"$tmp" 2>/dev/null
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $name: kpsim $args exited $rc"
        fail=$((fail + 1))
        continue
    fi
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$tmp" "tests/golden/$name.out"
        echo "updated $name"
    elif cmp -s "$tmp" "tests/golden/$name.out"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name: output differs from tests/golden/$name.out:"
        diff -u "tests/golden/$name.out" "$tmp" | head -40
        fail=$((fail + 1))
    fi
done <tests/golden/TESTLIST
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

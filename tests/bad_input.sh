#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bad-input tests: every tests/bad/NAME.yaml is broken in exactly one way, and NAME.err holds the
# exact first line `kpsim get` must print on stderr for it. Each case must exit with status 2,
# print nothing on stdout, and report that error line verbatim (paths relative to the source
# root, as the file is passed). Files under tests/bad/include/ are helpers the cases read
# through spec.manifests, not cases of their own. Three more cases are made at run time: a
# manifest escaping the scenario's directory through a symlink, one through .., and a 65 MiB
# file.
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

# Cases made at run time (a symlink, 64 MiB): CASE DESCRIPTION EXPECTED-LINE FILE, where
# EXPECTED-LINE may name $tmp.
made() {
    "$KPSIM" get "$3" services >"$tmp/out" 2>"$tmp/err"
    status=$?
    actual=$(head -n 1 "$tmp/err")
    if [ "$status" -ne 2 ] || [ -s "$tmp/out" ] || [ "$actual" != "$2" ]; then
        echo "FAIL $1: exit $status; stderr: $actual"
        echo "  expected: $2"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
# A manifest that escapes the scenario's directory through a symlink (and one through ..).
mkdir -p "$tmp/scn" "$tmp/outside"
cp scenarios/nginx-service-nodeport.yaml "$tmp/outside/secret.yaml"
ln -s ../outside/secret.yaml "$tmp/scn/svc.yaml"
printf 'apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: x}\nspec:\n  manifests: [svc.yaml]\n' >"$tmp/scn/link.yaml"
made manifest-symlink-escape \
    "$tmp/scn/link.yaml:5:15: error: manifest 'svc.yaml' lies outside the scenario's directory (after symlinks and ..): a scenario reads only files below its own directory" \
    "$tmp/scn/link.yaml"
printf 'apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: x}\nspec:\n  manifests: [../outside/secret.yaml]\n' >"$tmp/scn/dotdot.yaml"
made manifest-dotdot-escape \
    "$tmp/scn/dotdot.yaml:5:15: error: manifest '../outside/secret.yaml' lies outside the scenario's directory (after symlinks and ..): a scenario reads only files below its own directory" \
    "$tmp/scn/dotdot.yaml"
# A very large file: 65 MiB of YAML comments, over the 64 MiB every input may have.
head -c $((65 * 1024 * 1024)) /dev/zero | tr '\0' '#' | fold -w 1023 >"$tmp/large.yaml"
made very-large-file \
    "$tmp/large.yaml:1:1: error: the file is larger than 64 MiB" "$tmp/large.yaml"

echo "bad inputs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

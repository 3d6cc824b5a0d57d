#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Determinism across builds: the same scenario and seed must give byte-identical report.txt,
# report.json, report.html and pcaps from every kpsim binary given (e.g. a gcc -O2 build, an
# -O0 build and a clang build), and from two runs of the first one.
#
# Usage: tests/determinism.sh KPSIM [KPSIM...]   (from anywhere; scenarios come from this tree)
# Exit status 0 when every file is identical, 1 on a difference (the files named), 2 on usage.
set -u
if [ "$#" -lt 1 ]; then
    echo "usage: $0 KPSIM [KPSIM...]" >&2
    exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpsim-determinism.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# Scenario, seed: the seed example, a node failure with the control plane at work, the seed
# example under another seed, and a node failure under IPVS mode (schedulers, graceful removal).
cases="seed-nginx-nodeport.yaml:1 node-failure.yaml:7 seed-nginx-nodeport.yaml:42 node-failure-ipvs.yaml:3"
status=0
for c in $cases; do
    scenario=${c%%:*}
    seed=${c##*:}
    i=0
    for bin in "$1" "$@"; do
        i=$((i + 1))
        dir="$tmp/$scenario-$seed-$i"
        "$bin" run "$src/scenarios/$scenario" --seed "$seed" --no-wall-clock --quiet -o "$dir"
        rc=$?
        if [ "$rc" -ne 0 ]; then
            echo "FAIL $bin run $scenario --seed $seed: exit status $rc"
            status=1
            continue
        fi
        [ "$i" -eq 1 ] && continue
        for f in report.txt report.json report.html $(cd "$dir" && ls pcap/*.pcap); do
            if ! cmp -s "$tmp/$scenario-$seed-1/$f" "$dir/$f"; then
                echo "FAIL $scenario --seed $seed: $f differs between $1 and $bin"
                status=1
            fi
        done
    done
    rm -rf "$tmp/$scenario-$seed-"*
done
[ "$status" -eq 0 ] && echo "determinism: $# binaries, identical reports and pcaps"
exit "$status"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Benchmark of the run time (docs/design.md, "Performance and scale"): the seed example pushed
# to RATE connections/s for DURATION (default 2000/s for 500 s: about a million TCP
# request/response flows through kube-proxy's NodePort rules on three nodes), captures off.
# Builds kpsim with -O2 in a temporary directory from this source tree (or uses $KPSIM), runs
# it once and prints wall time, connections/s, events/s, packets/s and peak RSS. Measured here,
# never asserted by a test: the target is under 10 s on one core.
#
#   tools/bench/run-seed.sh                       # build, then 2000/s for 500 s
#   RATE=50000/s DURATION=20s tools/bench/run-seed.sh
#   KPSIM=./kpsim tools/bench/run-seed.sh         # skip the build
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
RATE=${RATE:-2000/s}
DURATION=${DURATION:-500s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -z "${KPSIM:-}" ]; then
    echo "bench: building kpsim with -O2 in $tmp" >&2
    # Copy the sources, not build products (a configured source tree would get in the way of
    # an out-of-tree build), then regenerate the build system in the copy.
    mkdir "$tmp/src"
    if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z --cached --others --exclude-standard |
            xargs -0 tar cf - --no-recursion) | (cd "$tmp/src" && tar xf -)
    else
        (cd "$src" && tar cf - --exclude='*.o' --exclude='*.a' --exclude=config.status \
            --exclude=config.h --exclude=.deps .) | (cd "$tmp/src" && tar xf -)
    fi
    (cd "$tmp/src" && autoreconf -fi >/dev/null 2>&1)
    mkdir "$tmp/build"
    (cd "$tmp/build" && "$tmp/src/configure" -q CFLAGS="-O2" >/dev/null &&
        make -j"$(nproc 2>/dev/null || echo 2)" kpsim >/dev/null)
    KPSIM=$tmp/build/kpsim
fi

scenario=$src/scenarios/seed-nginx-nodeport.yaml
set -- run "$scenario" --set "traffic.web.rate=$RATE" --duration "$DURATION" --no-pcap --quiet \
    --stats --no-wall-clock
echo "bench: kpsim $*" >&2
if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$KPSIM" "$@" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/err")
    cpu=$(sed -n 's/.*User time (seconds): //p' "$tmp/err")
else
    "$KPSIM" "$@" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    rss= cpu=
fi
stats=$(grep '^kpsim run stats:' "$tmp/err")
echo "$stats"
# "kpsim run stats: wall W s, C connections (C/s), E events (E/s), P packets (P/s), peak RSS R KiB"
echo "$stats" | awk -v rss="$rss" -v cpu="$cpu" '{
    gsub(/[(),]/, "");
    printf "wall time:      %s s%s\n", $5, cpu != "" ? " (user CPU " cpu " s)" : "";
    printf "connections:    %s (%s)\n", $7, $9;
    printf "events:         %s (%s)\n", $10, $12;
    printf "packets:        %s (%s)\n", $13, $15;
    printf "peak RSS:       %s KiB\n", rss != "" ? rss : $19;
}'

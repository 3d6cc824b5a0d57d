#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replays kube-proxy's own packet-flow cases through `kpsim trace --json` with the shared runner:
# tests/conformance/kube-proxy (copied from shared/conformance) and kube-proxy-extra (more
# upstream tables transcribed by the kpsim team, in the same format).
set -u
: "${KPSIM:?KPSIM must name the kpsim binary}" "${SRCDIR:?SRCDIR must name the source tree}"
if ! command -v python3 >/dev/null 2>&1; then
    echo "conformance: python3 is not installed (tools/bootstrap installs it); skipping" >&2
    exit 77
fi
status=0
for dir in "$SRCDIR"/tests/conformance/*/; do
    [ -f "$dir/flows.json" ] || continue
    echo "conformance: $dir"
    python3 "$SRCDIR/tests/conformance/run" --kpsim "$KPSIM" "$dir" || status=1
done
exit $status

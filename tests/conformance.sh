#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replays kube-proxy's own packet-flow cases (tests/conformance/kube-proxy, copied from
# shared/conformance) through `kpsim trace --json` with the shared runner.
set -u
: "${KPSIM:?KPSIM must name the kpsim binary}" "${SRCDIR:?SRCDIR must name the source tree}"
if ! command -v python3 >/dev/null 2>&1; then
    echo "conformance: python3 is not installed (tools/bootstrap installs it); skipping" >&2
    exit 77
fi
exec python3 "$SRCDIR/tests/conformance/run" --kpsim "$KPSIM" "$SRCDIR/tests/conformance/kube-proxy"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kpsim compare: one scenario under several kube-proxy modes. The seed example differs between
# iptables and nftables only where datapath-semantics.md section 5 says it must (127.0.0.1
# NodePorts, a clusterIP on an undefined port, an unallocated Service-CIDR address), and each
# difference names that reason; the run's results agree. scenarios/mode-differences.yaml adds
# a second node address: nftables' primary-only nodePortAddresses breaks the traffic that dials
# it. --fail-on-difference gates CI, --json carries the same rows, a mode compared with itself
# differs nowhere, and bad --modes values are usage errors (exit 2, nothing on stdout). IPVS
# mode adds the differences of section 4 (scenarios/mode-differences-ipvs.yaml), and every
# scenario runs under all three modes.
set -u
. "${SRCDIR:?SRCDIR must name the source tree}/tests/lib.sh"

SEED=scenarios/seed-nginx-nodeport.yaml
if expect 0 "compare the seed" -- compare "$SEED" --modes iptables,nftables; then
    grep_in "$out" '^kube-proxy modes compared on seed-nginx-nodeport: iptables, nftables$' \
        "the header names the modes"
    grep_in "$out" '^5 differences:$' "five documented differences"
    grep_in "$out" '^node1 127\.0\.0\.1:30080/TCP  *the node itself  *accept: 2 endpoints, SNAT  *not translated (no Service rule)  *DIFFERS$' \
        "iptables answers NodePorts on 127.0.0.1, nftables does not"
    grep_in "$out" 'a port no Service defines) .*not translated (no Service rule)  *reject  *DIFFERS$' \
        "nftables rejects an undefined clusterIP port"
    grep_in "$out" '(no Service holds it) .*not translated (no Service rule)  *drop  *DIFFERS$' \
        "nftables drops an unallocated Service-CIDR address"
    grep_in "$out" '^node1 192\.168\.1\.101:30080/TCP  *outside 203\.0\.113\.1  *accept: 2 endpoints, SNAT  *accept: 2 endpoints, SNAT  *$' \
        "the NodePort on the node address is the same"
    grep_in "$out" '^traffic web  *succeeded  *100% (3018 of 3018)  *100% (3018 of 3018)  *$' \
        "the run succeeds under both modes"
    grep_in "$out" 'datapath-semantics 5)$' "differences name their section"
    grep_not "$out" '^traffic .*DIFFERS' "no run difference on the seed"
fi

expect 1 "--fail-on-difference fails when a row differs" -- compare "$SEED" --no-run \
    --fail-on-difference
expect 0 "a mode compared with itself" -- compare "$SEED" --modes iptables --fail-on-difference
grep_in "$out" '^No differences' "one mode: no differences"

if expect 0 "the differences scenario" -- compare scenarios/mode-differences.yaml \
    --modes iptables,nftables; then
    grep_in "$out" '^traffic storage  *succeeded  *100% (44 of 44)  *0% (0 of 44)  *DIFFERS$' \
        "the second-address traffic breaks under nftables"
    grep_in "$out" "192\.168\.2\.101:30080/TCP from outside 203\.0\.113\.1: .*nodePortAddresses defaults to the node's primary" \
        "the non-primary address difference is explained"
fi

expect 0 "the differences scenario keeps its promises under iptables" -- \
    check scenarios/mode-differences.yaml

# IPVS mode (datapath-semantics 4): on the seed, the localhost NodePorts and the undefined
# clusterIP port differ as under nftables, plus the endpoint choice (rr) and the clusterIP that
# answers ping; every difference names its section, and the run agrees.
if expect 0 "compare the seed under all three modes (the default)" -- compare "$SEED"; then
    grep_in "$out" '^kube-proxy modes compared on seed-nginx-nodeport: iptables, nftables, ipvs$' \
        "three modes in the header"
    grep_in "$out" '^7 differences:$' "seven documented differences"
    grep_in "$out" 'a port no Service defines) .*not translated (no Service rule)  *reject  *reject  *DIFFERS$' \
        "IPVS rejects an undefined clusterIP port (KUBE-IPVS-FILTER)"
    grep_in "$out" '^endpoint choice on every node  *any client  *at random  *at random  *rr (IPVS scheduler)  *DIFFERS$' \
        "rr instead of random"
    grep_in "$out" '(ping)  *a pod on it  *no answer (not local)  *no answer (not local)  *answered (kube-ipvs0 holds it)  *DIFFERS$' \
        "the clusterIP answers ping under IPVS"
    grep_in "$out" '^traffic web  *succeeded  *100% (3018 of 3018)  *100% (3018 of 3018)  *100% (3018 of 3018)  *$' \
        "the run succeeds under all three modes"
fi
if expect 0 "the IPVS differences scenario" -- compare scenarios/mode-differences-ipvs.yaml \
    --modes iptables,ipvs --no-run; then
    grep_in "$out" '^node3 192\.168\.1\.103:30080/TCP  *outside 203\.0\.113\.1  *drop  *accept: 2 endpoints, client address kept  *DIFFERS$' \
        "IPVS installs every endpoint for Local on a node without one"
    grep_in "$out" 'connection fails anyway: the reply takes another path (datapath-semantics 4)$' \
        "the Local difference is explained"
fi
expect 0 "the IPVS differences scenario keeps its promises under ipvs" -- \
    check scenarios/mode-differences-ipvs.yaml

if expect 0 "--json" -- compare "$SEED" --modes iptables,nftables --no-run --json; then
    if command -v python3 >/dev/null 2>&1; then
        if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["modes"] == ["iptables", "nftables"], d["modes"]
rows = [r for r in d["rows"] if r["differs"]]
assert d["differences"] == len(rows) == 5, d["differences"]
assert all(r["why"] for r in rows)
assert all(set(r["values"]) == {"iptables", "nftables"} for r in d["rows"])
' "$out"; then pass=$((pass + 1)); else
            echo "FAIL --json rows"
            fail=$((fail + 1))
        fi
    fi
fi

# Every scenario (but the capacity ones, which bench/ runs) loads, probes and runs under all
# three modes.
for s in scenarios/*.yaml; do
    grep -q '^kind: Scenario' "$s" || continue
    case $s in scenarios/capacity-*) continue ;; esac
    expect 0 "compare $s" -- compare "$s" --modes iptables,nftables,ipvs
done

for bad in "iptables,iptables" "iptable" "" "ipvs,bogus"; do
    expect 2 "--modes '$bad' is a usage error" -- compare "$SEED" --modes "$bad"
    empty "$out" "--modes '$bad' prints nothing on stdout"
    grep_in "$err" "kpsim compare: --modes" "--modes '$bad' names the option"
done
expect 2 "a SCENARIO is required" -- compare
expect 2 "a broken scenario" -- compare tests/bad/duplicate-key.yaml
empty "$out" "nothing on stdout for bad input"

finish compare

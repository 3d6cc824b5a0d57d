#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kpsim trace's focused build against the whole cluster: for every scenario in iptables mode
# (the capacity ones left out but capacity-500-nodes, with a few probes) and probes derived from
# the scenario itself - a pod's own IP:port and a port no Service has (where every Service is
# summarised), each Service's clusterIP:port, externalIPs and load-balancer IPs, each nodePort
# on two different nodes (from an external client, from a pod and from the node's own
# address) - `kpsim trace` and
# `kpsim trace --whole-cluster` must give the same stdout, stderr and exit status, in text and
# JSON. Needs python3 to read `kpsim get ... -o json` (skipped without it).
set -u
. "$SRCDIR/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || {
    echo "trace_focus: python3 not found, skipped"
    exit 77
}
EXTERNAL=203.0.113.10
compared=0

# probes SCENARIO LIMIT: one "NODE FROM TO PROTO" line per probe, at most LIMIT of them.
probes() {
    for kind in services pods nodes; do
        "$KPSIM" get "$1" "$kind" -A -o json >"$tmp/$kind.json" 2>/dev/null ||
            "$KPSIM" get "$1" "$kind" -o json >"$tmp/$kind.json" 2>/dev/null || echo '{}' >"$tmp/$kind.json"
    done
    python3 - "$tmp" "$EXTERNAL" "$2" <<'EOF'
import json, sys
d, external, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
def items(kind):
    try:
        return json.load(open(f"{d}/{kind}.json")).get("items", [])
    except ValueError:
        return []
nodes = [(n["metadata"]["name"], [a["address"] for a in n.get("status", {}).get("addresses", [])])
         for n in items("nodes")]
pods = [(p.get("spec", {}).get("nodeName"), p.get("status", {}).get("podIP"))
        for p in items("pods")]
pods = [p for p in pods if p[0] and p[1]]
out = []
def add(node, src, dst, proto):
    if ":" in src and "." in dst.rsplit(":", 1)[0]:
        return
    line = f"{node} {src} {dst} {proto}"
    if line not in out:
        out.append(line)
# First the probes no Service claims (every Service summarised: the rules they walk count).
if len(pods) > 1:
    add(pods[0][0], pods[1][1], f"{pods[0][1]}:80", "tcp")
    add(pods[1][0], external, f"{pods[1][1]}:80", "tcp")
for node, addrs in nodes[:2]:
    for a in addrs[:1]:
        add(node, external, f"{a}:1", "tcp")
services = items("services")
step = max(1, len(services) // 3) if len(services) > 20 else 1
for s in services[::step]:
    spec, status = s.get("spec", {}), s.get("status", {})
    fronts = [spec.get("clusterIP")] + spec.get("externalIPs", []) + \
        [i.get("ip") for i in status.get("loadBalancer", {}).get("ingress", [])]
    fronts = [f for f in fronts if f and f != "None"]
    for port in spec.get("ports", []):
        proto = port.get("protocol", "TCP").lower()
        for f in fronts:
            dst = f"[{f}]:{port['port']}" if ":" in f else f"{f}:{port['port']}"
            for node, addrs in nodes[:2]:
                add(node, external, dst, proto)
                if pods:
                    add(node, pods[0][1], dst, proto)
        np = port.get("nodePort")
        for node, addrs in nodes[:2]:
            for a in addrs[:1]:
                add(node, external, f"{a}:{np}" if np else f"{a}:{port['port']}", proto)
                if np:
                    add(node, a, f"{a}:{np}", proto)
                    local = [p for p in pods if p[0] == node]
                    if local:
                        add(node, local[0][1], f"{a}:{np}", proto)
for line in out[:limit]:
    print(line)
EOF
}

# same SCENARIO NODE FROM TO PROTO [--json]: focused and whole-cluster traces must agree.
same() {
    scenario=$1 node=$2 from=$3 to=$4 proto=$5
    shift 5
    "$KPSIM" trace "$scenario" --node "$node" --from "$from" --to "$to" --proto "$proto" "$@" \
        >"$tmp/f.out" 2>"$tmp/f.err"
    frc=$?
    "$KPSIM" trace "$scenario" --whole-cluster --node "$node" --from "$from" --to "$to" \
        --proto "$proto" "$@" >"$tmp/w.out" 2>"$tmp/w.err"
    wrc=$?
    compared=$((compared + 1))
    if [ "$frc" = "$wrc" ] && cmp -s "$tmp/f.out" "$tmp/w.out" && cmp -s "$tmp/f.err" "$tmp/w.err"; then
        ok
    else
        ko "trace $scenario --node $node --from $from --to $to --proto $proto $*: focused" \
            "(exit $frc) differs from --whole-cluster (exit $wrc)"
        diff "$tmp/w.out" "$tmp/f.out" | head -10
        diff "$tmp/w.err" "$tmp/f.err" | head -5
    fi
}

for scenario in scenarios/*.yaml; do
    case $scenario in
    scenarios/capacity-500-nodes.yaml) limit=10 ;;
    scenarios/capacity-*) continue ;;
    *) limit=60 ;;
    esac
    grep -Eq 'mode: *(ipvs|nftables)' "$scenario" && continue
    probes "$scenario" "$limit" >"$tmp/probes"
    while read -r node from to proto; do
        same "$scenario" "$node" "$from" "$to" "$proto"
        same "$scenario" "$node" "$from" "$to" "$proto" --json
    done <"$tmp/probes"
done
# Errors and fallbacks: an unknown node, a source of the other family, IPVS mode.
same scenarios/seed-nginx-nodeport.yaml node9 "$EXTERNAL" 192.168.1.101:30080 tcp
same scenarios/seed-nginx-nodeport.yaml node1 fd00::1 192.168.1.101:30080 tcp
same scenarios/seed-nginx-nodeport-ipvs.yaml node1 "$EXTERNAL" 192.168.1.101:30080 tcp
check "probes were compared" [ "$compared" -gt 100 ]
echo "trace_focus: $compared probes compared (focused vs --whole-cluster)"
finish trace_focus

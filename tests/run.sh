#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kpsim run end to end: the seed reports against their golden text (tests/golden/run/*.txt;
# UPDATE_GOLDEN=1 rewrites them - review the diff), -o DIR writing the reports and one capture
# per node plus the clients' (and nothing at all on error), byte-identical report.json and
# captures for a seed, the default entry points, and - when tshark is installed - captures that
# read without malformed packets or bad checksums and show each node's NAT: the client's SYN to
# NODE:30080 arrives on eth0 and leaves toward POD:80 from the node's address under
# externalTrafficPolicy Cluster, from the client's own address under Local.
set -u
. "$SRCDIR/tests/lib.sh"
SEED=scenarios/seed-nginx-nodeport.yaml
LOCAL=scenarios/seed-nginx-nodeport-local.yaml
CLIENT=203.0.113.10

# golden NAME ARGS...: kpsim's stdout must equal tests/golden/run/NAME.txt.
golden() {
    name=$1
    shift
    "$KPSIM" run "$@" --no-wall-clock >"$tmp/$name.txt" 2>"$tmp/$name.err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        ko "golden $name: kpsim run $* exited $rc"
        sed 's/^/    /' "$tmp/$name.err" | head -5
        return
    fi
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$tmp/$name.txt" "tests/golden/run/$name.txt"
        echo "updated tests/golden/run/$name.txt"
        ok
    elif cmp -s "$tmp/$name.txt" "tests/golden/run/$name.txt"; then
        ok
    else
        ko "golden $name: output differs from tests/golden/run/$name.txt:"
        diff -u "tests/golden/run/$name.txt" "$tmp/$name.txt" | head -40
    fi
}

golden seed "$SEED"
golden seed-local "$LOCAL"

# ---- -o DIR: the three kinds of files, complete, and the same bytes for the same seed
"$KPSIM" run "$SEED" -o "$tmp/out" --quiet --no-wall-clock >"$tmp/out.stdout" 2>&1
check "-o exits 0" test $? -eq 0
check "--quiet prints nothing" test ! -s "$tmp/out.stdout"
for f in report.txt report.json pcap/node1.pcap pcap/node2.pcap pcap/node3.pcap pcap/clients.pcap; do
    check "-o writes $f" test -s "$tmp/out/$f"
done
check "no temporary files are left" test -z "$(find "$tmp/out" -name '*.tmp')"
check "report.txt is the text report" cmp -s "$tmp/out/report.txt" tests/golden/run/seed.txt
"$KPSIM" run "$SEED" --json --no-wall-clock >"$tmp/seed.json"
check "--json prints report.json" cmp -s "$tmp/seed.json" "$tmp/out/report.json"
for key in '"scenario"' '"events_processed"' '"wall_seconds" : 0.0' '"latency_ms"' '"source_ips"' \
    '"snat_ports_peak"' '"node_port" : 30080' '"timeline"'; do
    check "report.json has $key" grep -q -- "$key" "$tmp/out/report.json"
done

"$KPSIM" run "$SEED" -o "$tmp/a" --quiet --no-wall-clock --duration 5s
"$KPSIM" run "$SEED" -o "$tmp/b" --quiet --no-wall-clock --duration 5s
"$KPSIM" run "$SEED" -o "$tmp/c" --quiet --no-wall-clock --duration 5s --seed 2
for f in report.json pcap/node1.pcap pcap/node2.pcap pcap/node3.pcap pcap/clients.pcap; do
    check "same seed, same $f" cmp -s "$tmp/a/$f" "$tmp/b/$f"
done
check "another seed, another report" test -n "$(cmp "$tmp/a/report.json" "$tmp/c/report.json")"

"$KPSIM" run "$SEED" -o "$tmp/nopcap" --quiet --no-pcap --duration 2s
check "--no-pcap writes the reports" test -s "$tmp/nopcap/report.json"
check "--no-pcap writes no capture" test ! -e "$tmp/nopcap/pcap"

# ---- errors leave nothing behind
"$KPSIM" run tests/no-such-scenario.yaml -o "$tmp/missing" >"$tmp/err.out" 2>"$tmp/err.err"
check "a missing scenario exits 2" test $? -eq 2
check "a missing scenario writes no report" test ! -e "$tmp/missing/report.txt" -a ! -e "$tmp/missing/report.json"
check "a missing scenario writes no capture" test ! -e "$tmp/missing/pcap"
check "a missing scenario prints nothing on stdout" test ! -s "$tmp/err.out"
check "a missing scenario is named" grep -q "no-such-scenario.yaml" "$tmp/err.err"
"$KPSIM" run "$SEED" -o "$tmp/badset" --set traffic.nope.rate=1 >"$tmp/err.out" 2>"$tmp/err.err"
check "a bad --set exits 2" test $? -eq 2
check "a bad --set writes nothing" test ! -e "$tmp/badset"
check "a bad --set is explained" grep -q "traffic.nope.rate" "$tmp/err.err"

# ---- the default entry points
"$KPSIM" >"$tmp/default.txt" 2>&1
check "kpsim with no arguments exits 0" test $? -eq 0
check "kpsim with no arguments runs the seed" grep -q "scenario seed-nginx-nodeport" "$tmp/default.txt"
check "kpsim with no arguments shows the Service" grep -q "80:30080/TCP" "$tmp/default.txt"
check "kpsim with no arguments says what happened" grep -q "^What happened:" "$tmp/default.txt"
"$KPSIM" run -f scenarios/nginx-deployment.yaml -f scenarios/nginx-service-nodeport.yaml \
    --duration 5s --no-wall-clock >"$tmp/manifests.txt" 2>&1
check "run -f exits 0" test $? -eq 0
check "run -f sends the default traffic" grep -q "^nodeports " "$tmp/manifests.txt"
check "run -f says the traffic is the default" grep -q "the scenario has no traffic" "$tmp/manifests.txt"
check "run --help names itself" sh -c "'$KPSIM' run --help | grep -q 'kpsim run'"

# ---- entry models (model/entry.h): each scenario's expectations hold, its timeline says why
for sc in lb-health-check-local metallb-l2-failover metallb-bgp-ecmp dns-round-robin; do
    "$KPSIM" check "scenarios/$sc.yaml" >"$tmp/$sc.check" 2>&1
    check "entry: kpsim check $sc passes" test $? -eq 0
    "$KPSIM" run "scenarios/$sc.yaml" --no-pcap --no-wall-clock >"$tmp/$sc.txt" 2>&1
done
check "entry lb: node3 (no pod) out of rotation at 0 s" \
    grep -q "^0s  *lb-out-of-rotation  *node3 .*503: no local ready endpoint" "$tmp/lb-health-check-local.txt"
check "entry lb: dead node2 out after 3 timed-out probes" \
    grep -q "^49s  *lb-out-of-rotation  *node2 .*failed 3 times in a row (timeout)" "$tmp/lb-health-check-local.txt"
check "entry l2: failover after failoverDelay" \
    grep -q "^30s  *l2-failover  *node2  *gratuitous ARP: 192.0.2.60 moves from node3 to node2" \
    "$tmp/metallb-l2-failover.txt"
check "entry bgp: BFD withdraws after 0.9 s" \
    grep -q "^20.9s  *bgp-withdrawn  *node2 .*BFD session down" "$tmp/metallb-bgp-ecmp.txt"
check "entry bgp: the hold timer withdraws after 30 s" \
    grep -q "^50s  *bgp-withdrawn  *node2 .*hold timer expired" "$tmp/metallb-bgp-ecmp.txt"
check "entry bgp: node3 (no endpoint) is never a next hop" \
    sh -c "! grep -q 'bgp-announced  *node3' '$tmp/metallb-bgp-ecmp.txt'"
check "entry dns: the dead address leaves the client's cache at the TTL" \
    grep -q "^2m0.*dns-resolved  *web  *the client caches 192.168.1.101, 192.168.1.102 for 60 s" \
    "$tmp/dns-round-robin.txt"
"$KPSIM" run scenarios/lb-health-check-local.yaml -o "$tmp/lb" --quiet --no-wall-clock --duration 10s
check "entry lb: the report is written" test -s "$tmp/lb/report.json"
check "entry lb: report.json has the rotation event" grep -q '"lb-out-of-rotation"' "$tmp/lb/report.json"

# ---- captures, read by tshark
# ---- the grace period is a scenario field: 20 s instead of 50 s moves the end of the window in
# which node1 and node3 still send connections to node2's dead pod 30 s earlier (NotReady at
# 40 s instead of 70 s, kube-proxy in step by the next second).
# last_failing FILE TARGET: the disruption's last failing second of TARGET in a JSON report.
last_failing() {
    grep -A3 "\"target\" : \"$2\",\$" "$1" | grep -A2 '"failed"' |
        sed -n 's/.*"last_failing_second" : \([0-9]*\).*/\1/p'
}
NF=scenarios/node-failure.yaml
"$KPSIM" run "$NF" --json --no-pcap --duration 90s >"$tmp/grace50.json" 2>/dev/null
"$KPSIM" run "$NF" --json --no-pcap --duration 90s \
    --set controllers.nodeMonitorGracePeriod=20s >"$tmp/grace20.json" 2>/dev/null
for target in 192.168.1.101:30080 192.168.1.103:30080; do
    w50=$(last_failing "$tmp/grace50.json" $target)
    w20=$(last_failing "$tmp/grace20.json" $target)
    check "grace 50s: $target fails until NotReady at 70 s (got '$w50')" test "${w50:-0}" -eq 70
    check "grace 20s: the window through $target ends 30 s earlier (got '$w20')" \
        test "${w20:-0}" -eq $((w50 - 30))
done
check "the dead node's own address fails to the end with either grace period" \
    test "$(last_failing "$tmp/grace20.json" 192.168.1.102:30080)" -eq 89

# ---- the time-and-faults scenarios keep their promises (kpsim check runs them).
for s in scenarios/switch-policy-midrun.yaml scenarios/udp-stale-conntrack.yaml; do
    "$KPSIM" check "$s" >"$tmp/check.out" 2>&1
    check "kpsim check $s: every expectation holds" grep -q ' passed, 0 failed$' "$tmp/check.out"
done

# ---- a UDP client that keeps one source port is pinned by conntrack: in the second after its
# pod dies every exchange of it fails (fresh ports fail only when the stale rules pick the dead
# pod), and kube-proxy's UDP flush at the 21 s sync unpins it.
"$KPSIM" run scenarios/udp-stale-conntrack.yaml --no-wall-clock >"$tmp/udp.txt" 2>&1
# The pinned traffic's row for second 20: SECOND SENT SUCCEEDED TIMEOUT ...
row=$(sed -n '/^Second by second, traffic pinned/,/^$/p' "$tmp/udp.txt" | awk '$1 == "20s"')
check "pinned UDP client: every exchange of the stale second times out (got '$row')" \
    sh -c "[ -n '$row' ] && echo '$row' | awk '{ exit !(\$2 > 0 && \$3 == 0 && \$4 == \$2) }'"
row=$(sed -n '/^Second by second, traffic pinned/,/^$/p' "$tmp/udp.txt" | awk '$1 == "21s"')
check "pinned UDP client: unpinned by the 21 s flush (got '$row')" \
    sh -c "[ -n '$row' ] && echo '$row' | awk '{ exit !(\$2 > 0 && \$3 == \$2) }'"

if command -v tshark >/dev/null 2>&1; then
    "$KPSIM" run "$LOCAL" -o "$tmp/local" --quiet --no-wall-clock --duration 5s
    for f in "$tmp"/a/pcap/*.pcap "$tmp"/local/pcap/*.pcap; do
        bad=$(tshark -r "$f" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
            -o udp.check_checksum:TRUE \
            -Y '_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0' \
            2>"$tmp/tshark.err" | head -3)
        check "tshark reads $f cleanly" test -z "$bad"
        check "tshark has no complaint about $f" sh -c "! grep -qi -e malformed -e checksum -e 'appears to be' '$tmp/tshark.err'"
    done
    # syns DIR NODE: "IFINDEX SRC DST DPORT" of every SYN in NODE's capture.
    syns() {
        tshark -r "$1/pcap/$2.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' \
            -T fields -e sll.ifindex -e ip.src -e ip.dst -e tcp.dstport 2>/dev/null
    }
    for n in 1 2 3; do
        node=node$n addr=192.168.1.10$n
        syns "$tmp/a" $node >"$tmp/syn"
        check "cluster $node: the client's SYN arrives on eth0" \
            grep -q "^2	$CLIENT	$addr	30080$" "$tmp/syn"
        check "cluster $node: it leaves toward a pod from the node's address" \
            grep -q "	$addr	10\.1\.[0-9]*\.[0-9]*	80$" "$tmp/syn"
        check "cluster $node: no pod SYN carries the client's address" \
            sh -c "! grep -q '^[0-9]*	$CLIENT	10\.1\.' '$tmp/syn'"
        syns "$tmp/local" $node >"$tmp/syn"
        check "local $node: the client's SYN arrives on eth0" \
            grep -q "^2	$CLIENT	$addr	30080$" "$tmp/syn"
        if [ $n -eq 3 ]; then
            check "local node3 (no pod): nothing leaves toward a pod" \
                sh -c "! grep -q '	80$' '$tmp/syn'"
        else
            check "local $node: it leaves toward its pod from the client's address" \
                grep -q "	$CLIENT	10\.1\.[0-9]*\.[0-9]*	80$" "$tmp/syn"
            check "local $node: no pod SYN carries a node address" \
                sh -c "! grep -q '	192\.168\.1\.[0-9]*	10\.1\.' '$tmp/syn'"
        fi
    done
    # passthrough load balancer: the SYN reaches a node still addressed to the LB IP
    syns "$tmp/lb" node1 >"$tmp/syn"
    check "entry lb: node1 receives the client's SYN to the LB IP on eth0" \
        grep -q "^2	$CLIENT	192.0.2.50	80$" "$tmp/syn"
    # its health check is a real HTTP probe from the router to the healthCheckNodePort
    syns "$tmp/lb" node3 >"$tmp/syn"
    check "entry lb: node3 receives the health check on its healthCheckNodePort" \
        grep -q "^2	169\.254\.200\.1	192\.168\.1\.103	32000$" "$tmp/syn"
else
    echo "run: tshark not installed, capture checks skipped"
fi

finish run

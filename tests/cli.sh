#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Command-line behaviour: exit statuses (0 ok, 2 usage/bad input), help on every subcommand,
# errors on stderr with nothing on stdout, and the default and -f entry points.
set -u
. "${SRCDIR:?SRCDIR must name the source tree}/tests/lib.sh"
SEED=scenarios/seed-nginx-nodeport.yaml

expect 0 "top-level help" -- --help && grep_in "$out" "trace" "help lists trace"
expect 2 "unknown command" -- frobnicate && empty "$out" "unknown command stdout"
for cmd in run tour trace rules get describe; do
    expect 0 "$cmd --help" -- "$cmd" --help && grep_in "$out" "kpsim $cmd" "$cmd help names itself"
done

expect 0 "kpsim with no arguments shows the seed example" -- &&
    grep_in "$out" "80:30080/TCP" "seed service row"
expect 0 "tour of the seed scenario" -- tour "$SEED"

expect 2 "trace without --node" -- trace "$SEED" --from 1.2.3.4 --to 192.168.1.101:30080 &&
    grep_in "$err" "^kpsim trace: " "usage error names the command" && empty "$out" "usage stdout"
expect 2 "trace on an unknown node" -- trace "$SEED" --node node9 --from 1.2.3.4 --to 192.168.1.101:30080 &&
    grep_in "$err" "unknown node 'node9' (nodes: node1, node2, node3)" "unknown node lists nodes"
expect 2 "trace with a bad address" -- trace "$SEED" --node node1 --from 1.2.3 --to 192.168.1.101:30080
expect 2 "trace with a bad protocol" -- trace "$SEED" --node node1 --from 1.2.3.4 --to 192.168.1.101:30080 --proto icmp
expect 2 "trace with mixed families" -- trace "$SEED" --node node1 --from 2001:db8::1 --to 192.168.1.101:30080
expect 0 "trace --json" -- trace "$SEED" --node node1 --from 203.0.113.10 --to 192.168.1.101:30080 --json &&
    grep_in "$out" '"sourceKind" : "external"' "trace json source kind"

expect 2 "rules without --node" -- rules "$SEED"
expect 0 "rules --table nat" -- rules "$SEED" --node node1 --table nat && grep_in "$out" "^\*nat" "nat table"
expect 2 "rules --table in nftables mode" -- rules scenarios/seed-nginx-nodeport-nft.yaml \
    --node node1 --table nat && grep_in "$err" "nftables mode programs one table, ip kube-proxy" \
    "--table is refused, not ignored, under nftables" && empty "$out" "no rules printed"
# IPVS mode: rules prints iptables-save, ipset list and ipvsadm -Ln under headings; --table picks
# one; a scheduler kube-proxy does not support is an input error at its position.
IPVS=scenarios/seed-nginx-nodeport-ipvs.yaml
if expect 0 "rules in ipvs mode" -- rules "$IPVS" --node node1; then
    grep_in "$out" "^# iptables-save (nat, filter)$" "iptables-save heading"
    grep_in "$out" "^# ipset list$" "ipset heading"
    grep_in "$out" "^# ipvsadm -Ln$" "ipvsadm heading"
    grep_in "$out" "^TCP  192\.168\.1\.101:30080 rr$" "a NodePort virtual service"
fi
expect 0 "rules --table ipvs" -- rules "$IPVS" --node node1 --table ipvs &&
    grep_not "$out" "^\*nat" "only the IPVS table"
expect 0 "rules --table ipset" -- rules "$IPVS" --node node1 --table ipset &&
    grep_in "$out" "^Name: KUBE-CLUSTER-IP$" "the ipsets"
expect 2 "rules --table ipvs outside ipvs mode" -- rules "$SEED" --node node1 --table ipvs &&
    grep_in "$err" "only in proxy.mode ipvs" "says why"
sed 's/proxy: {mode: ipvs}/proxy: {mode: ipvs, ipvs: {scheduler: mh}}/' "$IPVS" >"$tmp/bad-scheduler.yaml"
cp scenarios/nginx-deployment.yaml scenarios/nginx-service-nodeport.yaml "$tmp/"
expect 2 "an unsupported ipvs scheduler" -- rules "$tmp/bad-scheduler.yaml" --node node1 &&
    grep_in "$err" "bad-scheduler.yaml:[0-9]*:[0-9]*: error: spec.proxy.ipvs.scheduler: Invalid value: \"mh\": must be in \[rr wrr lc wlc lblc lblcr sh dh sed nq \], scheduler is not supported" \
        "worded as kube-proxy's validation"
expect 0 "run --set proxy.mode=ipvs" -- run "$SEED" --set proxy.mode=ipvs --duration 5s &&
    grep_in "$out" "^IPVS real servers at the end" "the report lists the real servers"
expect 2 "run --set proxy.mode=bogus" -- run "$SEED" --set proxy.mode=bogus
expect 2 "get an unknown resource" -- get "$SEED" deployments.apps.v9
expect 2 "get with an unknown output format" -- get "$SEED" services -o yamlish
expect 0 "get services -o json" -- get "$SEED" services -o json && grep_in "$out" '"nodePort" : 30080' "json nodePort"
expect 0 "get in an empty namespace" -- get "$SEED" services -n nowhere &&
    grep_in "$err" "No resources found in nowhere namespace." "kubectl's empty message" &&
    empty "$out" "empty namespace stdout"
expect 2 "get names that do not exist" -- get "$SEED" service nginx-service-nodeport nope gone &&
    grep_in "$err" '^Error from server (NotFound): services "nope" not found$' "NotFound for get" &&
    grep_in "$err" '^Error from server (NotFound): services "gone" not found$' "every missing name" &&
    empty "$out" "no partial output when a name is missing"
expect 2 "get deployment names are deployments.apps" -- get "$SEED" deploy nope &&
    grep_in "$err" 'deployments.apps "nope" not found' "API group in the NotFound"
expect 2 "get by name across all namespaces" -- get "$SEED" pods some-pod -A &&
    grep_in "$err" "cannot be retrieved by name across all namespaces" "kubectl's -A rule"
expect 0 "get -f RESOURCE NAME on the default cluster" -- get -f scenarios/nginx-deployment.yaml \
    deployments nginx-deployment && grep_in "$out" "^nginx-deployment   2/2 " "-f named deployment"
expect 0 "get two services by name" -- get "$SEED" svc nginx-service-nodeport nginx-service-nodeport -o json &&
    grep_in "$out" '"kind" : "List"' "two names list"
expect 2 "describe an unknown service" -- describe "$SEED" service nope &&
    grep_in "$err" 'services "nope" not found' "NotFound message"
expect 2 "a scenario that does not exist" -- get tests/no-such-scenario.yaml services &&
    empty "$out" "missing scenario stdout" && grep_in "$err" "error:" "missing scenario error"

expect 0 "get -f on the default cluster" -- get -f scenarios/nginx-deployment.yaml \
    -f scenarios/nginx-service-nodeport.yaml services &&
    grep_in "$out" "nginx-service-nodeport" "-f service listed"
expect 0 "get -f pods are spread over the default nodes" -- get -f scenarios/nginx-deployment.yaml pods -o wide &&
    grep_in "$out" "Running" "-f pods running"

# --at TIME: the cluster replayed to a time of the scenario (model/timeline.h).
NF=scenarios/node-failure.yaml
for bad in soon -5s 1x 10s5 "" 99999999999999999999h; do
    expect 2 "get --at '$bad'" -- get "$NF" pods --at "$bad" &&
        grep_in "$err" "^kpsim get: invalid --at" "bad --at is a usage error" &&
        empty "$out" "bad --at stdout"
done
expect 2 "rules with a bad --at" -- rules "$NF" --node node1 --at never &&
    grep_in "$err" "^kpsim rules: invalid --at 'never'" "rules names the bad --at"
expect 2 "trace with a bad --at" -- trace "$NF" --node node1 --from 203.0.113.10 \
    --to 192.168.1.101:30080 --at 1.5.3s && grep_in "$err" "^kpsim trace: invalid --at" "trace --at"
expect 2 "describe with a bad --at" -- describe "$NF" service nginx-service-nodeport --at -1 &&
    grep_in "$err" "^kpsim describe: invalid --at" "describe --at"
expect 2 "get --at without a value" -- get "$NF" pods --at
expect 0 "get --at 0 applies nothing yet" -- get "$NF" nodes --at 0 &&
    grep_not "$out" "NotReady" "every node Ready at 0 s"
expect 0 "get --at after the scenario's end" -- get "$NF" nodes --at 1h &&
    grep_in "$out" "node2   NotReady" "node2 NotReady an hour in"
expect 0 "get events without --at: the whole scenario" -- get "$NF" events &&
    grep_in "$out" "NodeNotReady" "events until the end" && grep_not "$out" "PodsEvicted" "not past the end"
expect 0 "get events of a scenario without events" -- get "$SEED" events &&
    grep_in "$err" "No resources found in default namespace." "kubectl's empty message for events" &&
    empty "$out" "no events stdout"
expect 0 "get events -o json" -- get "$NF" events -o json --at 70s &&
    grep_in "$out" '"reason" : "NodeNotReady"' "events at exactly --at are in" &&
    grep_not "$out" '"reason" : "EndpointsUpdated"' "the slice update 1 s later is not"
expect 0 "trace --at on a node that is down" -- trace "$NF" --node node2 --from 203.0.113.10 \
    --to 192.168.1.102:30080 --at 30s --json && grep_in "$out" '"verdict" : "down"' "down verdict"
expect 0 "rules --at on the default cluster (no events)" -- rules -f scenarios/nginx-deployment.yaml \
    --node node1 --at 10s && grep_in "$out" "^# At 10s: the rules kube-proxy programmed at 0s$" "at 10s"
expect 0 "trace --at through IPv6 rules" -- trace "$NF" --node node1 --from 2001:db8::1 \
    --to [2001:db8::2]:30080 --at 10s && grep_in "$out" "Verdict: NONE" "no IPv6 service"

# Limits (model/budget.h): absurd runs are refused before they start, at the field responsible.
expect 2 "run refuses a rate that needs too many events" -- run "$SEED" --set 'traffic.*.rate=1e9' &&
    grep_in "$err" "^scenarios/seed-nginx-nodeport.yaml:$(grep -n ' rate: ' "$SEED" | head -n 1 | cut -d: -f1):13: error: the run would process about" \
        "the event estimate points at the rate" && grep_in "$err" "more than --max-events" "names the flag" &&
    empty "$out" "refused run stdout"
expect 2 "run refuses what needs more than --max-memory" -- run "$SEED" --max-memory 1M &&
    grep_in "$err" "error: the run would need about .* more than --max-memory 1.0 MiB" "memory refusal"
expect 2 "check refuses past --max-events" -- check scenarios/expect-seed.yaml --max-events 1000 &&
    grep_in "$err" "more than --max-events 1000 allows" "check has the limit too"
expect 0 "--max-events 0 lifts the limit" -- run "$SEED" --max-events 0 --quiet
expect 2 "a bad --max-memory is a usage error" -- run "$SEED" --max-memory lots &&
    grep_in "$err" "^kpsim run: --max-memory lots: not a size" "bad size"
expect 2 "absurd replicas are a load error, not an allocation" -- get tests/bad/replicas-absurd.yaml pods &&
    grep_in "$err" "must be less than or equal to 150000" "replicas limit"

# Ctrl-C: a long run stops at the next simulated second, keeps a consistent report marked as
# interrupted, leaves no temporary file and exits 130.
"$KPSIM" run "$SEED" --duration 10h --no-wall-clock -o "$tmp/int" >"$out" 2>"$err" &
run_pid=$!
sleep 2
kill -INT "$run_pid"
wait "$run_pid"
rc=$?
if [ "$rc" -eq 130 ]; then pass=$((pass + 1)); else echo "FAIL interrupted run: exit $rc, want 130"; fail=$((fail + 1)); fi
grep_in "$err" "^kpsim run: interrupted at .* of simulated time; kept $tmp/int/report.txt" "says what was kept"
grep_in "$tmp/int/report.txt" "interrupted at .* of 10h simulated (SIGINT)" "the report is marked"
grep_in "$tmp/int/report.json" '"interrupted at ' "report.json is marked"
grep_in "$out" "^Wrote $tmp/int/report.txt" "the report is printed"
if [ -z "$(find "$tmp/int" -name '*.tmp')" ] && [ -s "$tmp/int/pcap/node1.pcap" ]; then
    pass=$((pass + 1))
else
    echo "FAIL interrupted run: temporary files left or captures missing"
    fail=$((fail + 1))
fi

# One-shot commands leave what they built to exit (cli_release()); KPSIM_FREE_AT_EXIT=1 frees it
# first. Either way the same bytes come out and the exit status is the same.
for args in "rules $SEED --node node2" "get $SEED pods -o wide" \
    "describe $SEED service nginx-service-nodeport" \
    "trace $SEED --node node3 --from 203.0.113.10 --to 192.168.1.103:30080 --json" \
    "trace $SEED --node node3 --from 203.0.113.10 --to 192.168.1.103:30080 --at 10s"; do
    # shellcheck disable=SC2086 # args is split on purpose
    expect 0 "kpsim $args" -- $args && cp "$out" "$tmp/kept"
    # shellcheck disable=SC2086
    KPSIM_FREE_AT_EXIT=1 "$KPSIM" $args >"$tmp/freed" 2>"$err"
    check "KPSIM_FREE_AT_EXIT=1 kpsim $args: same status and output" \
        test $? -eq 0 -a -s "$tmp/kept" && check "same output freed and kept ($args)" \
        cmp -s "$tmp/kept" "$tmp/freed"
done

finish cli

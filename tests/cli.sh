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
expect 2 "get an unknown resource" -- get "$SEED" deployments.apps.v9
expect 2 "get with an unknown output format" -- get "$SEED" services -o yamlish
expect 0 "get services -o json" -- get "$SEED" services -o json && grep_in "$out" '"nodePort" : 30080' "json nodePort"
expect 0 "get in an empty namespace" -- get "$SEED" services -n nowhere &&
    grep_in "$err" "No resources found in nowhere namespace." "kubectl's empty message" &&
    empty "$out" "empty namespace stdout"
expect 2 "describe an unknown service" -- describe "$SEED" service nope &&
    grep_in "$err" 'services "nope" not found' "NotFound message"
expect 2 "a scenario that does not exist" -- get tests/no-such-scenario.yaml services &&
    empty "$out" "missing scenario stdout" && grep_in "$err" "error:" "missing scenario error"

expect 0 "get -f on the default cluster" -- get -f scenarios/nginx-deployment.yaml \
    -f scenarios/nginx-service-nodeport.yaml services &&
    grep_in "$out" "nginx-service-nodeport" "-f service listed"
expect 0 "get -f pods are spread over the default nodes" -- get -f scenarios/nginx-deployment.yaml pods -o wide &&
    grep_in "$out" "Running" "-f pods running"

finish cli

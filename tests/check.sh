#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kpsim check and kpsim expose from the command line: the scenarios that carry expectations
# pass (exit 0), a broken promise fails (exit 1) and says what was expected and observed, a
# mistyped expectation is bad input (exit 2, FILE:LINE:COL), --junit writes well-formed XML,
# --json prints the verdicts, kpsim run fills its report's expectations, and expose lists the
# seed's NodePort on every node address.
set -u
. "${SRCDIR:?SRCDIR must name the source tree}/tests/lib.sh"

# Every scenario with expectations passes.
for s in scenarios/expect-seed.yaml scenarios/local-drops-without-pod.yaml \
    scenarios/lb-source-ranges-nodeport.yaml; do
    if expect 0 "check $s" -- check "$s"; then
        grep_not "$out" '^FAIL' "check $s prints no FAIL"
        grep_in "$out" 'expectations: [0-9]* passed, 0 failed' "check $s summary"
    fi
done
expect 0 "probes alone need no simulation" -- check scenarios/lb-source-ranges-nodeport.yaml
grep_in "$out" 'no simulation needed' "probes are answered from the rules"

# A copy with a broken promise fails and shows expected vs observed.
cp scenarios/expect-seed.yaml scenarios/nginx-deployment.yaml \
    scenarios/nginx-service-nodeport.yaml "$tmp/"
sed 's/maxShare: "<= 60%"/maxShare: "<= 10%"/' scenarios/expect-seed.yaml >"$tmp/expect-seed.yaml"
if expect 1 "a failing expectation exits 1" -- check "$tmp/expect-seed.yaml" \
    --junit "$tmp/junit.xml"; then
    grep_in "$out" '^FAIL  pods app=nginx: largest share <= 10%  (observed: [0-9.]*% on ' \
        "FAIL line with expected and observed"
    grep_in "$out" '^PASS  traffic web succeeded >= 99%' "the others still pass"
    grep_in "$out" 'expected at .*expect-seed.yaml:[0-9]*:[0-9]*' "failure position"
    grep_in "$out" '5 expectations: 4 passed, 1 failed' "failing summary"
fi
grep_in "$tmp/junit.xml" '<testsuite name="kpsim" tests="5" failures="1"' "junit suite"
grep_in "$tmp/junit.xml" '<failure type="expectation" message="expected pods app=nginx' \
    "junit failure message"
ls -a "$tmp" >"$tmp/listing"
grep_not "$tmp/listing" 'junit\.xml\.' "no temporary file left"
if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
        "$tmp/junit.xml"; then
        pass=$((pass + 1))
    else
        echo "FAIL junit.xml is not well-formed XML"
        fail=$((fail + 1))
    fi
fi

# --json prints the verdicts; kpsim run fills its report's expectations and exits 1 too.
if expect 1 "check --json" -- check "$tmp/expect-seed.yaml" --json; then
    grep_in "$out" '"failed" : 1' "json failed count"
    grep_in "$out" '"ok" : false' "json ok false"
fi
if expect 1 "run with a failing expectation" -- run "$tmp/expect-seed.yaml" --json; then
    grep_in "$out" '"observed" : "[0-9.]*% on ' "run report observed"
    grep_not "$out" 'not evaluated' "no 'not evaluated' note"
fi
expect 0 "run with passing expectations" -- run scenarios/expect-seed.yaml --quiet

# A mistyped expectation is bad input: exit 2, FILE:LINE:COL, nothing on stdout.
sed 's/{traffic: web, succeeded/{traffic: webb, succeeded/' scenarios/expect-seed.yaml \
    >"$tmp/expect-seed.yaml"
if expect 2 "unknown traffic exits 2" -- check "$tmp/expect-seed.yaml" --junit "$tmp/bad.xml"; then
    grep_in "$err" "expect-seed.yaml:[0-9]*:[0-9]*: error: spec.expect\\[0\\].traffic: unknown" \
        "error position and field"
    if [ -s "$out" ] || [ -e "$tmp/bad.xml" ]; then
        echo "FAIL bad input wrote output"
        fail=$((fail + 1))
    fi
fi
sed 's/succeeded: ">= 99%"/succeeded: "lots"/' scenarios/expect-seed.yaml >"$tmp/expect-seed.yaml"
expect 2 "malformed threshold exits 2" -- check "$tmp/expect-seed.yaml" &&
    grep_in "$err" ':[0-9]*:[0-9]*: error: spec.expect\[0\].succeeded: invalid threshold' \
        "threshold error"
expect 2 "check without a scenario" -- check
expect 2 "check of a scenario without expectations" -- check scenarios/seed-nginx-nodeport.yaml
expect 0 "check --help" -- check --help

# Probes are judged on the cluster at 0s, before the run's events (a node failure) change it.
if [ -f scenarios/node-failure.yaml ]; then
    cp scenarios/node-failure.yaml "$tmp/node-failure.yaml"
    cat >>"$tmp/node-failure.yaml" <<'YAML'
  expect:
    - probe: {node: node1, from: 203.0.113.10, to: 192.168.1.101:30080}
      verdict: accept
      endpoints: [10.1.0.2:80, 10.1.1.2:80]
    - {traffic: web, succeeded: "< 100%"}
YAML
    expect 0 "probes before the run's events" -- check "$tmp/node-failure.yaml"
fi

# kpsim expose: the seed's NodePort on every node address, the security cost in one sentence.
if expect 0 "expose the seed" -- expose scenarios/seed-nginx-nodeport.yaml; then
    for a in 192.168.1.101 192.168.1.102 192.168.1.103; do
        grep_in "$out" "^  $a:30080/TCP  *nodePort  *default/nginx-service-nodeport" \
            "expose lists $a:30080"
    done
    grep_in "$out" '127.0.0.1:30080/TCP.*localhost only' "localhost NodePort marked"
    grep_in "$out" 'Every node opens every NodePort.*3 (address, port) pairs answer' "summary"
fi
if expect 0 "expose --json" -- expose scenarios/lb-source-ranges-nodeport.yaml --json; then
    grep_in "$out" '"kind" : "loadBalancerIP"' "LB IP listed"
    grep_in "$out" 'never the NodePort' "source ranges do not restrict the NodePort"
fi
expect 0 "expose --help" -- expose --help

finish check.sh

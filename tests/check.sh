#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kpsim check and kpsim expose from the command line: the scenarios that carry expectations
# pass (exit 0), a broken promise fails (exit 1) and says what was expected and observed, a
# mistyped expectation is bad input (exit 2, FILE:LINE:COL), --junit writes well-formed XML,
# --json prints the verdicts, kpsim run fills its report's expectations, and expose lists the
# seed's NodePort on every node address. The JUnit file is validated against tests/junit.xsd
# (the Jenkins xUnit junit-10 schema) when xmllint is installed.
set -u
. "${SRCDIR:?SRCDIR must name the source tree}/tests/lib.sh"

# Every scenario with expectations passes.
for s in scenarios/expect-seed.yaml scenarios/local-drops-without-pod.yaml \
    scenarios/lb-source-ranges-nodeport.yaml scenarios/local-skew-uneven-pods.yaml \
    scenarios/client-ip-lost-cluster.yaml scenarios/ingress-controller-nodeport.yaml; do
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
# The JUnit files of a failing and of a passing check are valid JUnit XML.
junit_valid() {
    if xmllint --noout --schema "$SRCDIR/tests/junit.xsd" "$1" >"$tmp/xmllint.out" 2>&1; then
        pass=$((pass + 1))
    else
        echo "FAIL $2: $(cat "$tmp/xmllint.out")"
        fail=$((fail + 1))
    fi
}
if command -v xmllint >/dev/null 2>&1; then
    junit_valid "$tmp/junit.xml" "junit.xml of a failing check is valid against junit.xsd"
    expect 0 "check --junit of a passing scenario" -- check scenarios/local-drops-without-pod.yaml \
        --junit "$tmp/pass.xml" && junit_valid "$tmp/pass.xml" "passing junit.xml is valid"
fi

# node-failure.yaml: the address of the dead node fails until the end (an open black hole, no
# upper bound holds), node1's closes once kube-proxy dropped the dead pod; a bound too tight
# fails and says how long it lasted.
if [ -f scenarios/node-failure.yaml ]; then
    cp scenarios/node-failure.yaml "$tmp/node-failure-bh.yaml"
    cat >>"$tmp/node-failure-bh.yaml" <<'YAML'
  expect:
    - {traffic: web, target: 192.168.1.101:30080, blackHole: "<= 90s"}
    - {traffic: web, target: 192.168.1.101:30080, blackHole: "<= 10s"}
    - {traffic: web, blackHole: ">= 60s"}
    - {traffic: web, blackHole: "<= 5m"}
YAML
    if expect 1 "a black hole longer than its bound fails" -- check "$tmp/node-failure-bh.yaml" \
        --junit "$tmp/bh.xml"; then
        grep_in "$out" '^PASS  traffic web to 192.168.1.101:30080: black hole <= 90s' \
            "node1's black hole within 90s"
        grep_in "$out" '^FAIL  traffic web to 192.168.1.101:30080: black hole <= 10s  (observed: [0-9ms.]* from the first fault at 20s ([0-9]* connections failed in it)' \
            "black hole FAIL line with the observed window"
        grep_in "$out" '^PASS  traffic web: black hole >= 60s' "open black hole meets a lower bound"
        grep_in "$out" '^FAIL  traffic web: black hole <= 5m  (observed: at least .*still failing when the traffic stopped' \
            "open black hole fails an upper bound"
        grep_in "$out" '4 expectations: 2 passed, 2 failed' "black hole summary"
        command -v xmllint >/dev/null 2>&1 && junit_valid "$tmp/bh.xml" "black hole junit.xml"
    fi
fi

# The pain scenarios show their point in the run report too.
if expect 0 "run local-skew-uneven-pods" -- run scenarios/local-skew-uneven-pods.yaml --no-pcap; then
    grep_in "$out" 'under externalTrafficPolicy Local each node splits' "Local skew explained"
fi

# kube-proxy's health check node port: accepted on the node (filter KUBE-NODEPORTS), and a real
# listener that answers a client's connections on every node.
cat >"$tmp/hc.yaml" <<'YAML'
apiVersion: kpsim.io/v1alpha1
kind: Scenario
metadata: {name: hc}
spec:
  duration: 3s
  cluster:
    nodes:
      - {name: node1, addresses: [192.168.1.101]}
      - {name: node2, addresses: [192.168.1.102]}
      - {name: node3, addresses: [192.168.1.103]}
    clusterCIDR: 10.1.0.0/16
  manifests: [nginx-deployment.yaml]
  clients: [{name: lb, address: 203.0.113.10}]
  traffic:
    - name: health-checks
      from: lb
      to: [192.168.1.101:32000, 192.168.1.102:32000, 192.168.1.103:32000]
      rate: 10/s
      request: {bytes: 90, response: 100}
  expect:
    - {traffic: health-checks, succeeded: "100%"}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: 32000
  selector: {app: nginx}
  ports: [{port: 80, nodePort: 30080}]
YAML
if expect 0 "trace to a health check node port" -- trace "$tmp/hc.yaml" \
    --node node3 --from 203.0.113.10 --to 192.168.1.103:32000; then
    grep_in "$out" 'health check' "the trace names the health check port"
fi
if expect 0 "trace --json to a health check node port" -- trace "$tmp/hc.yaml" \
    --node node3 --from 203.0.113.10 --to 192.168.1.103:32000 --json; then
    grep_in "$out" '"verdict" : "accept"' "health check port accepted"
    grep_in "$out" '"endpoints" : \[\]' "health check port not DNATed"
fi
expect 0 "every node's health server answers" -- check "$tmp/hc.yaml"

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
    - probe: {node: node1, from: 203.0.113.10, to: 192.168.1.101:30080}
      at: 75s
      verdict: accept
      endpoints: [10.1.0.2:80]
YAML
    if expect 0 "probes before the run's events, and at a time" -- check "$tmp/node-failure.yaml"
    then
        grep_in "$out" '^PASS  probe on node1 at 1m15s from 203.0.113.10' \
            "a probe at 75s sees node1's rules without the dead pod"
    fi
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

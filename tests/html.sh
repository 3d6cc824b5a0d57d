#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kpsim run -o DIR writes DIR/report.html: one self-contained page (no URL, no external script,
# stylesheet, font or image), with an inline SVG holding one element per node (id node-NAME)
# and per pod (id pod-NAME), SNAT labels under externalTrafficPolicy Cluster and none under
# Local, the drops of the node without a pod under Local, each node's rules, and the same bytes
# for the same scenario and seed (whatever the wall clock did). When xmllint is installed
# (Debian libxml2-utils) the page must be well-formed XML and the HTML parser must report
# nothing but the HTML5 and SVG element names it does not know; when chromium is installed it
# must render the page to a non-trivial screenshot. Otherwise those parts are skipped.
# The screenshot is kept as a test artifact: $ARTIFACTS/html-seed.png (default: the directory
# the test was started from, i.e. the build tree under `make check`).
set -u
ARTIFACTS=${ARTIFACTS:-$PWD}
. "$SRCDIR/tests/lib.sh"
SEED=scenarios/seed-nginx-nodeport.yaml
LOCAL=scenarios/seed-nginx-nodeport-local.yaml
# count PATTERN FILE: how many times the fixed string PATTERN occurs in FILE.
count() { grep -o -F -e "$1" "$2" | wc -l | tr -d ' '; }

# run NAME SCENARIO: kpsim run -o $tmp/NAME.
run() {
    if ! "$KPSIM" run "$2" -o "$tmp/$1" --quiet >"$tmp/$1.out" 2>&1; then
        ko "kpsim run $2 -o DIR failed:"
        sed 's/^/    /' "$tmp/$1.out" | head -5
    fi
}

run seed "$SEED"
run seed2 "$SEED"
run local "$LOCAL"
run local2 "$LOCAL"

for name in seed local; do
    html="$tmp/$name/report.html"
    check "$name: report.html written" test -s "$html"
    check "$name: no temporary file left" test ! -e "$html.tmp"
    check "$name: an HTML5 document" sh -c "head -1 '$html' | grep -q '^<!DOCTYPE html>\$' &&
        tail -1 '$html' | grep -q '^</html>\$'"
    check "$name: no URL in the page" sh -c "! grep -q -i -e 'http://' -e 'https://' -e '//cdn' '$html'"
    check "$name: nothing fetched (src=, href=, <link, @import, external url())" \
        sh -c "! grep -q -i -e ' src=' -e ' href=' -e '<link' -e '@import' -e 'url([^#]' '$html'"
    check "$name: inline SVG with title and desc" \
        sh -c "[ \$(grep -c '<svg ' '$html') -ge 4 ] && [ \$(grep -o '<title id=' '$html' | wc -l) -eq \$(grep -o '<svg ' '$html' | wc -l) ] &&
            [ \$(grep -o '<desc id=' '$html' | wc -l) -eq \$(grep -o '<svg ' '$html' | wc -l) ]"
    check "$name: the first traffic's journey with its DNAT" \
        grep -q 'destination 192\.168\.1\.101:30080 → 10\.1\.' "$html"
    scenario=$SEED
    [ "$name" = local ] && scenario=$LOCAL
    nodes=$("$KPSIM" get "$scenario" nodes | awk 'NR > 1 { print $1 }')
    pods=$("$KPSIM" get "$scenario" pods -A | awk 'NR > 1 { print $2 }')
    check "$name: the scenario has nodes and pods" test -n "$nodes" -a -n "$pods"
    for n in $nodes; do
        check "$name: one element for node $n" test "$(count "id=\"node-$n\"" "$html")" -eq 1
        check "$name: the rules of node $n" grep -q "<summary>$n: [0-9]* rules (iptables-save)</summary>" "$html"
    done
    for p in $pods; do
        check "$name: one element for pod $p" test "$(count "id=\"pod-$p\"" "$html")" -eq 1
    done
    check "$name: the same bytes for the same seed" cmp -s "$html" "$tmp/${name}2/report.html"
done

seed="$tmp/seed/report.html"
local="$tmp/local/report.html"
check "Cluster: SNAT labels with a node's address" grep -q 'SNAT to 192\.168\.1\.10[123]<' "$seed"
check "Cluster: a SNAT label on every node" test "$(grep -c 'class="snat">SNAT to' "$seed")" -eq 3
check "Cluster: the Service's badge" grep -q 'externalTrafficPolicy: Cluster' "$seed"
check "Cluster: cross-node hops drawn dashed" grep -q 'class="cross"' "$seed"
check "Cluster: the journey masquerades to node1's address" \
    grep -q 'source 203\.0\.113\.10 → 192\.168\.1\.101' "$seed"
check "Cluster: the paths matrix, a cell per node and pod" \
    test "$(count 'class="cell"' "$seed")" -eq 4 -a "$(count 'class="cell local"' "$seed")" -eq 2
check "Cluster: node3's connections cross to both pods" \
    test "$(grep -c 'cross-node hop: [0-9]* connections ([0-9.]*%) addressed to node3' "$seed")" -eq 2
check "Local: no SNAT label" sh -c "! grep -q 'SNAT to' '$local'"
check "Local: the Service's badge" grep -q 'externalTrafficPolicy: Local' "$local"
check "Local: no cross-node hop" sh -c "! grep -q 'class=\"cross\"' '$local'"
check "Local: node3 is marked as dropping" grep -q 'class="node drops"' "$local"
check "Local: node3's drops and failures are written" \
    sh -c "grep -q 'packets dropped: ' '$local' && grep -q 'client connections failed here' '$local'"

# ---- nftables mode: the rules are the nft table and the journey follows nft's chains
run nft scenarios/seed-nginx-nodeport-nft.yaml
check "nftables: each node's nft table" \
    test "$(grep -c '<summary>node[123]: [0-9]* rules (nft list table)</summary>' "$tmp/nft/report.html")" -eq 3
check "nftables: the journey DNATs and masquerades" \
    sh -c "grep -q 'destination 192\.168\.1\.101:30080 → 10\.1\.' '$tmp/nft/report.html' &&
        grep -q 'source 203\.0\.113\.10 → 192\.168\.1\.101' '$tmp/nft/report.html'"
check "nftables: no empty iptables dump" sh -c "! grep -q '^\*nat' '$tmp/nft/report.html'"

# ---- a large cluster is aggregated: 40 nodes and 100 pods
mkdir -p "$tmp/big"
{
    printf 'apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: big}\nspec:\n'
    printf '  seed: 1\n  duration: 2s\n  cluster:\n    clusterCIDR: 10.0.0.0/8\n    nodes:\n'
    i=1
    while [ $i -le 40 ]; do
        printf '      - {name: n%d, addresses: [192.168.0.%d]}\n' $i $((i + 1))
        i=$((i + 1))
    done
    printf '  manifests: [app.yaml]\n  clients: [{name: c, address: 203.0.113.10}]\n'
    printf '  traffic:\n    - {name: web, from: c, to: [192.168.0.2:30080], rate: 50/s}\n'
} >"$tmp/big/big.yaml"
cat >"$tmp/big/app.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 100
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  type: NodePort
  ports: [{port: 80, nodePort: 30080}]
EOF
run big "$tmp/big/big.yaml"
big="$tmp/big/report.html"
check "big: the page says the cluster is aggregated" \
    grep -q 'The cluster has 40 nodes: the 23 busiest are drawn and one box stands for the other 17' "$big"
check "big: 23 nodes and one box for the rest" \
    sh -c "[ \$(grep -o 'id=\"node-n[0-9]*\"' '$big' | wc -l) -eq 23 ] && [ \$(grep -c 'id=\"node-more\"' '$big') -eq 1 ]"
check "big: at most 64 pods drawn" test "$(grep -o 'id="pod-' "$big" | wc -l)" -le 64
check "big: the entry node is drawn" grep -q 'id="node-n1"' "$big"

if command -v xmllint >/dev/null 2>&1; then
    for name in seed local big; do
        html="$tmp/$name/report.html"
        check "$name: well-formed XML (xmllint)" xmllint --noout "$html"
        # libxml2's HTML parser knows HTML 4 only: it names every HTML5 and SVG element it
        # does not know ("Tag svg invalid"); anything else is an error.
        xmllint --html --noout "$html" >"$tmp/xmllint.out" 2>&1
        grep 'error :' "$tmp/xmllint.out" |
            grep -v -E 'error : Tag (svg|title|desc|defs|marker|path|g|rect|line|text|details|summary) invalid$' \
                >"$tmp/xmllint.err"
        if [ -s "$tmp/xmllint.err" ]; then
            ko "$name: xmllint --html reports errors:"
            head -5 "$tmp/xmllint.err" | sed 's/^/    /'
        else
            ok
        fi
    done
else
    echo "html: xmllint not installed (Debian libxml2-utils), validation skipped"
fi

browser=
for b in chromium chromium-browser; do
    command -v "$b" >/dev/null 2>&1 && browser=$b && break
done
if [ -n "$browser" ]; then
    profile=$(mktemp -d)
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
        --screenshot="$tmp/seed.png" --window-size=1280,2000 "file://$tmp/seed/report.html" \
        >"$tmp/browser.out" 2>&1
    rm -rf "$profile"
    check "$browser renders report.html to a screenshot" test -s "$tmp/seed.png"
    check "the screenshot is not blank" test "$(wc -c <"$tmp/seed.png")" -gt 30000
    cp "$tmp/seed.png" "$ARTIFACTS/html-seed.png" 2>/dev/null &&
        echo "html: screenshot kept as $ARTIFACTS/html-seed.png"
else
    echo "html: chromium not installed, rendering skipped"
fi

finish html

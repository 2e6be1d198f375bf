#!/bin/sh
# Offline checks of everything in deploy/ that a tool can check here (run by
# cli/tests/deploy_files.rs; .ci/run installs the tools): promtool on the Prometheus config and
# alert rules (and their unit tests), HAProxy's own parser on haproxy.cfg, docker-compose's
# parser on compose.yaml, kubernetes-validate (schemas of Kubernetes 1.37, offline) on the
# manifests. Exits non-zero on the first failure; prints "missing: TOOL" and exits 3 when a
# tool is not installed. KUBERNETES_VALIDATE may name the kubernetes-validate executable.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kv=${KUBERNETES_VALIDATE:-kubernetes-validate}
for tool in promtool haproxy docker-compose "$kv"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool"; exit 3; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here" "$work/deploy"
# The secrets compose and Prometheus read are made on the host (secrets/make-secrets.sh): stand-ins here.
for f in passerelle.env db-password metrics-token; do : > "$work/deploy/secrets/$f"; done
cp "$work/deploy/secrets/metrics-token" "$work/deploy/prometheus/metrics-token"

promtool check config "$work/deploy/prometheus/prometheus.yml"
promtool check rules "$work/deploy/prometheus/alerts.yml"
(cd "$work/deploy/prometheus" && promtool test rules alerts_test.yml)

# The environment compose gives HAProxy, with the nodes on loopback.
HUB_MLLP_BIND=127.0.0.1:2575 HUB_HTTP_BIND=127.0.0.1:8080 \
NODE1_HOST=127.0.0.1 NODE2_HOST=127.0.0.1 NODE3_HOST=127.0.0.1 \
NODE1_MLLP=127.0.0.1:12575 NODE2_MLLP=127.0.0.1:22575 NODE3_MLLP=127.0.0.1:32575 \
NODE1_HTTP=127.0.0.1:18080 NODE2_HTTP=127.0.0.1:28080 NODE3_HTTP=127.0.0.1:38080 \
NODE1_ADMIN_PORT=19090 NODE2_ADMIN_PORT=29090 NODE3_ADMIN_PORT=39090 \
  haproxy -c -q -f "$here/haproxy/haproxy.cfg"
echo "haproxy.cfg: valid"

(cd "$work/deploy" && docker-compose -f compose.yaml config -q)
echo "compose.yaml: valid"

"$kv" --strict "$here"/k8s/configmap.yaml "$here"/k8s/secret.yaml "$here"/k8s/deployment.yaml "$here"/k8s/service.yaml "$here"/k8s/pdb.yaml
echo "deploy: all checks passed"

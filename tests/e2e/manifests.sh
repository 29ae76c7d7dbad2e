#!/usr/bin/env bash
# The Kubernetes manifests (deploy/k8s): the base and every overlay render with kustomize
# (kubectl's built-in), pass yamllint (sources and rendered output), and validate against the
# Kubernetes API schemas (npm kubernetes-models, tests/e2e/validate_manifests.js), which also
# checks what each overlay promises: non-root, read-only root filesystem, no capabilities,
# secrets as files only, native gRPC probes, a grace period longer than --drain_grace, and for
# prod the autoscaler, disruption budget, network policy, ServiceMonitor and headless Service.
# Every gateway flag the pods pass must be one the built gateway knows. Negative cases prove the
# validator fails on a wrong field type (and more). promtool checks the alert rules and runs
# their unit tests (deploy/monitoring/alerts_test.yaml). Without kubectl (or yamllint, promtool,
# the npm models, the built gateway): a SKIP line and exit 77, which scripts/test.sh counts as a
# skip — and under CI=true a failure, exit 1.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v kubectl >/dev/null || missing+=("kubectl (not in Debian 12; install it from the Kubernetes packages)")
command -v yamllint >/dev/null || missing+=("yamllint (scripts/deps.sh)")
command -v promtool >/dev/null || missing+=("promtool (Debian's prometheus, scripts/deps.sh)")
command -v node >/dev/null || missing+=("node (scripts/deps.sh)")
[ -f node_modules/kubernetes-models/package.json ] && [ -f node_modules/yaml/package.json ] &&
  [ -f node_modules/@kubernetes-models/prometheus-operator/package.json ] ||
  missing+=("npm kubernetes-models and yaml (npm install)")
gateway=${BUILD_DIR:-build}/service/qwen-image-gateway
[ -x "$gateway" ] || missing+=("$gateway (scripts/build.sh)")
if ((${#missing[@]})); then
  for m in "${missing[@]}"; do echo "manifests: missing $m"; done
  if [ "${CI:-}" = true ]; then
    echo "manifests: FAIL: CI must validate the manifests"
    exit 1
  fi
  echo "SKIP manifests: missing tools"
  exit 77
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# edit <javascript>: rendered YAML on stdin, the objects as the array `o`, edited YAML out.
edit() {
  node -e "const Y = require('yaml'); let o = Y.parseAllDocuments(require('fs').readFileSync(0, 'utf8'))
    .map((d) => d.toJSON()).filter((x) => x !== null); $1;
    process.stdout.write(o.map((x) => Y.stringify(x)).join('---\\n'));"
}

"$gateway" --helpfull >"$dir/helpfull" 2>&1 || true
yamllint -c deploy/.yamllint.yaml deploy/.yamllint.yaml deploy/k8s deploy/monitoring
echo "manifests: yamllint of the sources ok"

overlays=(dev single prod)
for name in base "${overlays[@]}"; do
  src=deploy/k8s/overlays/$name
  [ "$name" = base ] && src=deploy/k8s/base
  kubectl kustomize "$src" >"$dir/$name.yaml"
  yamllint -c deploy/.yamllint.yaml "$dir/$name.yaml"
  node tests/e2e/validate_manifests.js "$name" <"$dir/$name.yaml"
  # Every flag the pod passes is one the gateway knows (an unknown one would crash-loop it).
  edit 'o = [o.filter((x) => /^(Deployment|StatefulSet)$/.test(x.kind))
      .flatMap((x) => x.spec.template.spec.containers[0].args)]' <"$dir/$name.yaml" |
    sed -n 's/^- --\([a-z0-9_]*\).*/\1/p' >"$dir/$name.flags"
  [ -s "$dir/$name.flags" ] || { echo "manifests: $name: no gateway flags found"; exit 1; }
  while read -r flag; do
    grep -q -- "--$flag (" "$dir/helpfull" || { echo "manifests: $name: the gateway has no flag --$flag"; exit 1; }
  done <"$dir/$name.flags"
  echo "manifests: $name: the gateway knows all $(wc -l <"$dir/$name.flags") flags"
done
# No other overlay escapes the checks.
for d in deploy/k8s/overlays/*/; do
  d=$(basename "$d")
  [[ " ${overlays[*]} " == *" $d "* ]] || { echo "manifests: overlay $d is not checked here"; exit 1; }
done

# Negative cases: the validator must refuse a wrong field type, and an object it has no schema
# for; the overlay checks must refuse a secret in the environment.
expect_failure() {  # expect_failure <what> <pattern in the error> <overlay> <edit>
  edit "$4" <"$dir/$3.yaml" >"$dir/bad.yaml"
  if node tests/e2e/validate_manifests.js "$3" <"$dir/bad.yaml" >"$dir/bad.out" 2>&1; then
    echo "manifests: the validator accepted $1"; cat "$dir/bad.out"; exit 1
  fi
  grep -q -- "$2" "$dir/bad.out" || { echo "manifests: $1 failed for another reason:"; cat "$dir/bad.out"; exit 1; }
  echo "manifests: rejected as it should be: $1 ($(head -1 "$dir/bad.out"))"
}
pod='o.find((x) => x.kind === "Deployment").spec.template.spec'
expect_failure 'replicas: three' 'spec/replicas must be integer' dev \
  'o.find((x) => x.kind === "Deployment").spec.replicas = "three"'
expect_failure 'a ServiceMonitor endpoint port that is a number' 'endpoints/0/port must be string' prod \
  'o.find((x) => x.kind === "ServiceMonitor").spec.endpoints[0].port = 9090'
expect_failure 'a kind without a schema' 'no schema for this apiVersion/kind' dev \
  'o.push({apiVersion: "apps/v1", kind: "Deploymint", metadata: {name: "x"}})'
expect_failure 'the DashScope key in an env variable' 'in env DASHSCOPE_API_KEY' prod \
  "$pod.containers[0].env = [{name: 'DASHSCOPE_API_KEY', valueFrom: {secretKeyRef: {name: 'qwen-image-dashscope', key: 'api-key'}}}]"
expect_failure 'a grace period shorter than the drain' 'not longer than --drain_grace' prod \
  "$pod.terminationGracePeriodSeconds = 300"

promtool check rules deploy/monitoring/alerts.yaml
promtool test rules deploy/monitoring/alerts_test.yaml
echo "manifests: ok"

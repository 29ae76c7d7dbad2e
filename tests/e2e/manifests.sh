#!/usr/bin/env bash
# The Kubernetes manifests render with kustomize (kubectl's built-in), base and overlays.
# Without kubectl it prints a SKIP line and exits 77, which scripts/test.sh counts as a skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v kubectl >/dev/null; then
  echo "SKIP manifests: kubectl not installed (Debian's kubernetes-client is not used here)"
  exit 77
fi
for dir in deploy/k8s/base deploy/k8s/overlays/*; do
  out=$(kubectl kustomize "$dir")
  grep -q "kind: StatefulSet" <<<"$out" || { echo "manifests: $dir renders no StatefulSet"; exit 1; }
  echo "manifests: $dir ok"
done
grep -q -- "--simulate" <(kubectl kustomize deploy/k8s/overlays/simulate)

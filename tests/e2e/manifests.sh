#!/usr/bin/env bash
# The Kubernetes manifests render with kustomize (kubectl's built-in), base and overlays.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v kubectl >/dev/null; then
  echo "manifests: kubectl not installed; skipped (Debian's kubernetes-client is not used here)"
  exit 0
fi
for dir in deploy/k8s/base deploy/k8s/overlays/*; do
  out=$(kubectl kustomize "$dir")
  grep -q "kind: StatefulSet" <<<"$out" || { echo "manifests: $dir renders no StatefulSet"; exit 1; }
  echo "manifests: $dir ok"
done
grep -q -- "--simulate" <(kubectl kustomize deploy/k8s/overlays/simulate)

#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit and integration tests (ctest),
# the end-to-end checks in tests/e2e, and the quick-start demo itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR="${BUILD_DIR:-build}"

scripts/deps.sh
if [ ! -x node_modules/.bin/buf ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
scripts/build.sh

echo "== unit and integration tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j 2 --timeout 600

echo "== end-to-end checks"
for t in tests/e2e/*.sh; do
  echo "-- $t"
  bash "$t"
done

echo "== quick start (scripts/demo.sh)"
DEMO_DIR="$(mktemp -d)" scripts/demo.sh

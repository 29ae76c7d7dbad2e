#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit and integration tests (ctest),
# the end-to-end checks in tests/e2e, and the quick-start demo itself.
#   scripts/test.sh                             the whole suite
#   scripts/test.sh --sanitize=address,undefined  ctest only, built with those sanitizers in
#                                               build-<sanitizers> (e.g. thread for the races)
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
for arg in "$@"; do
  case "$arg" in
    --sanitize=*) sanitize="${arg#--sanitize=}" ;;
    *) echo "usage: scripts/test.sh [--sanitize=address,undefined|thread]" >&2; exit 2 ;;
  esac
done

scripts/deps.sh
# buf, s3rver for the S3 image store tests, the Kubernetes schemas for the manifests check
# (package.json).
if [ ! -x node_modules/.bin/buf ] || [ ! -f node_modules/s3rver/bin/s3rver.js ] ||
  [ ! -f node_modules/kubernetes-models/package.json ] || [ ! -f node_modules/yaml/package.json ] ||
  [ ! -f node_modules/@kubernetes-models/prometheus-operator/package.json ]; then
  npm install --no-audit --no-fund --loglevel=error
fi

if [ -n "$sanitize" ]; then
  # A build of its own; Debug compiles fastest and keeps the reports readable. Leak checking is
  # off: gRPC and protobuf keep process-lifetime allocations that LeakSanitizer reports.
  export BUILD_DIR="${BUILD_DIR:-build-${sanitize//,/-}}"
  BUILD_TYPE=Debug CMAKE_ARGS="-DQWENIMAGE_SANITIZE=$sanitize" scripts/build.sh
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
  echo "== unit and integration tests (ctest, -fsanitize=$sanitize)"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j 2 --timeout 900
  exit 0
fi

export BUILD_DIR="${BUILD_DIR:-build}"
scripts/build.sh

# Every file a test writes (gateway logs, data directories) goes here, so that the logs can be
# searched for secrets afterwards.
export TEST_TMPDIR="$PWD/$BUILD_DIR/test-tmp"
rm -rf "$TEST_TMPDIR" && mkdir -p "$TEST_TMPDIR" && chmod 755 "$TEST_TMPDIR"

echo "== unit and integration tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j 2 --timeout 600

echo "== no secret in any test log (scripts/check_logs_for_secrets.sh)"
scripts/check_logs_for_secrets.sh "$BUILD_DIR/Testing/Temporary/LastTest.log" "$TEST_TMPDIR"

# Fuzzing (tests/fuzz): a bounded run of every libFuzzer target in its own clang build
# (build-fuzz), replaying tests/fuzz/regressions; fails on any crash. FUZZ_SECONDS per target.
echo "== fuzz targets (scripts/fuzz.sh --bounded)"
scripts/fuzz.sh --bounded "${FUZZ_SECONDS:-15}"

echo "== end-to-end checks"
# A check that cannot run here prints a SKIP line and exits 77. CI has every tool the checks
# need (kubectl included), so there a skip fails the run.
passed=0 skipped=0
for t in tests/e2e/*.sh; do
  echo "-- $t"
  rc=0
  bash "$t" || rc=$?
  if [ "$rc" = 77 ]; then
    if [ "${CI:-}" = true ]; then
      echo "e2e: $t skipped, but CI must run it"
      exit 1
    fi
    skipped=$((skipped + 1))
  elif [ "$rc" != 0 ]; then
    echo "e2e: $t failed (exit $rc)"
    exit "$rc"
  else
    passed=$((passed + 1))
  fi
done
echo "e2e: $passed passed, $skipped skipped"

echo "== quick start (scripts/demo.sh)"
DEMO_DIR="$(mktemp -d)" scripts/demo.sh

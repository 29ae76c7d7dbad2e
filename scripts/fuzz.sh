#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz, building them first in build-fuzz (clang-14,
# ASan+UBSan; see tests/fuzz/README.md).
#   scripts/fuzz.sh TARGET SECONDS     one target; new inputs accumulate in build-fuzz/corpus/TARGET
#   scripts/fuzz.sh --all SECONDS      every target in turn, SECONDS each
#   scripts/fuzz.sh --bounded SECONDS  what scripts/test.sh runs: every target with a throwaway
#                                      corpus, one line per target
#   scripts/fuzz.sh --list             the target names
# Every run replays tests/fuzz/regressions/TARGET/. A crash, leak, timeout or OOM is copied there
# (the input that reproduces it; commit it with the fix) and the run fails once all targets ran.
# FUZZ_BUILD_DIR overrides build-fuzz; FUZZ_BUILD_LOCK names a file to flock around the build.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"

targets() {
  for f in tests/fuzz/*_fuzzer.cc; do basename "$f" _fuzzer.cc; done
}

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
case "$1" in
  --list) targets; exit 0 ;;
  --all | --bounded) [ $# = 2 ] || usage; mode="$1"; seconds="$2"; selected=$(targets) ;;
  -*) usage ;;
  *)
    [ $# = 2 ] || usage
    mode=one; seconds="$2"; selected="$1"
    [ -f "tests/fuzz/${1}_fuzzer.cc" ] || { echo "fuzz.sh: no target $1 (scripts/fuzz.sh --list)" >&2; exit 2; }
    ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage

build() {
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
      -DQWENIMAGE_FUZZ=ON -DQWENIMAGE_BUILD_TESTS=OFF >/dev/null
  fi
  local cmd=(cmake --build "$build_dir" -j "$(nproc)" --target qwenimage_fuzzers)
  if [ -n "${FUZZ_BUILD_LOCK:-}" ]; then cmd=(flock "$FUZZ_BUILD_LOCK" "${cmd[@]}"); fi
  "${cmd[@]}" >"$build_dir/fuzz-build.log" 2>&1 || { tail -40 "$build_dir/fuzz-build.log"; echo "fuzz: build failed"; exit 1; }
}
start=$SECONDS
mkdir -p "$build_dir"
build
echo "fuzz: build-fuzz ready in $((SECONDS - start))s"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Runs one target; prints one line, or the report and the reproducing input; non-zero on a find.
run() {
  local t="$1" bin="$build_dir/tests/fuzz/${1}_fuzzer" seeds="tests/fuzz/corpus/$1"
  local regressions="tests/fuzz/regressions/$1" artifacts="$build_dir/artifacts/$1"
  local work log rc=0 dict=()
  if [ "$mode" = --bounded ]; then work=$(mktemp -d); else work="$build_dir/corpus/$t"; fi
  log="$build_dir/logs/$t.log"
  rm -rf "$artifacts"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")" "$seeds" "$regressions"
  case "$t" in
    *_response | simulator_request | token_file) dict=(-dict=tests/fuzz/json.dict) ;;
  esac
  local replayed; replayed=$(find "$regressions" -type f | wc -l)
  local begin=$SECONDS
  "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
    "${dict[@]}" -artifact_prefix="$artifacts/" "$work" "$seeds" "$regressions" >"$log" 2>&1 || rc=$?
  if [ "$mode" = --bounded ]; then rm -rf "$work"; fi
  local found; found=$(find "$artifacts" -type f | head -1)
  if [ "$rc" = 0 ] && [ -z "$found" ]; then
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    printf 'fuzz: %-22s ok   %ss, %s runs, cov %s, %s seeds, %s regressions replayed\n' \
      "$t" "$((SECONDS - begin))" "${runs:-?}" "${cov:-?}" "$(find "$seeds" -type f | wc -l)" "$replayed"
    return 0
  fi
  printf 'fuzz: %-22s FAIL (exit %s) after %ss; log %s\n' "$t" "$rc" "$((SECONDS - begin))" "$log"
  grep -v -E '^#[0-9]+|^INFO:|^\s*$|^NOTE:|Combine libFuzzer|^stat::|^ +#(1[2-9]|[2-9][0-9])' "$log" |
    tail -50 | sed 's/^/  | /'
  if [ -n "$found" ]; then
    local name; name="$(basename "$found" | cut -d- -f1)-$(sha1sum "$found" | cut -c1-16)"
    cp "$found" "$regressions/$name"
    echo "  reproducing input saved as $regressions/$name ($(wc -c <"$found") bytes);"
    echo "  replay: $bin $regressions/$name"
    if [ "$(wc -c <"$found")" -le 4096 ]; then echo "  base64: $(base64 -w0 "$found")"; fi
  fi
  return 1
}

failed=()
for t in $selected; do run "$t" || failed+=("$t"); done
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) found a problem: ${failed[*]}"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a finding ($((SECONDS - start))s in all)"

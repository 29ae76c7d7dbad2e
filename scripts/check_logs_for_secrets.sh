#!/usr/bin/env bash
# Fails if any log the tests wrote shows a secret: an API key (sk-... not redacted to sk-***;
# the simulator's public built-in key sk-simulator aside), a bearer token (placeholders such as
# "Bearer TOKEN" or "Bearer <token>" in help texts aside), or one of the secrets the tests
# themselves use (tests/testing/test_secrets.txt, one literal per line). Reads the files given
# and, in the directories given, every *.log, *.out and *.err file (the key and token files
# tests write on purpose are not logs).
#   scripts/check_logs_for_secrets.sh build/Testing/Temporary/LastTest.log "$TEST_TMPDIR"
set -euo pipefail

# An API key that was not redacted, or a bearer token that was not (grep -P: one pattern).
pattern='(?<![A-Za-z0-9])sk-(?!simulator\b)[A-Za-z0-9]|Bearer +[A-Za-z0-9._~+/-]{8,}'
literals="$(dirname "$0")/../tests/testing/test_secrets.txt"

found=0
for path in "$@"; do
  [ -e "$path" ] || { echo "check_logs_for_secrets: $path does not exist"; exit 1; }
  # -I skips binary files (stored PNGs, SQLite databases); names only, never the secret itself.
  logs=(--include='*.log' --include='*.out' --include='*.err')
  [ -d "$path" ] || logs=()
  hits=$( (grep -rIlP "${logs[@]}" -e "$pattern" "$path" || true
           grep -rIlF "${logs[@]}" -f "$literals" "$path" || true) | sort -u)
  if [ -n "$hits" ]; then
    echo "check_logs_for_secrets: a secret appears in:"
    echo "$hits" | sed 's/^/  /'
    found=1
  fi
done
if [ "$found" = 0 ]; then
  echo "check_logs_for_secrets: no API key, bearer token or test secret in $*"
fi
exit "$found"

#!/usr/bin/env bash
# Fails if any log the tests wrote shows a secret: an API key (sk-... not redacted to sk-***),
# a bearer token, or one of the secrets the tests themselves use (tests/testing/test_secrets.txt,
# one literal per line). Reads the files and directories given (recursively, text files only).
#   scripts/check_logs_for_secrets.sh build/Testing/Temporary/LastTest.log "$TEST_TMPDIR"
set -euo pipefail
cd "$(dirname "$0")/.."

patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
{
  echo '(^|[^A-Za-z0-9])sk-[A-Za-z0-9]'   # an API key that was not redacted
  echo 'Bearer +[^* ]'                    # a bearer token that was not redacted
} >"$patterns"
literals=tests/testing/test_secrets.txt

found=0
for path in "$@"; do
  [ -e "$path" ] || { echo "check_logs_for_secrets: $path does not exist"; exit 1; }
  # -I skips binary files (stored PNGs, SQLite databases); names only, never the secret itself.
  hits=$( (grep -rIlE -f "$patterns" "$path" || true; grep -rIlF -f "$literals" "$path" || true) |
         sort -u)
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

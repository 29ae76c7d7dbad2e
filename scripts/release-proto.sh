#!/usr/bin/env bash
# Releases the public API: checks proto/ (buf lint, and no breaking change against the latest
# release) and writes proto/releases/qwenimage-VERSION.binpb, the buf image that
# tests/e2e/proto_breaking.sh checks every later change against. Commit it with the release.
#
# Usage: scripts/release-proto.sh vMAJOR.MINOR.PATCH
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-}"
if [[ ! "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: scripts/release-proto.sh vMAJOR.MINOR.PATCH" >&2; exit 2
fi
buf=node_modules/.bin/buf
[ -x "$buf" ] || { echo "$buf is missing: run npm install" >&2; exit 1; }
out="proto/releases/qwenimage-$version.binpb"
[ ! -e "$out" ] || { echo "$out exists: a release is never rewritten" >&2; exit 1; }

"$buf" lint
shopt -s nullglob
releases=(proto/releases/qwenimage-v*.binpb)
latest=$(printf '%s\n' "${releases[@]}" | sort -V | tail -n 1)
if [ -n "$latest" ]; then
  "$buf" breaking --against "$latest"
fi
mkdir -p proto/releases
# Source info (comments, spans) plays no part in breaking checks; without it the image is small
# and changes only when the API does. Imports stay: the image must resolve timestamp.proto.
"$buf" build --exclude-source-info -o "$out"
echo "wrote $out ($(wc -c <"$out") bytes); commit it with the release"

#!/usr/bin/env bash
# proto/ has no breaking change (buf's rules in buf.yaml) against the latest released API, the buf
# image in proto/releases written by scripts/release-proto.sh; and the check does fail on breaking
# changes: copies of proto/ with a field deleted, a field renumbered and an RPC renamed.
set -euo pipefail
cd "$(dirname "$0")/../.."
buf="$PWD/node_modules/.bin/buf"
shopt -s nullglob
releases=(proto/releases/qwenimage-v*.binpb)
[ "${#releases[@]}" -gt 0 ] || { echo "no released API in proto/releases"; exit 1; }
latest="$PWD/$(printf '%s\n' "${releases[@]}" | sort -V | tail -n 1)"

"$buf" breaking --against "$latest"
echo "proto/ against $(basename "$latest"): no breaking change"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# expect_breaking NAME FILE SED_SCRIPT WANT: a copy of the module with FILE (under proto/) edited
# by SED_SCRIPT fails `buf breaking`, and its report contains WANT.
expect_breaking() {
  local name="$1" file="$2" script="$3" want="$4" copy="$dir/$1" rc=0
  mkdir -p "$copy"
  cp -r buf.yaml proto "$copy/"
  sed -i "$script" "$copy/proto/$file"
  if cmp -s "proto/$file" "$copy/proto/$file"; then
    echo "$name: the edit changed nothing in $file"; exit 1
  fi
  (cd "$copy" && "$buf" breaking --against "$latest") >"$copy.out" 2>&1 || rc=$?
  if [ "$rc" = 0 ] || ! grep -qF "$want" "$copy.out"; then
    echo "$name: buf breaking (exit $rc) did not report: $want"; cat "$copy.out"; exit 1
  fi
  echo "$name: caught"
}
expect_breaking deleted-field qwenimage/v1/task.proto '/ int32 queue_position = 3;/d' \
  'Previously present field "3" with name "queue_position" on message "Task" was deleted.'
expect_breaking renumbered-field qwenimage/v1/task.proto 's/ prompt = 2;/ prompt = 12;/' \
  'Previously present field "2" with name "prompt" on message "GenerationSpec" was deleted.'
expect_breaking renamed-rpc qwenimage/v1/image_service.proto 's/rpc GetTask(/rpc FetchTask(/' \
  'Previously present RPC "GetTask" on service "ImageService" was deleted.'
echo "proto breaking: ok"

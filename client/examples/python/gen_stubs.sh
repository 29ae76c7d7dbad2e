#!/usr/bin/env bash
# Generates the Python message and gRPC stubs of qwenimage.v1 from proto/ with Debian's protoc
# and grpc_python_plugin (packages protobuf-compiler, protobuf-compiler-grpc). The stubs are build
# output: never checked in.
#
# Usage: gen_stubs.sh [OUT_DIR]   (default: client/examples/python/gen, which .gitignore lists)
# Then put OUT_DIR on the import path: PYTHONPATH=OUT_DIR /usr/bin/python3 generate.py …
# (generate.py also finds the default gen/ next to itself).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${1:-$here/gen}"
plugin="${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}"

mkdir -p "$out"
# qwenimage/v1 imports only google/protobuf/timestamp.proto, which protoc ships and
# python3-protobuf already provides as google.protobuf.timestamp_pb2; the vendored google/rpc and
# grpc/health protos are not needed.
protoc -I "$repo/proto" \
  --plugin=protoc-gen-grpc_python="$plugin" \
  --python_out="$out" --grpc_python_out="$out" \
  "$repo"/proto/qwenimage/v1/*.proto
echo "stubs in $out/qwenimage/v1"

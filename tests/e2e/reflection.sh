#!/usr/bin/env bash
# buf curl (npm @bufbuild/buf) lists ImageService and Health through server reflection, and
# calls an RPC with nothing but reflection to describe it.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/lib.bash
dir=$(mktemp -d)
trap 'stop_gateway; rm -rf "$dir"' EXIT
start_gateway "$dir"
buf=node_modules/.bin/buf
url="http://127.0.0.1:$GATEWAY_PORT"

methods=$("$buf" curl --protocol grpc --http2-prior-knowledge --list-methods "$url")
echo "$methods"
for m in qwenimage.v1.ImageService/CreateTask qwenimage.v1.ImageService/WatchTask \
         qwenimage.v1.ImageService/ListModels grpc.health.v1.Health/Check; do
  grep -qx "$m" <<<"$methods" || { echo "reflection does not list $m"; exit 1; }
done

health=$("$buf" curl --protocol grpc --http2-prior-knowledge -d '{"service":"qwenimage.v1.ImageService"}' \
  "$url/grpc.health.v1.Health/Check")
grep -q '"SERVING"' <<<"$health" || { echo "health: $health"; exit 1; }
models=$("$buf" curl --protocol grpc --http2-prior-knowledge "$url/qwenimage.v1.ImageService/ListModels")
grep -q '"qwen-image-2.0-pro"' <<<"$models" || { echo "models: $models"; exit 1; }
echo "reflection: ok"

#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts qwen-image-gateway --simulate on a free
# port, generates one image through the qwen-image CLI, and prints where the PNG is.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR="${BUILD_DIR:-build}"
demo_dir="${DEMO_DIR:-$PWD/demo-output}"
mkdir -p "$demo_dir"

scripts/deps.sh
scripts/build.sh qwen-image-gateway qwen-image

gateway_log="$demo_dir/gateway.log"
"$BUILD_DIR/service/qwen-image-gateway" --simulate --sim_task_duration=1s..2s \
  --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 --data_dir="$demo_dir/data" >"$demo_dir/gateway.out" 2>"$gateway_log" &
gateway_pid=$!
trap 'kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true' EXIT

port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$demo_dir/gateway.out")
  [ -n "$port" ] && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$gateway_log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "demo: the gateway did not start"; cat "$gateway_log"; exit 1; }
echo "demo: qwen-image-gateway --simulate is listening on 127.0.0.1:$port"

"$BUILD_DIR/client/qwen-image" --server="127.0.0.1:$port" generate \
  --model=qwen-image-plus --prompt="a watercolor fox in a snowy forest" --size=1328*1328 \
  --seed=42 --out="$demo_dir"

png=$(ls "$demo_dir"/*.png | head -n 1)
size=$(stat -c %s "$png")
dims=$(od -An -tu1 -j16 -N8 "$png" | awk '{print ($1*16777216+$2*65536+$3*256+$4) "x" ($5*16777216+$6*65536+$7*256+$8)}')
echo "demo: wrote $png ($size bytes, $dims pixels)"
[ "$dims" = "1328x1328" ] || { echo "demo: unexpected image size $dims"; exit 1; }

# Helpers for the end-to-end checks: start a --simulate gateway on a free port and stop it.
# Sourced, not run. Sets GATEWAY_PORT and GATEWAY_PID; the caller's EXIT trap stops it.
BUILD_DIR="${BUILD_DIR:-build}"

start_gateway() {
  local dir="$1"; shift
  mkdir -p "$dir"
  "$BUILD_DIR/service/qwen-image-gateway" --simulate --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --data_dir="$dir/data" "$@" >"$dir/gateway.out" 2>"$dir/gateway.log" &
  GATEWAY_PID=$!
  GATEWAY_PORT=""
  for _ in $(seq 1 300); do
    GATEWAY_PORT=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$dir/gateway.out")
    [ -n "$GATEWAY_PORT" ] && return 0
    kill -0 "$GATEWAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "gateway did not start:"; cat "$dir/gateway.log"; return 1
}

stop_gateway() {
  [ -n "${GATEWAY_PID:-}" ] || return 0
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
}

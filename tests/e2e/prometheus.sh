#!/usr/bin/env bash
# Debian's prometheus scrapes a --simulate gateway on loopback while a small workload runs; its
# HTTP API must show the task counters move. promtool checks the gateway's /metrics output and
# the alert rules in deploy/monitoring.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/lib.bash
dir=$(mktemp -d)
prom_pid=""
trap 'stop_gateway; [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

promtool check rules deploy/monitoring/alerts.yaml
python3 -m json.tool deploy/monitoring/grafana-dashboard.json >/dev/null

start_gateway "$dir"
metrics_port=""
for _ in $(seq 1 100); do
  metrics_port=$(sed -n 's/^metrics on port \([0-9]*\)$/\1/p' "$dir/gateway.out")
  [ -n "$metrics_port" ] && break
  sleep 0.1
done
[ -n "$metrics_port" ] || { echo "no metrics port"; cat "$dir/gateway.log"; exit 1; }
curl -fsS "http://127.0.0.1:$metrics_port/metrics" >"$dir/metrics.txt"
promtool check metrics <"$dir/metrics.txt"
grep -q '^qwenimage_build_info{' "$dir/metrics.txt"

# A free loopback port for Prometheus's own HTTP API: bind port 0 and read what we got.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/deploy/monitoring/alerts.yaml
scrape_configs:
  - job_name: qwen-image-gateway
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
prom_pid=$!

query() {  # prints the summed value of a PromQL expression, or nothing
  curl -fsS --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(sum(float(x["value"][1]) for x in r) if r else "")' 2>/dev/null
}
wait_for() {  # wait_for <expr> <predicate on $v> — bounded poll of Prometheus's API
  local v=""
  for _ in $(seq 1 300); do
    v=$(query "$1" || true)
    if [ -n "$v" ] && python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if $2 else 1)" "$v"; then
      echo "  $1 = $v"; return 0
    fi
    kill -0 "$prom_pid" 2>/dev/null || { cat "$dir/prometheus.log"; return 1; }
    sleep 0.2
  done
  echo "timed out waiting for $1 ($2), last value '$v'"; tail -20 "$dir/prometheus.log"; return 1
}

echo "waiting for the first scrape"
wait_for 'up{job="qwen-image-gateway"}' 'v == 1'
wait_for 'qwenimage_build_info' 'v == 1'

buf=node_modules/.bin/buf
url="http://127.0.0.1:$GATEWAY_PORT"
for model in qwen-image-max qwen-image-2.0; do
  "$buf" curl --protocol grpc --http2-prior-knowledge \
    -d "{\"spec\":{\"model\":\"$model\",\"prompt\":\"a lighthouse at dusk\"}}" \
    "$url/qwenimage.v1.ImageService/GenerateImages" >"$dir/generate.json"
  grep -q '"TASK_STATE_SUCCEEDED"' "$dir/generate.json" || { cat "$dir/generate.json"; exit 1; }
done

echo "waiting for the workload to show in Prometheus"
wait_for 'sum(qwenimage_tasks_created_total)' 'v >= 2'
wait_for 'sum(qwenimage_tasks_finished_total{state="SUCCEEDED"})' 'v >= 2'
wait_for 'sum(qwenimage_grpc_server_handled_total{method="/qwenimage.v1.ImageService/GenerateImages",code="OK"})' 'v >= 2'
wait_for 'sum(qwenimage_upstream_requests_total{endpoint="generate",status="2xx"})' 'v >= 2'
wait_for 'sum(qwenimage_images_stored_total)' 'v >= 2'
wait_for 'count(qwenimage_tasks_queued)' 'v >= 1'
echo "prometheus: ok"

#!/usr/bin/env bash
# The Python example (client/examples/python/generate.py, Debian's python3-grpcio with stubs from
# gen_stubs.sh) against a --simulate gateway: PNGs of the requested size and count, the tenant
# metadata, and non-zero exits for an invalid request and a failed task; then over TLS
# (certificates made with openssl here) with bearer tokens against a gateway with
# --tls_cert/--tls_key and --auth=tokens.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/lib.bash
dir=$(mktemp -d)
trap 'stop_gateway; rm -rf "$dir"' EXIT
client/examples/python/gen_stubs.sh "$dir/gen" >/dev/null
export PYTHONPATH="$dir/gen"
start_gateway "$dir"
check_client_example "$dir" /usr/bin/python3 client/examples/python/generate.py
stop_gateway
make_test_certs "$dir/certs"
make_tokens_file "$dir/tokens"
start_gateway "$dir/tls_run" --tls_cert="$dir/certs/server.pem" --tls_key="$dir/certs/server.key" \
  --auth=tokens --tokens_file="$dir/tokens/tokens.json"
check_client_example_tls "$dir/tls_run" "$dir/certs/ca.pem" "$dir/tokens" /usr/bin/python3 \
  client/examples/python/generate.py
echo "python client: ok"

#!/usr/bin/env bash
# The Node.js example (client/examples/node/generate.js, @grpc/grpc-js with proto/ loaded at run
# time) against a --simulate gateway: PNGs of the requested size and count, the tenant metadata,
# and non-zero exits for an invalid request and a failed task; then over TLS (certificates made
# with openssl here) with bearer tokens against a gateway with --tls_cert/--tls_key and
# --auth=tokens.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/lib.bash
if [ ! -d client/examples/node/node_modules/@grpc/grpc-js ]; then
  (cd client/examples/node && npm ci --no-audit --no-fund --loglevel=error)
fi
dir=$(mktemp -d)
trap 'stop_gateway; rm -rf "$dir"' EXIT
start_gateway "$dir"
check_client_example "$dir" node client/examples/node/generate.js
stop_gateway
make_test_certs "$dir/certs"
make_tokens_file "$dir/tokens"
start_gateway "$dir/tls_run" --tls_cert="$dir/certs/server.pem" --tls_key="$dir/certs/server.key" \
  --auth=tokens --tokens_file="$dir/tokens/tokens.json"
check_client_example_tls "$dir/tls_run" "$dir/certs/ca.pem" "$dir/tokens" \
  node client/examples/node/generate.js
echo "node client: ok"

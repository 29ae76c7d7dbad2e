#!/usr/bin/env bash
# The Node.js example (client/examples/node/generate.js, @grpc/grpc-js with proto/ loaded at run
# time) against a --simulate gateway: PNGs of the requested size and count, the tenant metadata,
# and non-zero exits for an invalid request and a failed task.
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
echo "node client: ok"

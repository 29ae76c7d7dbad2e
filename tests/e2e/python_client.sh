#!/usr/bin/env bash
# The Python example (client/examples/python/generate.py, Debian's python3-grpcio with stubs from
# gen_stubs.sh) against a --simulate gateway: PNGs of the requested size and count, the tenant
# metadata, and non-zero exits for an invalid request and a failed task.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/lib.bash
dir=$(mktemp -d)
trap 'stop_gateway; rm -rf "$dir"' EXIT
client/examples/python/gen_stubs.sh "$dir/gen" >/dev/null
export PYTHONPATH="$dir/gen"
start_gateway "$dir"
check_client_example "$dir" /usr/bin/python3 client/examples/python/generate.py
echo "python client: ok"

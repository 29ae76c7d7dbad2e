#!/usr/bin/env bash
# The public proto passes `buf lint` (rules in buf.yaml).
set -euo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/buf lint
echo "proto lint: ok"

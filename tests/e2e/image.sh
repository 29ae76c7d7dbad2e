#!/usr/bin/env bash
# The container image (deploy/Containerfile): scripts/image.sh builds its runtime stage with
# buildah from the binaries this suite compiled, then runs it read-only as its non-root user and
# checks --help, health SERVING and a PNG generated through the image's CLI with --simulate.
# scripts/image.sh prints a SKIP line and exits 77 when buildah, mmdebstrap or root is missing,
# naming which; scripts/test.sh fails the run on that under CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/image.sh

#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need (idempotent). Root or sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libcurl4-openssl-dev libssl-dev libevent-dev prometheus-cpp-dev libspdlog-dev
  nlohmann-json3-dev libsqlite3-dev libpq-dev libpng-dev libgtest-dev libgmock-dev
  python3-grpcio python3-protobuf nodejs npm prometheus
  clang-14 libfuzzer-14-dev
  postgresql  # PostgreSQL 15 (initdb, postgres) for the PostgreSQL store tests
  openssl  # the command line: the TLS tests and e2e scripts make their certificates with it
  yamllint  # tests/e2e/manifests.sh lints the Kubernetes manifests
  buildah mmdebstrap  # scripts/image.sh (tests/e2e/image.sh): the container image, without a daemon
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from outside Debian on developer machines; any working node will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "deps.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

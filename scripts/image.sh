#!/usr/bin/env bash
# Builds the container image of deploy/Containerfile with Debian's buildah, without a daemon or a
# registry, then runs it and checks it from outside:
#   scripts/image.sh          the runtime stage, from the binaries already compiled in $BUILD_DIR
#                             (stripped copies stand in for the build stage); what scripts/test.sh
#                             runs (tests/e2e/image.sh)
#   scripts/image.sh --full   the whole multi-stage build from a clone of HEAD: the build stage
#                             installs scripts/deps.sh's packages and compiles the binaries
# The base images are made here from Debian packages (mmdebstrap, minbase: what debian:12-slim
# is) and passed to the Containerfile as BUILD_BASE and RUNTIME_BASE; elsewhere the
# Containerfile's defaults pull debian:12 and debian:12-slim. The check: the image's entrypoint
# answers --help; started with --simulate as the image's own non-root user, with the root
# filesystem mounted read-only and only /data and /tmp writable, it serves health SERVING and
# the image's qwen-image CLI generates a PNG through it. `podman run` (crun) cannot start
# containers in this sandbox (setrlimit fails), so the check chroots into the mounted image
# inside a private mount namespace, as the image's configured user and entrypoint.
# Needs root. Prints the image and its size. Exits 77 (a skip; a failure under CI=true, as
# tests/e2e/image.sh is run) when buildah, mmdebstrap or root is missing, saying which.
#   IMAGE=...   the tag (default localhost/qwen-image-gateway:<version>)
#   BASE=...    a base image to use instead of the mmdebstrap one
#   REBUILD_BASE=1  make the base again (it is kept in buildah's storage between runs)
set -euo pipefail
cd "$(dirname "$0")/.."

full=false
case "${1:-}" in
  --full) full=true ;;
  "") ;;
  *) echo "usage: scripts/image.sh [--full]" >&2; exit 2 ;;
esac

skip() { echo "SKIP image: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap, buildah's storage, mounts and chroot)"
for tool in buildah mmdebstrap unshare chroot; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/deps.sh installs buildah and mmdebstrap)"
done
[ -x node_modules/.bin/buf ] || skip "node_modules/.bin/buf is missing (npm install): the health check uses buf curl"

build_dir=${BUILD_DIR:-build}
version=$(sed -n 's/^project(qwen_image_gateway VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
image=${IMAGE:-localhost/qwen-image-gateway:$version}
base=${BASE:-localhost/qwen-image-debian:12}
export BUILDAH_ISOLATION=chroot
work=$(mktemp -d "${TMPDIR:-/tmp}/qwen-image.XXXXXX")
ctr=""
cleanup() {
  if [ -n "$ctr" ]; then buildah umount "$ctr" >/dev/null 2>&1 || true; buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
t0=$SECONDS

# 1. The base image, from Debian's packages (kept in buildah's storage for the next run).
if [ -n "${REBUILD_BASE:-}" ] || ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  [ -z "${BASE:-}" ] || { echo "image: BASE=$base does not exist"; exit 1; }
  echo "image: making the base $base with mmdebstrap (bookworm, minbase)"
  mmdebstrap --mode=root --variant=minbase --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$work/base.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log"; echo "image: mmdebstrap failed"; exit 1; }
  c=$(buildah from scratch)
  buildah add --quiet "$c" "$work/base.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash "$c"
  buildah commit --quiet --rm "$c" "$base" >/dev/null
  rm -f "$work/base.tar"
fi

# 2. The image. Without --full the binaries of $build_dir, stripped, replace the build stage.
args=(--file "$PWD/deploy/Containerfile" --build-arg "BUILD_BASE=$base" --build-arg "RUNTIME_BASE=$base"
      --build-arg "VERSION=$version" --build-arg "GIT_REVISION=$revision" --tag "$image")
if $full; then
  # The committed tree (a clone of HEAD, with .git for the build's git sha), not the work tree.
  git clone --quiet --no-hardlinks "$PWD" "$work/context"
else
  mkdir -p "$work/binaries/out/bin" "$work/context"
  for b in service/qwen-image-gateway service/simulator/dashscope-sim client/qwen-image; do
    [ -x "$build_dir/$b" ] || { echo "image: $build_dir/$b is not built (scripts/build.sh)"; exit 1; }
    strip --strip-unneeded -o "$work/binaries/out/bin/$(basename "$b")" "$build_dir/$b"
  done
  args+=(--target runtime --build-context "build=$work/binaries")
fi
previous=$(buildah images --quiet --no-trunc "$image" 2>/dev/null | head -1 || true)
echo "image: buildah bud ${args[*]} <context>"
t1=$SECONDS
buildah bud --quiet "${args[@]}" "$work/context" >"$work/bud.log" 2>&1 ||
  { tail -30 "$work/bud.log"; echo "image: the build failed"; exit 1; }
echo "image: built $image in $((SECONDS - t1)) s"
# The image this tag named before, now untagged (kept if a container still uses it).
current=$(buildah images --quiet --no-trunc "$image" | head -1)
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then buildah rmi "$previous" >/dev/null 2>&1 || true; fi

# 3. What the image says about itself.
fmt() { buildah inspect --type image --format "$1" "$image"; }
user=$(fmt '{{.OCIv1.Config.User}}')
entrypoint=$(fmt '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}')
label_revision=$(fmt '{{index .OCIv1.Config.Labels "org.opencontainers.image.revision"}}')
label_version=$(fmt '{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}')
[ "$label_revision" = "$revision" ] && [ "$label_version" = "$version" ] ||
  { echo "image: labels version=$label_version revision=$label_revision, expected $version $revision"; exit 1; }
uid=${user%%:*} gid=${user#*:}
[ -n "$uid" ] && [ "$uid" != 0 ] && [ "$uid" != root ] || { echo "image: runs as '$user', not a non-root uid"; exit 1; }
[ "$gid" != "$user" ] || gid=$uid
read -r -a entry <<<"$entrypoint"
[ "${entry[0]:-}" = /usr/local/bin/qwen-image-gateway ] || { echo "image: entrypoint is '$entrypoint'"; exit 1; }

# 4. Run it: the mounted image, read-only, in a private mount namespace; /data and /tmp writable.
ctr=$(buildah from --quiet --pull-never "$image")
rootfs=$(buildah mount "$ctr")
mkdir -p "$work/data" "$work/tmp"
chown "$uid:$gid" "$work/data" "$work/tmp"
cat >"$work/run.sh" <<'RUN'
set -euo pipefail
rootfs=$1 work=$2 uid=$3 gid=$4 buf=$5
root=$work/root
mkdir -p "$root"
mount --bind "$rootfs" "$root"
mount -o remount,bind,ro "$root"
mount --bind "$work/data" "$root/data"
mount --bind "$work/tmp" "$root/tmp"
mount --rbind /dev "$root/dev"
mount --rbind /proc "$root/proc"
as_user() { chroot --userspec="$uid:$gid" "$root" "$@"; }

if touch "$root/usr/local/bin/written" 2>/dev/null; then echo "image: the root filesystem is writable"; exit 1; fi
as_user /usr/local/bin/qwen-image-gateway --help >"$work/help.txt" 2>&1 || true
grep -q -- '--simulate' "$work/help.txt" || { cat "$work/help.txt"; echo "image: --help printed no flags"; exit 1; }
as_user /usr/local/bin/dashscope-sim --help >"$work/sim-help.txt" 2>&1 || true
grep -q -- '--api_keys' "$work/sim-help.txt" || { cat "$work/sim-help.txt"; echo "image: dashscope-sim --help printed no flags"; exit 1; }
echo "image: --help answers (gateway, dashscope-sim)"

chroot --userspec="$uid:$gid" "$root" /usr/local/bin/qwen-image-gateway --simulate --sim_task_duration=1s --listen=127.0.0.1:0 \
  --metrics_listen=127.0.0.1:0 --data_dir=/data >"$work/gateway.out" 2>"$work/gateway.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/gateway.out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/gateway.log"; echo "image: the gateway exited"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/gateway.log"; echo "image: the gateway did not start"; exit 1; }
proc_uid=$(awk '/^Uid:/{print $2}' /proc/"$pid"/status)
[ "$proc_uid" = "$uid" ] || { echo "image: the gateway runs as uid $proc_uid"; exit 1; }
echo "image: the gateway listens on 127.0.0.1:$port as uid $proc_uid, root filesystem read-only"

health=""
for _ in $(seq 1 100); do
  health=$("$buf" curl --protocol grpc --http2-prior-knowledge -d '{"service":"qwenimage.v1.ImageService"}' \
    "http://127.0.0.1:$port/grpc.health.v1.Health/Check" 2>&1 || true)
  grep -q '"SERVING"' <<<"$health" && break
  sleep 0.1
done
grep -q '"SERVING"' <<<"$health" || { echo "image: health: $health"; exit 1; }
echo "image: health qwenimage.v1.ImageService SERVING"

as_user mkdir -p /data/out
as_user /usr/local/bin/qwen-image --server="127.0.0.1:$port" generate --model=qwen-image-plus \
  --prompt="a lighthouse at dusk" --size=1328*1328 --out=/data/out >"$work/generate.txt" 2>&1 ||
  { cat "$work/generate.txt"; cat "$work/gateway.log"; echo "image: qwen-image generate failed"; exit 1; }
png=$(ls "$work"/data/out/*.png | head -1)
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "image: $png is no PNG"; exit 1; }
echo "image: qwen-image generate wrote $(basename "$png") ($(stat -c %s "$png") bytes) through the image's CLI"
RUN
unshare --mount --propagation private bash "$work/run.sh" "$rootfs" "$work" "$uid" "$gid" \
  "$PWD/node_modules/.bin/buf"

size=$(buildah images --format '{{.Size}}' "$image" | head -1)
echo "image: ok: $image ($size, user $user, revision $revision) in $((SECONDS - t0)) s"

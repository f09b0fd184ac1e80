#!/usr/bin/env bash
# Makes the local base image mcp-topology-harness/node-base:24 WITHOUT a registry: a minimal root
# file system holding the project's own Node 24 binary (the `node` devDependency) and the shared
# libraries it links against, imported with `docker import`. With a registry, skip this and build
# on the official node:24-bookworm-slim instead (see docker/README.md).
#
# Usage: docker/make-base-image.sh [--force]
# Env:   BASE_IMAGE_TAG (default mcp-topology-harness/node-base:24), NODE_BIN (default: the project's).
# Idempotent: an existing image made from the same node binary is kept unless --force.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
tag="${BASE_IMAGE_TAG:-mcp-topology-harness/node-base:24}"
force=false
[[ "${1:-}" == "--force" ]] && force=true

die() { echo "make-base-image: $*" >&2; exit 1; }

command -v docker >/dev/null || die "no docker CLI on PATH (run .ci/docker-setup.sh)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (run .ci/docker-setup.sh)"

# The platform package's real binary, not the node_modules/.bin symlink.
node_bin="$(readlink -f "${NODE_BIN:-$repo_root/node_modules/.bin/node}")"
[[ -x "$node_bin" ]] || die "no Node binary at $node_bin (run npm install first)"
node_version="$("$node_bin" --version)"
[[ "$node_version" == v24.* ]] || die "expected Node 24, $node_bin is $node_version"
node_sha="$(sha256sum "$node_bin" | cut -d' ' -f1)"

if ! $force && [[ "$(docker image inspect -f '{{ index .Config.Labels "mcp-topology-harness.node-sha256" }}' "$tag" 2>/dev/null || true)" == "$node_sha" ]]; then
  echo "make-base-image: $tag is up to date ($node_version)"
  exit 0
fi

rootfs="$(mktemp -d /tmp/mth-node-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

mkdir -p "$rootfs"/{usr/local/bin,etc,tmp,home/node,app}
chmod 1777 "$rootfs/tmp"
chown 1000:1000 "$rootfs/home/node" 2>/dev/null || echo "make-base-image: not root: /home/node stays owned by $(id -u) in the image" >&2
# Stripping drops the debug symbols the npm package ships (~18 MB); optional.
if command -v strip >/dev/null; then
  strip --strip-all -o "$rootfs/usr/local/bin/node" "$node_bin"
else
  cp "$node_bin" "$rootfs/usr/local/bin/node"
fi

# Every library ldd resolves (`name => /path (addr)`) plus the dynamic loader (`/path (addr)`),
# copied (symlinks followed) to the path the binary asks for.
libs="$(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')"
[[ -n "$libs" ]] || die "ldd found no libraries for $node_bin (is it static? then drop this step)"
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
node:x:1000:1000:node:/home/node:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
# glibc >= 2.34 has files/dns built in; this only says to use them (Docker mounts hosts/resolv.conf).
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"

# Fixed mtimes and order: the same inputs give the same layer.
tar -C "$rootfs" --sort=name --mtime='2000-01-01 00:00Z' --numeric-owner -cf - . |
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'WORKDIR /app' \
    --change 'CMD ["node"]' \
    --change "LABEL mcp-topology-harness.node-sha256=$node_sha" \
    --message "node $node_version from node_modules, made by docker/make-base-image.sh" \
    - "$tag" >/dev/null

# The image must run what it is for.
got="$(docker run --rm --label mcp-topology-harness=1 --user node "$tag" node --version)"
[[ "$got" == "$node_version" ]] || die "$tag runs node but it printed '$got', expected '$node_version'"
echo "make-base-image: made $tag ($node_version, $(docker image inspect -f '{{ .Size }}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"

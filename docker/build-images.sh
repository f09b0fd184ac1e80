#!/usr/bin/env bash
# Builds the one image every service runs from, mcp-topology-harness/node:local, without the network.
#
# Usage: docker/build-images.sh
# Env:   IMAGE_TAG   (default mcp-topology-harness/node:local)
#        BASE_IMAGE  (default: node:24-bookworm-slim if that image is already local, else the offline
#                    base mcp-topology-harness/node-base:24, made by docker/make-base-image.sh)
# With a registry, `docker pull node:24-bookworm-slim` first and this builds on the official image.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
tag="${IMAGE_TAG:-mcp-topology-harness/node:local}"
official_base="node:24-bookworm-slim"
offline_base="mcp-topology-harness/node-base:24"

die() { echo "build-images: $*" >&2; exit 1; }

command -v docker >/dev/null || die "no docker CLI on PATH (run .ci/docker-setup.sh)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (run .ci/docker-setup.sh)"
[[ -d "$repo_root/node_modules" ]] || die "no node_modules in $repo_root (run npm install first: the image copies it)"

base="${BASE_IMAGE:-}"
if [[ -z "$base" ]]; then
  if docker image inspect "$official_base" >/dev/null 2>&1; then
    base="$official_base"
  else
    BASE_IMAGE_TAG="$offline_base" "$repo_root/docker/make-base-image.sh"
    base="$offline_base"
  fi
fi
docker image inspect "$base" >/dev/null 2>&1 || die "base image $base is not local and no registry is reachable"

log="$(mktemp /tmp/mth-docker-build.XXXXXX.log)"
trap 'rm -f "$log"' EXIT
start=$SECONDS
# Client 28 without buildx falls back to the legacy builder (and says so on stderr): both kept in
# the log, shown only when the build fails.
if ! docker build \
  --file "$repo_root/docker/Dockerfile" \
  --build-arg "BASE_IMAGE=$base" \
  --tag "$tag" \
  "$repo_root" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  die "docker build of $tag failed (last 40 lines above)"
fi

got="$(docker run --rm --label mcp-topology-harness=1 "$tag" node --version)"
[[ "$got" == v24.* ]] || die "$tag runs node $got, expected v24"
size="$(docker image inspect -f '{{ .Size }}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
echo "build-images: built $tag on $base ($got, $size) in $((SECONDS - start)) s"

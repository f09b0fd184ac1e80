#!/usr/bin/env bash
# Builds the image scenarios/byo brings as its own server: mcp-topology-harness/byo-echo-mcp:local.
# Needs the harness image first (docker/build-images.sh). Offline: the build only copies one file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tag="${BYO_IMAGE_TAG:-mcp-topology-harness/byo-echo-mcp:local}"
base="${BASE_IMAGE:-mcp-topology-harness/node:local}"
docker image inspect "$base" >/dev/null 2>&1 || { echo "build-image: $base is not built (run docker/build-images.sh)" >&2; exit 1; }
log="$(mktemp /tmp/mth-byo-build.XXXXXX.log)"
trap 'rm -f "$log"' EXIT
if ! docker build --build-arg "BASE_IMAGE=$base" --tag "$tag" "$here/echo-mcp" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "build-image: docker build of $tag failed" >&2
  exit 1
fi
echo "build-image: built $tag"

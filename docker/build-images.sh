#!/usr/bin/env bash
# Builds, without the network, the one image every service runs from (mcp-topology-harness/node:local)
# and, on top of it, the worker's image with real Claude Code in it (mcp-topology-harness/claude-code:local).
#
# Usage: docker/build-images.sh
# Env:   IMAGE_TAG   (default mcp-topology-harness/node:local)
#        CLAUDE_IMAGE_TAG (default mcp-topology-harness/claude-code:local; run with HARNESS_CLAUDE_IMAGE=<it>)
#        CLAUDE_BIN  (default: the pinned @anthropic-ai/claude-code in node_modules). With neither, the
#                    Claude Code image is skipped, said so on stderr (CI=true: an error).
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
# build_image TAG DOCKER-BUILD-ARGS...: the build's output goes to the log, shown only when it fails
# (client 28 without buildx falls back to the legacy builder and says so on stderr: kept there too).
build_image() {
  local image="$1"
  shift
  docker build --tag "$image" "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "docker build of $image failed (last 40 lines above)"; }
}
image_size() { docker image inspect -f '{{ .Size }}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

start=$SECONDS
build_image "$tag" --file "$repo_root/docker/Dockerfile" --build-arg "BASE_IMAGE=$base" "$repo_root"
got="$(docker run --rm --label mcp-topology-harness=1 "$tag" node --version)"
[[ "$got" == v24.* ]] || die "$tag runs node $got, expected v24"
echo "build-images: built $tag on $base ($got, $(image_size "$tag")) in $((SECONDS - start)) s"

# --- The Claude Code image: the harness image + the pinned binary + the libraries it needs there.
claude_tag="${CLAUDE_IMAGE_TAG:-mcp-topology-harness/claude-code:local}"
claude_bin="${CLAUDE_BIN:-}"
if [[ -z "$claude_bin" ]]; then
  wrapper="$repo_root/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
  native="$repo_root/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
  # The wrapper's bin/claude.exe is a small stub until its postinstall copies the native binary over it.
  if [[ -f "$wrapper" && $(stat -c %s "$wrapper") -gt 1048576 ]]; then claude_bin="$wrapper"
  elif [[ -x "$native" ]]; then claude_bin="$native"
  fi
fi
if [[ -z "$claude_bin" ]]; then
  [[ "${CI:-}" == "true" ]] && die "no Claude Code in node_modules (npm install brings the pinned @anthropic-ai/claude-code): cannot build $claude_tag"
  echo "build-images: skipped $claude_tag: no Claude Code in node_modules (npm install, or CLAUDE_BIN=...)" >&2
  exit 0
fi
claude_bin="$(readlink -f "$claude_bin")"
claude_version="$(DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "$claude_bin" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+[^ ]*' | head -n 1)"
[[ -n "$claude_version" ]] || die "$claude_bin --version printed no version"

# A context of its own, next to node_modules so the 400 MB binary is hard-linked, not copied.
context="$(mktemp -d "$repo_root/.claude-image.XXXXXX")"
trap 'rm -f "$log"; rm -rf "$context"' EXIT
mkdir -p "$context/root/usr/local/bin"
ln "$claude_bin" "$context/root/usr/local/bin/claude" 2>/dev/null || cp "$claude_bin" "$context/root/usr/local/bin/claude"
cp "$repo_root/docker/claude-code.Dockerfile" "$context/Dockerfile"
# Only the libraries the harness image lacks: an official base has its own glibc, which must not be overwritten.
libs="$(ldd "$claude_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')"
missing="$(docker run --rm --label mcp-topology-harness=1 "$tag" node -e \
  'for (const f of process.argv.slice(1)) if (!require("node:fs").existsSync(f)) console.log(f)' $libs)"
for lib in $missing; do
  mkdir -p "$context/root$(dirname "$lib")"
  cp -L "$lib" "$context/root$lib"
done
start=$SECONDS
build_image "$claude_tag" --build-arg "HARNESS_IMAGE=$tag" --build-arg "CLAUDE_CODE_VERSION=$claude_version" "$context"
got="$(docker run --rm --label mcp-topology-harness=1 -e DISABLE_TELEMETRY=1 -e CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "$claude_tag" claude --version)"
[[ "$got" == *"$claude_version"* ]] || die "$claude_tag runs claude --version as '$got', expected $claude_version"
echo "build-images: built $claude_tag (Claude Code $claude_version, added libraries: ${missing:-none}; $(image_size "$claude_tag")) in $((SECONDS - start)) s"

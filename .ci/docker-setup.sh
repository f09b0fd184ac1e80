#!/usr/bin/env bash
# Makes a Docker engine answer on this machine and builds the project's images, all offline:
# installs Debian's docker.io if dockerd is missing, starts dockerd if `docker info` fails, then runs
# docker/build-images.sh. Idempotent: a second run only checks and rebuilds from cache.
# Needs root (apt-get, dockerd) and node_modules (npm install first: the images copy it).
#
# The engine listens on the default socket, unix:///var/run/docker.sock, so the tests need no
# variable for it. A `docker` CLI newer than the engine (e.g. 28 against Debian's 20.10) negotiates
# the API version down by itself; DOCKER_API_VERSION=1.41 is only needed by clients that don't.
set -euo pipefail
cd "$(dirname "$0")/.."

socket=/var/run/docker.sock
dockerd_log=/tmp/mth-dockerd.log
deadline_s=60

say() { echo "docker-setup: $*"; }
die() { echo "docker-setup: $*" >&2; exit 1; }

start=$SECONDS
if ! command -v dockerd >/dev/null; then
  [[ $EUID -eq 0 ]] || die "dockerd is missing and installing docker.io needs root"
  say "installing docker.io (Debian's Docker engine)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/tmp/mth-apt.log 2>&1 || { tail -n 20 /tmp/mth-apt.log >&2; die "apt-get update failed"; }
  apt-get install -y -qq --no-install-recommends docker.io >>/tmp/mth-apt.log 2>&1 ||
    { tail -n 20 /tmp/mth-apt.log >&2; die "apt-get install docker.io failed"; }
fi
# /usr/local/bin may hold a client-only docker CLI; Debian's own is the fallback.
command -v docker >/dev/null || die "no docker CLI on PATH after installing docker.io"

engine_up() { docker -H "unix://$socket" info >/dev/null 2>&1; }

if ! engine_up; then
  [[ $EUID -eq 0 ]] || die "the Docker engine is not running and starting dockerd needs root"
  # A pid file left by a dockerd that died with its machine would stop the new one from starting.
  if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  say "starting dockerd (log: $dockerd_log)"
  # setsid: the daemon must outlive this script (the tests use it), not die with its process group.
  setsid dockerd -H "unix://$socket" >"$dockerd_log" 2>&1 </dev/null &
  started_at=$SECONDS
  until engine_up; do
    if ! kill -0 $! 2>/dev/null; then
      tail -n 20 "$dockerd_log" >&2
      die "dockerd exited while starting (log above, full log in $dockerd_log)"
    fi
    ((SECONDS - started_at < deadline_s)) || { tail -n 20 "$dockerd_log" >&2; die "dockerd did not answer within ${deadline_s} s (log: $dockerd_log)"; }
    sleep 0.5
  done
fi

# The engine we checked is on the default socket: make sure plain `docker` (and so the tests, which
# read the same DOCKER_HOST / context) talk to that one, not to some other endpoint.
docker info >/dev/null 2>&1 ||
  die "dockerd answers on $socket but \`docker info\` does not: DOCKER_HOST (${DOCKER_HOST:-unset}) or the docker context points elsewhere"
say "engine $(docker version -f '{{ .Server.Version }}' 2>/dev/null) up after $((SECONDS - start)) s"

docker/build-images.sh

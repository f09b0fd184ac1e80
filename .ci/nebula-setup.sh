#!/usr/bin/env bash
# Installs what harness/network/nebula/differential.test.ts needs to run real Nebula:
# nebula + nebula-cert (Debian's nebula package, 1.6.x) and iproute2 (`ip netns`, veth).
# Idempotent and quiet: installs only what is missing; prints one line when it installs.
set -euo pipefail

missing=()
if ! command -v nebula >/dev/null 2>&1 || ! command -v nebula-cert >/dev/null 2>&1; then
  missing+=(nebula)
fi
if ! command -v ip >/dev/null 2>&1; then
  missing+=(iproute2)
fi

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "nebula-setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "nebula-setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  # apt is chatty on stderr even with -qq (debconf notes); show its output only when it fails.
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "nebula-setup: apt-get failed" >&2
    exit 1
  fi
fi

# Nebula needs the tun device; some container runtimes have the driver but not the node.
if [[ ! -c /dev/net/tun ]] && [[ $(id -u) -eq 0 ]]; then
  mkdir -p /dev/net
  mknod /dev/net/tun c 10 200 2>/dev/null && chmod 0600 /dev/net/tun || echo "nebula-setup: cannot create /dev/net/tun (the real-nebula test will skip)" >&2
fi

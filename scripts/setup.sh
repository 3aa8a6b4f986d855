#!/usr/bin/env bash
# Installs what seconet needs on Debian 12 (run as root) and builds it. Idempotent: packages
# already present are not installed again, npm uses the lockfile, tsc builds incrementally.
#   SECONET_SETUP_BROWSER=0   skip Chromium (only the report's browser test needs it)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  iproute2 iptables nftables ethtool tcpdump procps psmisc kmod openssl
  redis-server postgresql
  iputils-ping iperf3 d-itg sockperf wrk nginx-light haproxy curl
  clang llvm libbpf-dev bpftool make gcc
  openvswitch-switch
  wireguard-go wireguard-tools
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins
  openvpn tinc
  ansible ansible-lint python3 python3-apt openssh-server openssh-client systemd
  qemu-system-x86 linux-image-amd64 busybox-static cpio
)
if [ "${SECONET_SETUP_BROWSER:-1}" = 1 ]; then pkgs+=(chromium); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # Service start-up of the packaged daemons is not wanted: seconet starts its own instances.
  ours=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ours=1
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$ours" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# tap builds its test class from the plugins in .taprc. That must happen before a run (a fresh
# install, or a changed .taprc), or the run starts with tap's default (ts-node) plugins.
if [ ! -f node_modules/.seconet-tap-build ] || [ .taprc -nt node_modules/.seconet-tap-build ] || [ package-lock.json -nt node_modules/.seconet-tap-build ]; then
  npx --no-install tap build >/dev/null && touch node_modules/.seconet-tap-build
fi
npm run --silent build

#!/usr/bin/env bash
# Installs the system packages virtnet needs on a Debian 12 / Ubuntu machine, as root.
# Idempotent: packages already present are left alone, so a second run takes seconds.
# netperf lives in Debian's non-free component (Ubuntu: multiverse); we enable it by
# editing the Components line of the machine's own apt sources, never by naming a host.
set -euo pipefail

# gcc, libc6-dev and libnetfilter-queue-dev build the testbed's delay line (env/testbed/delay-line/).
want=(netperf iproute2 iptables busybox-static cpio kmod xz-utils qemu-system-x86 qemu-utils docker.io chromium gcc libc6-dev libnetfilter-queue-dev)
[ "$#" -gt 0 ] && want=("$@")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present (${want[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-packages: must run as root to install: ${missing[*]}" >&2
  exit 1
fi

enable_component() { # $1: component to add to every deb822 source that lacks it
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    grep -qE "^Components:.*\b$1\b" "$f" || sed -i -E "s/^(Components:.*)$/\1 $1/" "$f"
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -i -E "/^deb .* main/{/ $1( |$)/!s/$/ $1/}" /etc/apt/sources.list
  fi
}
if grep -qi ubuntu /etc/os-release; then enable_component multiverse; else enable_component non-free; fi

export DEBIAN_FRONTEND=noninteractive
echo "system packages: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"

#!/usr/bin/env bash
# Installs the system packages virtnet needs on a Debian 12 / Ubuntu machine, as root, by role:
#
#   install-system-packages.sh [--role client|server|all] [PACKAGE...]
#
#   client  netperf only: the client runner of the GitHub pipeline runs netperf and nothing else
#           (the run-sweep action is a self-contained bundle run by the runner's own Node.js).
#   server  what the environments need: netperf, iproute2, iptables, QEMU, busybox-static, cpio,
#           kmod, xz-utils, runsc (gVisor, for the gvisor variants; scripts/start-dockerd.sh
#           registers it with dockerd), Docker unless a Docker is already installed, and rootless
#           Podman (podman, slirp4netns, uidmap, fuse-overlayfs, crun, passt).
#   all     server, plus what the namespace testbed's delay line is built with (gcc, libc6-dev,
#           libnetfilter-queue-dev) and a headless Chromium for the page tests (the default:
#           `npm test`, `npm run reproduce`, CI).
#   PACKAGE...  exactly these packages instead (no role logic).
#   --list  print the packages the role wants and exit (installs nothing).
#
# Idempotent: what is present is left alone, so a second run takes seconds.
# netperf lives in Debian's non-free component (Ubuntu: multiverse); it is enabled by editing the
# Components line of the machine's own apt sources, never by naming a host.
#
# Docker: a machine that already has a Docker (Docker's own docker-ce + containerd.io, as GitHub's
# Ubuntu images and many servers do, or moby-engine) keeps it; docker.io is installed only where no
# dockerd exists, since it conflicts with those packages and would make apt fail.
#
# Browser: Debian's `chromium` package where the distribution has one. Ubuntu has none that
# installs without snap (its chromium-browser is a stub that installs the snap, which needs a
# running snapd), so on Ubuntu nothing is installed: a browser already at /usr/bin/chromium (GitHub's
# Ubuntu images link one there) is used, else the page tests skip and say why.
set -euo pipefail

role=all
list_only=0
explicit=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --role) role=${2:-}; shift 2 || { echo "install-system-packages: --role needs client, server or all" >&2; exit 2; } ;;
    --role=*) role=${1#--role=}; shift ;;
    --list) list_only=1; shift ;;
    -*) echo "install-system-packages: unknown option $1 (usage: install-system-packages.sh [--role client|server|all] [PACKAGE...])" >&2; exit 2 ;;
    *) explicit+=("$1"); shift ;;
  esac
done
case "$role" in client | server | all) ;; *) echo "install-system-packages: --role: expected client, server or all, got '$role'" >&2; exit 2 ;; esac

# For tests: another os-release file, another browser path (the page tests look at /usr/bin/chromium).
# shellcheck disable=SC1090
. "${VIRTNET_OS_RELEASE:-/etc/os-release}"
browser=${VIRTNET_BROWSER:-/usr/bin/chromium}
is_ubuntu() { [ "${ID:-}" = ubuntu ] || [[ " ${ID_LIKE:-} " == *" ubuntu "* ]]; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

notes=()
if [ "${#explicit[@]}" -gt 0 ]; then
  want=("${explicit[@]}")
else
  want=(netperf)
  if [ "$role" != client ]; then
    want+=(iproute2 iptables busybox-static cpio kmod xz-utils qemu-system-x86 qemu-utils runsc)
    if command -v dockerd >/dev/null 2>&1 || installed docker-ce || installed moby-engine || installed docker.io; then
      : # a Docker is there: use it
    else
      want+=(docker.io)
    fi
    # podman-rootless (env/podman/): Podman as an unprivileged user, its user namespaces (uidmap) and
    # user-mode networks. passt (pasta) only where the distribution has it (Ubuntu 22.04 does not).
    want+=(podman slirp4netns uidmap fuse-overlayfs crun)
    if apt-cache show passt >/dev/null 2>&1; then
      want+=(passt)
    else
      notes+=("passt: not in this distribution's archive; podman-rootless-pasta will say it cannot run")
    fi
  fi
  # The embedded testbed's delay line (env/testbed/delay-line/) is C on libnetfilter-queue; the
  # GitHub pipeline's two runners measure a real link and need none of it.
  if [ "$role" = all ]; then want+=(gcc libc6-dev libnetfilter-queue-dev); fi
  if [ "$role" = all ] && [ ! -x "$browser" ]; then
    if is_ubuntu; then
      notes+=("browser: none installed: Ubuntu's chromium-browser only installs a snap; the page tests skip (link a Chromium or Chrome build as $browser to run them)")
    else
      want+=(chromium)
    fi
  fi
fi

if [ "$list_only" = 1 ]; then
  for n in "${notes[@]}"; do echo "# $n"; done
  printf '%s\n' "${want[@]}"
  exit 0
fi
missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
for n in "${notes[@]}"; do echo "system packages: $n"; done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages ($role): all present (${want[*]})"
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
if is_ubuntu; then enable_component multiverse; else enable_component non-free; fi

export DEBIAN_FRONTEND=noninteractive
echo "system packages ($role): installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages ($role): installed ${missing[*]}"

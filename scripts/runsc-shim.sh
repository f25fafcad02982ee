#!/usr/bin/env bash
# docker's runtime `runsc` (gVisor with its own network stack) on kernels where runsc's test for the
# host's network namespace is wrong. scripts/start-dockerd.sh copies this file next to the daemon's
# configuration and registers it, where that test fails (see there); it is never run from the tree.
#
# Debian 12's runsc (0.0~20221219) refuses to build its network stack when the namespace it is given
# shows /proc/sys/net/core/rmem_default ("cannot run with network enabled in root network
# namespace"): the sysctl used to exist only in the host's (initial) namespace, but newer kernels
# have it in every namespace, so runsc refuses a container's own namespace as well. gVisor's later
# releases test /proc/sys/net/core/dev_weight instead, which only the initial namespace has.
#
# So, for `start` (the subcommand that builds the network stack), this shim makes that test itself
# on the sandbox's namespace and refuses the host's (runsc would take the host interfaces'
# addresses away); otherwise it runs runsc in a private mount namespace whose /proc/sys holds every
# folder of the real one but net, so runsc's own test passes. (The whole /proc/sys is replaced: the
# entries under /proc/sys/net are looked up anew in the namespace runsc joins, so a mount on
# /proc/sys/net/core would not hide them there; and runsc reads others, such as vm/mmap_min_addr.) Every other subcommand, and --version, goes
# to runsc unchanged. The real runsc is the first `runsc` on PATH (VIRTNET_RUNSC overrides).
set -euo pipefail

runsc="${VIRTNET_RUNSC:-$(command -v runsc || true)}"
if [ -z "$runsc" ]; then
  echo "runsc-shim: runsc is not installed (package runsc)" >&2
  exit 127
fi

if [ "$#" -ge 2 ] && [ "${*: -2:1}" = start ]; then
  id="${*: -1}"
  # containerd passes runsc's global flags first: --root DIR (or --root=DIR) names its state folder.
  root=""
  prev=""
  for a in "$@"; do
    case "$a" in --root=*) root="${a#--root=}" ;; esac
    [ "$prev" = --root ] && root="$a"
    prev="$a"
  done
  state="$("$runsc" ${root:+--root "$root"} state "$id")"
  pid="$(printf '%s\n' "$state" | sed -n 's/^[[:space:]]*"pid":[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)"
  if [ -z "$pid" ] || [ ! -e "/proc/$pid/ns/net" ]; then
    echo "runsc-shim: no running sandbox for container $id (runsc state gave no PID)" >&2
    exit 1
  fi
  if nsenter --net="/proc/$pid/ns/net" test -e /proc/sys/net/core/dev_weight; then
    echo "runsc-shim: the sandbox of container $id is in the host's network namespace; runsc's own network stack would take the host's addresses: refused (use runsc --network=host there)" >&2
    exit 1
  fi
  # shellcheck disable=SC2016  # the inner script's variables are its own
  exec unshare --mount --propagation private -- /bin/sh -c '
    set -e
    stage="$(mktemp -d /tmp/virtnet-runsc-shim.XXXXXX)"
    mount -t tmpfs -o size=4k,mode=555 virtnet-runsc-shim "$stage"
    for d in /proc/sys/*; do
      [ "${d##*/}" = net ] && continue
      mkdir "$stage/${d##*/}"
      mount --bind "$d" "$stage/${d##*/}"
    done
    mount --move "$stage" /proc/sys
    rmdir "$stage"
    exec "$0" "$@"' "$runsc" "$@"
fi
exec "$runsc" "$@"

#!/usr/bin/env bash
# Removes what virtnet itself built, cached or left on this machine, so that the next `npm test` or
# `npm run reproduce` takes the path a new machine takes. .ci/run calls it first; a developer runs
# it to prove "fresh". It says what it removed. Only the project's own names are touched:
#   - docker containers and images labelled virtnet=1 (the netserver images, their containers), and
#     the same in the rootless Podman of the user virtnet-podman (the user stays: it is set-up);
#   - network namespaces and links named vnet<N>... (testbeds, guest bridges and taps), and iptables
#     rules commented virtnet-guest-<N>;
#   - the caches and state folders: this checkout's .cache/ (delay line, docker context, guest
#     images), /var/cache/virtnet (OSv images and sources), /var/lib/virtnet (the client's runs),
#     and $VIRTNET_STATE_DIR or /run/virtnet (locks, daemon registry, dockerd's log).
# Processes are not touched: CI starts after the session's processes have ended, and a developer's
# live runs are theirs (`virtnet cleanup` removes what a dead run left).
set -euo pipefail
cd "$(dirname "$0")/.."

removed=0
say() { echo "remove-project-state: $*"; removed=$((removed + 1)); }

# Caches and state, first: a dockerd started below logs into the state folder.
for dir in .cache /var/cache/virtnet /var/lib/virtnet "${VIRTNET_STATE_DIR:-/run/virtnet}"; do
  if [ -e "$dir" ]; then
    rm -rf -- "$dir" && say "$dir"
  fi
done

# Docker: the daemon keeps images between runs, so ask it (starting ours if docker is installed and
# no daemon answers; prepare.sh would start it anyway).
if command -v docker >/dev/null 2>&1; then
  if ! docker info >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1; then
    bash scripts/start-dockerd.sh >/dev/null 2>&1 || true
  fi
  if docker info >/dev/null 2>&1; then
    for c in $(docker ps --all --quiet --filter label=virtnet=1); do
      docker rm --force --volumes "$c" >/dev/null && say "docker container $c"
    done
    for i in $(docker images --quiet --filter label=virtnet=1 | sort -u); do
      docker rmi --force "$i" >/dev/null && say "docker image $i"
    done
  fi
fi

# Rootless Podman (env/podman/): what the project's user holds under the project's label. The user
# itself stays: it is set-up, like an installed package (scripts/prepare-podman-user.sh made it).
podman_user=virtnet-podman
if command -v podman >/dev/null 2>&1 && getent passwd "$podman_user" >/dev/null; then
  as_podman_user() { (cd / && runuser -u "$podman_user" -- podman "$@" 2>/dev/null); }
  for c in $(as_podman_user ps --all --quiet --filter label=virtnet=1 || true); do
    as_podman_user rm --force --time 0 "$c" >/dev/null && say "$podman_user's podman container $c"
  done
  for i in $(as_podman_user images --quiet --filter label=virtnet=1 | sort -u || true); do
    as_podman_user rmi --force "$i" >/dev/null && say "$podman_user's podman image $i"
  done
fi

# Testbeds and guest networks, by the project's name prefix.
if command -v ip >/dev/null 2>&1; then
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^vnet[0-9]+' || true); do
    ip netns del "$ns" && say "network namespace $ns"
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^vnet[0-9]+' || true); do
    ip link del "$link" 2>/dev/null && say "link $link"
  done
fi
if command -v iptables-save >/dev/null 2>&1; then
  for table in nat filter; do
    { iptables-save -t "$table" 2>/dev/null || true; } | { grep -E -- '--comment "?virtnet-guest-[0-9]+"?( |$)' || true; } | sed 's/^-A /-D /' | while read -r rule; do
      # shellcheck disable=SC2086  # the rule is iptables-save's own words, split as it wrote them
      iptables -w 5 -t "$table" $rule && echo "remove-project-state: iptables -t $table $rule"
    done
  done
fi

[ "$removed" -gt 0 ] || echo "remove-project-state: nothing of virtnet was here"

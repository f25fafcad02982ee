#!/usr/bin/env bash
# Starts dockerd for virtnet's docker environment when no daemon answers, as
#   dockerd --userland-proxy=false
# so that published ports are kernel DNAT rules, not the docker-proxy userspace relay (through
# docker-proxy UDP loses most datagrams and small-socket TCP collapses: that measures the proxy,
# not the network path). Idempotent: a daemon that already answers is left alone, but one running
# WITH the userland proxy is reported, since virtnet's docker environment refuses it.
# Called by scripts/prepare.sh (npm test, npm run reproduce, .ci/run).
#
# Settings (environment variables):
#   VIRTNET_START_DOCKERD=0   do nothing (a machine without docker; the docker tests then skip)
#   VIRTNET_DOCKERD_LOG=FILE  where dockerd's output goes (default: $VIRTNET_STATE_DIR/dockerd.log,
#                             VIRTNET_STATE_DIR defaulting to /run/virtnet)
set -euo pipefail

if [ "${VIRTNET_START_DOCKERD:-1}" = "0" ]; then
  echo "dockerd: not started (VIRTNET_START_DOCKERD=0)"
  exit 0
fi

state_dir="${VIRTNET_STATE_DIR:-/run/virtnet}"
log="${VIRTNET_DOCKERD_LOG:-$state_dir/dockerd.log}"

# Prints "enabled", "disabled" or "unknown" for the userland proxy of the local dockerd, from its
# command line and its daemon.json (the default is enabled).
userland_proxy_state() {
  local pid args config value
  pid="$(pgrep -o -x dockerd || true)"
  [ -n "$pid" ] || { echo unknown; return; }
  args="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  # --userland-proxy=false, or --userland-proxy false (two arguments)
  value="$(printf '%s\n' "$args" | awk '/^--userland-proxy=/{sub(/^--userland-proxy=/,""); print; exit} /^--userland-proxy$/{getline; print; exit}')"
  if [ -z "$value" ]; then
    config="$(printf '%s\n' "$args" | awk '/^--config-file=/{sub(/^--config-file=/,""); print; exit} /^--config-file$/{getline; print; exit}')"
    config="${config:-/etc/docker/daemon.json}"
    if [ -f "$config" ]; then
      value="$(grep -oE '"userland-proxy"[[:space:]]*:[[:space:]]*(true|false)' "$config" | grep -oE '(true|false)$' || true)"
    fi
  fi
  case "${value:-true}" in
    false) echo disabled ;;
    *) echo enabled ;;
  esac
}

report_running() {
  local version proxy
  version="$(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?')"
  proxy="$(userland_proxy_state)"
  case "$proxy" in
    disabled) echo "dockerd: running (server $version, userland proxy off)" ;;
    enabled)
      echo "dockerd: WARNING: the running dockerd (server $version) uses the userland proxy (docker-proxy)." >&2
      echo "dockerd: virtnet's docker environment refuses it: through docker-proxy UDP loses most datagrams." >&2
      echo "dockerd: restart it as 'dockerd --userland-proxy=false' (or set \"userland-proxy\": false in daemon.json)," >&2
      echo "dockerd: or set VIRTNET_DOCKER_ALLOW_USERLAND_PROXY=1 to measure through it anyway." >&2
      ;;
    *) echo "dockerd: a daemon answers (server $version) but no local dockerd process was found; userland proxy state unknown" ;;
  esac
}

if ! command -v docker >/dev/null 2>&1; then
  echo "dockerd: the docker CLI is not installed (package docker.io); the docker environment is unavailable" >&2
  exit 1
fi

if docker info >/dev/null 2>&1; then
  report_running
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix:///var/run/docker.sock" ] && [ "$DOCKER_HOST" != "unix:///run/docker.sock" ]; then
  echo "dockerd: nothing answers at DOCKER_HOST=$DOCKER_HOST; not starting a local dockerd for another address" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd: no daemon answers and dockerd is not installed (package docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "dockerd: no daemon answers, and starting one needs root; the docker environment is unavailable" >&2
  exit 1
fi

# A dockerd process that does not answer yet may be starting: wait for it rather than start a second.
waiting_for="$(pgrep -o -x dockerd || true)"
if [ -n "$waiting_for" ]; then
  echo "dockerd: a dockerd process (PID $waiting_for) runs but does not answer yet; waiting for it"
else
  mkdir -p "$(dirname "$log")"
  echo "dockerd: starting (dockerd --userland-proxy=false, log in $log)"
  # setsid: the daemon outlives this script and is not hit by a Ctrl-C meant for npm.
  setsid dockerd --userland-proxy=false >>"$log" 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    report_running
    exit 0
  fi
  sleep 0.5
done

if [ -n "$waiting_for" ]; then
  echo "dockerd: the running dockerd (PID $waiting_for, not started by this script) did not answer 'docker info' within 30 s" >&2
else
  echo "dockerd: did not answer 'docker info' within 30 s; last lines of $log:" >&2
  tail -n 20 "$log" >&2 2>/dev/null || true
fi
exit 1

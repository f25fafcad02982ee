#!/usr/bin/env bash
# Starts dockerd for virtnet's docker environment when no daemon answers, as
#   dockerd --userland-proxy=false
# so that published ports are kernel DNAT rules, not the docker-proxy userspace relay (through
# docker-proxy UDP loses most datagrams and small-socket TCP collapses: that measures the proxy,
# not the network path). Idempotent: a daemon that already answers is left alone, but one running
# WITH the userland proxy is reported, since virtnet's docker environment refuses it.
# Called by scripts/prepare.sh (npm test, npm run reproduce, .ci/run, the server runner's job).
#
# On a GitHub self-hosted runner the daemon must outlive the job: at the end of every job the runner
# kills each new process whose environment carries that job's RUNNER_TRACKING_ID (actions/runner,
# src/Runner.Worker/JobExtension.cs, "Cleaning up orphan processes"), and a daemon started from a
# job step inherits it. So, in this order:
#   1. a daemon that answers is used as it is (the machine's docker service, best: set
#      "userland-proxy": false in /etc/docker/daemon.json and `systemctl enable --now docker`);
#   2. under systemd, a docker.service whose daemon.json turns the userland proxy off is started
#      with systemctl: systemd owns it, no job does;
#   3. otherwise dockerd is started by hand, in its own session and without RUNNER_TRACKING_ID in its
#      environment, so the runner's cleanup does not take it for one of the job's processes.
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

# True when systemd runs this machine and has a docker.service whose daemon.json turns the userland
# proxy off: then the service is the right way to run the daemon.
docker_service_ready() {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 || return 1
  systemctl cat docker.service >/dev/null 2>&1 || return 1
  grep -qE '"userland-proxy"[[:space:]]*:[[:space:]]*false' /etc/docker/daemon.json 2>/dev/null
}

# A dockerd process that does not answer yet may be starting: wait for it rather than start a second.
waiting_for="$(pgrep -o -x dockerd || true)"
if [ -n "$waiting_for" ]; then
  echo "dockerd: a dockerd process (PID $waiting_for) runs but does not answer yet; waiting for it"
elif docker_service_ready; then
  echo "dockerd: starting the machine's docker service (systemctl start docker; userland proxy off in /etc/docker/daemon.json)"
  systemctl start docker
else
  mkdir -p "$(dirname "$log")"
  echo "dockerd: starting (dockerd --userland-proxy=false, log in $log)"
  if [ -n "${RUNNER_TRACKING_ID:-}" ]; then
    echo "dockerd: started outside the job's process tracking (no RUNNER_TRACKING_ID), so it survives the end of this job; to let systemd run it instead, set \"userland-proxy\": false in /etc/docker/daemon.json and run systemctl enable --now docker"
  fi
  # setsid: the daemon outlives this script and is not hit by a Ctrl-C meant for npm.
  # env -u RUNNER_TRACKING_ID: a GitHub runner kills every process carrying its job's id at job end.
  env -u RUNNER_TRACKING_ID setsid dockerd --userland-proxy=false >>"$log" 2>&1 </dev/null &
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

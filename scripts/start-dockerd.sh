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
# gVisor (the gvisor and gvisor-host environments): a daemon started by hand reads its configuration
# from $VIRTNET_STATE_DIR/dockerd.json (--config-file), which this script writes: where runsc is
# installed it registers two runtimes, `runsc` (gVisor's own network stack, for docker's bridge
# network) and `runsc-host` (runsc --network=host, for docker's host network: without it runsc would
# build its network stack from the host's own interfaces, taking their addresses away). When that
# daemon already runs without them (runsc installed later, another platform asked for), the file is
# rewritten and the daemon reloads it on SIGHUP: running containers are not touched. A daemon this
# script did not start is never changed; what it lacks is reported with how to add it. A machine
# whose /etc/docker/daemon.json exists keeps it (then register the runtimes there).
#
# Settings (environment variables):
#   VIRTNET_START_DOCKERD=0   do nothing (a machine without docker; the docker tests then skip)
#   VIRTNET_DOCKERD_LOG=FILE  where dockerd's output goes (default: $VIRTNET_STATE_DIR/dockerd.log,
#                             VIRTNET_STATE_DIR defaulting to /run/virtnet)
#   VIRTNET_RUNSC_PLATFORM=ptrace|kvm  gVisor's platform (default ptrace: it needs no virtualization;
#                             kvm needs /dev/kvm with hardware virtualization)
set -euo pipefail

if [ "${VIRTNET_START_DOCKERD:-1}" = "0" ]; then
  echo "dockerd: not started (VIRTNET_START_DOCKERD=0)"
  exit 0
fi

state_dir="${VIRTNET_STATE_DIR:-/run/virtnet}"
log="${VIRTNET_DOCKERD_LOG:-$state_dir/dockerd.log}"
config="$state_dir/dockerd.json"
runsc_platform="${VIRTNET_RUNSC_PLATFORM:-ptrace}"
case "$runsc_platform" in
  ptrace | kvm) ;;
  *) echo "dockerd: VIRTNET_RUNSC_PLATFORM: expected ptrace or kvm, got '$runsc_platform'" >&2; exit 2 ;;
esac

shim="$state_dir/runsc-shim"

# True where runsc's test for the host's network namespace fails: a new namespace shows
# /proc/sys/net/core/rmem_default (scripts/runsc-shim.sh says why); there `runsc` is the shim.
runsc_needs_shim() {
  unshare --net test -e /proc/sys/net/core/rmem_default 2>/dev/null
}

# The gVisor runtimes as `docker info --format '{{json .Runtimes}}'` shows them once registered (one
# per line), or nothing where runsc is not installed. runsc-host needs no shim: with
# --network=host runsc builds no network stack of its own.
runsc_runtimes() {
  local runsc sandboxed
  runsc="$(command -v runsc || true)"
  [ -n "$runsc" ] || return 0
  sandboxed="$runsc"
  if runsc_needs_shim; then sandboxed="$shim"; fi
  printf '"runsc":{"path":"%s","runtimeArgs":["--platform=%s"]}\n' "$sandboxed" "$runsc_platform"
  printf '"runsc-host":{"path":"%s","runtimeArgs":["--platform=%s","--network=host"]}\n' "$runsc" "$runsc_platform"
}

# Writes the hand-started daemon's configuration, and the shim where it is needed (each replaced
# whole, so a reader never sees half of one).
write_config() {
  mkdir -p "$state_dir"
  local runtimes
  if command -v runsc >/dev/null 2>&1 && runsc_needs_shim; then
    install -m 755 "$(dirname "$0")/runsc-shim.sh" "$shim.$$"
    mv -f "$shim.$$" "$shim"
  fi
  runtimes="$(runsc_runtimes | paste -sd, -)"
  if [ -n "$runtimes" ]; then printf '{"runtimes":{%s}}\n' "$runtimes"; else echo '{}'; fi >"$config.$$"
  mv -f "$config.$$" "$config"
}

# True when the running daemon has every gVisor runtime this machine should have, as wanted.
runtimes_registered() {
  local registered wanted
  registered="$(docker info --format '{{json .Runtimes}}' 2>/dev/null || true)"
  while IFS= read -r wanted; do
    [ -z "$wanted" ] || [[ "$registered" == *"$wanted"* ]] || return 1
  done < <(runsc_runtimes)
}

# The value of a dockerd option (--name=value or --name value) in the command line of process $1.
dockerd_option() {
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null |
    awk -v o="$2" 'index($0, o "=") == 1 {print substr($0, length(o) + 2); exit} $0 == o {getline; print; exit}'
}

# Registers the gVisor runtimes with the running daemon when it reads this script's configuration
# (a reload, not a restart); otherwise says what is missing and how to add it.
ensure_runtimes() {
  local pid ours=0 i
  if ! command -v runsc >/dev/null 2>&1; then
    echo "dockerd: runsc is not installed (package runsc): the gvisor environments are unavailable"
    return 0
  fi
  pid="$(pgrep -o -x dockerd || true)"
  if [ -n "$pid" ] && [ "$(dockerd_option "$pid" --config-file)" = "$config" ]; then
    ours=1
    # Rewritten every time: the state folder may have been emptied under a running daemon.
    write_config
  fi
  if runtimes_registered; then
    echo "dockerd: gVisor runtimes runsc and runsc-host registered ($(runsc --version 2>/dev/null | head -n 1), platform $runsc_platform$(runsc_needs_shim && echo ", runsc through $shim"))"
    return 0
  fi
  if [ "$ours" = 0 ]; then
    echo "dockerd: WARNING: the running daemon (not started by this script) lacks the gVisor runtimes; the gvisor environments are unavailable." >&2
    echo "dockerd: add to its daemon.json: \"runtimes\": {$(runsc_runtimes | paste -sd, -)}, then reload it (kill -HUP <dockerd PID>)." >&2
    return 0
  fi
  echo "dockerd: registering the gVisor runtimes runsc and runsc-host (platform $runsc_platform) in $config; reloading dockerd (PID $pid, SIGHUP)"
  kill -HUP "$pid"
  for i in $(seq 1 20); do
    runtimes_registered && { echo "dockerd: gVisor runtimes registered ($(runsc --version 2>/dev/null | head -n 1))"; return 0; }
    sleep 0.5
  done
  echo "dockerd: WARNING: dockerd (PID $pid) did not show the gVisor runtimes within 10 s of SIGHUP; see $log" >&2
}

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
  ensure_runtimes
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
  # The machine's own daemon.json, where there is one, stays in force (dockerd's default); else this
  # script's configuration, which it may rewrite and reload later.
  config_args=()
  if [ ! -f /etc/docker/daemon.json ]; then
    write_config
    config_args=("--config-file=$config")
  fi
  echo "dockerd: starting (dockerd --userland-proxy=false, log in $log)"
  if [ "${#config_args[@]}" -gt 0 ]; then
    echo "dockerd: its configuration is $config (${config_args[0]}): $(tr -d '\n' <"$config")"
  else
    echo "dockerd: its configuration is the machine's /etc/docker/daemon.json"
  fi
  if [ -n "${RUNNER_TRACKING_ID:-}" ]; then
    echo "dockerd: started outside the job's process tracking (no RUNNER_TRACKING_ID), so it survives the end of this job; to let systemd run it instead, set \"userland-proxy\": false in /etc/docker/daemon.json and run systemctl enable --now docker"
  fi
  # setsid: the daemon outlives this script and is not hit by a Ctrl-C meant for npm.
  # env -u RUNNER_TRACKING_ID: a GitHub runner kills every process carrying its job's id at job end.
  # The subshell closes every descriptor it inherited beyond 0-2 first: a daemon that keeps the
  # caller's open files keeps their locks too (started under `flock LOCK npm test`, dockerd held
  # the lock for as long as it ran, and every later `flock` on it waited forever).
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    exec env -u RUNNER_TRACKING_ID setsid dockerd --userland-proxy=false "${config_args[@]}" >>"$log" 2>&1 </dev/null
  ) &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    report_running
    ensure_runtimes
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

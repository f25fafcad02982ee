#!/usr/bin/env bash
# Makes a clean clone ready to run, as root on Debian 12 / Ubuntu: the npm packages (which bring
# the pinned Node.js 24 that every npm script runs on), the system packages, the namespace
# testbed's delay line, dockerd, and the user rootless Podman runs as.
# Idempotent and quick when everything is already there; `npm test` and `npm run reproduce` call it.
#
#   prepare.sh [--role client|server|all]     (default all)
#
# The role says which machine this is (scripts/install-system-packages.sh lists what each gets):
#   client  the GitHub pipeline's client runner: netperf only. No npm packages (run-sweep is a
#           self-contained bundle run by the runner's Node.js), no docker, QEMU or browser.
#   server  the server runner: the npm packages (`virtnet serve` runs on the pinned Node.js), the
#           environments' packages and dockerd; no browser.
#   all     everything the tests need (npm test, npm run reproduce, .ci/run), with the testbed's
#           delay line built into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- role (the GitHub pipeline's runners prepare only what their job needs) ---
role=all
while [ "$#" -gt 0 ]; do
  case "$1" in
    --role) role=${2:-}; shift 2 || true ;;
    --role=*) role=${1#--role=}; shift ;;
    *) echo "prepare: unknown argument $1 (usage: prepare.sh [--role client|server|all])" >&2; exit 2 ;;
  esac
done
case "$role" in client | server | all) ;; *) echo "prepare: --role: expected client, server or all, got '$role'" >&2; exit 2 ;; esac

if [ "$role" != client ]; then
  if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "npm packages: installing (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
bash scripts/install-system-packages.sh --role "$role"
# The namespace testbed's delay line (C, on libnetfilter-queue); quick when already built.
if [ "$role" = all ]; then echo "delay line: $(bash env/testbed/delay-line/build.sh)"; fi
if [ "$role" != client ] && [ -f scripts/start-dockerd.sh ]; then bash scripts/start-dockerd.sh; fi
# The unprivileged user whose Podman runs the podman-rootless environment (env/podman/).
if [ "$role" != client ]; then bash scripts/prepare-podman-user.sh; fi

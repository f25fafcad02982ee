#!/usr/bin/env bash
# Makes a clean clone ready to run, as root on Debian 12 / Ubuntu: the npm packages (which bring
# the pinned Node.js 24 that every npm script runs on), the system packages, the testbed's delay
# line, and dockerd.
# Idempotent and quick when everything is already there; `npm test` and `npm run reproduce` call it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "npm packages: installing (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/install-system-packages.sh
# The testbed's delay line (C, on libnetfilter-queue), built into .cache/; quick when already built.
echo "delay line: $(bash env/testbed/delay-line/build.sh)"
if [ -f scripts/start-dockerd.sh ]; then bash scripts/start-dockerd.sh; fi

#!/usr/bin/env bash
# Builds the delay line into the repository's .cache/ (gitignored) and prints the binary's path.
# The output is named after a hash of the source and the compiler flags, so a checkout of other
# source never runs a stale binary; when that binary exists this only hashes (milliseconds).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cflags=(-O2 -Wall -Wextra)
libs=(-lnetfilter_queue -lnfnetlink)
hash="$( { cat "$here/delay-line.c"; echo "${cflags[*]} ${libs[*]}"; } | sha256sum | cut -c1-16)"
out="$repo/.cache/delay-line/delay-line-$hash"
if [ ! -x "$out" ]; then
  if [ ! -f /usr/include/libnetfilter_queue/libnetfilter_queue.h ] || ! command -v cc >/dev/null; then
    echo "delay-line: needs a C compiler and libnetfilter-queue-dev (bash scripts/install-system-packages.sh installs them)" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$out")"
  cc "${cflags[@]}" -o "$out.tmp" "$here/delay-line.c" "${libs[@]}"
  mv "$out.tmp" "$out"
  # Older builds of other sources are of no use any more.
  find "$(dirname "$out")" -maxdepth 1 -name 'delay-line-*' ! -name "$(basename "$out")" -delete
  echo "delay-line: built $out" >&2
fi
echo "$out"

#!/usr/bin/env bash
# Creates the unprivileged user the podman-rootless environment runs its container as (env/podman/):
# a plain account with no password and no login shell, its own subordinate UID and GID ranges (rootless
# Podman maps the container's users into them), a containers.conf that suits a machine without a
# systemd user session (cgroupfs, events to a file), and /dev/net/tun open to users as udev leaves it.
# Run as root; prepare.sh calls it.
#
#   prepare-podman-user.sh [USER]      (default virtnet-podman; env/podman/spec.ts names the same)
#
# Idempotent: an existing user keeps its UID, home and ranges; only what is missing is added.
# remove-project-state.sh leaves the user alone (it is set-up, like an installed package) and removes
# only what the user's Podman holds under the project's label.
set -euo pipefail

user=${1:-virtnet-podman}
home=/var/lib/$user
range=65536

if ! command -v podman >/dev/null 2>&1; then
  echo "podman user: podman is not installed; skipped (scripts/install-system-packages.sh installs it)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "prepare-podman-user: must run as root to create $user" >&2
  exit 1
fi

if ! getent passwd "$user" >/dev/null; then
  # A regular (not --system) account: useradd gives it subordinate ranges from login.defs.
  useradd --create-home --home-dir "$home" --shell /usr/sbin/nologin --comment "virtnet rootless podman" "$user"
  echo "podman user: created $user"
fi
home=$(getent passwd "$user" | cut -d: -f6)

# The first free start above every range in FILE (at least 100000, login.defs' SUB_UID_MIN default).
next_free() {
  awk -F: -v min=100000 '{ end = $2 + $3; if (end > min) min = end } END { print min }' "$1"
}
for kind in uid gid; do
  file=/etc/sub$kind
  touch "$file"
  if ! grep -q "^$user:" "$file"; then
    start=$(next_free "$file")
    usermod "--add-sub${kind}s" "$start-$((start + range - 1))" "$user"
    echo "podman user: gave $user the sub$kind range $start-$((start + range - 1))"
  fi
done

conf=$home/.config/containers/containers.conf
if [ ! -f "$conf" ]; then
  install -d -o "$user" -g "$user" -m 0700 "$home/.config" "$home/.config/containers"
  cat >"$conf" <<'EOF'
# Written by virtnet's scripts/prepare-podman-user.sh: no systemd user session runs here, so
# containers are not placed in systemd cgroups and events go to a file, not the journal.
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  chown "$user:$user" "$conf"
  echo "podman user: wrote $conf"
fi
# slirp4netns opens /dev/net/tun inside the user's namespace: udev gives it 0666 on Debian and
# Ubuntu, but a machine without udev (a minimal VM) may have the kernel's 0600.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  chmod 0666 /dev/net/tun
  echo "podman user: /dev/net/tun made 0666 (udev's default on Debian and Ubuntu), so slirp4netns can open it"
fi
echo "podman user: $user ready (uid $(id -u "$user"), $(grep "^$user:" /etc/subuid | cut -d: -f2-3 | tr : +) subuids)"

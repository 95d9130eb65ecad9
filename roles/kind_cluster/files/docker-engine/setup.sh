#!/usr/bin/env bash
# Let privileged containers (kind's nodes) start on this host's Docker Engine, and only where the
# host needs it: when the capability bounding set lacks a capability the kernel has, register
# runc-within-bounds as the Engine's default runtime (daemon.json) and tell a running dockerd to
# reload it (SIGHUP). On a host with every capability it changes nothing.
#
#   setup.sh          set up if needed; prints one line saying what it did
#   setup.sh --check  exit 0 when nothing is needed or it is already set up, 3 when setup is needed
#
# Needs root when it has something to change. Idempotent: a second run prints "already set up".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

runtime_name=runc-within-bounds
install_path=/usr/local/libexec/airflow-k8s-platform/runc-within-bounds
daemon_json=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}

# Bits 0..cap_last_cap are the capabilities this kernel has; CapBnd is what a process here may hold.
last_cap=$(cat /proc/sys/kernel/cap_last_cap)
bounding=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
all=$(((1 << (last_cap + 1)) - 1))
missing=$((all & ~bounding))
if [ "$missing" -eq 0 ]; then
  echo "docker-engine: the capability bounding set is complete; privileged containers need no change"
  exit 0
fi

# The system's python3 first: the wrapper must not depend on a user's pyenv or virtualenv.
# (No pipe into head here: with pipefail, the writer's SIGPIPE would fail the check now and then.)
if [ -x /usr/bin/python3 ]; then
  python=/usr/bin/python3
elif ! python=$(command -v python3); then
  echo "docker-engine: python3 is needed for the runtime wrapper (apt-get install python3-minimal)" >&2
  exit 1
fi

# The daemon.json this host should have: the current one with our runtime added and made default.
wanted=$("$python" - "$daemon_json" "$runtime_name" "$install_path" <<'PY'
import json, os, sys
path, name, program = sys.argv[1:]
config = {}
if os.path.exists(path) and os.path.getsize(path):
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
config.setdefault("runtimes", {})[name] = {"path": program}
config["default-runtime"] = name
print(json.dumps(config, indent=2, sort_keys=True))
PY
)
current=$(cat "$daemon_json" 2>/dev/null || true)
installed_ok=false
if [ -x "$install_path" ] && sed "1s|.*|#!$python|" "$here/runc-within-bounds.py" | cmp -s - "$install_path"; then
  installed_ok=true
fi

if [ "${1:-}" = --check ]; then
  if $installed_ok && [ "$current" = "$wanted" ]; then exit 0; fi
  exit 3
fi

if $installed_ok && [ "$current" = "$wanted" ]; then
  echo "docker-engine: already set up (default runtime $runtime_name drops capabilities outside the bounding set)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "docker-engine: privileged containers need a runtime fix on this host; run as root: $0" >&2
  exit 1
fi

install -d -m 0755 "$(dirname "$install_path")"
sed "1s|.*|#!$python|" "$here/runc-within-bounds.py" >"$install_path.new"
chmod 0755 "$install_path.new"
mv "$install_path.new" "$install_path"
install -d -m 0755 "$(dirname "$daemon_json")"
printf '%s\n' "$wanted" >"$daemon_json.new"
mv "$daemon_json.new" "$daemon_json"

# A running Engine reloads its runtimes on SIGHUP; one started later reads daemon.json itself.
if pidof dockerd >/dev/null; then
  pkill -HUP -x dockerd
  for _ in $(seq 30); do
    if docker info --format '{{.DefaultRuntime}}' 2>/dev/null | grep -qx "$runtime_name"; then
      break
    fi
    sleep 1
  done
  if ! docker info --format '{{.DefaultRuntime}}' 2>/dev/null | grep -qx "$runtime_name"; then
    echo "docker-engine: dockerd did not take $runtime_name as default runtime after SIGHUP; restart it" >&2
    exit 1
  fi
fi
printf 'docker-engine: set up: default runtime %s drops capabilities the bounding set lacks (mask 0x%x)\n' \
  "$runtime_name" "$missing"

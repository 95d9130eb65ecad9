#!/usr/bin/env bash
# Start the Docker Engine in the background unless one already answers, and wait until it does.
# Prints the PID of the daemon it started (nothing if one was already running), so the caller can
# stop exactly what it started. Machines without systemd (CI containers) have no service to start.
set -euo pipefail

timeout_s=${DOCKER_START_TIMEOUT:-60}
log=${DOCKER_LOG:-/tmp/dockerd.log}

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-docker: dockerd is not installed (Debian package docker.io)" >&2
  exit 1
fi

dockerd >"$log" 2>&1 &
pid=$!
for _ in $(seq "$timeout_s"); do
  if docker info >/dev/null 2>&1; then
    echo "$pid"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-docker: dockerd exited during start-up; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 1
done
echo "start-docker: dockerd did not answer within ${timeout_s}s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1

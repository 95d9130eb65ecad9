#!/usr/bin/env bash
# Run a command on the CPU and disk time that the rest of the machine leaves idle:
#
#   scripts/idle-priority.sh COMMAND [ARG ...]
#
# `nice` alone is not enough here. With the kernel's autogroups (Debian's default) the scheduler first
# shares the CPU between sessions, and between them and the Docker Engine's containers (a kind
# cluster's pods), at equal weight; nice only orders the processes inside one session. A niced build
# started from the test session would take that session's whole share, half of both cores, from the
# cluster tests whenever pytest waits on a pod. So the command gets a session of its own (setsid),
# whose autogroup is set to nice 19 (weight 15 against 1024), then nice 19 and the idle disk class
# inside it. The command's exit code is this script's.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/idle-priority.sh COMMAND [ARG ...]" >&2; exit 2; }
# shellcheck disable=SC2016 # expanded by the inner shell
exec setsid --wait bash -c '
  # Without autogroups (sched_autogroup_enabled=0) the file is absent and nice alone does the job.
  echo 19 >/proc/self/autogroup 2>/dev/null || true
  exec nice -n 19 ionice -c 3 "$@"' idle-priority "$@"

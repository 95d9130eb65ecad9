#!/usr/bin/env bash
# Remove what an earlier test session that was killed left behind: its local Airflows, and in the
# Docker Engine its kind clusters (it-<hex>, made by tests/support/kind.py) and stand-ins
# (standin-<hex>, tests/support/standin.py), with their registries, git and database containers,
# volumes and networks. Their containers restart with the Engine (restart policy always), so a CI run
# after a killed session shared its two cores with a whole Airflow it never made: measured, pytest 72 min
# instead of about 60, and a time-bound fault test failed. CI runs it before the tests; it never touches a cluster a user made (make demo's).
set -euo pipefail

# A killed session's local Airflows (tests/support/airflow.py, run from the test venvs) outlive it as well, adopted
# by init: the cold run after a killed one had six of them busy all through its cluster tests.
cache=${AIRFLOW_K8S_TEST_CACHE:-$HOME/.cache/airflow_k8s_platform}
airflows=$(pgrep -f "^$cache/venvs/airflow[0-9]*-requirements-[0-9a-f]+/bin/python" || true)
if [ -n "$airflows" ]; then
  # shellcheck disable=SC2086 # one argument per process id
  kill $airflows 2>/dev/null || true
  echo "stopped a killed session's local Airflow: $(tr '\n' ' ' <<<"$airflows")"
fi

pattern='^(it|standin)-[0-9a-f]{6}(-|$)'

# The listings first, so an Engine that does not answer fails here rather than reading as "nothing left".
all_containers=$(docker ps -a --format '{{.Names}}')
all_volumes=$(docker volume ls --format '{{.Name}}')
all_networks=$(docker network ls --format '{{.Name}}')
containers=$(grep -E "$pattern" <<<"$all_containers" || true)
volumes=$(grep -E "$pattern" <<<"$all_volumes" || true)
networks=$(grep -E "$pattern" <<<"$all_networks" || true)
if [ -z "$containers$volumes$networks" ]; then
  echo "no test leftovers"
  exit 0
fi
# shellcheck disable=SC2086 # one argument per name
{
  [ -z "$containers" ] || docker rm -f --volumes $containers >/dev/null
  [ -z "$volumes" ] || docker volume rm -f $volumes >/dev/null
  [ -z "$networks" ] || docker network rm $networks >/dev/null
  echo "removed test leftovers:" $containers $volumes $networks
}

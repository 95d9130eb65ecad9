#!/usr/bin/env bash
# The Airflow image's entrypoint, as the official image's behaves for the Airflow chart: a shell,
# python, airflow or any absolute path runs as given; anything else is an airflow subcommand
# ("scheduler" runs "airflow scheduler"); nothing at all prints airflow's help.
set -euo pipefail

if [ $# -eq 0 ]; then
  exec airflow --help
fi
case "$1" in
  bash | sh | python | python3 | airflow | /*) exec "$@" ;;
  *) exec airflow "$@" ;;
esac

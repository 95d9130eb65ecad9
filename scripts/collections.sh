#!/usr/bin/env bash
# The collections collections/requirements.yml pins, resolvable without Galaxy (scripts/pinned_collections.py says how).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${AIRFLOW_K8S_TEST_CACHE:-$HOME/.cache/airflow_k8s_platform}"
exec .venv/bin/python scripts/pinned_collections.py "$cache"

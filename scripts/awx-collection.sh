#!/usr/bin/env bash
# Print a collections path holding only awx.awx (from the ansible package pinned in
# tests/awx-requirements.txt), fetched from PyPI once per machine. Only awx/awx is exposed: the
# other collections of that older bundle must not shadow the ones of the ansible we run.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${AIRFLOW_K8S_TEST_CACHE:-$HOME/.cache/airflow_k8s_platform}"
pin=$(grep -E '^ansible==' tests/awx-requirements.txt)
bundle="$cache/${pin/==/-}"
only_awx="$cache/awx-collection-${pin#ansible==}"

if [ ! -f "$bundle/.complete" ]; then
  rm -rf "$bundle"
  .venv/bin/python -m pip install --quiet --no-deps --target "$bundle" "$pin" >&2
  touch "$bundle/.complete"
fi
mkdir -p "$only_awx/ansible_collections/awx"
ln -sfn "$bundle/ansible_collections/awx/awx" "$only_awx/ansible_collections/awx/awx"
echo "$only_awx"

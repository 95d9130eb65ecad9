#!/usr/bin/env bash
# ansible-test sanity, offline, on every ansible-core release meta/runtime.yml admits: the test
# venv's own and each older one a tests/ansible-core-<version>-requirements.txt names (a venv of its
# own, built once per machine). ansible-test wants the collection at
# ansible_collections/<namespace>/<name>/, so it runs on a copy of the project's files laid out so.
# The copy (scripts/checkout-files.sh) leaves out collections/ansible_collections (the link that
# lets playbooks resolve this collection from the checkout, and what scripts/collections.sh
# installs: neither is part of the collection, and galaxy.yml ignores them too) and offline/charts (the official Airflow chart, vendored: Go templates, not YAML, and not ours).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venvs=("$repo/.venv")
for requirements in tests/ansible-core-*-requirements.txt; do
  venvs+=("$(.venv/bin/python -m tests.support.venvs "$requirements")")
done
export PATH="$PWD/.venv/bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree="$work/ansible_collections/airflow_k8s/platform"
mkdir -p "$tree"
scripts/checkout-files.sh | grep -zv '^offline/charts/' | tar --null --files-from=- -cf - | tar -C "$tree" -xf -

python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$tree"
failed=0
for venv in "${venvs[@]}"; do
  core=$("$venv/bin/python" -c 'import ansible; print(ansible.__version__)')
  echo "sanity: ansible-core $core"
  (cd "$repo" && .venv/bin/python -m tests.support.ansible_test_pip "$venv/bin/python" >/dev/null)
  PATH="$venv/bin:$PATH" ansible-test sanity --local --python "$python_version" --color no "$@" || failed=1
done
exit "$failed"

#!/usr/bin/env bash
# Build the collection artifact into the folder given (default: the current one), from the files a
# clone holds: tracked and new files, nothing git ignores. Galaxy refuses an artifact without a
# repository URL, and this project names none until it has a public home (a placeholder would be
# a link that leads nowhere): set COLLECTION_REPOSITORY to the repository's URL to publish.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/checkout-files.sh | tar --null --files-from=- -cf - | tar -C "$work" -xf -
if [ -n "${COLLECTION_REPOSITORY:-}" ]; then
  printf '\nrepository: %s\n' "$COLLECTION_REPOSITORY" >>"$work/galaxy.yml"
fi
(cd "$work" && "$repo/.venv/bin/ansible-galaxy" collection build --force --output-path "$out" >&2)
ls "$out"/airflow_k8s-platform-*.tar.gz

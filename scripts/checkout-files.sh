#!/usr/bin/env bash
# Print, NUL-separated, the files a clone of this checkout holds as they are in the working tree:
# tracked and new ones, nothing git ignores, no links (collections/ansible_collections/airflow_k8s/
# platform, the link to the checkout itself), nothing deleted but not yet committed. The sanity
# copy and the collection build both start from this list.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' file; do [ -e "$file" ] && [ ! -L "$file" ] && printf '%s\0' "$file"; done

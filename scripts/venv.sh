#!/usr/bin/env bash
# Create or reuse .venv with a Python >= 3.12 and the pinned requirements given as arguments
# (default: requirements.txt). Reinstalls only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
requirements=("${@:-requirements.txt}")

if ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  python=$(scripts/find-python.sh)
  echo "venv: creating $venv with $python" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi

# One stamp per requirements file, holding the hash of it and of requirements.txt (which the
# others include with -r): a file is installed again only when one of the two changed.
for file in "${requirements[@]}"; do
  stamp="$venv/.installed-${file//\//_}"
  wanted=$(cat "$file" requirements.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "venv: installing $file" >&2
    scripts/install-requirements.sh "$venv" "$file"
    echo "$wanted" >"$stamp"
  fi
done

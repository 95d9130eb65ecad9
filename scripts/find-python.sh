#!/usr/bin/env bash
# Print the path of a Python >= 3.12 that really runs (ansible-core 2.21 needs it).
# A pyenv shim on PATH may exist and still fail ("command not found" for an inactive version),
# so every candidate is asked to run before it is trusted.
set -uo pipefail

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.13 python3.12 python3)
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.1[2-9]*; do
    [ -d "$dir" ] && candidates+=("$dir/bin/python3")
  done
fi

for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
    # Resolve shims to the interpreter itself, so the venv does not depend on pyenv's state.
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "No Python >= 3.12 found (tried: ${candidates[*]}). Install one, or set PYTHON=/path/to/python3.12." >&2
exit 1

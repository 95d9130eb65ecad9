#!/usr/bin/env bash
# Install pinned requirements files into a venv:
#
#   scripts/install-requirements.sh VENV FILE...
#
# With uv (scripts/installer-requirements.txt, put into the project's .venv by scripts/venv.sh),
# given what pip is configured with on this machine (its environment and pip.conf: index, extra
# indexes, find-links, CA bundle, trusted hosts), so a site's mirror serves both. It byte-compiles
# what it installs, as pip does: where PYTHONDONTWRITEBYTECODE is set (CI's machines set it), Python
# would otherwise compile the Kubernetes client's 800 modules again in every module run that imports
# it (a cold CI run's cluster tests took a sixth longer so). Where uv can't be installed (no wheel
# for the platform), pip does the install.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$1
shift
project_venv=$PWD/.venv
uv=$project_venv/bin/uv

if [ ! -x "$uv" ] && ! "$project_venv/bin/python" -m pip install --quiet -r scripts/installer-requirements.txt; then
  echo "install-requirements: uv could not be installed; pip installs instead (slower)" >&2
fi
if [ ! -x "$uv" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  for file in "$@"; do
    "$venv/bin/python" -m pip install --quiet -r "$file"
  done
  exit 0
fi

# pip's settings as `pip config list` prints them (from PIP_* variables and pip.conf alike):
# name='value', the name after its section, e.g. global.index-url or :env:.cert. As for pip, a
# variable wins over a file.
pip_settings=$("$project_venv/bin/python" -m pip config list 2>/dev/null || true)
pip_setting() {
  { grep -v '^:env:\.' <<<"$pip_settings" || true; grep '^:env:\.' <<<"$pip_settings" || true; } |
    sed -n "s/^[^.]*\.$1='\(.*\)'\$/\1/p" | tail -n 1
}
setting() {
  local value
  value=$(pip_setting "$2")
  if [ -n "$value" ]; then export "$1=$value"; fi
}
setting UV_DEFAULT_INDEX index-url
setting UV_INDEX extra-index-url
setting UV_INSECURE_HOST trusted-host
setting SSL_CERT_FILE cert
find_links=$(pip_setting find-links)
if [ -n "$find_links" ]; then export UV_FIND_LINKS=${find_links// /,}; fi

for file in "$@"; do
  "$uv" pip install --quiet --compile-bytecode --python "$venv/bin/python" -r "$file"
done

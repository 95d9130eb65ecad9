#!/usr/bin/env bash
# ansible-test sanity, offline. ansible-test wants the collection at
# ansible_collections/<namespace>/<name>/, so it runs on a copy of the project's files laid out so.
# The copy leaves out collections/ansible_collections (the link that lets playbooks resolve this
# collection from the checkout: it is not part of the collection, and galaxy.yml ignores it too)
# and offline/charts (the official Airflow chart, vendored: Go templates, not YAML, and not ours).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# ansible-test bootstraps pip in each sanity venv with a get-pip script from a host machines
# without internet can't reach; it uses a cached copy when there is one. This stand-in (not
# upstream's script) gets the same pip from PyPI with ensurepip + pip install.
pip_version=$(python - <<'PY'
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$get_pip" ]; then
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip" <<'PY'
# Stand-in for ansible-test's get-pip bootstrap script, written by the project's sanity script.
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree="$work/ansible_collections/airflow_k8s/platform"
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard \
  | grep -zv -e '^collections/ansible_collections/' -e '^offline/charts/' \
  | while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done \
  | tar --null --files-from=- -cf - | tar -C "$tree" -xf -

python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$tree"
ansible-test sanity --local --python "$python_version" --color no "$@"

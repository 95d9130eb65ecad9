#!/usr/bin/env bash
# ansible-test bootstraps pip in each venv it makes (sanity, units --venv) with a get-pip script
# from a host machines without internet can't reach; it uses a cached copy when there is one. This
# writes a stand-in (not upstream's script) for the pip version the given Python's ansible-test
# wants, which gets the same pip from PyPI with ensurepip + pip install. Usage: $0 <python>
set -euo pipefail
pip_version=$("$1" - <<'PY'
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$get_pip" ]; then
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip" <<'PY'
# Stand-in for ansible-test's get-pip bootstrap script, written by the project's scripts/ansible-test-pip.sh.
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
fi

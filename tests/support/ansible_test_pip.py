"""ansible-test without the internet: the pip bootstrap it runs in every venv it makes.

ansible-test (sanity, ``units --venv``) starts each venv with a get-pip script downloaded from a host
machines without internet can't reach, and uses a cached copy when one is there. This writes a
stand-in (not upstream's script) for the pip version that ansible-test release wants, which installs the
same pip from PyPI with the project's installer (scripts/install-requirements.sh: uv, pip's settings carried
over), or, where that fails, with ensurepip and pip. A sanity run on three ansible-core releases makes about 25
venvs: with ensurepip and a pip upgrade in each, their bootstrap was most of what a cold run adds to a warm one.
The version is asked of that ansible-test itself, through the function it picks its venv packages with, for the
Python it will run on.

``python -m tests.support.ansible_test_pip <python>``: the stand-in for the ansible-test installed for
that Python (scripts/sanity.sh calls it for each ansible-core release it runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .venvs import INSTALL

CACHE = Path.home() / ".ansible" / "test" / "cache"
# Run by the given Python: the pip version its ansible-test installs in a venv on that Python.
ASK = """
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % sys.version_info[:2]))["pip"])
"""
STAND_IN = """\
# Stand-in for ansible-test's get-pip bootstrap script, written by the project's tests/support/ansible_test_pip.py.
import os, subprocess, sys, tempfile
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
install = %r
with tempfile.NamedTemporaryFile("w", suffix="-requirements.txt") as requirements:
    requirements.write("\\n".join(a for a in args if not a.startswith("-")) + "\\n")
    requirements.flush()
    if os.access(install, os.X_OK) and subprocess.call([install, sys.prefix, requirements.name]) == 0:
        sys.exit(0)
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
"""


def ensure_pip_bootstrap(python: Path) -> Path:
    """The cached get-pip script that ``python``'s ansible-test will use, written now unless it is there."""
    version = subprocess.run([str(python), "-c", ASK], capture_output=True, text=True, check=True).stdout.strip()
    script = CACHE / f"get_pip_{version.replace('.', '_')}.py"
    wanted = STAND_IN % str(INSTALL)
    if not script.is_file() or script.read_text(encoding="utf-8") != wanted:
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(wanted, encoding="utf-8")
    return script


if __name__ == "__main__":
    print(ensure_pip_bootstrap(Path(sys.argv[1])))

"""ansible-test without the internet: the pip bootstrap it runs in every venv it makes.

ansible-test (sanity, ``units --venv``) starts each venv with a get-pip script downloaded from a host
machines without internet can't reach, and uses a cached copy when one is there. This writes a
stand-in (not upstream's script) for the pip version that ansible-test release wants, which gets the
same pip from PyPI with ensurepip and pip install. The version is asked of that ansible-test itself,
through the function it picks its venv packages with, for the Python it will run on.

``python -m tests.support.ansible_test_pip <python>``: the stand-in for the ansible-test installed for
that Python (scripts/sanity.sh calls it for each ansible-core release it runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CACHE = Path.home() / ".ansible" / "test" / "cache"
# Run by the given Python: the pip version its ansible-test installs in a venv on that Python.
ASK = """
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % sys.version_info[:2]))["pip"])
"""
STAND_IN = """\
# Stand-in for ansible-test's get-pip bootstrap script, written by the project's tests/support/ansible_test_pip.py.
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
"""


def ensure_pip_bootstrap(python: Path) -> Path:
    """The cached get-pip script that ``python``'s ansible-test will use, written now unless it is there."""
    version = subprocess.run([str(python), "-c", ASK], capture_output=True, text=True, check=True).stdout.strip()
    script = CACHE / f"get_pip_{version.replace('.', '_')}.py"
    if not script.is_file() or script.stat().st_size == 0:
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(STAND_IN, encoding="utf-8")
    return script


if __name__ == "__main__":
    print(ensure_pip_bootstrap(Path(sys.argv[1])))

"""Virtual environments of their own for tools whose pins can't share the test venv (an Airflow, an
older ansible-core, Galaxy's importer and the docs tools): one per requirements file, built once per
machine with the test venv's Python and rebuilt only when the file, that Python or the installer changes.

``python -m tests.support.venvs <requirements file>`` prints the venv's path (the sanity script
uses it for the older ansible-core releases)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from .common import REPO_ROOT, PartUnavailable, cache_dir, cache_lock

# The project's installer (uv, pip's settings carried over), the one scripts/venv.sh uses for .venv.
INSTALL = REPO_ROOT / "scripts" / "install-requirements.sh"


def ensure_venv(requirements: Path) -> Path:
    """The venv for ``requirements``, built now unless the cache already holds it."""
    # How it is installed is part of what it is: a changed installer (say, byte-compiling now) makes new venvs.
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode() + INSTALL.read_bytes()).hexdigest()[:12]
    venv = cache_dir("venvs") / f"{requirements.stem}-{key}"
    marker = venv / ".complete"
    with cache_lock(venv.name):
        if marker.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run([str(INSTALL), str(venv), str(requirements)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PartUnavailable(f"installing {requirements.name} failed: {result.stderr[-2000:]}")
        marker.write_text(requirements.read_text(encoding="utf-8"), encoding="utf-8")
    return venv


if __name__ == "__main__":
    print(ensure_venv(Path(sys.argv[1]).resolve()))

"""scripts/install-requirements.sh, the installer of every venv: uv, given where pip is configured to find packages.
A site whose packages come from its own mirror configures pip once (PIP_* variables or pip.conf); uv reads neither,
so the script hands pip's settings over. The package here is on no index: a wheel made by the test, found only
where pip's settings say."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from tests.support.common import REPO_ROOT

INSTALL = REPO_ROOT / "scripts" / "install-requirements.sh"
NAME, VERSION = "airflow-k8s-platform-probe", "1.0"


def make_wheel(folder: Path) -> Path:
    """A pure-Python wheel with one module, as a build backend would write it."""
    module, dist_info = NAME.replace("-", "_"), f"{NAME.replace('-', '_')}-{VERSION}.dist-info"
    files = {f"{module}.py": "ANSWER = 42\n",
             f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n",
             f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()}"
              f",{len(text.encode())}" for path, text in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{NAME.replace('-', '_')}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def venv(tmp_path):
    path = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    (tmp_path / "requirements.txt").write_text(f"{NAME}=={VERSION}\n", encoding="utf-8")
    return path


def install(venv: Path, **pip_settings: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_"))}
    env |= {"UV_CACHE_DIR": str(venv.parent / "uv-cache"), **pip_settings}
    return subprocess.run([str(INSTALL), str(venv), str(venv.parent / "requirements.txt")], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def imports(venv: Path) -> bool:
    module = NAME.replace("-", "_")
    return subprocess.run([str(venv / "bin" / "python"), "-c", f"import {module}; assert {module}.ANSWER == 42"],
                          check=False).returncode == 0


def test_a_package_only_pips_find_links_has_is_installed_and_without_them_it_is_refused(tmp_path, venv):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    refused = install(venv)
    assert refused.returncode != 0 and NAME in refused.stderr, refused.stderr
    assert not imports(venv)
    done = install(venv, PIP_FIND_LINKS=str(wheels))
    assert done.returncode == 0, done.stderr
    assert imports(venv)


def test_a_package_only_the_sites_index_has_is_installed_from_pip_conf(tmp_path, venv):
    # A PEP 503 simple index on loopback, named in a pip.conf as a site's mirror would be; the index's URL is on
    # no command line the script runs with.
    root = tmp_path / "index"
    (root / NAME).mkdir(parents=True)
    wheel = make_wheel(root / NAME)
    (root / NAME / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n', encoding="utf-8")
    (root / "index.html").write_text(f'<a href="{NAME}/">{NAME}</a>\n', encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nindex-url = http://127.0.0.1:{server.server_port}/\n", encoding="utf-8")
        done = install(venv, PIP_CONFIG_FILE=str(conf))
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert imports(venv)

"""What uv saves where a new machine builds its venvs, each way with an empty download cache of its own, in one run;
pip's time is the baseline and the figure is the ratio. Wall time and CPU time (user + system of every process the
install ran), since CI's cores are what a cold install competes for.

- A requirements file installed into a new venv with pip (as scripts/venv.sh did) and with
  scripts/install-requirements.sh (uv).
- ansible-test's bootstrap of a sanity test's venv, made without pip, 25 of them in a cold `scripts/sanity.sh`:
  ensurepip and a pip install of the pip it wants (the stand-in did that), against the stand-in's uv
  (tests/support/ansible_test_pip.py).

    .venv/bin/python benchmarks/venv_install.py                     # requirements.txt, the main job's venv
    .venv/bin/python benchmarks/venv_install.py tests/collection-tools-requirements.txt
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    wall, cpu = time.monotonic(), children_cpu()
    subprocess.run(command, env=env, check=True, cwd=REPO)
    return time.monotonic() - wall, children_cpu() - cpu


def install(installer: str, requirements: Path, folder: Path) -> tuple[float, float]:
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Empty caches of the installer's own: what a machine that never installed these pays.
    env = {**os.environ, "PIP_CACHE_DIR": str(folder / "pip-cache"), "UV_CACHE_DIR": str(folder / "uv-cache")}
    if installer == "pip":
        return timed([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)], env)
    return timed([str(REPO / "scripts" / "install-requirements.sh"), str(venv), str(requirements)], env)


def bootstrap(installer: str, pip: str, folder: Path) -> tuple[float, float]:
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(folder / "pip-cache"), "UV_CACHE_DIR": str(folder / "uv-cache")}
    python = str(venv / "bin" / "python")
    if installer == "pip":
        wall, cpu = timed([python, "-m", "ensurepip", "--default-pip"], env)
        more_wall, more_cpu = timed([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pip], env)
        return wall + more_wall, cpu + more_cpu
    (folder / "pip.txt").write_text(pip + "\n", encoding="utf-8")
    return timed([str(REPO / "scripts" / "install-requirements.sh"), str(venv), str(folder / "pip.txt")], env)


def compare(title: str, measure) -> None:
    print(title)
    results = {}
    for installer in ("pip", "uv"):
        with tempfile.TemporaryDirectory(prefix=f"venv-install-{installer}-") as folder:
            results[installer] = measure(installer, Path(folder))
        wall, cpu = results[installer]
        print(f"  {installer:>3}: {wall:6.1f}s wall, {cpu:6.1f}s CPU")
    (pip_wall, pip_cpu), (uv_wall, uv_cpu) = results["pip"], results["uv"]
    print(f"  uv against pip: {uv_wall / pip_wall:.3f} of the wall time, {uv_cpu / pip_cpu:.3f} of the CPU time")


def main(argv: list[str]) -> int:
    requirements = (REPO / (argv[0] if argv else "requirements.txt")).resolve()
    print(f"Python {sys.version.split()[0]}, an empty download cache for each install")
    compare(f"{requirements.relative_to(REPO)} into a new venv:",
            lambda installer, folder: install(installer, requirements, folder))
    # The pip ansible-core 2.21's ansible-test puts in a sanity venv on Python 3.12.
    compare("pip==25.2 into a venv without pip (ansible-test's bootstrap):",
            lambda installer, folder: bootstrap(installer, "pip==25.2", folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

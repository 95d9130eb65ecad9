"""The Docker Engine steps: build, import, save and inspect images, through the docker CLI.

Builds use the classic builder (DOCKER_BUILDKIT=0): it needs no buildx plugin, and FROM scratch
or FROM an image this Engine already has pulls nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .common import run

CLASSIC_BUILDER = {"DOCKER_BUILDKIT": "0"}


def exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode == 0


def build(part: str, tag: str, dockerfile: str, files: dict[str, Path | str], log: Path) -> str:
    """Build ``tag`` from ``dockerfile`` with ``files`` (name in the context -> a path to copy, or text)."""
    with tempfile.TemporaryDirectory(prefix=f"offline-{part}-") as context:
        for name, source in files.items():
            target = Path(context) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, Path):
                shutil.copy2(source, target)
            else:
                target.write_text(source)
        (Path(context) / "Dockerfile").write_text(dockerfile)
        run(part, ["docker", "build", "--quiet", "--tag", tag, context], log, env=CLASSIC_BUILDER)
    return tag


def import_tarball(part: str, tarball: Path, tag: str, changes: list[str], log: Path) -> str:
    argv = ["docker", "import"]
    for change in changes:
        argv += ["--change", change]
    run(part, argv + [str(tarball), tag], log)
    return tag


def save(part: str, image: str, tarball: Path, log: Path) -> Path:
    run(part, ["docker", "save", "--output", str(tarball), image], log)
    return tarball


def remove(image: str) -> None:
    subprocess.run(["docker", "image", "rm", image], capture_output=True, check=False)

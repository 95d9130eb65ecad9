"""A first-script image with another script in it, for the tests whose DAG run must print, raise or sleep."""

from __future__ import annotations

import uuid
from pathlib import Path


def push_script_image(docker_client, workdir: Path, base: str, repository: str, script: str) -> str:
    """``base`` with ``script`` as /app/first-script.py (what first_script's pod runs), as user 1001, pushed to
    ``repository`` (a cluster's registry); by digest."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "first-script.py").write_text(script)
    (workdir / "Dockerfile").write_text(f"FROM {base}\nCOPY first-script.py /app/first-script.py\nUSER 1001\n")
    tag = f"{repository}:variant-{uuid.uuid4().hex[:6]}"
    docker_client.images.build(path=str(workdir), tag=tag, rm=True)
    pushed = docker_client.images.push(tag)
    assert '"error"' not in pushed, pushed
    digest = docker_client.images.get_registry_data(tag).id
    docker_client.images.remove(tag)
    return f"{repository}@{digest}"

"""The Docker Engine steps: build, import, save and inspect images, through the docker CLI.

Builds use the classic builder (DOCKER_BUILDKIT=0): it needs no buildx plugin, and FROM scratch
or FROM an image this Engine already has pulls nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from . import image_reference
from .common import BuildFailed, run

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


def repo_digests(image: str) -> list[str]:
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", image],
                          capture_output=True, text=True, check=False)
    return json.loads(done.stdout or "[]") if done.returncode == 0 else []


def push(part: str, image: str, registry: str, log: Path) -> tuple[str, bool]:
    """Push ``image`` to ``registry`` under its own name and tag: (name:tag@digest, whether this call
    pushed). An image this Engine pushed there before, whose tag the registry still holds, is not
    pushed again."""
    built = image_reference.parse(image)
    # The last component of the path: a local build's "localhost/airflow" is "airflow" in the registry.
    name, tag = built.path.rsplit("/", 1)[-1], built.tag
    if not tag:
        raise BuildFailed(part, f"{image} has no tag to push it under")
    target = f"{registry}/{name}:{tag}"
    known = digest_in(image, f"{registry}/{name}")
    if known and registry_has(registry, name, tag, known):
        return f"{target}@{known}", False
    run(part, ["docker", "tag", image, target], log)
    run(part, ["docker", "push", "--quiet", target], log)
    pushed = digest_in(image, f"{registry}/{name}")
    if not pushed:
        raise BuildFailed(part, f"docker push {target} left no digest for it (log: {log})")
    return f"{target}@{pushed}", True


def digest_in(image: str, repository: str) -> str:
    """The digest this Engine knows ``image`` by in ``repository`` (registry/name), or ""."""
    return next((found.digest for found in map(image_reference.parse, repo_digests(image)) if found.name == repository),
                "")


def registry_has(registry: str, name: str, tag: str, digest: str) -> bool:
    """Whether the registry's ``name:tag`` is the manifest ``digest`` (plain HTTP: a loopback registry)."""
    request = urllib.request.Request(f"http://{registry}/v2/{name}/manifests/{tag}", method="HEAD", headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the registry we push to)
            return response.headers.get("Docker-Content-Digest") == digest
    except (urllib.error.URLError, OSError):
        return False


def remove(image: str) -> None:
    subprocess.run(["docker", "image", "rm", image], capture_output=True, check=False)

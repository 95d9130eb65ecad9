"""An offline Debian base image with Python, made with debootstrap and ``docker import``.

No image can be pulled on machines without internet, so the tests build their own base once per
machine (about a minute) and reuse it: the image stays in the Engine between sessions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import docker
from ansible_collections.airflow_k8s.platform.plugins.module_utils.image_reference import parse as parse_image

from .common import PartUnavailable, cache_lock

SUITE = "bookworm"
# Python with its whole standard library: the kind git server runs ``python3 -m http.server``.
PACKAGES = ("python3",)
# The tag names what is inside, so a machine holding an older build makes the new one.
BASE_IMAGE = f"airflow-k8s-test/debian-python:{SUITE}-{'-'.join(PACKAGES)}"


def ensure_base_image(client: docker.DockerClient) -> str:
    """Return the name of the base image, building it first if this Engine lacks it."""
    with cache_lock("base-image"):
        try:
            client.images.get(BASE_IMAGE)
            return BASE_IMAGE
        except docker.errors.ImageNotFound:
            pass
        _build(client)
    return BASE_IMAGE


def _build(client: docker.DockerClient) -> None:
    if not shutil.which("debootstrap"):
        raise PartUnavailable("debootstrap is not installed: apt-get install debootstrap")
    root = tempfile.mkdtemp(prefix="base-image-rootfs-")
    tarball = root + ".tar"
    try:
        argv = ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, root]
        # The mirror defaults to debootstrap's own; a site with a local mirror sets DEBOOTSTRAP_MIRROR.
        if os.environ.get("DEBOOTSTRAP_MIRROR"):
            argv.append(os.environ["DEBOOTSTRAP_MIRROR"])
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PartUnavailable(f"debootstrap failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
        subprocess.run(["tar", "-C", root, "-cf", tarball, "."], check=True)
        base = parse_image(BASE_IMAGE)
        client.api.import_image(src=tarball, repository=base.name, tag=base.tag)
        client.images.get(BASE_IMAGE)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if os.path.exists(tarball):
            os.unlink(tarball)

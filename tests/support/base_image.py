"""The Debian base image with Python the tests build images FROM (images/first-script's BASE_IMAGE), and run
where a container needs only Python: the offline build's python-base-image, which it debootstraps anyway for the
kind cluster's registry and git server. The tests made one of their own before, with a debootstrap of its own
(a minute of a new machine's cores while the offline build needed them)."""

from __future__ import annotations

from .offline import built


def ensure_base_image() -> str:
    """The image's name in the Docker Engine (made now, or taken from the build's cache)."""
    return built("python-base-image")["python-base-image"]

# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""Container image references, read the way the Docker Engine and containerd read them.

The one parser of the collection: the roles use it through the image_reference and image_run_id
filters, and the offline builder loads this file. Pure Python, so each of them can.

The grammar is the distribution project's (reference/regexp.go), which Docker, containerd and
Kubernetes share: ``[registry[:port]/]path[:tag][@algorithm:hex]``. The first path component is a
registry when it holds a dot or a colon, is ``localhost``, or has an uppercase letter; otherwise
the registry is Docker Hub's (``docker.io``) and a one-component path is under ``library/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
# Older clients write Docker Hub under this name; the Engine stores it as docker.io.
LEGACY_DEFAULT_REGISTRY = "index.docker.io"
OFFICIAL_NAMESPACE = "library"
NAME_TOTAL_LENGTH_MAX = 255

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = r"(?:%s(?:\.%s)*|\[[a-fA-F0-9:]+\])" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT)
REGISTRY = re.compile(r"^%s(?::[0-9]+)?$" % _HOST)
PATH = re.compile(r"^%s(?:/%s)*$" % (_PATH_COMPONENT, _PATH_COMPONENT))
TAG = re.compile(r"^[\w][\w.-]{0,127}$")
# The digests registries give: sha256 (every registry) and sha512, lowercase hex of their length.
DIGEST = re.compile(r"^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")


class ImageReferenceError(ValueError):
    """A reference that no registry would take; the message says why, in one line."""


@dataclass(frozen=True)
class ImageReference:
    """One image reference: each part as written, and the normalised repository Docker stores."""

    written: str
    #: The name as written, without tag and digest: what a chart's "repository" value takes.
    name: str
    #: The registry, host[:port]; docker.io when the reference names none.
    registry: str
    #: The path in the registry; under library/ for an official Docker Hub image.
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def repository(self) -> str:
        """registry/path, normalised: the same for ``busybox`` and ``docker.io/library/busybox``."""
        return "%s/%s" % (self.registry, self.path)

    @property
    def canonical(self) -> str:
        """The whole reference, normalised, with its tag and digest."""
        return self.repository + (":" + self.tag if self.tag else "") + ("@" + self.digest if self.digest else "")

    @property
    def pull(self) -> str:
        """What the Docker Engine's API pulls: name@digest when pinned (it refuses name:tag@digest),
        else name:tag, else the name (its latest)."""
        if self.digest:
            return "%s@%s" % (self.name, self.digest)
        return "%s:%s" % (self.name, self.tag) if self.tag else self.name

    def run_id(self, prefix: str = "image-") -> str:
        """The DAG run id of this image: the prefix and the digest's first 16 hex digits."""
        if not self.digest.startswith("sha256:"):
            raise ImageReferenceError("image reference '%s' is not pinned by a sha256 digest (...@sha256:<64 hex>)"
                                      % self.written)
        return prefix + self.digest[len("sha256:"):][:16]

    def as_dict(self) -> dict:
        return {"written": self.written, "name": self.name, "registry": self.registry, "path": self.path,
                "repository": self.repository, "tag": self.tag, "digest": self.digest,
                "canonical": self.canonical, "pull": self.pull}


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        return first, rest
    return "", name


def parse(reference) -> ImageReference:
    """Parse ``reference``, or raise ImageReferenceError saying what is wrong with it."""
    written = "" if reference is None else str(reference)
    if not written.strip():
        raise ImageReferenceError("the image reference is empty: give registry/name:tag or registry/name@sha256:...")
    if written != written.strip() or any(c.isspace() for c in written):
        raise ImageReferenceError("image reference '%s' holds white space" % written)
    rest, at, digest = written.partition("@")
    if at and not DIGEST.match(digest):
        raise ImageReferenceError("image reference '%s' has a malformed digest '%s': it must be sha256: and 64"
                                  " lowercase hex digits" % (written, digest))
    # A colon after the last slash starts the tag; one before it is a registry's port.
    name, tag = rest, ""
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        name, tag = rest[:colon], rest[colon + 1:]
        if not TAG.match(tag):
            raise ImageReferenceError("image reference '%s' has an invalid tag '%s': letters, digits, '_', '.', '-',"
                                      " at most 128, not starting with '.' or '-'" % (written, tag))
    if not name:
        raise ImageReferenceError("image reference '%s' names no repository" % written)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ImageReferenceError("image reference '%s...' is longer than %d characters before its tag"
                                  % (written[:40], NAME_TOTAL_LENGTH_MAX))
    registry, path = _split_registry(name)
    if registry and not REGISTRY.match(registry):
        raise ImageReferenceError("image reference '%s' has an invalid registry '%s' (host[:port])" % (written, registry))
    if path.lower() != path:
        # "Apache/Airflow" reads as registry "Apache" only because of its case: name what was meant.
        meant_hub = not any(c in registry for c in ".:") and registry != "localhost"
        raise ImageReferenceError("image reference '%s': the repository '%s' must be lowercase"
                                  % (written, name if meant_hub else path))
    if not PATH.match(path):
        raise ImageReferenceError("image reference '%s' has an invalid repository '%s': lowercase components of"
                                  " letters and digits, joined by '.', '_', '__' or '-', separated by '/'"
                                  % (written, path))
    if not registry and not tag and not digest and IMAGE_ID.match(path):
        raise ImageReferenceError("'%s' is an image id, not a reference: give the image's name" % written)
    if registry in ("", LEGACY_DEFAULT_REGISTRY):
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = "%s/%s" % (OFFICIAL_NAMESPACE, path)
    return ImageReference(written=written, name=name, registry=registry, path=path, tag=tag, digest=digest)

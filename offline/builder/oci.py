"""A Helm chart packaged and pushed to an OCI registry, as `helm package` and `helm push` do, over
the registry's HTTP API: the cluster stage fills its local registry before any helm is installed.

The package is reproducible (sorted entries, fixed times and owners), so the same chart always has
the same digest and a second push changes nothing.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import http.client
import io
import json
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from .common import BuildFailed

CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"
CONTENT_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        folder = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        candidates = parts[:-1] if folder else parts
        if fnmatch.fnmatch(relative, pattern) or any(fnmatch.fnmatch(part, pattern) for part in candidates):
            return True
    return False


def package(chart: Path) -> tuple[bytes, dict]:
    """(the .tgz Helm would make of ``chart``, its Chart.yaml), honouring .helmignore's plain patterns."""
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    helmignore = chart / ".helmignore"
    patterns = [line.strip() for line in helmignore.read_text().splitlines()
                if line.strip() and not line.startswith("#")] if helmignore.exists() else []
    archive = io.BytesIO()
    with gzip.GzipFile(fileobj=archive, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(chart.rglob("*")):
                relative = path.relative_to(chart).as_posix()
                if not path.is_file() or ignored(relative, patterns):
                    continue
                info = tarfile.TarInfo(f"{metadata['name']}/{relative}")
                data = path.read_bytes()
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
    return archive.getvalue(), metadata


def _request(method: str, url: str, body: bytes | None = None, content_type: str = "") -> http.client.HTTPResponse:
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    return urllib.request.urlopen(request, timeout=60)  # noqa: S310 (http or https to a registry we were given)


def _push_blob(base: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    try:
        _request("HEAD", f"{base}/blobs/{digest}")
        return digest  # the registry has it already
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
    location = _request("POST", f"{base}/blobs/uploads/").headers["Location"]
    if location.startswith("/"):
        location = base.split("/v2/")[0] + location
    separator = "&" if "?" in location else "?"
    _request("PUT", f"{location}{separator}digest={digest}", data, "application/octet-stream")
    return digest


def manifest_digest(base: str, tag: str) -> str:
    """The digest of the manifest ``tag`` points at in the registry, or "" when there is none."""
    request = urllib.request.Request(f"{base}/manifests/{tag}", method="HEAD", headers={"Accept": MANIFEST_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (a registry we were given)
            return response.headers.get("Docker-Content-Digest", "")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return ""
        raise


def push(chart: Path, registry: str, repository: str, scheme: str = "http") -> tuple[dict, bool]:
    """Push ``chart`` to ``registry``/``repository`` with its version as tag: (where it is, whether
    this call pushed it; a registry that holds the same package already is left alone)."""
    content, metadata = package(chart)
    base = f"{scheme}://{registry}/v2/{repository}"
    config = json.dumps(metadata, sort_keys=True).encode()
    try:
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": _push_blob(base, config), "size": len(config)},
            "layers": [{"mediaType": CONTENT_TYPE, "digest": _push_blob(base, content), "size": len(content)}],
            "annotations": {"org.opencontainers.image.title": metadata["name"],
                            "org.opencontainers.image.version": str(metadata["version"])},
        }
        body = json.dumps(manifest, sort_keys=True).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        pushed = manifest_digest(base, str(metadata["version"])) != digest
        if pushed:
            _request("PUT", f"{base}/manifests/{metadata['version']}", body, MANIFEST_TYPE)
    except (urllib.error.URLError, OSError) as error:
        raise BuildFailed("airflow-chart", f"can't push the chart to {registry}/{repository}: {error}") from None
    return {"chart": f"oci://{registry}/{repository}", "version": str(metadata["version"]), "digest": digest}, pushed

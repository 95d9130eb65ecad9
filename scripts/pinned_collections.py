"""Make every collection in collections/requirements.yml resolvable at its pinned version, with no Galaxy.

One the venv's `ansible` package bundles at that version is used where it is; any other is copied into
collections/ansible_collections/ (ansible.cfg's collections_path) from the `ansible` package on PyPI that
bundles it (tests/collections-requirements.txt names which), fetched once per machine into CACHE. Only
that collection's folder is copied: the rest of an older bundle must not shadow what the venv's ansible
brings. Idempotent; prints nothing when all is there. Run from the checkout by scripts/collections.sh:

    .venv/bin/python scripts/pinned_collections.py CACHE
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_COLLECTIONS = Path("collections")


def version_in(root: Path, name: str) -> str | None:
    manifest = root / "ansible_collections" / name.replace(".", "/") / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"] if manifest.exists() else None


def bundle(cache: Path, pin: str) -> Path:
    """The `ansible` package ``pin`` (ansible==X.Y.Z) unpacked in the cache, fetched from PyPI the first time."""
    folder = cache / pin.replace("==", "-")
    if not (folder / ".complete").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder), pin],
                       check=True, stdout=sys.stderr)
        (folder / ".complete").touch()
    return folder


def main(cache: Path) -> None:
    site = Path(next(path for path in sys.path if path.endswith("site-packages")))
    bundles = [line.strip() for line in Path("tests/collections-requirements.txt").read_text().splitlines()
               if re.match(r"^ansible==", line.strip())]
    for item in yaml.safe_load((PROJECT_COLLECTIONS / "requirements.yml").read_text())["collections"]:
        name, wanted = item["name"], item["version"]
        if wanted in (version_in(site, name), version_in(PROJECT_COLLECTIONS, name)):
            continue
        source = next((bundle(cache, pin) for pin in bundles if version_in(bundle(cache, pin), name) == wanted), None)
        if source is None:
            sys.exit(f"collections: {name} {wanted} is neither in the venv's ansible package nor in a bundle "
                     "tests/collections-requirements.txt names; add the `ansible` release that bundles it there")
        target = PROJECT_COLLECTIONS / "ansible_collections" / name.replace(".", "/")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source / "ansible_collections" / name.replace(".", "/"), target, symlinks=True)
        print(f"collections: {name} {wanted} from {source.name}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]))

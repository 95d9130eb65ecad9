#!/usr/bin/env bash
# Make every collection in collections/requirements.yml resolvable at its pinned version, with no
# Galaxy: one the venv's `ansible` package bundles at that version is used where it is; any other
# is copied into collections/ansible_collections/ (ansible.cfg's collections_path) from the
# `ansible` package on PyPI that bundles it (tests/collections-requirements.txt names which),
# fetched once per machine. Only that collection's folder is copied: the rest of an older bundle
# must not shadow what the venv's ansible brings. Idempotent; prints nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${AIRFLOW_K8S_TEST_CACHE:-$HOME/.cache/airflow_k8s_platform}"
.venv/bin/python - "$cache" <<'PY'
import json, pathlib, re, subprocess, sys, yaml
cache = pathlib.Path(sys.argv[1])
site = pathlib.Path(next(p for p in sys.path if p.endswith("site-packages")))
bundles = [line.strip() for line in pathlib.Path("tests/collections-requirements.txt").read_text().splitlines()
           if re.match(r"^ansible==", line.strip())]

def version_in(root: pathlib.Path, name: str):
    manifest = root / "ansible_collections" / name.replace(".", "/") / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"] if manifest.exists() else None

for item in yaml.safe_load(pathlib.Path("collections/requirements.yml").read_text())["collections"]:
    name, wanted = item["name"], item["version"]
    if wanted in (version_in(site, name), version_in(pathlib.Path("collections"), name)):
        continue
    for pin in bundles:
        bundle = cache / pin.replace("==", "-")
        if not (bundle / ".complete").exists():
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(bundle), pin],
                           check=True, stdout=sys.stderr)
            (bundle / ".complete").touch()
        if version_in(bundle, name) == wanted:
            target = pathlib.Path("collections/ansible_collections") / name.replace(".", "/")
            subprocess.run(["rm", "-rf", str(target)], check=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-R", str(bundle / "ansible_collections" / name.replace(".", "/")), str(target)],
                           check=True)
            print(f"collections: {name} {wanted} from {pin}", file=sys.stderr)
            break
    else:
        sys.exit(f"collections: {name} {wanted} is neither in the venv's ansible package nor in a bundle "
                 "tests/collections-requirements.txt names; add the `ansible` release that bundles it there")
PY

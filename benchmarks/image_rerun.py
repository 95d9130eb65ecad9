"""Second-run time over first-run time of the image role, and the image's size.

Starts its own registry on loopback and builds images/first-script on the offline base image
(from a fresh repository name, so the first run really builds and pushes), then runs the role
again on the unchanged context; then once more after dropping the local tags, as a new builder
would (it pulls the registry's image instead of building). Needs a running Docker Engine.

    .venv/bin/python benchmarks/image_rerun.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import docker_engine  # noqa: E402
from tests.support.ansible_run import run_playbook  # noqa: E402
from tests.support.base_image import ensure_base_image  # noqa: E402
from tests.support.registry import Registry  # noqa: E402

CONTEXT = str(REPO / "images" / "first-script")
ROLE = [{"name": "Build and push", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.image"}},
        {"name": "Show", "ansible.builtin.debug": {"msg": "{{ image_ref }} {{ image_size_bytes }}"}}]


def timed_run(variables):
    with tempfile.TemporaryDirectory() as workdir:
        started = time.monotonic()
        run = run_playbook(ROLE, Path(workdir), extra_vars=variables)
        elapsed = time.monotonic() - started
    if run.rc != 0:
        raise SystemExit(run.output)
    return elapsed, run


def main():
    client = docker_engine.connect()
    base = ensure_base_image()
    registry = Registry()
    name = "bench-" + uuid.uuid4().hex[:8]
    try:
        variables = {"image_context_dir": CONTEXT, "image_registry": registry.host, "image_name": name, "image_base": base,
                     "image_oci_version": name}  # a new label: the first run can't reuse a cached build
        first, _first_run = timed_run(variables)
        second, second_run = timed_run(variables)
        image_ref, size = second_run.result("Show")["msg"].split()
        docker_engine.drop_references(client, image_ref, registry.host)
        third, third_run = timed_run(variables)
        same_digest = third_run.result("Show")["msg"].split()[0] == image_ref
        print(f"first run  {first:6.2f} s (build + push)")
        print(f"second run {second:6.2f} s (unchanged context), changed tasks: {second_run.changed}")
        print(f"second/first ratio: {second / first:.3f}")
        print(f"new builder {third:5.2f} s (local tags dropped), changed tasks: {third_run.changed}, "
              f"same digest: {same_digest}; new-builder/first ratio: {third / first:.3f}")
        print(f"image {image_ref}: {int(size) / 1e6:.1f} MB on the offline Debian base "
              f"(base alone {client.images.get(base).attrs['Size'] / 1e6:.1f} MB)")
    finally:
        for image in client.images.list():
            for tag in image.tags:
                if tag.startswith(f"{registry.host}/"):
                    client.images.remove(tag)
        registry.stop()


if __name__ == "__main__":
    main()

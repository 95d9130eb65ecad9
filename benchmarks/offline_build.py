"""Cold build, warm rebuild, and nothing-to-Ready-node times of the offline kind cluster.

1. baseline: `go build std` with an empty Go build cache, a CPU-bound yardstick for this machine;
2. cold: offline/build.py (every target) with an empty cache folder and none of its images on the
   Engine (images a running cluster uses can't be removed and stay: their parts still rebuild);
3. warm: the same build again, with everything cached;
4. ready: the kind_cluster role from no cluster to a Ready node (kind create, registry, git server),
   with warm caches, then the cluster removed again.

Each figure is printed with its ratio to the baseline, since timings on shared machines are noisy.
Needs root, Go, a running Docker Engine and the project's .venv.

    .venv/bin/python benchmarks/offline_build.py            # all four
    .venv/bin/python benchmarks/offline_build.py --warm-only   # skip the cold build (minutes instead of ~15)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.ansible_run import run_playbook  # noqa: E402
from tests.support.common import free_port  # noqa: E402

PREFIX = "localhost/airflow-k8s-platform/"


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def remove_built_images() -> None:
    listed = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                            text=True, check=True).stdout.split()
    ours = [image for image in listed if image.startswith(PREFIX)]
    if ours:
        subprocess.run(["docker", "image", "rm", *ours], capture_output=True, check=False)


def build(cache: Path) -> tuple[float, dict]:
    elapsed, output = timed([sys.executable, str(REPO / "offline" / "build.py"), "--cache", str(cache)])
    return elapsed, json.loads(output)


def ready_node(cache: Path) -> float:
    name = "bench-" + uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as workdir:
        variables = {"kind_cluster_name": name, "kind_cluster_registry_name": f"{name}-registry",
                     "kind_cluster_git_server_name": f"{name}-git", "kind_cluster_registry_port": free_port(),
                     "kind_cluster_api_host_port": free_port(), "kind_cluster_state_dir": f"{workdir}/state",
                     "kind_cluster_kubeconfig": f"{workdir}/kubeconfig", "kind_cluster_install_dir": f"{workdir}/bin",
                     "kind_cluster_dags_dir": str(REPO / "dags"), "kind_cluster_offline_dir": str(REPO / "offline")}
        role = [{"name": "Cluster", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.kind_cluster"}}]
        env = {"AIRFLOW_K8S_OFFLINE_CACHE": str(cache)}
        started = time.monotonic()
        run = run_playbook(role, Path(workdir), extra_vars=variables, env=env, timeout=3600)
        elapsed = time.monotonic() - started
        run_playbook(role, Path(workdir), extra_vars={**variables, "kind_cluster_state": "absent"}, env=env)
    if run.rc != 0:
        raise SystemExit(run.failure or run.output[-3000:])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--warm-only", action="store_true", help="skip the cold build; reuse the default cache")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="go-std-") as gocache:
        baseline = timed(["go", "build", "std"], env={"GOCACHE": gocache, "GOFLAGS": ""})[0]
    print(f"baseline  go build std, empty build cache   {baseline:7.1f}s   1.0x", flush=True)

    cache_dir = Path(tempfile.mkdtemp(prefix="offline-bench-")) if not options.warm_only else None
    cache = cache_dir or Path.home() / ".cache" / "airflow_k8s_platform" / "offline"
    try:
        if cache_dir:
            remove_built_images()
            cold, report = build(cache)
            print(f"cold      offline/build.py, empty caches    {cold:7.1f}s  {cold / baseline:5.1f}x"
                  f"   ({len(report['built'])} parts made)", flush=True)
        warm, report = build(cache)
        print(f"warm      offline/build.py, nothing changed {warm:7.1f}s  {warm / baseline:5.1f}x"
              f"   ({len(report['built'])} parts made)", flush=True)
        ready = ready_node(cache)
        print(f"ready     kind_cluster role, no cluster to Ready node, warm caches {ready:7.1f}s"
              f"  {ready / baseline:5.1f}x", flush=True)
    finally:
        if cache_dir:
            shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The cluster stage from nothing (playbooks/cluster.yml: kind boots the node while the registry, git server and
database start and the mirror fills the registry), with the registry's cache volume (kind_cluster_registry_cache,
warmed by an untimed run first) against without it (each registry starting empty, as before), alternating in the same
run; and the mirror's push, which the cache turns from compressing 600 MB into a check that the registry has it.

The cluster is called "bench" with host ports of its own, so a demo cluster is left alone; it is removed after each
run. Needs the same as `make demo`, with the offline build done (warm caches).

    .venv/bin/python benchmarks/registry_cache.py [--pairs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_flow import playbook, task_seconds  # noqa: E402

from tests.support.common import free_port  # noqa: E402

MIRROR_TASK = "Build the Airflow stack and push it to the cluster's registry"
CACHE = "airflow_k8s_platform-registry-cache"


def cluster_stage(variables: Path, cache: str) -> tuple[float, float]:
    """One cluster stage from nothing, then the cluster removed: (its seconds, the mirror task's seconds)."""
    try:
        elapsed, output = playbook("playbooks/cluster.yml", variables, "-e", f"kind_cluster_registry_cache={cache}")
        return elapsed, task_seconds(output, MIRROR_TASK)
    finally:
        playbook("playbooks/cluster.yml", variables, "-e", "kind_cluster_state=absent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    pairs = parser.parse_args().pairs
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as workdir:
        variables = Path(workdir) / "vars.yml"
        variables.write_text(yaml.safe_dump({"kind_cluster_name": "bench", "kind_cluster_registry_port": free_port(),
                                             "kind_cluster_api_host_port": free_port()}))
        cluster_stage(variables, CACHE)  # warms the cache, as any earlier cluster on this Engine would have
        runs: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
        for index in range(pairs):
            for name, cache in (("without", ""), ("with", CACHE)):
                runs[name].append(cluster_stage(variables, cache))
                stage, mirror = runs[name][-1]
                print(f"pair {index + 1}, {name:<7} the cache: cluster stage {stage:6.1f}s, mirror {mirror:5.1f}s",
                      flush=True)
    medians = {name: (statistics.median(s for s, _m in samples), statistics.median(m for _s, m in samples))
               for name, samples in runs.items()}
    for name, (stage, mirror) in medians.items():
        print(f"median, {name:<7} the registry's cache: cluster stage {stage:6.1f}s, mirror {mirror:5.1f}s")
    print(f"ratio with/without: cluster stage {medians['with'][0] / medians['without'][0]:.2f}, "
          f"mirror {medians['with'][1] / medians['without'][1]:.2f}")


if __name__ == "__main__":
    main()

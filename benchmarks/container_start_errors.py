"""How often a container fails to start on a busy host, by the cgroup driver of the kind node (issue 22).

On cgroup v1, runc's systemd driver freezes each new container while it applies its device rules;
when the host is busy the freeze can time out ("unable to freeze", exit 128) and the container only
starts on its next try. Two kind clusters of their own, one per driver (kind_cluster_cgroup_driver),
take turns starting the same Deployment, PODS pods of three containers each with a small CPU limit
(as the chart's sidecars have), while busy loops keep every core of the host loaded. Prints, per
round and per driver, how many containers restarted and how many start errors the kubelet
reported; the systemd driver is the baseline. Needs what `make demo` needs; both clusters are
removed at the end.

    .venv/bin/python benchmarks/container_start_errors.py [ROUNDS] [PODS]
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import kubernetes

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.common import wait_for  # noqa: E402
from tests.support.kind import Cluster  # noqa: E402

DRIVERS = ("systemd", "cgroupfs")


def busy() -> None:
    while True:
        pass


def deployment(image: str, pods: int) -> dict:
    # Each container imports a large Python package first: starts that read and compute, as Airflow's do.
    command = ["bash", "-c", "python -c 'import airflow.models' || true; exec sleep 3600"]
    resources = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "20m", "memory": "256Mi"}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "storm"},
            "spec": {"replicas": pods, "selector": {"matchLabels": {"app": "storm"}},
                     "template": {"metadata": {"labels": {"app": "storm"}}, "spec": {
                         "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": name, "image": image, "command": command, "resources": resources}
                                        for name in ("a", "b", "c")]}}}}


def storm(cluster: Cluster, image: str, pods: int) -> tuple[int, int, int]:
    """(containers, containers that restarted, start errors the kubelet reported) for one rollout."""
    apps = kubernetes.client.AppsV1Api(cluster.core.api_client)
    apps.create_namespaced_deployment("default", deployment(image, pods))

    def all_running():
        listed = cluster.core.list_namespaced_pod("default", label_selector="app=storm").items
        statuses = [status for pod in listed for status in pod.status.container_statuses or []]
        return listed if len(statuses) == 3 * pods and all(status.state.running for status in statuses) else None

    listed = wait_for("the storm's containers to run", all_running, timeout=900, interval=3)
    restarted = sum(status.restart_count > 0 for pod in listed for status in pod.status.container_statuses)
    events = cluster.core.list_namespaced_event("default", field_selector="reason=Failed").items
    start_errors = sum(event.count or 1 for event in events if "StartError" in (event.message or "")
                       or "failed to create containerd task" in (event.message or ""))
    apps.delete_namespaced_deployment("storm", "default")
    wait_for("the storm's pods to go",
             lambda: not cluster.core.list_namespaced_pod("default", label_selector="app=storm").items,
             timeout=300, interval=2)
    cluster.core.delete_collection_namespaced_event("default")
    return 3 * pods, restarted, start_errors


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    pods = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory(prefix="bench-start-") as workdir:
        for driver in DRIVERS:
            (Path(workdir) / driver).mkdir()
        clusters = {driver: Cluster(Path(workdir) / driver, prefix=f"bench-{driver}") for driver in DRIVERS}
        loops = []
        try:
            for driver, cluster in clusters.items():
                run = cluster.converge(kind_cluster_cgroup_driver=driver)
                if run.rc != 0:
                    raise SystemExit(f"the {driver} cluster did not come up: {run.failure or run.output[-3000:]}")
            mirror = clusters["systemd"].published["mirror"]
            image = {driver: (cluster.published["mirror"]["airflow_image"] if mirror else "apache/airflow:3.3.2")
                     for driver, cluster in clusters.items()}
            loops = [multiprocessing.Process(target=busy, daemon=True) for _core in range(multiprocessing.cpu_count())]
            for loop in loops:
                loop.start()
            totals = {driver: [0, 0, 0] for driver in DRIVERS}
            print(f"{rounds} rounds of {pods} pods x 3 containers (CPU limit 20m), {len(loops)} busy loops on the host",
                  flush=True)
            for number in range(1, rounds + 1):
                for driver, cluster in clusters.items():
                    started = time.monotonic()
                    result = storm(cluster, image[driver], pods)
                    totals[driver] = [total + part for total, part in zip(totals[driver], result)]
                    print(f"round {number}  {driver:8}  {result[1]:3} of {result[0]} containers restarted, "
                          f"{result[2]} start errors  ({time.monotonic() - started:.0f}s)", flush=True)
            base = totals["systemd"][1] / totals["systemd"][0]
            for driver in DRIVERS:
                containers, restarted, errors = totals[driver]
                share = restarted / containers
                ratio = f"{share / base:.2f}" if base else "n/a"
                print(f"{driver:8}  {restarted} of {containers} containers restarted ({100 * share:.1f}%), "
                      f"{errors} start errors; ratio to systemd {ratio}", flush=True)
        finally:
            for loop in loops:
                loop.terminate()
            for cluster in clusters.values():
                cluster.destroy()


if __name__ == "__main__":
    main()

"""An Airflow upgrade through the airflow role (3.2 to 3.3, pins.yml's previous_airflow_image to airflow_image):
how long the role's run takes, how long its backup and its rollout wait take, and for how many seconds the API's
/api/v2/monitor/health did not answer 200 (polled every second, from the run's start to its end). The baseline, in
the same run on the same release: a rollout of a new image of the same Airflow (no backup, no migration), timed and
polled the same way. And the rollback of an upgrade that does not become healthy (its scheduler exits at once): from
the role naming the first failing pod to the release healthy again on the Airflow before, its database restored.

Makes a kind cluster of its own (tests/support/kind.py, with the offline build done: warm caches); each pair installs
the previous Airflow on a new database (untimed), fails an upgrade (rolled back), upgrades, rolls out a new image, and
uninstalls. Removes the cluster at the end.

    .venv/bin/python benchmarks/airflow_upgrade.py [--pairs 2]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import docker
import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.ansible_run import PlaybookRun, run_playbook  # noqa: E402
from tests.support.common import REPO_ROOT  # noqa: E402
from tests.support.helm import ensure_helm  # noqa: E402
from tests.support.kind import Cluster, cluster_of_its_own  # noqa: E402
from tests.support.offline import built  # noqa: E402

ROLE = {"name": "Airflow", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow"}}
PINS = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())["offline"]
AIRFLOW, PREVIOUS = PINS["airflow_image"]["version"], PINS["previous_airflow_image"]["version"]
BACKUP_TASK = "airflow_k8s.platform.airflow : Wait for the database job, and stop at a pod that can't start"
STUCK_TASK = "airflow_k8s.platform.airflow : Stop, naming the first container (or pod) that can't start"
BROKEN_SCHEDULER = {"scheduler": {"args": ["bash", "-c", "echo scheduler broken on purpose; exit 3"]}}
WAIT_TASK = "airflow_k8s.platform.airflow : Wait for the rollouts, and stop at the first container that can't start"


class HealthPoller:
    """GET /api/v2/monitor/health every second in a thread; counts the polls that did not answer 200."""

    def __init__(self, url: str):
        self.url, self.failed, self.polls, self._stop = url + "/api/v2/monitor/health", 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                ok = requests.get(self.url, timeout=1).status_code == 200
            except requests.RequestException:
                ok = False
            self.polls += 1
            self.failed += 0 if ok else 1
            self._stop.wait(max(0.0, 1 - (time.monotonic() - started)))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join()


def task_seconds(run: PlaybookRun, name: str) -> float:
    """How long the task ``name`` took, from the json callback's times; 0 when it did not run."""
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    task = next((task for task in run.tasks if task["name"] == name and not task["result"].get("skipped")), None)
    return (at(task["duration"]["end"]) - at(task["duration"]["start"])).total_seconds() if task else 0.0


def rollback_seconds(run: PlaybookRun) -> float:
    """From the end of the task that named the first failing pod to the end of the rollback's last task."""
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    named = next(task for task in run.tasks if task["name"] == STUCK_TASK and task["result"].get("failed"))
    return (at(run.tasks[-1]["duration"]["end"]) - at(named["duration"]["end"])).total_seconds()


def deploy(cluster: Cluster, workdir: Path, image: str, version: str, database_url: str,
           fails: bool = False, **extra) -> tuple[float, PlaybookRun, int]:
    """The role's run: (seconds, the run, seconds of polls without a 200 during it)."""
    published = cluster.published
    variables = {"airflow_namespace": "bench", "airflow_helm_binary": str(ensure_helm()),
                 "airflow_kubeconfig": published["kubeconfig"], "airflow_kube_context": published["kube_context"],
                 "airflow_git_repo": published["git_repo_url"], "airflow_git_depth": 0,
                 "airflow_database_url": database_url,
                 "airflow_mirror": {**published["mirror"], "airflow_image": image}, "airflow_image_tag": version,
                 "airflow_api_nodeport_url": published["api_url"], **extra}
    workdir.mkdir(parents=True, exist_ok=True)
    with HealthPoller(published["api_url"]) as poller:
        started = time.monotonic()
        run = run_playbook([ROLE], workdir, extra_vars=variables, timeout=1800)
        elapsed = time.monotonic() - started
    if (run.rc != 0) != fails:
        raise SystemExit(f"the role {'did not fail' if fails else 'failed'}: {run.failure or run.output[-3000:]}")
    return elapsed, run, poller.failed


def retagged(image: str) -> str:
    """The same Airflow with one more label: a new digest, so the release rolls out without a version change."""
    client = docker.from_env()
    repository = image.split("@")[0].rsplit(":", 1)[0]
    client.images.pull(image)
    tag = "bench-" + uuid.uuid4().hex[:6]
    client.images.build(fileobj=io.BytesIO(f"FROM {image}\nLABEL bench={tag}\n".encode()), tag=f"{repository}:{tag}",
                        rm=True)
    client.images.push(repository, tag=tag)
    return f"{repository}:{tag}@{client.images.get_registry_data(f'{repository}:{tag}').id}"


def uninstall(cluster: Cluster) -> None:
    subprocess.run([str(ensure_helm()), "uninstall", "airflow", "--namespace", "bench", "--wait", "--kubeconfig",
                    cluster.published["kubeconfig"]], check=True, capture_output=True, timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2)
    pairs = parser.parse_args().pairs
    with cluster_of_its_own("bench-upgrade") as cluster:
        workdir = cluster.tmp_path
        previous = built("previous-airflow-image", push_to=cluster.published["registry"])["previous-airflow-image"]
        current = cluster.published["mirror"]["airflow_image"]
        results: dict[str, list[tuple[float, float, float, int]]] = {"upgrade": [], "new image": []}
        rollbacks: list[tuple[float, float, int]] = []
        for index in range(pairs):
            database = cluster.create_database("bench_" + uuid.uuid4().hex[:6])
            deploy(cluster, workdir / f"install-{index}", previous, PREVIOUS, database)  # untimed
            elapsed, run, down = deploy(cluster, workdir / f"broken-{index}", current, AIRFLOW, database,
                                        fails=True, airflow_extra_values=BROKEN_SCHEDULER)
            rollbacks.append((elapsed, rollback_seconds(run), down))
            print(f"pair {index + 1}, rollback : role {elapsed:6.1f}s, first failing pod to healthy again "
                  f"{rollbacks[-1][1]:5.1f}s, API not answering 200 for {down}s", flush=True)
            elapsed, run, down = deploy(cluster, workdir / f"upgrade-{index}", current, AIRFLOW, database)
            results["upgrade"].append((elapsed, task_seconds(run, BACKUP_TASK), task_seconds(run, WAIT_TASK), down))
            elapsed, run, down = deploy(cluster, workdir / f"image-{index}", retagged(current), AIRFLOW, database)
            results["new image"].append((elapsed, task_seconds(run, BACKUP_TASK), task_seconds(run, WAIT_TASK), down))
            for name, samples in results.items():
                run, backup, wait, down = samples[-1]
                print(f"pair {index + 1}, {name:<9}: role {run:6.1f}s (backup {backup:4.1f}s, rollout wait "
                      f"{wait:5.1f}s), API not answering 200 for {down}s", flush=True)
            uninstall(cluster)
    medians = {name: [statistics.median(sample[i] for sample in samples) for i in range(4)]
               for name, samples in results.items()}
    for name, (run, backup, wait, down) in medians.items():
        print(f"median, {name:<9}: role {run:6.1f}s (backup {backup:4.1f}s, rollout wait {wait:5.1f}s), API not "
              f"answering 200 for {down:.0f}s")
    print(f"median, rollback : role {statistics.median(r[0] for r in rollbacks):6.1f}s, first failing pod to healthy "
          f"again {statistics.median(r[1] for r in rollbacks):5.1f}s, API not answering 200 for "
          f"{statistics.median(r[2] for r in rollbacks):.0f}s")
    print(f"upgrade {PREVIOUS} -> {AIRFLOW} against a new image of the same Airflow: role "
          f"{medians['upgrade'][0] / medians['new image'][0]:.2f}x, API down "
          f"{medians['upgrade'][3]:.0f}s against {medians['new image'][3]:.0f}s")


if __name__ == "__main__":
    main()

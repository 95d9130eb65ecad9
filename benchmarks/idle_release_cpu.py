"""What an idle Airflow release costs in CPU on a kind node, by pod, and how much of it is the chart's exec liveness
probes (`airflow jobs check` every 60 s in the scheduler, the triggerer and the DAG processor: a Python start each).
The cluster tests are CPU-bound on a 2-core host (issue 28: two clusters side by side took ~1.7 times as long each),
so a release left running while other tests work is CI time.

Makes a kind cluster of its own (tests/support/kind.py; warm caches), samples the node's CPU with nothing installed
(the baseline, same run), installs the release with the airflow role, lets it settle, samples again, then runs each
probe's command once in its container and times its CPU. Reads the node's cgroups (v1 or v2) from the host, so it
runs as root beside the Docker Engine. Removes the cluster at the end.

    .venv/bin/python benchmarks/idle_release_cpu.py [--window 180]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
from pathlib import Path

import docker
import kubernetes
import kubernetes.stream

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.ansible_run import run_playbook  # noqa: E402
from tests.support.helm import ensure_helm  # noqa: E402
from tests.support.kind import cluster_of_its_own  # noqa: E402

ROLE = {"name": "Airflow", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow"}}
NAMESPACE = "idle"


def node_cgroup(container_id: str) -> Path:
    """The node container's CPU accounting folder: cgroup v1's cpuacct controller, or the v2 unified tree."""
    for pattern in (f"/sys/fs/cgroup/cpuacct/docker/{container_id}",
                    f"/sys/fs/cgroup/cpu,cpuacct/docker/{container_id}",
                    f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope"):
        if Path(pattern).is_dir():
            return Path(pattern)
    raise SystemExit(f"no cgroup folder for the node container {container_id[:12]}")


def cpu_seconds(folder: Path) -> float:
    if (folder / "cpuacct.usage").exists():
        return int((folder / "cpuacct.usage").read_text()) / 1e9
    usage = re.search(r"^usage_usec (\d+)", (folder / "cpu.stat").read_text(), re.MULTILINE)
    return int(usage.group(1)) / 1e6


def pod_folders(node: Path) -> dict[str, Path]:
    """Pod uid -> its cgroup folder under the node's (kubepods/<qos>/pod<uid>, or the systemd driver's slices)."""
    found = {}
    for root, dirs, _files in os.walk(node):
        for name in dirs:
            match = re.fullmatch(r"(?:kubepods-\w+-)?pod([0-9a-f_-]{32,36})(?:\.slice)?", name)
            if match:
                found[match.group(1).replace("_", "-")] = Path(root) / name
        if root.count(os.sep) - str(node).count(os.sep) >= 3:
            dirs[:] = []
    return found


def sample(core: kubernetes.client.CoreV1Api, node: Path, window: float) -> dict[str, float]:
    """Percent of one core each pod (namespace/name) and the whole node used over ``window`` seconds."""
    pods = {pod.metadata.uid: f"{pod.metadata.namespace}/{pod.metadata.name}"
            for pod in core.list_pod_for_all_namespaces().items}
    folders = pod_folders(node)

    def read() -> dict[str, float]:
        return {"node, all of it": cpu_seconds(node),
                **{pods.get(uid, f"static pod {uid[:8]}"): cpu_seconds(folder) for uid, folder in folders.items()}}
    before, started = read(), time.monotonic()
    time.sleep(window)
    after, elapsed = read(), time.monotonic() - started
    return {name: (after[name] - before[name]) / elapsed * 100 for name in after if name in before}


def probe_cpu(core: kubernetes.client.CoreV1Api, pod: kubernetes.client.V1Pod) -> tuple[float, int]:
    """The CPU seconds (user + system) one run of the pod's first container's exec liveness probe takes, and its
    period."""
    container = pod.spec.containers[0]
    probe = container.liveness_probe
    script = f"{shlex.join(probe._exec.command)} >/dev/null 2>&1; times"
    output = kubernetes.stream.stream(core.connect_get_namespaced_pod_exec, pod.metadata.name, NAMESPACE,
                                      container=container.name, command=["bash", "-c", script], stderr=True,
                                      stdout=True, stdin=False, tty=False)
    # `times`: the shell's own user/system, then its children's (the probe) on the second line.
    children = output.strip().splitlines()[-1].split()
    durations = (re.fullmatch(r"(\d+)m([\d.]+)s", part).groups() for part in children)
    seconds = sum(int(minutes) * 60 + float(rest) for minutes, rest in durations)
    return seconds, probe.period_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=180, help="seconds each sample lasts (at least 120)")
    window = parser.parse_args().window
    if window < 120:
        # The probes run every 60 s: a shorter sample holds zero or one of each, and their share means nothing
        # (a 20 s window measured 6.7% for the pods and 11.3% for their probes).
        parser.error("--window must be at least 120 s: the probes run once a minute")
    with cluster_of_its_own("bench-idle") as cluster:
        published = cluster.published
        core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(published["kubeconfig"]))
        node = node_cgroup(docker.from_env().containers.get(f"{cluster.name}-control-plane").id)
        time.sleep(30)  # the node's own start settles
        empty = sample(core, node, window)
        variables = {"airflow_namespace": NAMESPACE, "airflow_helm_binary": str(ensure_helm()),
                     "airflow_kubeconfig": published["kubeconfig"], "airflow_kube_context": published["kube_context"],
                     "airflow_git_repo": published["git_repo_url"], "airflow_git_depth": 0,
                     "airflow_database_url": published["database_url"], "airflow_mirror": published["mirror"],
                     "airflow_api_nodeport_url": published["api_url"]}
        run = run_playbook([ROLE], cluster.tmp_path, extra_vars=variables, timeout=1800)
        if run.rc != 0:
            raise SystemExit(f"the install failed: {run.failure}")
        time.sleep(60)  # first DAG parse, the scheduler's first loops
        idle = sample(core, node, window)
        probes = {}
        for pod in core.list_namespaced_pod(NAMESPACE).items:
            probe = pod.spec.containers[0].liveness_probe
            if probe is not None and probe._exec is not None:
                probes[f"{NAMESPACE}/{pod.metadata.name}"] = probe_cpu(core, pod)
    print(f"empty node (baseline): {empty['node, all of it']:5.1f}% of a core over {window:.0f}s")
    print(f"node with an idle release: {idle['node, all of it']:5.1f}% of a core "
          f"({idle['node, all of it'] / empty['node, all of it']:.2f}x the empty node)")
    release = {name: share for name, share in idle.items() if name.startswith(f"{NAMESPACE}/")}
    for name, share in sorted(release.items(), key=lambda item: -item[1]):
        probe = probes.get(name)
        print(f"  {share:5.1f}%  {name}" + (f"  (its liveness probe: {probe[0]:.2f}s of CPU every {probe[1]}s ="
                                            f" {probe[0] / probe[1] * 100:.1f}%)" if probe else ""))
    probe_share = sum(seconds / period * 100 for seconds, period in probes.values())
    total = sum(release.values())
    print(f"the release's pods: {total:.1f}% of a core, of which the exec liveness probes {probe_share:.1f}% "
          f"({probe_share / total:.2f})")


if __name__ == "__main__":
    main()

"""A kind cluster made by the kind_cluster role for one test module: its own name, free host ports,
files in the module's temporary folder. On a machine without internet, what the role builds
(offline/build.py) is cached, so a cluster takes well under a minute once the first build is done."""

from __future__ import annotations

import contextlib
import functools
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import kubernetes

from .ansible_run import PlaybookRun, run_playbook
from .common import REPO_ROOT, free_port, wait_for

ROLE = {"name": "Kind cluster", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.kind_cluster"}}


class Cluster:
    def __init__(self, tmp_path: Path, prefix: str = "it"):
        self.name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        self.tmp_path = tmp_path
        self.variables = {
            "kind_cluster_name": self.name,
            "kind_cluster_registry_port": free_port(),
            "kind_cluster_api_host_port": free_port(),
            "kind_cluster_state_dir": str(tmp_path / "state"),
            "kind_cluster_kubeconfig": str(tmp_path / "kubeconfig"),
            "kind_cluster_install_dir": str(tmp_path / "bin"),
            "kind_cluster_dags_dir": str(REPO_ROOT / "dags"),
            "kind_cluster_offline_dir": str(REPO_ROOT / "offline"),
        }
        self.published: dict = {}

    def converge(self, **extra) -> PlaybookRun:
        # A first run on a machine with empty caches builds everything: allow for it.
        # What the role publishes for the later stages (kind_cluster_published), read back after a converge.
        show = {"name": "Published", "ansible.builtin.debug": {"msg": "{{ kind_cluster_published }}"},
                "when": "kind_cluster_state | default('present') == 'present'"}
        run = run_playbook([ROLE, show], self.tmp_path, extra_vars={**self.variables, **extra}, timeout=3600)
        if run.rc == 0 and extra.get("kind_cluster_state", "present") == "present":
            self.published = run.result("Published")["msg"]
        return run

    def destroy(self) -> PlaybookRun:
        return self.converge(kind_cluster_state="absent")

    def create_database(self, name: str) -> str:
        """A database of its own on the cluster's PostgreSQL (an install that must not share the default one);
        its URL."""
        done = docker.from_env().containers.get(f"{self.name}-postgres").exec_run(
            ["psql", "-U", "airflow", "-d", "airflow", "-c", f"CREATE DATABASE {name}"])
        assert done.exit_code == 0, done.output
        return self.published["database_url"].rsplit("/", 1)[0] + "/" + name

    @functools.cached_property
    def core(self) -> kubernetes.client.CoreV1Api:
        return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(self.variables[
            "kind_cluster_kubeconfig"]))

    def run_pod(self, spec: dict, timeout: float = 180, namespace: str = "default") -> str:
        """Create a pod, wait until it ends, return its log; fail with its status unless it succeeded."""
        name = spec["metadata"]["name"]
        self.core.create_namespaced_pod(namespace, spec)

        def ended():
            pod = self.core.read_namespaced_pod(name, namespace)
            return pod if pod.status.phase in ("Succeeded", "Failed") else None

        pod = wait_for(f"pod {name}", ended, timeout=timeout, interval=1)
        log = self.core.read_namespaced_pod_log(name, namespace)
        assert pod.status.phase == "Succeeded", f"{pod.status}\nlog:\n{log}"
        return log


@contextlib.contextmanager
def cluster_of_its_own(prefix: str) -> Iterator[Cluster]:
    """For a script (a benchmark): a kind cluster in a temporary folder, up on entry, removed on exit. One that does
    not come up ends the script with the role's reason."""
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as workdir:
        cluster = Cluster(Path(workdir), prefix=prefix)
        try:
            up = cluster.converge()
            if up.rc != 0:
                raise SystemExit(f"no cluster: {up.failure}")
            yield cluster
        finally:
            cluster.destroy()

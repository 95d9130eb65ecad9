"""The demo's cluster as tests see it: `make demo` (scripts/demo.sh) run once per session on a kind
cluster of its own ("demo-test", free host ports), so a user's `make demo` cluster is left alone, and
what the demo printed (address, password command, teardown command) read back from its output.

test_make_demo checks what a new user sees; the fault tests break things on the same cluster, since
a working Airflow with the first_script DAG and a pushed image is what they start from."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import kubernetes
import requests
import yaml

from .common import REPO_ROOT, VENV_BIN, free_port

NAME = "demo-test"
NAMESPACE = "airflow"


def shell(command: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
                                            "ANSIBLE_NOCOLOR": "1"})


def printed(output: str, label: str) -> str:
    """The value after "<label>: " in the demo's "Say where to look next" message."""
    block = output.split("TASK [Say where to look next]", 1)[-1].split("\n\n", 1)[0]
    lines = yaml.safe_load(textwrap.dedent(block.split("=>", 1)[1]))["msg"]
    value = next((line.split(": ", 1)[1] for line in lines if line.startswith(label + ": ")), None)
    assert value, f"the demo did not print '{label}'"
    return value


def recap_changed(output: str) -> int:
    return int(re.findall(r"localhost\s+: ok=\d+\s+changed=(\d+)", output)[-1])


def changed_tasks(output: str) -> list[str]:
    """The names of the tasks that reported a change, from ansible-playbook's default output."""
    names, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):].rsplit("]", 1)[0]
        elif line.startswith("changed:"):
            names.append(task)
    return names


@dataclass
class Demo:
    first: subprocess.CompletedProcess  # the first scripts/demo.sh run
    variables: Path  # its extra vars file: the cluster's name and host ports
    # The containers in the demo's namespace that had restarted when the first run ended ("pod/container": count),
    # read then, before any test restarts something on purpose; None when the first run failed.
    first_restarts: dict[str, int] | None

    def run(self, command: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        """A command with the demo's variables added, as a user who followed the printed hints would."""
        return shell(f"{command} -e @{self.variables}", timeout=timeout)

    @property
    def ui(self) -> str:
        assert self.first.returncode == 0, "the demo did not deploy: " + self.first.stdout[-3000:]
        return printed(self.first.stdout, "Airflow UI").split()[0]

    @cached_property
    def password(self) -> str:
        """The admin's password, by the command the demo printed; no test here changes it."""
        return shell(printed(self.first.stdout, "The password"), timeout=120).stdout.strip()

    def api(self) -> requests.Session:
        """An API session logged in as the admin."""
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + requests.post(
            f"{self.ui}/auth/token", json={"username": "admin", "password": self.password},
            timeout=30).json()["access_token"]
        return session

    @cached_property
    def image(self) -> str:
        """The image reference (by digest) the demo's own run used."""
        run_id = printed(self.first.stdout, "This run").rsplit("/", 1)[-1]
        return self.api().get(f"{self.ui}/api/v2/dags/first_script/dagRuns/{run_id}",
                              timeout=30).json()["conf"]["image"]

    def core(self) -> kubernetes.client.CoreV1Api:
        return core()


def core() -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(
        str(Path.home() / ".kube" / f"kind-{NAME}"), context=f"kind-{NAME}"))


def restarts() -> dict[str, int]:
    """The containers in the demo's namespace that restarted, and how often."""
    pods = core().list_namespaced_pod(NAMESPACE).items
    return {f"{pod.metadata.name}/{status.name}": status.restart_count for pod in pods
            for status in (pod.status.init_container_statuses or []) + (pod.status.container_statuses or [])
            if status.restart_count}


def start_demo(workdir: Path) -> Demo:
    variables = workdir / "vars.yml"
    variables.write_text(yaml.safe_dump({"kind_cluster_name": NAME, "kind_cluster_registry_port": free_port(),
                                         "kind_cluster_api_host_port": free_port()}))
    first = shell(f"scripts/demo.sh -e @{variables}")
    # After a deploy that succeeded the pods must be readable: a failure to read them is the session's error.
    return Demo(first, variables, restarts() if first.returncode == 0 else None)


def remove_demo(demo: Demo) -> None:
    shell(f"ansible-playbook playbooks/cluster.yml -i inventories/kind -e @{demo.variables} "
          "-e kind_cluster_state=absent")

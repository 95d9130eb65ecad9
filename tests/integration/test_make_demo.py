"""What a new user sees: `make demo` (scripts/demo.sh, which make runs) on a kind cluster from
nothing, ending with the pod's output and where to look; a second run that changes nothing; a
real browser that logs in at the printed address with the printed password command and sees the
run succeeded; and the printed teardown command leaving nothing behind.

The demo runs on a cluster of its own ("demo-test", free host ports) so a user's `make demo`
cluster is left alone: the same variables go to the teardown command the demo prints."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import kubernetes
import pytest
import requests
import yaml

from tests.support.ansible_run import start_playbook
from tests.support.browser import run_is_shown_successful
from tests.support.common import REPO_ROOT, VENV_BIN, free_port, wait_for

NAME = "demo-test"


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


@pytest.fixture(scope="module")
def demo(tmp_path_factory, docker_client):
    variables = tmp_path_factory.mktemp("demo") / "vars.yml"
    variables.write_text(yaml.safe_dump({"kind_cluster_name": NAME, "kind_cluster_registry_port": free_port(),
                                         "kind_cluster_api_host_port": free_port()}))
    first = shell(f"scripts/demo.sh -e @{variables}")
    try:
        yield first, variables
    finally:
        shell(f"ansible-playbook playbooks/cluster.yml -i inventories/kind -e @{variables} -e kind_cluster_state=absent")


def test_the_demo_ends_with_the_pods_output(demo):
    first = demo[0]
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
    assert "Hello from kubernetes!!!" in first.stdout
    assert "User id: 1001" in first.stdout
    assert recap_changed(first.stdout) > 0


def test_the_demo_says_where_to_look_without_printing_the_password(demo, tmp_path):
    first = demo[0]
    ui = printed(first.stdout, "Airflow UI").split()[0]
    run_page = printed(first.stdout, "This run")
    assert run_page.startswith(f"{ui}/dags/first_script/runs/image-")
    password = shell(printed(first.stdout, "The password"), timeout=120)
    assert password.returncode == 0 and len(password.stdout.strip()) >= 16, password.stderr
    assert password.stdout.strip() not in first.stdout
    run_id = run_page.rsplit("/", 1)[-1]
    state = run_is_shown_successful(ui, "admin", password.stdout.strip(), "first_script", run_id,
                                    REPO_ROOT / "tests" / "output" / "ui" / f"{tmp_path.name}.png")
    assert state.strip().lower() == "success"


def test_a_second_demo_changes_nothing(demo):
    variables = demo[1]
    again = shell(f"scripts/demo.sh -e @{variables}")
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap_changed(again.stdout) == 0, [line for line in again.stdout.splitlines() if line.startswith("changed:")]
    assert "Hello from kubernetes!!!" in again.stdout


def demo_airflow(demo) -> tuple[str, str, str, requests.Session]:
    """The demo's Airflow: its address, the admin password (by the printed command), the image its run
    used, and an API session logged in as the admin."""
    first = demo[0]
    ui = printed(first.stdout, "Airflow UI").split()[0]
    password = shell(printed(first.stdout, "The password"), timeout=120).stdout.strip()
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + requests.post(
        f"{ui}/auth/token", json={"username": "admin", "password": password}, timeout=30).json()["access_token"]
    demo_run = printed(first.stdout, "This run").rsplit("/", 1)[-1]
    image = api.get(f"{ui}/api/v2/dags/first_script/dagRuns/{demo_run}", timeout=30).json()["conf"]["image"]
    return ui, password, image, api


def first_script_run(ui: str, password: str, image: str, run_id: str) -> dict:
    return {"name": "Run", "airflow_k8s.platform.dag_run": {
        "url": ui, "username": "admin", "password": password, "dag_id": "first_script", "run_id": run_id,
        "conf": {"image": image}, "wait_timeout": 600, "log_tasks": ["*"]}}


def test_a_wait_outlives_an_api_server_restart(demo, tmp_path):
    """The API server's pod is deleted while dag_run waits on a run: the task still returns the run's
    real final state and its logs, within its deadline."""
    ui, password, image, api = demo_airflow(demo)
    run_id = "api-restart-" + uuid.uuid4().hex[:8]
    started = time.monotonic()
    running = start_playbook([first_script_run(ui, password, image, run_id)], tmp_path)

    def triggered():
        answer = api.get(f"{ui}/api/v2/dags/first_script/dagRuns/{run_id}", timeout=5)
        return answer.status_code == 200 and answer.json()["state"] in ("queued", "running")
    wait_for("the run to be triggered", triggered, timeout=300, interval=0.2)
    core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(
        str(Path.home() / ".kube" / f"kind-{NAME}"), context=f"kind-{NAME}"))
    pods = core.list_namespaced_pod("airflow", label_selector="component=api-server").items
    assert len(pods) == 1
    core.delete_namespaced_pod(pods[0].metadata.name, "airflow")

    run = running.wait(timeout=900)
    assert run.rc == 0, run.failure or run.output[-4000:]
    result = run.result("Run")
    assert result["run"]["run_id"] == run_id and result["run"]["state"] == "success"
    assert any("Hello from kubernetes!!!" in line for line in result["logs"].get("run_first_script", [])), result
    assert time.monotonic() - started < 600


def test_the_printed_teardown_leaves_nothing_behind(demo, docker_client):
    first, variables = demo
    teardown = shell(f"{printed(first.stdout, 'Tear it all down')} -e {shlex.quote('@' + str(variables))}")
    assert teardown.returncode == 0, teardown.stdout[-3000:]
    assert [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(NAME)] == []

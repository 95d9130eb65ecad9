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

import pytest
import yaml

from tests.support.browser import run_is_shown_successful
from tests.support.common import REPO_ROOT, VENV_BIN, free_port

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


def test_the_printed_teardown_leaves_nothing_behind(demo, docker_client):
    first, variables = demo
    teardown = shell(f"{printed(first.stdout, 'Tear it all down')} -e {shlex.quote('@' + str(variables))}")
    assert teardown.returncode == 0, teardown.stdout[-3000:]
    assert [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(NAME)] == []

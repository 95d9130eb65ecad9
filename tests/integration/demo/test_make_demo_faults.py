"""Faults an operator meets after the deploy, on the demo's real cluster (tests/support/demo.py), marked
breaks("demo"): they run after the tests that read what the first `make demo` made (test_make_demo, Molecule's
kind scenario) and before the teardown (conftest.py). The
API server restarting while dag_run waits, a script image the node cannot pull, a script that raises,
the scheduler restarting while the script runs, a gitSync branch that does not exist, 25 calls at
once, and the node restarting, last.

Each broken run must fail site.yml with a first line that names the cause, within two minutes, and
leave the cluster as it was for the next test."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import requests
from ansible_collections.airflow_k8s.platform.plugins.module_utils.image_reference import parse as parse_image

from tests.support.ansible_run import PlaybookRun, RunningPlaybook, start_playbook
from tests.support.common import VENV_BIN, tool_env, wait_for
from tests.support.demo import NAME, NAMESPACE, Demo, changed_tasks, recap_changed, shell
from tests.support.helm import ensure_helm
from tests.support.script_image import push_script_image

# A kind cluster and the offline build: run after the tests that need neither, and after those that only read the
# demo's cluster (see conftest.py).
pytestmark = [pytest.mark.cluster, pytest.mark.breaks("demo")]


def first_script_run(ui: str, password: str, image: str, run_id: str, wait_timeout: int = 600) -> dict:
    return {"name": "Run", "airflow_k8s.platform.dag_run": {
        "url": ui, "username": "admin", "password": password, "dag_id": "first_script", "run_id": run_id,
        "conf": {"image": image}, "wait_timeout": wait_timeout, "log_tasks": ["*"]}}


def test_a_wait_outlives_an_api_server_restart(demo: Demo, tmp_path):
    """The API server's pod is deleted while dag_run waits on a run: the task still returns the run's
    real final state and its logs, within its deadline."""
    ui, password, image, api = demo.ui, demo.password, demo.image, demo.api()
    run_id = "api-restart-" + uuid.uuid4().hex[:8]
    started = time.monotonic()
    running = start_playbook([first_script_run(ui, password, image, run_id)], tmp_path)

    def triggered():
        answer = api.get(f"{ui}/api/v2/dags/first_script/dagRuns/{run_id}", timeout=5)
        return answer.status_code == 200 and answer.json()["state"] in ("queued", "running")
    wait_for("the run to be triggered", triggered, timeout=300, interval=0.2)
    core = demo.core()
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="component=api-server").items
    assert len(pods) == 1
    core.delete_namespaced_pod(pods[0].metadata.name, NAMESPACE)

    run = running.wait(timeout=900)
    assert run.rc == 0, run.failure or run.output[-4000:]
    result = run.result("Run")
    assert result["run"]["run_id"] == run_id and result["run"]["state"] == "success"
    assert any("Hello from kubernetes!!!" in line for line in result["logs"].get("run_first_script", [])), result
    assert time.monotonic() - started < 600


def site_failure(demo: Demo, *extra_vars: str) -> tuple[PlaybookRun, dict, float]:
    """Run site.yml on the demo's cluster with ``extra_vars`` (name=value; an extra var wins even over what an
    earlier stage set), which must fail at one task, or at one the airflow role rescued (to roll back) and at its
    final one; return the run (the json callback's report), the task that failed first, and how long the run took."""
    started = time.monotonic()
    site = RunningPlaybook([str(VENV_BIN / "ansible-playbook"), "site.yml", "-i", "inventories/kind",
                            "-e", f"@{demo.variables}", *(arg for pair in extra_vars for arg in ("-e", pair))],
                           tool_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"), json_report=True).wait(600)
    elapsed = time.monotonic() - started
    assert site.rc == 2, site.output[-4000:]
    failed = [task for task in site.tasks if task["result"].get("failed")]
    assert len(failed) == 1 + site.stats.get("rescued", 0), site.output[-4000:]
    return site, failed[0], elapsed


def seconds_between(first: dict, last: dict) -> float:
    """From the start of one task of a json callback report to the end of another."""
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (at(last["duration"]["end"]) - at(first["duration"]["start"])).total_seconds()


def script_failure(demo: Demo, image_ref: str) -> tuple[str, float]:
    """site.yml's failure when the dag_run stage is given ``image_ref`` instead of what the image stage pushed."""
    site, failed, elapsed = site_failure(demo, f"image_ref={image_ref}")
    assert failed["name"] == "Trigger the DAG with the pushed image and wait for it", site.failure
    return site.failure, elapsed


def test_a_script_image_the_node_cannot_pull_fails_site_naming_the_waiting_reason(demo: Demo):
    repository = parse_image(demo.image).name
    missing = f"{repository}@sha256:{hashlib.sha256(uuid.uuid4().bytes).hexdigest()}"
    message, elapsed = script_failure(demo, missing)
    first = message.splitlines()[0]
    assert "run_first_script" in first and re.search(r"ErrImagePull|ImagePullBackOff", first), message
    assert "not found" in first, message
    assert elapsed < 120, f"took {elapsed:.0f}s: {first}"
    # The task deletes its pod: none stays behind.
    wait_for("the script's pod to go", lambda: not first_script_pods(demo), timeout=60, interval=2)


def script_image(demo: Demo, docker_client, workdir, script: str) -> str:
    """The demo's first-script image with another script in it, pushed to the cluster's registry, by digest."""
    return push_script_image(docker_client, workdir, demo.image, parse_image(demo.image).name, script)


def test_a_script_that_raises_fails_site_with_its_error(demo: Demo, docker_client, tmp_path):
    """The user's own script prints, then raises: the failure's first line ends with the script's error,
    though Python writes what it printed (buffered stdout) after it."""
    image = script_image(demo, docker_client, tmp_path, 'print("reading the input")\n'
                         'raise RuntimeError("the input has no rows: nothing to do")\n')
    message, elapsed = script_failure(demo, image)
    first = message.splitlines()[0]
    assert "run_first_script" in first and "RuntimeError: the input has no rows: nothing to do" in first, message
    assert "reading the input" in message  # the tail of the task's log follows the first line
    assert elapsed < 120, f"took {elapsed:.0f}s: {first}"


def first_script_pods(demo: Demo) -> list[str]:
    return [pod.metadata.name for pod in demo.core().list_namespaced_pod(NAMESPACE).items
            if pod.metadata.name.startswith("first-script")]


def test_a_scheduler_restart_while_the_script_runs_ends_the_run_and_leaves_no_pod(
        demo: Demo, docker_client, tmp_path):
    """The scheduler's pod (with LocalExecutor, where the task runs) is deleted while the script's pod
    runs: the run still ends, dag_run reports how (success, or a failure naming the task), and no
    script pod stays behind."""
    ui, password = demo.ui, demo.password
    image = script_image(demo, docker_client, tmp_path, 'import time\nprint("working", flush=True)\n'
                         'time.sleep(45)\nprint("done")\n')
    run_id = "scheduler-restart-" + uuid.uuid4().hex[:8]
    running = start_playbook([first_script_run(ui, password, image, run_id, wait_timeout=1000)], tmp_path)
    core = demo.core()

    def script_running():
        return any(pod.status.phase == "Running" for pod in core.list_namespaced_pod(NAMESPACE).items
                   if pod.metadata.name.startswith("first-script"))
    wait_for("the script's pod to run", script_running, timeout=300, interval=1)
    schedulers = core.list_namespaced_pod(NAMESPACE, label_selector="component=scheduler").items
    assert len(schedulers) == 1
    core.delete_namespaced_pod(schedulers[0].metadata.name, NAMESPACE)
    deleted = time.monotonic()

    run = running.wait(timeout=1200)
    # The new scheduler resets the orphaned task at its next orphan check (every 60 s, the role's
    # config; Airflow's default 300 s made this wait 5 minutes).
    assert time.monotonic() - deleted < 240, f"the run ended {time.monotonic() - deleted:.0f}s after the restart"
    if run.rc == 0:
        result = run.result("Run")
        assert result["run"]["state"] == "success"
        assert any("done" in line for line in result["logs"]["run_first_script"]), result["logs"]
    else:
        first = (run.failure or "").splitlines()[0]
        assert f"Run '{run_id}'" in first and "run_first_script" in first, run.failure or run.output[-4000:]
    print("scheduler restart:", "success" if run.rc == 0 else (run.failure or "").splitlines()[0])
    wait_for("no script pod left", lambda: not first_script_pods(demo), timeout=120, interval=2)


def test_a_gitsync_branch_that_does_not_exist_fails_site_naming_it_and_the_fixed_run_recovers(demo: Demo):
    """An operator points gitSync at a branch the repository lacks: site.yml stops at the first pod whose
    git-sync cannot check it out, rolls the release back to the revision before (issue 25: no database to restore,
    the Airflow version did not change) and says both, naming the branch; the old pods keep serving; the next run
    with the right branch puts everything back and runs the script."""
    branch = "no-such-branch-" + uuid.uuid4().hex[:6]
    site, failed, elapsed = site_failure(demo, f"airflow_git_ref={branch}")
    message = site.failure
    first = message.splitlines()[0]
    assert "git-sync" in first and branch in first, message
    assert re.search(r"\); rolled back to revision [0-9]+ \(Airflow [0-9.]+\), which is healthy again: fix the cause",
                     first), message
    # What the role's wait took to stop: from the helm upgrade that brought the new pods to the failure.
    upgrade = next(task for task in site.tasks if "Install or upgrade the chart" in task["name"])
    stopped = seconds_between(upgrade, failed)

    fixed = demo.run("scripts/demo.sh")
    assert fixed.returncode == 0, fixed.stdout[-4000:]
    assert "Hello from kubernetes!!!" in fixed.stdout
    print(f"gitSync branch that does not exist: site.yml failed in {elapsed:.0f}s, {stopped:.0f}s after the upgrade")
    # Checked after the fixed run, which the next tests need. (It once took 215 s: the wait looked only for
    # CrashLoopBackOff, which a failing init container shows for about a second per back-off.) The wait lets a
    # container fail three times before it calls it stuck (a start error a retry cures is no failure, issue 22):
    # kubelet's back-off between those tries adds about 30 s. Measured on a quiet machine: site.yml 86 s in all.
    # The wait is held to issue 22's 120 s; the whole site.yml, whose earlier stages a loaded machine slows too,
    # to 180 s.
    assert stopped < 120, f"the wait took {stopped:.0f}s to stop after the upgrade: {first}"
    # The rollback's own wait adds the good revision's migration and create-user jobs, run again.
    assert elapsed < 300, f"the failure took {elapsed:.0f}s to show: {first}"


def test_twenty_runs_at_once_all_succeed_and_five_with_one_run_id_make_one_run(demo: Demo, tmp_path):
    """25 dag_run calls at once (async tasks, each its own process): 20 with run ids of their own and 5
    that share one. Each call ends with its run succeeded; the shared id made one run, which all 5
    report and exactly one of them triggered; no run was made that nobody asked for."""
    ui, password, image, api = demo.ui, demo.password, demo.image, demo.api()
    tag = uuid.uuid4().hex[:6]
    distinct = [f"load-{tag}-{number:02d}" for number in range(20)]
    shared = f"shared-{tag}"
    before = {run["dag_run_id"] for run in all_runs(api, ui)}
    call = first_script_run(ui, password, image, "{{ item }}", wait_timeout=1500)["airflow_k8s.platform.dag_run"]
    started = time.monotonic()
    run = start_playbook([
        {"name": "Start every call", "airflow_k8s.platform.dag_run": call,
         "loop": distinct + [shared] * 5, "async": 1800, "poll": 0, "register": "calls"},
        {"name": "Wait for every call", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
         "loop": "{{ calls.results }}", "register": "ended", "until": "ended.finished", "retries": 360, "delay": 5},
    ], tmp_path).wait(timeout=2400)
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.failure or run.output[-4000:]
    results = run.result("Wait for every call")["results"]
    assert [result["run"]["run_id"] for result in results] == distinct + [shared] * 5
    assert {result["run"]["state"] for result in results} == {"success"}
    assert [result["triggered"] for result in results[:20]] == [True] * 20
    assert sum(result["triggered"] for result in results[20:]) == 1, [result["triggered"] for result in results]

    made = {run["dag_run_id"]: run["state"] for run in all_runs(api, ui) if run["dag_run_id"] not in before}
    assert made == {run_id: "success" for run_id in distinct + [shared]}
    print(f"25 calls, 21 runs, all succeeded in {elapsed:.0f}s")


def all_runs(api, ui: str) -> list[dict]:
    answer = api.get(f"{ui}/api/v2/dags/first_script/dagRuns", params={"limit": 1000}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["dag_runs"]


def airflow_healthy(ui: str) -> bool:
    try:
        answer = requests.get(f"{ui}/api/v2/monitor/health", timeout=5)
        return answer.status_code == 200 and {part["status"] for part in answer.json().values()} == {"healthy"}
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return False


def test_a_node_restart_brings_airflow_back_and_the_next_run_changes_nothing(demo: Demo, docker_client):
    """The kind node's container restarts (a laptop reboot, Docker restarted): the cluster and Airflow
    come back by themselves; the next demo run changes nothing and attaches to its earlier run; the
    runs made before are still listed (the metadata database is outside the node)."""
    ui = demo.ui
    before = {run["dag_run_id"]: run["state"] for run in all_runs(demo.api(), ui)}
    started = time.monotonic()
    docker_client.containers.get(f"{NAME}-control-plane").restart(timeout=30)
    wait_for("Airflow to answer healthy after the node restart", lambda: airflow_healthy(ui), timeout=900,
             interval=5)
    back = time.monotonic() - started

    again = demo.run("scripts/demo.sh")
    assert again.returncode == 0, again.stdout[-4000:]
    assert "Hello from kubernetes!!!" in again.stdout
    after = {run["dag_run_id"]: run["state"] for run in all_runs(demo.api(), ui)}
    assert after == before
    print(f"Airflow healthy {back:.0f}s after the node restart began")
    assert recap_changed(again.stdout) == 0, (
        f"the run after the node restart changed {changed_tasks(again.stdout)}; "
        f"the values helm's newest revision changed: {values_changed_by_newest_revision()}")


def values_changed_by_newest_revision() -> list[str]:
    """Where the chart values of the demo's release differ between its two newest revisions (the values
    hold no secret: the role keeps those in Secrets), as dotted paths, to say what a re-run changed."""
    helm = f"{ensure_helm()} --kubeconfig {Path.home()}/.kube/kind-{NAME} --namespace {NAMESPACE}"
    history = json.loads(shell(f"{helm} history airflow --output json", timeout=60).stdout or "[]")
    if len(history) < 2:
        return [f"no earlier revision: {history}"]
    older, newer = (json.loads(shell(f"{helm} get values airflow --output json --revision {entry['revision']}",
                                     timeout=60).stdout or "{}") for entry in history[-2:])
    return differing_paths(older, newer)


def differing_paths(older, newer, path: str = "") -> list[str]:
    if isinstance(older, dict) and isinstance(newer, dict):
        return [found for key in sorted(older.keys() | newer.keys())
                for found in differing_paths(older.get(key), newer.get(key), f"{path}.{key}" if path else key)]
    return [] if older == newer else [path]

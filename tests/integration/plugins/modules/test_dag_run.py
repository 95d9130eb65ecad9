"""airflow_k8s.platform.dag_run against a real Airflow 3.3.2, run through ansible-playbook."""

from __future__ import annotations

import json
import textwrap
import threading
import time
import urllib.request
import uuid
from urllib.parse import quote

import pytest

from tests.support.ansible_run import run_task
from tests.support.common import free_port


def dag_source(dag_id: str, body: str = 'print("conf seen:", json.dumps(dict(ctx["dag_run"].conf)))',
               paused: bool = False, preamble: str = "") -> str:
    """A one-task DAG whose task runs ``body`` (``ctx`` is the task context)."""
    return textwrap.dedent(f"""\
        import json
        import time
        from datetime import datetime
        {preamble}
        from airflow.sdk import dag, task, get_current_context


        @dag(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
             is_paused_upon_creation={paused!r})
        def the_dag():
            @task
            def work():
                ctx = get_current_context()
                {body}

            work()


        the_dag()
        """)


@pytest.fixture
def new_dag(airflow):
    """Write a DAG with a fresh id into the DAGs folder and parse it now."""
    def write(body=None, paused=False, preamble="", parse=True, **kwargs):
        dag_id = "t_" + uuid.uuid4().hex[:10]
        source = dag_source(dag_id, paused=paused, preamble=preamble, **({"body": body} if body else {}))
        airflow.write_dag(dag_id + ".py", source)
        if parse:
            airflow.reserialize()
        return dag_id
    return write


@pytest.fixture
def task(airflow):
    def build(dag_id, **args):
        module_args = dict(url=airflow.url, username=airflow.admin, password=airflow.admin_password,
                           dag_id=dag_id, dag_wait_timeout=60, wait_timeout=120)
        module_args.update(args)
        return {"name": "Trigger and wait", "airflow_k8s.platform.dag_run": module_args}
    return build


def runs_of(airflow, dag_id):
    token_request = urllib.request.Request(
        airflow.url + "/auth/token", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"username": airflow.admin, "password": airflow.admin_password}).encode())
    with urllib.request.urlopen(token_request, timeout=10) as response:
        token = json.load(response)["access_token"]
    request = urllib.request.Request(airflow.url + f"/api/v2/dags/{dag_id}/dagRuns",
                                     headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["dag_runs"]


def test_success_returns_the_run_tasks_and_the_conf_in_the_task_log(airflow, new_dag, task, tmp_path):
    dag_id = new_dag()
    rc, result, output = run_task(task(dag_id, conf={"image": "reg/x@sha256:abc"}, log_tasks=["*"]), tmp_path)
    assert rc == 0, output
    assert result["changed"] and result["triggered"]
    assert result["run"]["state"] == "success"
    assert result["run"]["conf"] == {"image": "reg/x@sha256:abc"}
    assert [(t["task_id"], t["state"], t["try_number"]) for t in result["task_instances"]] == [("work", "success", 1)]
    assert any('conf seen: {"image": "reg/x@sha256:abc"}' in line for line in result["logs"]["work"])
    assert result["api_version"] == "v2" and result["airflow_version"] == "3.3.2"
    assert result["ui_url"] == f"{airflow.url}/dags/{dag_id}/runs/{quote(result['run']['run_id'], safe='')}"


def test_a_failing_task_fails_the_module_with_its_log_tail(new_dag, task, tmp_path):
    dag_id = new_dag(body='print("about to fail"); raise RuntimeError("the task broke on purpose")')
    rc, result, output = run_task(task(dag_id), tmp_path)
    assert rc != 0
    assert result["failed"] and result["run"]["state"] == "failed"
    # The first line names the task and why it failed; the log's tail follows.
    assert result["msg"].splitlines()[0].endswith(
        f"of DAG '{dag_id}' ended failed; failed tasks: work (try 1): RuntimeError: the task broke on purpose")
    assert "about to fail" in result["msg"] and "the task broke on purpose" in result["msg"]
    assert "Traceback" not in output


def test_a_paused_dag_fails_clearly_unless_unpause_is_asked(airflow, new_dag, task, tmp_path):
    dag_id = new_dag(paused=True)
    rc, result, _output = run_task(task(dag_id), tmp_path)
    assert rc != 0
    assert result["msg"] == (f"DAG '{dag_id}' is paused, so a run would wait forever: set unpause=true, "
                             "or unpause it in the Airflow UI")
    assert runs_of(airflow, dag_id) == [], "a paused DAG must not get a run that waits forever"

    rc, result, output = run_task(task(dag_id, unpause=True), tmp_path)
    assert rc == 0, output
    assert result["unpaused"] and result["changed"] and result["run"]["state"] == "success"


def test_run_id_makes_a_second_call_attach_instead_of_triggering(airflow, new_dag, task, tmp_path):
    dag_id = new_dag()
    args = task(dag_id, run_id="ansible-idempotent-1")
    rc, first, output = run_task(args, tmp_path)
    assert rc == 0, output
    assert first["changed"] and first["triggered"]
    rc, second, output = run_task(args, tmp_path)
    assert rc == 0, output
    assert not second["changed"] and not second["triggered"]
    assert second["run"]["run_id"] == "ansible-idempotent-1" and second["run"]["state"] == "success"
    assert [run["dag_run_id"] for run in runs_of(airflow, dag_id)] == ["ansible-idempotent-1"]


FIXED_LATER = """\
from datetime import datetime
from pathlib import Path
from airflow.sdk import dag, task

FIX, RAN = Path({fix!r}), Path({ran!r})


@dag(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
     is_paused_upon_creation=False)
def the_dag():
    @task
    def prepare():
        with RAN.open("a") as ran:
            ran.write("prepare\\n")

    @task(retries=0)
    def use():
        if not FIX.exists():
            raise RuntimeError("the fix is not there yet")
        print("the fix is there")

    @task
    def report():
        print("reported")

    prepare() >> use() >> report()


the_dag()
"""


def test_rerun_failed_runs_a_failed_runs_failed_tasks_again_under_its_id(airflow, task, tmp_path):
    dag_id = "t_rerun_" + uuid.uuid4().hex[:8]
    fix, ran = tmp_path / "fix", tmp_path / "ran"
    airflow.write_dag(dag_id + ".py", FIXED_LATER.format(dag_id=dag_id, fix=str(fix), ran=str(ran)))
    airflow.reserialize()
    args = task(dag_id, run_id="fixed-later-1", log_tasks=["*"])

    rc, failed, _output = run_task(args, tmp_path)
    assert rc != 0 and failed["run"]["state"] == "failed" and failed["triggered"]
    states = {t["task_id"]: (t["state"], t["try_number"]) for t in failed["task_instances"]}
    assert states["use"] == ("failed", 1) and states["report"][0] == "upstream_failed"

    # Without the option, the failed run is attached to and its failure reported again: nothing changes.
    rc, again, _output = run_task(args, tmp_path)
    assert rc != 0 and not again["changed"] and not again["rerun"]
    assert "failed tasks: use (try 1): RuntimeError: the fix is not there yet" in again["msg"].splitlines()[0]

    fix.touch()
    rc, rerun, output = run_task({**args, "airflow_k8s.platform.dag_run": {
        **args["airflow_k8s.platform.dag_run"], "rerun_failed": True}}, tmp_path)
    assert rc == 0, output
    assert rerun["changed"] and rerun["rerun"] and not rerun["triggered"]
    assert rerun["run"]["run_id"] == "fixed-later-1" and rerun["run"]["state"] == "success"
    states = {t["task_id"]: (t["state"], t["try_number"]) for t in rerun["task_instances"]}
    # Only the failed task and the one it kept from running ran again; the one that succeeded kept its result.
    assert states == {"prepare": ("success", 1), "use": ("success", 2), "report": ("success", 1)}
    assert ran.read_text() == "prepare\n"
    assert any("the fix is there" in line for line in rerun["logs"]["use"])
    assert [run["dag_run_id"] for run in runs_of(airflow, dag_id)] == ["fixed-later-1"]

    # A run that succeeded is not run again: the option changes nothing then.
    rc, settled, output = run_task({**args, "airflow_k8s.platform.dag_run": {
        **args["airflow_k8s.platform.dag_run"], "rerun_failed": True}}, tmp_path)
    assert rc == 0, output
    assert not settled["changed"] and not settled["rerun"] and settled["run"]["state"] == "success"


def test_waits_for_a_dag_file_that_appears_after_the_module_started(airflow, task, tmp_path):
    dag_id = "t_late_" + uuid.uuid4().hex[:8]
    writer = threading.Timer(6, lambda: airflow.write_dag(dag_id + ".py", dag_source(dag_id)))
    writer.start()
    try:
        started = time.monotonic()
        rc, result, output = run_task(task(dag_id), tmp_path)
    finally:
        writer.cancel()
    assert rc == 0, output
    assert result["run"]["state"] == "success"
    assert time.monotonic() - started > 6


def test_a_dag_file_with_an_import_error_fails_at_once_with_the_error(airflow, task, tmp_path):
    dag_id = "t_broken_" + uuid.uuid4().hex[:8]
    airflow.write_dag(dag_id + ".py", dag_source(dag_id, preamble="import module_that_does_not_exist"))
    airflow.reserialize()
    started = time.monotonic()
    rc, result, _output = run_task(task(dag_id, dag_wait_timeout=120), tmp_path)
    assert rc != 0
    assert result["msg"] == (f"DAG '{dag_id}' cannot be loaded: import error in {dag_id}.py: "
                             "ModuleNotFoundError: No module named 'module_that_does_not_exist'")
    assert "module_that_does_not_exist" in result["import_error"]["stack_trace"]
    assert time.monotonic() - started < 60, "it should fail at once, not wait for dag_wait_timeout"


def test_an_unknown_dag_fails_after_the_bounded_wait(airflow, task, tmp_path):
    rc, result, _output = run_task(task("no_such_dag", dag_wait_timeout=3), tmp_path)
    assert rc != 0
    assert result["msg"].startswith(f"DAG 'no_such_dag' was not found on Airflow at {airflow.url} within 3s")


def test_a_wrong_password_is_one_clear_line(airflow, task, tmp_path):
    args = task("anything")
    args["airflow_k8s.platform.dag_run"]["password"] = "not-the-password"
    rc, result, output = run_task(args, tmp_path)
    assert rc != 0
    assert result["msg"] == (f"Airflow at {airflow.url} refused the credentials of user 'admin' (HTTP 401): "
                             "check username and password")
    assert "Traceback" not in output


def test_a_role_without_permission_gets_a_403_message(airflow, new_dag, task, tmp_path):
    dag_id = new_dag()
    args = task(dag_id)
    args["airflow_k8s.platform.dag_run"].update(username=airflow.viewer, password=airflow.viewer_password)
    rc, result, _output = run_task(args, tmp_path)
    assert rc != 0
    assert result["status"] == 403
    assert f"forbids POST /api/v2/dags/{dag_id}/dagRuns to user 'viewer' (HTTP 403" in result["msg"]
    assert result["msg"].endswith("give the user a role that may do this")


@pytest.mark.parametrize("url, expected", [
    (f"http://127.0.0.1:{free_port()}", "Cannot reach Airflow at http://127.0.0.1:"),
    ("REGISTRY", "does not look like an Airflow API server (/api/v2/version answered HTTP 404"),
])
def test_unreachable_or_non_airflow_urls_are_named(registry, task, tmp_path, url, expected):
    args = task("anything")
    args["airflow_k8s.platform.dag_run"]["url"] = f"http://{registry.host}" if url == "REGISTRY" else url
    rc, result, output = run_task(args, tmp_path)
    assert rc != 0
    assert expected in result["msg"]
    assert "\n" not in result["msg"] and "Traceback" not in output


@pytest.mark.parametrize("args, expected", [
    ({"run_id": "has spaces/and slash"}, "run_id 'has spaces/and slash' is not valid"),
    ({"conf": [1, 2]}, "conf must be a JSON object (a mapping), not list"),
    ({"conf": "{not json"}, "conf is not valid JSON"),
])
def test_bad_input_is_refused_before_any_request(task, tmp_path, args, expected):
    rc, result, _output = run_task(task("anything", **args), tmp_path)
    assert rc != 0
    assert result["msg"].startswith(expected)


def test_timeout_names_the_run_so_the_next_call_can_attach(airflow, new_dag, task, tmp_path):
    dag_id = new_dag(body="time.sleep(30)")
    rc, result, _output = run_task(task(dag_id, run_id="slow-1", wait_timeout=4), tmp_path)
    assert rc != 0
    assert result["msg"].startswith(f"Timed out after 4s waiting for run 'slow-1' of DAG '{dag_id}' (last state: ")
    assert "run_id='slow-1'" in result["msg"]
    assert result["run"]["run_id"] == "slow-1"


def test_the_module_reconnects_when_the_api_server_restarts_during_the_wait(airflow, new_dag, task, tmp_path):
    dag_id = new_dag(body='time.sleep(25); print("survived the restart")')

    def restart():
        airflow.stop_api_server()
        airflow.start_api_server()

    restarter = threading.Timer(5, restart)
    restarter.start()
    try:
        rc, result, output = run_task(task(dag_id, log_tasks=["work"], wait_timeout=240), tmp_path)
    finally:
        restarter.join()
    assert rc == 0, output
    assert result["run"]["state"] == "success"
    assert any("survived the restart" in line for line in result["logs"]["work"])


def test_check_mode_triggers_nothing(airflow, new_dag, task, tmp_path):
    dag_id = new_dag()
    rc, result, output = run_task(task(dag_id), tmp_path, check=True)
    assert rc == 0, output
    assert result["changed"] and not result["triggered"]
    assert runs_of(airflow, dag_id) == []


def test_no_secret_appears_at_the_highest_verbosity(airflow, new_dag, task, tmp_path):
    dag_id = new_dag()
    for secret_args in ({}, {"password": None, "username": None, "token": "tok-" + uuid.uuid4().hex}):
        args = task(dag_id)
        module_args = args["airflow_k8s.platform.dag_run"]
        for key, value in secret_args.items():
            if value is None:
                module_args.pop(key)
            else:
                module_args[key] = value
        secret = module_args.get("token") or module_args["password"]
        rc, _result, output = run_task(args, tmp_path, verbosity=4)
        assert "TASK [Trigger and wait]" in output and "<localhost> EXEC" in output  # really ran, verbosely
        assert secret not in output


@pytest.fixture
def self_signed_https(tmp_path):
    """An HTTPS server on loopback whose certificate no CA signed."""
    import http.server
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_tls_failure_says_how_to_trust_the_server(task, tmp_path, self_signed_https):
    args = task("anything")
    args["airflow_k8s.platform.dag_run"]["url"] = self_signed_https
    rc, result, output = run_task(args, tmp_path)
    assert rc != 0
    assert result["msg"].startswith(f"TLS verification of {self_signed_https} failed (")
    assert result["msg"].endswith("set ca_path to the CA bundle that signed the server's certificate, "
                                  "or validate_certs=false if you accept an unverified connection")
    assert "\n" not in result["msg"] and "Traceback" not in output

    # Turned off on purpose, the module gets past TLS and says what it found there.
    args["airflow_k8s.platform.dag_run"]["validate_certs"] = False
    rc, result, _output = run_task(args, tmp_path)
    assert rc != 0
    assert "does not look like an Airflow API server" in result["msg"]

"""airflow_k8s.platform.dag_run against a real Airflow 2.11: /api/v1, basic auth, plain-text logs."""

from __future__ import annotations

import textwrap

from tests.support.ansible_run import run_task

DAG_ID = "airflow2_conf_echo"
DAG = textwrap.dedent(f"""\
    from datetime import datetime
    from airflow.decorators import dag, task
    from airflow.operators.python import get_current_context


    @dag(dag_id="{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
    def the_dag():
        @task
        def work():
            print("conf seen on airflow 2:", get_current_context()["dag_run"].conf)

        work()


    the_dag()
    """)


def module_task(airflow2, **args):
    module_args = dict(url=airflow2.url, username=airflow2.admin, password=airflow2.admin_password, dag_id=DAG_ID,
                       unpause=True, dag_wait_timeout=90, wait_timeout=180, log_tasks=["work"])
    module_args.update(args)
    return {"name": "Trigger on Airflow 2", "airflow_k8s.platform.dag_run": module_args}


def test_triggers_and_waits_on_airflow_2_with_basic_auth(airflow2, tmp_path):
    airflow2.write_dag(DAG_ID + ".py", DAG)
    rc, result, output = run_task(module_task(airflow2, run_id="v1-run-1", conf={"image": "img@sha256:abc"}),
                                  tmp_path)
    assert rc == 0, output
    assert result["api_version"] == "v1" and result["airflow_version"].startswith("2.11.")
    assert result["unpaused"] and result["triggered"] and result["run"]["state"] == "success"
    assert any("conf seen on airflow 2: {'image': 'img@sha256:abc'}" in line for line in result["logs"]["work"])

    rc, again, output = run_task(module_task(airflow2, run_id="v1-run-1"), tmp_path)
    assert rc == 0, output
    assert not again["changed"] and again["run"]["state"] == "success"


def test_a_wrong_password_on_airflow_2_is_one_clear_line(airflow2, tmp_path):
    rc, result, _output = run_task(module_task(airflow2, password="not-the-password-4711"), tmp_path)
    assert rc != 0
    # Airflow 2 (basic auth backend behind the session backend) answers a wrong password with 403.
    assert result["msg"] == (f"Airflow at {airflow2.url} forbids GET /api/v1/dags/{DAG_ID} to user 'admin' "
                             "(HTTP 403 (Forbidden)): check username and password (Airflow 2 answers a wrong "
                             "password with 403 too), and that the user's role may do this")


def test_a_failing_task_on_airflow_2_is_named_with_its_exception_in_the_first_line(airflow2, tmp_path):
    dag_id = "airflow2_raises"
    airflow2.write_dag(dag_id + ".py", DAG.replace(DAG_ID, dag_id).replace(
        'print("conf seen on airflow 2:", get_current_context()["dag_run"].conf)',
        'raise RuntimeError("the task broke on airflow 2")'))
    rc, result, _output = run_task(module_task(airflow2, dag_id=dag_id, log_tasks=None), tmp_path)
    assert rc != 0 and result["run"]["state"] == "failed"
    # The cause comes from Airflow 2's plain-text log: its traceback's last line.
    assert result["msg"].splitlines()[0].endswith(
        "failed tasks: work (try 1): RuntimeError: the task broke on airflow 2"), result["msg"]


def test_rerun_failed_runs_the_failed_task_again_on_airflow_2(airflow2, tmp_path):
    dag_id = "airflow2_fixed_later"
    fix = tmp_path / "fix"
    airflow2.write_dag(dag_id + ".py", DAG.replace(DAG_ID, dag_id).replace(
        'print("conf seen on airflow 2:", get_current_context()["dag_run"].conf)',
        f'assert __import__("os").path.exists({str(fix)!r}), "the fix is not there yet"; print("fixed on airflow 2")'))
    args = module_task(airflow2, dag_id=dag_id, run_id="v1-fixed-later")
    rc, failed, _output = run_task(args, tmp_path)
    assert rc != 0 and failed["run"]["state"] == "failed"

    fix.touch()
    rc, rerun, output = run_task(module_task(airflow2, dag_id=dag_id, run_id="v1-fixed-later", rerun_failed=True),
                                 tmp_path)
    assert rc == 0, output
    assert rerun["changed"] and rerun["rerun"] and not rerun["triggered"] and rerun["run"]["state"] == "success"
    assert [(t["task_id"], t["state"], t["try_number"]) for t in rerun["task_instances"]] == [("work", "success", 2)]
    assert any("fixed on airflow 2" in line for line in rerun["logs"]["work"])

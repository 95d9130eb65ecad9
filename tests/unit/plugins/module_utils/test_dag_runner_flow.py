"""DagRunner's hardest paths, driven through test doubles: FakeAirflowClient (scripted answers, every
call recorded) and FakeClock (sleeping advances it), so each path runs in microseconds and every
sleep and call can be asserted exactly."""

from __future__ import annotations

import json

import pytest

from ansible_collections.airflow_k8s.platform.plugins.module_utils.airflow_api import (
    AirflowUnreachable,
    version_tuple,
)
from ansible_collections.airflow_k8s.platform.plugins.module_utils.dag_runner import (
    DagRunError,
    DagRunner,
    DagRunTimeout,
)
from ansible_collections.airflow_k8s.platform.plugins.modules.dag_run import argument_spec

UNSET = object()


class FakeClock:
    """``clock()`` reads the fake time; ``sleep(s)`` advances it and records the interval."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds


def answers(*items):
    """A scripted sequence of answers: each call takes the next; an exception in it is raised.

    The last answer repeats once the script runs out, as a server keeps its state."""
    script = list(items)

    def next_answer(*_args, **_kwargs):
        item = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(item, BaseException):
            raise item
        return item
    return next_answer


class FakeStream:
    """A /wait response: its lines one by one, then, if given, the exception that cut it."""

    def __init__(self, states, cut_by=None, partial_line=None):
        self._lines = [json.dumps({"state": state}).encode() + b"\n" for state in states]
        if partial_line is not None:
            self._lines.append(partial_line)
        self._cut_by = cut_by
        self.closed = False

    def readline(self):
        if self._lines:
            return self._lines.pop(0)
        if self._cut_by is not None:
            raise self._cut_by
        return b""

    def close(self):
        self.closed = True


class FakeAirflowClient:
    """Stands in for AirflowClient: the same methods, answers scripted per test, calls recorded."""

    url = "http://airflow.test:8080"
    timeout = 30

    def __init__(self, airflow_version="3.1.8", dag=None, runs=None, trigger=UNSET, streams=None,
                 task_instances=None, task_log=None, import_errors=None):
        self.api_version = "v2" if airflow_version.startswith("3") else "v1"
        self.airflow_version = airflow_version
        self.calls = []
        self._dag = answers(dag if dag is not None else {"dag_id": "first_script", "is_paused": False})
        self._runs = answers(*(runs or [None]))
        self._trigger = answers(run("manual__1", "queued") if trigger is UNSET else trigger)
        self._streams = answers(*(streams or [FakeStream([])]))
        self._task_instances = task_instances if task_instances is not None else [
            {"task_id": "run_first_script", "state": "success", "try_number": 1, "map_index": -1}]
        self._task_log = task_log if task_log is not None else [{"event": "Hello from kubernetes!!!"}]
        self._import_errors = import_errors or []

    def _record(self, name, *args):
        self.calls.append((name,) + args)

    def calls_to(self, name):
        return [call for call in self.calls if call[0] == name]

    @property
    def supports_wait_stream(self):
        return self.api_version == "v2" and version_tuple(self.airflow_version) >= (3, 1)

    def connect(self):
        self._record("connect")
        return self

    def get_dag(self, dag_id):
        self._record("get_dag", dag_id)
        return self._dag()

    def import_errors(self):
        self._record("import_errors")
        return self._import_errors

    def unpause(self, dag_id):
        self._record("unpause", dag_id)

    def get_run(self, dag_id, run_id):
        self._record("get_run", dag_id, run_id)
        return self._runs()

    def trigger(self, dag_id, body):
        self._record("trigger", dag_id, body)
        return self._trigger()

    def clear_failed_tasks(self, dag_id, run_id):
        self._record("clear_failed_tasks", dag_id, run_id)

    def task_instances(self, dag_id, run_id):
        self._record("task_instances", dag_id, run_id)
        return self._task_instances

    def task_log(self, dag_id, run_id, task_id, try_number, map_index=-1):
        self._record("task_log", dag_id, run_id, task_id, try_number)
        return self._task_log

    def wait_stream_path(self, dag_id, run_id):
        return "/api/v2/dags/%s/dagRuns/%s/wait" % (dag_id, run_id)

    def open_stream(self, path, query, timeout):
        self._record("open_stream", path, timeout)
        return self._streams()

    def ui_url(self, dag_id, run_id):
        return "%s/dags/%s/runs/%s" % (self.url, dag_id, run_id)


def run(run_id, state, dag_id="first_script"):
    """A DAG run as the API returns it (the fields the module reads)."""
    return {"dag_id": dag_id, "dag_run_id": run_id, "state": state, "run_type": "manual",
            "logical_date": None, "queued_at": "2026-11-27T10:00:00Z", "start_date": None, "end_date": None,
            "duration": None, "conf": {}, "note": None}


def params(**overrides):
    """The module's parameters with their documented defaults, as AnsibleModule hands them over."""
    values = {name: spec.get("default") for name, spec in argument_spec().items()}
    values.update(url=FakeAirflowClient.url, username="ops", password="not-a-real-one", dag_id="first_script")
    values.update(overrides)
    return values


def runner(client, clock, check_mode=False, **overrides):
    return DagRunner(client, params(**overrides), check_mode=check_mode, sleep=clock.sleep, clock=clock)


@pytest.fixture
def clock():
    return FakeClock()


def test_a_run_id_that_appears_between_look_and_trigger_is_attached_to_never_triggered_twice(clock):
    # 409: someone else (a parallel call) created the run after our GET said it did not exist.
    client = FakeAirflowClient(runs=[None, run("r1", "success")], trigger=None)
    result = runner(client, clock, run_id="r1").run()
    assert [call[0] for call in client.calls] == [
        "connect", "get_dag", "get_run", "trigger", "get_run", "get_run", "task_instances"]
    assert len(client.calls_to("trigger")) == 1
    assert result["triggered"] is False and result["run"]["run_id"] == "r1" and result["run"]["state"] == "success"
    assert result["logs"] == {}  # no task failed, none asked for


def test_an_existing_run_is_attached_to_and_reported_unchanged(clock):
    client = FakeAirflowClient(runs=[run("r1", "success")])
    dag_runner = runner(client, clock, run_id="r1")
    result = dag_runner.run()
    assert dag_runner.changed is False and result["triggered"] is False
    assert client.calls_to("trigger") == [] and clock.sleeps == []


def test_a_failed_run_is_attached_to_and_its_failure_reported_again_unless_asked_to_rerun(clock):
    client = FakeAirflowClient(runs=[run("r1", "failed")], task_instances=[
        {"task_id": "run_first_script", "state": "failed", "try_number": 1, "map_index": -1}])
    dag_runner = runner(client, clock, run_id="r1")
    with pytest.raises(DagRunError, match=r"^Run 'r1' of DAG 'first_script' ended failed; failed tasks: "
                                          r"run_first_script \(try 1\)"):
        dag_runner.run()
    assert dag_runner.changed is False and dag_runner.result["rerun"] is False
    assert client.calls_to("clear_failed_tasks") == [] and client.calls_to("trigger") == []


def test_rerun_failed_clears_the_failed_run_and_waits_for_it_under_the_same_id(clock):
    # The run before the clear, the run the clear queued again, and the run at the end.
    client = FakeAirflowClient(runs=[run("r1", "failed"), run("r1", "queued"), run("r1", "success")],
                               streams=[FakeStream(["queued", "running", "success"])])
    dag_runner = runner(client, clock, run_id="r1", rerun_failed=True)
    result = dag_runner.run()
    assert [call[0] for call in client.calls] == [
        "connect", "get_dag", "get_run", "clear_failed_tasks", "get_run", "open_stream", "get_run", "task_instances"]
    assert client.calls_to("clear_failed_tasks") == [("clear_failed_tasks", "first_script", "r1")]
    assert dag_runner.changed is True and result["rerun"] is True and result["triggered"] is False
    assert result["run"]["run_id"] == "r1" and result["run"]["state"] == "success"


def test_rerun_failed_leaves_a_run_that_did_not_fail_alone(clock):
    client = FakeAirflowClient(runs=[run("r1", "success")])
    dag_runner = runner(client, clock, run_id="r1", rerun_failed=True)
    result = dag_runner.run()
    assert dag_runner.changed is False and result["rerun"] is False
    assert client.calls_to("clear_failed_tasks") == []


def test_rerun_failed_in_check_mode_predicts_the_rerun_without_clearing(clock):
    client = FakeAirflowClient(runs=[run("r1", "failed")])
    dag_runner = runner(client, clock, check_mode=True, run_id="r1", rerun_failed=True)
    result = dag_runner.run()
    assert dag_runner.changed is True and result["rerun"] is True
    assert result["msg"] == "Run 'r1' of DAG 'first_script' ended failed and would be run again (rerun_failed)"
    assert client.calls_to("clear_failed_tasks") == [] and client.calls_to("open_stream") == []


def test_check_mode_with_an_existing_run_reports_it_without_waiting_or_triggering(clock):
    client = FakeAirflowClient(runs=[run("r1", "running")])
    dag_runner = runner(client, clock, check_mode=True, run_id="r1")
    result = dag_runner.run()
    assert dag_runner.changed is False
    assert result["run"]["state"] == "running" and result["triggered"] is False
    assert client.calls_to("trigger") == [] and client.calls_to("open_stream") == [] and clock.sleeps == []


def test_check_mode_predicts_the_unpause_and_the_trigger_without_doing_either(clock):
    client = FakeAirflowClient(dag={"dag_id": "first_script", "is_paused": True}, runs=[None])
    dag_runner = runner(client, clock, check_mode=True, run_id="r1", unpause=True)
    result = dag_runner.run()
    assert dag_runner.changed is True and result["unpaused"] is True
    assert result["msg"] == "DAG 'first_script' is present and can be triggered"
    assert client.calls_to("unpause") == [] and client.calls_to("trigger") == []


def test_a_stream_cut_mid_wait_reconnects_until_the_run_ends(clock):
    streams = [
        FakeStream(["queued", "running"], cut_by=ConnectionResetError("Connection reset by peer")),
        AirflowUnreachable("Cannot reach Airflow: the API server restarts"),
        FakeStream(["running"], partial_line=b'{"sta'),  # a line cut off by a dropped connection
        FakeStream(["running", "success"]),
    ]
    client = FakeAirflowClient(streams=list(streams), runs=[run("manual__1", "success")])
    result = runner(client, clock).run()
    assert len(client.calls_to("open_stream")) == 4
    assert clock.sleeps == [0.5, 0.75, 1.125]  # backoff between reconnects, none after the last
    assert all(stream.closed for stream in streams if isinstance(stream, FakeStream))
    assert result["triggered"] is True and result["run"]["state"] == "success"
    assert result["logs"] == {} and "last_state" not in result


def test_the_streams_read_timeout_never_outlasts_the_deadline(clock):
    client = FakeAirflowClient(streams=[FakeStream(["success"])], runs=[run("manual__1", "success")])
    runner(client, clock, wait_timeout=5).run()
    assert client.calls_to("open_stream") == [
        ("open_stream", "/api/v2/dags/first_script/dagRuns/manual__1/wait", 5.0)]


def test_airflow_3_0_has_no_wait_stream_so_the_run_is_polled_with_backoff(clock):
    client = FakeAirflowClient(airflow_version="3.0.6", runs=[
        run("manual__1", "running"), AirflowUnreachable("restarting"), run("manual__1", "success")])
    result = runner(client, clock).run()
    assert client.calls_to("open_stream") == []
    assert clock.sleeps == [0.5, 0.75, 1.125]
    assert [call[0] for call in client.calls].count("get_run") == 3
    assert result["run"]["state"] == "success"


def test_a_run_that_does_not_end_in_time_fails_at_the_deadline_with_how_to_attach(clock):
    client = FakeAirflowClient(airflow_version="3.0.6", runs=[run("manual__1", "running")])
    with pytest.raises(DagRunTimeout) as raised:
        runner(client, clock, wait_timeout=5).run()
    assert str(raised.value) == (
        "Timed out after 5s waiting for run 'manual__1' of DAG 'first_script' (last state: running): call "
        "again with run_id='manual__1' to attach to it, or raise wait_timeout")
    assert clock.sleeps == [0.5, 0.75, 1.125, 1.6875, 0.9375] and sum(clock.sleeps) == 5
    assert raised.value.result["run"] == {"dag_id": "first_script", "run_id": "manual__1", "state": "running"}


def test_a_streamed_wait_times_out_at_the_same_deadline(clock):
    client = FakeAirflowClient(streams=[FakeStream(["running"])], runs=[run("manual__1", "running")])
    with pytest.raises(DagRunTimeout, match=r"^Timed out after 3s waiting for run 'manual__1'"):
        runner(client, clock, wait_timeout=3).run()
    assert sum(clock.sleeps) == 3

"""The parts of dag_run that need no server: body per version, backoff, deadline, logs, input checks."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.airflow_k8s.platform.plugins.module_utils.airflow_api import (
    AirflowError,
    _detail_text,
    version_tuple,
)
from ansible_collections.airflow_k8s.platform.plugins.module_utils.dag_runner import (
    Deadline,
    backoff,
    check_run_id,
    failure_cause,
    parse_conf,
    render_log,
    trigger_body,
)


class TestTriggerBody:
    def test_airflow_3_always_sends_logical_date_even_when_null(self):
        assert trigger_body("v2", run_id="r1", conf={"a": 1}) == {"conf": {"a": 1}, "dag_run_id": "r1",
                                                                  "logical_date": None}

    def test_airflow_2_omits_logical_date_unless_given(self):
        assert trigger_body("v1", run_id="r1") == {"conf": {}, "dag_run_id": "r1"}
        assert trigger_body("v1", logical_date="2026-01-01T00:00:00+00:00")["logical_date"] == \
            "2026-01-01T00:00:00+00:00"

    def test_note_and_generated_run_id(self):
        body = trigger_body("v2", note="from ansible")
        assert body["note"] == "from ansible" and "dag_run_id" not in body


def test_backoff_starts_short_grows_by_half_and_stops_at_the_ceiling():
    assert list(itertools.islice(backoff(0.5, ceiling=2.0), 6)) == [0.5, 0.75, 1.125, 1.6875, 2.0, 2.0]


def test_deadline_counts_down_on_the_given_clock():
    now = [100.0]
    deadline = Deadline(10, clock=lambda: now[0])
    assert deadline.remaining() == 10 and not deadline.expired()
    now[0] = 109.5
    assert deadline.remaining() == pytest.approx(0.5)
    now[0] = 111
    assert deadline.remaining() == 0 and deadline.expired()


class TestRenderLog:
    def test_airflow_3_structured_entries_become_plain_lines(self):
        content = [
            {"event": "::group::Log message source details", "sources": ["/logs/attempt=1.log"]},
            {"timestamp": "2026-11-26T11:38:12Z", "event": "Hello from kubernetes!!!", "level": "info",
             "logger": "task.stdout"},
            {"event": "Task failed", "level": "error", "timestamp": "2026-11-26T11:38:13Z",
             "error_detail": [{"exc_type": "RuntimeError", "exc_value": "boom", "frames": []}]},
            "an unparsed line",
        ]
        assert render_log(content) == [
            "[2026-11-26T11:38:12Z] INFO - Hello from kubernetes!!!",
            "[2026-11-26T11:38:13Z] ERROR - Task failed",
            "RuntimeError: boom",
            "an unparsed line",
        ]

    def test_airflow_2_text_is_split_into_lines(self):
        assert render_log("line one\nline two\n") == ["line one", "line two"]


class TestFailureCause:
    def test_the_root_of_airflow_3s_exception_chain_in_one_line(self):
        # KubernetesPodOperator wraps an image pull failure: the wrap comes first, what caused it last.
        content = [
            {"event": "Container 'base': state='WAITING', reason='ErrImagePull'", "level": "warning"},
            {"event": "Task failed with exception", "level": "error", "error_detail": [
                {"exc_type": "AirflowException", "exc_value": "Pod first-script-x returned a failure.", "frames": []},
                {"exc_type": "PodLaunchFailedException", "exc_value":
                    "Image cannot be pulled, unable to start: ErrImagePull\nfailed to pull \"r/x@sha256:0\": not found\n",
                 "is_cause": False, "frames": []}]},
            {"event": "Task instance in failure state", "level": "info"},
        ]
        assert failure_cause(content) == ("PodLaunchFailedException: Image cannot be pulled, unable to start: "
                                          "ErrImagePull ... failed to pull \"r/x@sha256:0\": not found")

    def test_a_failed_pods_message_ends_with_what_the_script_printed_last(self):
        content = [{"event": "Task failed with exception", "level": "error", "error_detail": [
            {"exc_type": "AirflowException", "exc_value": "Pod first-script-x returned a failure.\nTraceback "
             "(most recent call last):\n  File \"/app/first-script.py\", line 2\nRuntimeError: no rows\n"}]}]
        assert failure_cause(content) == ("AirflowException: Pod first-script-x returned a failure. ... "
                                          "RuntimeError: no rows")

    def test_the_scripts_error_even_when_its_buffered_output_comes_after_it(self):
        # Python writes stderr at once and stdout when it exits: the termination message ends with stdout.
        content = [{"event": "Task failed with exception", "level": "error", "error_detail": [
            {"exc_type": "AirflowException", "exc_value": "Pod first-script-x returned a failure.\nTraceback "
             "(most recent call last):\nRuntimeError: no rows: nothing to do\nreading the input\n"}]}]
        assert failure_cause(content).endswith(" ... RuntimeError: no rows: nothing to do")

    def test_airflow_2s_text_log_gives_its_last_exception_line(self):
        text = ("[2026-01-01] {taskinstance.py:3} ERROR - Task failed with exception\nTraceback (most recent call "
                "last):\n  File \"x.py\", line 1\nairflow.exceptions.AirflowException: the pod failed\n"
                "[2026-01-01] {taskinstance.py:9} INFO - Marking task as FAILED.\n")
        assert failure_cause(text) == "airflow.exceptions.AirflowException: the pod failed"

    def test_no_exception_no_cause_and_a_long_one_is_cut(self):
        assert failure_cause([{"event": "killed", "level": "error"}, "text"]) is None
        assert failure_cause("just lines\n") is None
        long = failure_cause([{"event": "x", "error_detail": [
            {"exc_type": "E", "exc_value": "y" * 900 + " not found"}]}])
        assert len(long) <= 500 and long.startswith("E: yyy") and " ... " in long and long.endswith(" not found")


class TestInputChecks:
    @pytest.mark.parametrize("conf, expected", [
        (None, {}), ({"image": "x"}, {"image": "x"}), ('{"image": "x"}', {"image": "x"}),
    ])
    def test_conf_accepts_mappings_and_json_objects(self, conf, expected):
        assert parse_conf(conf) == expected

    @pytest.mark.parametrize("conf, message", [
        ([1, 2], "conf must be a JSON object (a mapping), not list"),
        ("[1, 2]", "conf must be a JSON object (a mapping), not list"),
        ("{oops", "conf is not valid JSON"),
        ({"when": object()}, "conf cannot be sent as JSON"),
    ])
    def test_conf_that_is_not_a_json_object_is_refused(self, conf, message):
        with pytest.raises(AirflowError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_conf(conf)

    @pytest.mark.parametrize("run_id", ["image-3f2a", "manual__2026-01-01T00:00:00+00:00", "a.b~c"])
    def test_run_ids_airflow_accepts(self, run_id):
        check_run_id(run_id)

    @pytest.mark.parametrize("run_id", ["with space", "slash/in/it", "émoji", ""])
    def test_run_ids_airflow_refuses(self, run_id):
        with pytest.raises(AirflowError, match="is not valid"):
            check_run_id(run_id)


def test_server_error_details_become_one_line():
    assert _detail_text({"detail": "Dag with dag_id: 'x' not found"}) == "Dag with dag_id: 'x' not found"
    assert _detail_text({"detail": [{"loc": ["body", "logical_date"], "msg": "Field required"}]}) == \
        "body.logical_date: Field required"
    assert _detail_text({"detail": None, "status": 401, "title": "Unauthorized"}) == "Unauthorized"
    assert _detail_text("two\nlines") == "two lines"


def test_version_tuple_ignores_suffixes():
    assert version_tuple("3.1.8") == (3, 1, 8)
    assert version_tuple("3.1.0rc1") == (3, 1, 0)
    assert version_tuple("2.11.2") >= (2, 11) and version_tuple("3.0.6") < (3, 1)

# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)
#
# Private to this collection: the interface may change without notice.

"""Trigger a DAG run and wait for its result, on top of AirflowClient.

The pure pieces (request body per API version, backoff, deadline, log rendering) are functions
of their own so the unit tests need no server."""

from __future__ import annotations

import json
import re
import time

from http.client import HTTPException

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.airflow_k8s.platform.plugins.module_utils.airflow_api import (
    AirflowError,
    AirflowUnreachable,
)
from ansible_collections.airflow_k8s.platform.plugins.module_utils.log_cause import cause_line, error_line, meaningful_lines

# Airflow's default [scheduler] allowed_run_id_pattern; a run id outside it is refused with HTTP 400.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.~:+-]+$")
RUN_FIELDS = ("dag_id", "dag_run_id", "state", "run_type", "logical_date", "queued_at", "start_date",
              "end_date", "duration", "conf", "note")
TASK_FIELDS = ("task_id", "map_index", "state", "try_number", "duration", "start_date", "end_date", "operator")
FINISHED_TASK_FAILURES = ("failed", "upstream_failed")
CAUSE_LENGTH = 500


class DagRunError(AirflowError):
    """A run that exists but did not end well; carries the result for the module to return."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


class DagRunFailed(DagRunError):
    """The run ended in one of the failure states."""


class DagRunTimeout(DagRunError):
    """The run did not end before wait_timeout."""


class Deadline:
    """A point in time; ``clock`` is injectable so backoff and timeouts are testable without sleeping."""

    def __init__(self, seconds, clock=time.monotonic):
        self._clock = clock
        self.seconds = seconds
        self.at = clock() + seconds

    def remaining(self):
        return max(0.0, self.at - self._clock())

    def expired(self):
        return self.remaining() <= 0


def backoff(start, factor=1.5, ceiling=10.0):
    """Poll intervals: ``start``, then growing by ``factor`` up to ``ceiling`` seconds."""
    interval = start
    while True:
        yield interval
        interval = min(ceiling, interval * factor)


def trigger_body(api_version, run_id=None, conf=None, note=None, logical_date=None):
    """The trigger request body each API requires.

    Airflow 3 (v2) rejects a body without the ``logical_date`` key (HTTP 422) but accepts null;
    Airflow 2 (v1) rejects null (HTTP 400) and defaults a missing key to now."""
    body = {"conf": conf or {}}
    if run_id:
        body["dag_run_id"] = run_id
    if note is not None:
        body["note"] = note
    if api_version == "v2" or logical_date is not None:
        body["logical_date"] = logical_date
    return body


def parse_conf(conf):
    """The run's conf as a dict: a mapping, or a JSON text of an object. Anything else is refused."""
    if conf is None:
        return {}
    if isinstance(conf, (str, bytes)):
        try:
            conf = json.loads(conf)
        except ValueError as error:
            raise AirflowError("conf is not valid JSON (%s): give a mapping or a JSON object" % error)
    if not isinstance(conf, dict):
        raise AirflowError("conf must be a JSON object (a mapping), not %s" % type(conf).__name__)
    try:
        json.dumps(conf)
    except (TypeError, ValueError) as error:
        raise AirflowError("conf cannot be sent as JSON: %s" % error)
    return conf


def check_run_id(run_id):
    if run_id is not None and not RUN_ID_PATTERN.match(run_id):
        raise AirflowError("run_id '%s' is not valid: Airflow accepts letters, digits and _ . ~ : + - only"
                           % run_id)


def render_log(content):
    """Airflow 3's structured log entries (or Airflow 2's text) as plain lines."""
    if isinstance(content, (str, bytes)):
        return to_text(content).splitlines()
    lines = []
    for entry in content or []:
        if not isinstance(entry, dict):
            lines.append(to_text(entry))
            continue
        if entry.get("sources") is not None and not entry.get("level"):
            continue  # "::group::Log message source details": where the log was read from
        event = to_text(entry.get("event", ""))
        prefix = " ".join(part for part in (
            "[%s]" % entry["timestamp"] if entry.get("timestamp") else "",
            to_text(entry.get("level", "")).upper(),
        ) if part)
        lines.append("%s - %s" % (prefix, event) if prefix else event)
        for error in entry.get("error_detail") or []:
            if isinstance(error, dict):
                lines.append("%s: %s" % (error.get("exc_type", "Error"), error.get("exc_value", "")))
    return lines


def one_line(text):
    """A message as one line: its first line and, when there are more, the one of the rest that says why
    (log_cause: for a failed pod's message, the script's error, though its buffered output may come after
    it)."""
    lines = meaningful_lines(to_text(text).splitlines())
    if len(lines) > 1:
        return "%s ... %s" % (lines[0], cause_line(lines[1:]))
    return lines[0] if lines else ""


def failure_cause(content):
    """Why a task failed, in one line, from its log: the root of the exception chain of Airflow 3's
    last logged error (the first exception raised; the operator's own wrap of it comes first in the
    chain), or the last exception line of Airflow 2's text log. None when the log shows no exception."""
    cause = None
    if isinstance(content, (str, bytes)):
        cause = error_line(to_text(content).splitlines())
    else:
        for entry in reversed(content or []):
            errors = [error for error in (entry.get("error_detail") or []) if isinstance(error, dict)] \
                if isinstance(entry, dict) else []
            if errors:
                root = errors[-1]
                cause = "%s: %s" % (root.get("exc_type") or "Error", one_line(root.get("exc_value", "")))
                break
    if cause and len(cause) > CAUSE_LENGTH:
        # Keep both ends: the exception's kind comes first, and a message's last words often say the most
        # (an image pull error ends with "not found").
        half = (CAUSE_LENGTH - 5) // 2
        cause = "%s ... %s" % (cause[:half], cause[-half:])
    return cause


def summarize_run(run):
    summary = {key: run.get(key) for key in RUN_FIELDS}
    summary["run_id"] = summary.pop("dag_run_id")
    return summary


def summarize_tasks(instances):
    return [{key: ti.get(key) for key in TASK_FIELDS} for ti in instances]


class DagRunner:
    """Carries out one dag_run call. ``sleep`` and ``clock`` are injectable for unit tests."""

    def __init__(self, client, params, check_mode=False, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.p = params
        self.check_mode = check_mode
        self._sleep = sleep
        self._clock = clock
        self.changed = False
        self.result = {"unpaused": False, "triggered": False, "rerun": False}
        self.causes = {}  # task key -> why it failed, from its log

    # -- steps ------------------------------------------------------------------------------

    def run(self):
        conf = parse_conf(self.p["conf"])
        check_run_id(self.p["run_id"])
        self.client.connect()
        self.result.update(api_version=self.client.api_version, airflow_version=self.client.airflow_version)

        dag = self.wait_for_dag()
        self.ensure_unpaused(dag)

        run = self.client.get_run(self.p["dag_id"], self.p["run_id"]) if self.p["run_id"] else None
        if run is None and not self.check_mode:
            run = self.trigger(conf)
        if run is None:  # check mode, nothing to attach to
            self.result["msg"] = "DAG '%s' is present and can be triggered" % self.p["dag_id"]
            self.changed = True
            return self.result
        if self.p["rerun_failed"] and run.get("state") in self.p["failure_states"]:
            run = self.rerun(run)
            if run is None:  # check mode: the failed run stays as it is
                return self.result

        run_id = run["dag_run_id"]
        self.result["ui_url"] = self.client.ui_url(self.p["dag_id"], run_id)
        if self.p["wait"] and not self.check_mode:
            run = self.wait_for_end(run_id, run.get("state"))
        return self.finish(run)

    def wait_for_dag(self):
        """Wait (bounded) for the DAG to be parsed; fail at once if its file has an import error."""
        dag_id = self.p["dag_id"]
        deadline = Deadline(self.p["dag_wait_timeout"], self._clock)
        intervals = backoff(1.0, ceiling=5.0)
        while True:
            dag = self.client.get_dag(dag_id)
            if dag is not None and not dag.get("has_import_errors"):
                return dag
            self.fail_on_import_error(dag)
            if deadline.expired():
                raise AirflowError(
                    "DAG '%s' was not found on Airflow at %s within %ss: check dag_id, and that the DAG's file "
                    "reached the DAGs folder (gitSync) and parsed" % (dag_id, self.client.url, deadline.seconds))
            self._sleep(min(next(intervals), deadline.remaining()))

    def fail_on_import_error(self, dag):
        """An import error in the DAG's file (or, before it ever parsed, a file named after it)."""
        dag_id = self.p["dag_id"]
        wanted = (dag.get("relative_fileloc") or dag.get("fileloc")) if dag else None
        for error in self.client.import_errors():
            filename = to_text(error.get("filename", ""))
            stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if (wanted and (filename == wanted or filename.endswith("/" + wanted))) or (not dag and stem == dag_id):
                trace = to_text(error.get("stack_trace", "")).strip()
                last_line = trace.splitlines()[-1] if trace else "no details"
                self.result["import_error"] = {"filename": filename, "stack_trace": trace}
                raise AirflowError("DAG '%s' cannot be loaded: import error in %s: %s"
                                   % (dag_id, filename, last_line))

    def ensure_unpaused(self, dag):
        if not dag.get("is_paused"):
            return
        if not self.p["unpause"]:
            raise AirflowError("DAG '%s' is paused, so a run would wait forever: set unpause=true, or unpause it "
                               "in the Airflow UI" % self.p["dag_id"])
        if not self.check_mode:
            self.client.unpause(self.p["dag_id"])
        self.result["unpaused"] = self.changed = True

    def trigger(self, conf):
        body = trigger_body(self.client.api_version, self.p["run_id"], conf, self.p["note"], self.p["logical_date"])
        run = self.client.trigger(self.p["dag_id"], body)
        if run is None:  # 409: the run id appeared since we looked; attach to it, never trigger twice
            return self.client.get_run(self.p["dag_id"], self.p["run_id"])
        self.result["triggered"] = self.changed = True
        return run

    def rerun(self, run):
        """Run a failed run again under its id: clear its failed tasks (and those their failure kept from running),
        so the scheduler queues the run again. Returns the cleared run, or None in check mode."""
        run_id, state = run["dag_run_id"], run.get("state")
        self.result["rerun"] = self.changed = True
        if self.check_mode:
            self.result["msg"] = ("Run '%s' of DAG '%s' ended %s and would be run again (rerun_failed)"
                                  % (run_id, self.p["dag_id"], state))
            return None
        self.client.clear_failed_tasks(self.p["dag_id"], run_id)
        # The clear answers with the run (Airflow 3) or with the cleared task instances (Airflow 2): read the run
        # itself, queued again now, so the wait starts from its new state.
        return self.client.get_run(self.p["dag_id"], run_id)

    def wait_for_end(self, run_id, state):
        deadline = Deadline(self.p["wait_timeout"], self._clock)
        stop_states = set(self.p["success_states"]) | set(self.p["failure_states"])
        self.result["last_state"] = state
        run = None
        if state not in stop_states:
            wait = self._stream_until if self.client.supports_wait_stream else self._poll_until
            run = wait(run_id, stop_states, deadline)
        # The stream's lines carry only the state: fetch the whole run unless the wait already did.
        return run or self._retrying(deadline, lambda: self.client.get_run(self.p["dag_id"], run_id))

    def _stream_until(self, run_id, stop_states, deadline):
        """Read the /wait stream (Airflow >= 3.1): one request, a line per state check on the server.

        Returns the run when it had to fetch it, None when a stream line said the run stopped."""
        path = self.client.wait_stream_path(self.p["dag_id"], run_id)
        query = {"interval": self.p["poll_interval"]}
        intervals = backoff(self.p["poll_interval"])
        while not deadline.expired():
            try:
                # The read timeout bounds the wait for each line, so our deadline holds even if the server
                # goes silent; a line comes every poll_interval seconds while the run goes on.
                response = self.client.open_stream(path, query, timeout=max(1.0, min(
                    deadline.remaining(), self.client.timeout)))
                try:
                    for line in iter(response.readline, b""):
                        state = json.loads(to_text(line)).get("state") if line.strip() else None
                        if state:
                            self.result["last_state"] = state
                            if state in stop_states:
                                return None
                        if deadline.expired():
                            break
                finally:
                    response.close()
                intervals = backoff(self.p["poll_interval"])  # a clean stream end resets the backoff
                run = self._retrying(deadline, lambda: self.client.get_run(self.p["dag_id"], run_id))
                if run and run.get("state") in stop_states:
                    self.result["last_state"] = run["state"]
                    return run
            except (AirflowUnreachable, OSError, HTTPException, ValueError):
                # The API server restarting, a read that timed out, or a line cut off by a dropped
                # connection: reconnect after a pause, until the deadline.
                pass
            self._sleep(min(next(intervals), deadline.remaining()))
        return self._timeout(run_id, deadline)

    def _poll_until(self, run_id, stop_states, deadline):
        """Poll the run with a growing interval; returns it once it reached a stop state."""
        intervals = backoff(self.p["poll_interval"])
        while not deadline.expired():
            self._sleep(min(next(intervals), deadline.remaining()))
            try:
                run = self.client.get_run(self.p["dag_id"], run_id)
            except AirflowUnreachable:
                continue
            if run:
                self.result["last_state"] = run.get("state")
                if run.get("state") in stop_states:
                    return run
        return self._timeout(run_id, deadline)

    def _retrying(self, deadline, call):
        """Run ``call``; while the API server can't be reached, retry until the deadline."""
        intervals = backoff(0.5, ceiling=5.0)
        while True:
            try:
                return call()
            except AirflowUnreachable:
                if deadline.expired():
                    raise
                self._sleep(min(next(intervals), max(deadline.remaining(), 0.1)))

    def _timeout(self, run_id, deadline):
        self.result["run"] = {"dag_id": self.p["dag_id"], "run_id": run_id, "state": self.result["last_state"]}
        raise DagRunTimeout(
            "Timed out after %ss waiting for run '%s' of DAG '%s' (last state: %s): call again with "
            "run_id='%s' to attach to it, or raise wait_timeout"
            % (deadline.seconds, run_id, self.p["dag_id"], self.result["last_state"], run_id), self.result)

    def finish(self, run):
        dag_id, run_id = self.p["dag_id"], run["dag_run_id"]
        instances = self.client.task_instances(dag_id, run_id)
        self.result.update(run=summarize_run(run), task_instances=summarize_tasks(instances))
        self.result["logs"] = self.collect_logs(run_id, instances)
        self.result.pop("last_state", None)
        if run.get("state") in self.p["failure_states"]:
            raise DagRunFailed(self.failure_message(run, instances), self.result)
        return self.result

    def collect_logs(self, run_id, instances):
        wanted = self.p["log_tasks"]
        logs = {}
        for ti in instances:
            chosen = (ti.get("state") in FINISHED_TASK_FAILURES) if wanted is None else \
                ("*" in wanted or ti.get("task_id") in wanted)
            if not chosen or not ti.get("try_number"):
                continue  # a task that never ran has no log
            key = self.task_key(ti)
            content = self.client.task_log(self.p["dag_id"], run_id, ti["task_id"], ti["try_number"],
                                           ti.get("map_index", -1))
            logs[key] = render_log(content)
            if ti.get("state") == "failed":
                self.causes[key] = failure_cause(content)
        return logs

    @staticmethod
    def task_key(ti):
        return ti["task_id"] if ti.get("map_index", -1) in (-1, None) else "%s[%s]" % (ti["task_id"], ti["map_index"])

    def failure_message(self, run, instances):
        # Each failed task with why, so that the message's first line names the cause.
        failed = []
        for ti in instances:
            if ti.get("state") == "failed":
                key = self.task_key(ti)
                cause = self.causes.get(key)
                failed.append("%s (try %s)%s" % (key, ti.get("try_number"), ": " + cause if cause else ""))
        message = "Run '%s' of DAG '%s' ended %s" % (run["dag_run_id"], self.p["dag_id"], run.get("state"))
        message += "; failed tasks: %s" % "; ".join(failed) if failed else "; no task failed (see task_instances)"
        tail = self.p["log_tail"]
        for task, lines in self.result["logs"].items():
            if lines and tail:
                message += "\nLast log lines of %s:\n  %s" % (task, "\n  ".join(lines[-tail:]))
        return message

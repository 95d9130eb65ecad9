"""dag_run's main(): what the user sees when the flow stops, expected or not."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils._internal import _traceback
from ansible.module_utils.testing import patch_module_args

from ansible_collections.airflow_k8s.platform.plugins.modules import dag_run

ARGS = {"url": "http://airflow.test:8080", "username": "ops", "password": "not-a-real-one", "dag_id": "first_script"}


def run_main(capsys):
    with patch_module_args(ARGS), pytest.raises(SystemExit) as exited:
        dag_run.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_an_unexpected_error_is_one_line_with_the_traceback_in_exception(monkeypatch, capsys):
    # What ANSIBLE_DISPLAY_TRACEBACK=error turns on (ansible-core >= 2.19 returns a module's traceback
    # only then); the switch is process-wide and cached, so the test sets it directly.
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda _event: True)

    def broken_run(self):
        self.result["api_version"] = "v2"
        raise KeyError("state")
    monkeypatch.setattr(dag_run.DagRunner, "run", broken_run)
    code, result = run_main(capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == ("dag_run stopped on an unexpected error: KeyError: 'state' (please report it with its "
                             "traceback: ANSIBLE_DISPLAY_TRACEBACK=error shows it, -vvv before ansible-core 2.19)")
    assert result["exception"].startswith("Traceback (most recent call last):")
    assert result["exception"].rstrip().endswith("KeyError: 'state'")
    assert result["api_version"] == "v2" and result["changed"] is False
    assert "not-a-real-one" not in json.dumps(result)


def test_an_expected_error_is_the_servers_answer_in_one_line(monkeypatch, capsys):
    def refused(self):
        raise dag_run.AirflowError("Airflow at http://airflow.test:8080 refused the credentials", status=401)
    monkeypatch.setattr(dag_run.DagRunner, "run", refused)
    code, result = run_main(capsys)
    assert code == 1 and result["msg"] == "Airflow at http://airflow.test:8080 refused the credentials"
    assert result["status"] == 401 and "\n" not in result["msg"]

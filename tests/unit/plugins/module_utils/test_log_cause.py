"""The one reader of "why it failed" that dag_run and the airflow role's diagnosis share."""

from __future__ import annotations

import pytest

from ansible_collections.airflow_k8s.platform.plugins.filter.log_cause import log_cause
from ansible_collections.airflow_k8s.platform.plugins.module_utils.log_cause import cause_line, error_line

# Log tails as the containers wrote them.
MIGRATION_WITHOUT_DATABASE = """\
Traceback (most recent call last):
  File "/home/airflow/.local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 145, in __init__
    self._dbapi_connection = engine.raw_connection()
psycopg2.OperationalError: could not translate host name "nowhere" to address: Name or service not known

The above exception was the direct cause of the following exception:

sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "nowhere" to address
(Background on this error at: https://sqlalche.me/e/20/e3q8)
"""
GIT_SYNC_BAD_BRANCH = """\
git-sync: cloning http://airflow-git:8000/dags.git (ref no-such-branch) into /git
git-sync: can't fetch no-such-branch from http://airflow-git:8000/dags.git: fatal: couldn't find remote ref no-such-branch
"""
SCRIPT_ERROR_THEN_BUFFERED_OUTPUT = """\
Traceback (most recent call last):
  File "/app/first-script.py", line 2, in <module>
RuntimeError: no rows: nothing to do
reading the input
"""
LOG_GROOMER = "clean-logs: every 15 minutes, deleting logs in /opt/airflow/logs older than 21600 minutes\n"
# The airflow role's restore job: psql's error, then the statement with a caret under where it failed.
RESTORE_REFUSED = """\
psql:<stdin>:812: ERROR:  relation "dag_run" already exists
LINE 1: CREATE TABLE public.dag_run (
                     ^
"""
BACKUP_REFUSED = 'pg_dump: error: connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  password ' \
                 'authentication failed for user "airflow"\n'


@pytest.mark.parametrize(("log", "cause"), [
    (MIGRATION_WITHOUT_DATABASE,
     'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "nowhere" to address'),
    (GIT_SYNC_BAD_BRANCH, "git-sync: can't fetch no-such-branch from http://airflow-git:8000/dags.git: fatal: couldn't"
                          " find remote ref no-such-branch"),
    (SCRIPT_ERROR_THEN_BUFFERED_OUTPUT, "RuntimeError: no rows: nothing to do"),
    # Nothing names an error: the last line is all there is to say.
    (RESTORE_REFUSED, 'psql:<stdin>:812: ERROR:  relation "dag_run" already exists'),
    (BACKUP_REFUSED, BACKUP_REFUSED.strip()),
    (LOG_GROOMER, LOG_GROOMER.strip()),
    ("  \nunable to retrieve container logs for containerd://0123\n", None),
    ("", None),
], ids=["sqlalchemy", "git-sync", "script", "psql", "pg_dump", "no-error", "no-log", "empty"])
def test_the_cause_is_the_line_that_says_why(log, cause):
    assert cause_line(log.splitlines()) == cause
    assert log_cause(log.splitlines()) == (cause or "")


def test_an_exception_line_wins_over_words_that_sound_like_errors_after_it():
    lines = ["ValueError: bad conf", "INFO - Marking task as FAILED: denied retry"]
    assert error_line(lines) == "ValueError: bad conf"


def test_a_log_without_an_error_has_no_error_line():
    assert error_line(LOG_GROOMER.splitlines()) is None

# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""Which line of a log says why something failed.

The one reader for the dag_run module (a task's log, a failed pod's message) and the airflow role's
diagnosis (the log of a container that can't start, through the log_cause filter), so that a fix
of one reaches the other.
"""

from __future__ import annotations

import re

# A Python exception as a log shows it: "ValueError: ...", "airflow.exceptions.AirflowException: ...".
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Failure)\b[^:]*: ")
# Other tools' words for a failure: git's "fatal:", a registry's "denied", "connection refused", ...; PostgreSQL's
# tools ("pg_dump: error: ...") and server ("psql:<stdin>:12: ERROR:  relation ... does not exist").
ERROR_LINE = re.compile(r"(?i)\w(error|exception):|fatal:|denied|refused|not found|could not|unable to|"
                        r"verification failed|^[\w.-]+: error: |(?-i:\b(?:ERROR|FATAL|PANIC):  )")
# Lines that close or wrap a failure without saying what it was: SQLAlchemy's link to its docs, and
# what kubelet answers for a container that has no log yet.
NOISE = re.compile(r"^\(Background on this error|^unable to retrieve container logs")


def meaningful_lines(lines):
    """The lines stripped, without blank ones and noise."""
    stripped = (line.strip() for line in lines)
    return [line for line in stripped if line and not NOISE.match(line)]


def error_line(lines):
    """The last line that names a Python exception, else the last that names an error in other words;
    None when no line does."""
    lines = meaningful_lines(lines)
    return (next((line for line in reversed(lines) if EXCEPTION_LINE.match(line)), None)
            or next((line for line in reversed(lines) if ERROR_LINE.search(line)), None))


def cause_line(lines):
    """The line that says why: error_line, else the last meaningful line; None for an empty log."""
    lines = meaningful_lines(lines)
    return error_line(lines) or (lines[-1] if lines else None)

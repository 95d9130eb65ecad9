# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The line of a log that says why something failed (module_utils/log_cause, which dag_run uses too)."""

from __future__ import annotations

from ansible_collections.airflow_k8s.platform.plugins.module_utils.log_cause import cause_line

DOCUMENTATION = r"""
name: log_cause
author: airflow_k8s.platform maintainers
short_description: The line of a log that says why something failed
description:
  - "Of a container's log lines, the last that names a Python exception (C(ValueError: ...)), else the last that
    names an error in other words (C(fatal:), C(denied), C(connection refused), C(not found), ...), else the last
    line. Blank lines, SQLAlchemy's closing C((Background on this error at ...)) and kubelet's C(unable to retrieve
    container logs) are skipped."
  - The same reader the P(airflow_k8s.platform.dag_run#module) module uses for a failed task's log.
positional: _input
options:
  _input:
    description: The log's lines.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Say why the container stopped
  ansible.builtin.debug:
    msg: "its log says: {{ container_log.log_lines | airflow_k8s.platform.log_cause }}"
"""

RETURN = r"""
_value:
  description: The line, stripped; an empty string for a log with nothing in it.
  type: str
"""


def log_cause(lines):
    return cause_line(lines or []) or ""


class FilterModule:
    def filters(self):
        return {"log_cause": log_cause}

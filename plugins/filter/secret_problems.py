# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""What is wrong with the Secrets an install needs, one line each, naming only names and keys."""

from __future__ import annotations

DOCUMENTATION = r"""
name: secret_problems
author: airflow_k8s.platform maintainers
short_description: Secrets that are missing, or lack keys, one line each
description:
  - Takes the results of a M(kubernetes.core.k8s_info) loop over Secrets, whose items each say which input names the
    Secret (C(variable)), its C(name) and the C(keys) the pods read, and returns a line for each Secret that is not
    there or lacks a key. The lines hold names and keys only, never a Secret's data.
positional: _input, namespace
options:
  _input:
    description: The C(results) of the registered loop.
    type: list
    elements: dict
    required: true
  namespace:
    description: The namespace looked in, for the message.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Fail when a Secret the input names is missing
  ansible.builtin.assert:
    that: secrets.results | airflow_k8s.platform.secret_problems('airflow') | length == 0
    fail_msg: "{{ secrets.results | airflow_k8s.platform.secret_problems('airflow') | first | default('') }}"
"""

RETURN = r"""
_value:
  description: One line per Secret that is missing or lacks keys; empty when all are there.
  type: list
  elements: str
"""


def secret_problems(results, namespace):
    problems = []
    for result in results or []:
        wanted = list(result["item"]["keys"])
        found = result.get("resources") or []
        present = set((found[0].get("data") or {}) if found else ())
        missing = [key for key in wanted if key not in present]
        if not missing:
            continue
        what = (f"is not in namespace {namespace}" if not found else f"has no key {', '.join(missing)}")
        problems.append(f"Secret {result['item']['name']} ({result['item']['variable']}) {what}: create it there "
                        f"with the keys {', '.join(wanted)} before installing, or fix {result['item']['variable']}")
    return problems


class FilterModule:
    def filters(self):
        return {"secret_problems": secret_problems}

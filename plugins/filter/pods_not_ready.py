# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The pods that are not ready yet, one line each."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pods_not_ready
author: airflow_k8s.platform maintainers
short_description: The pods that are neither ready nor finished, one line each
description:
  - Takes Pod objects (the C(resources) of M(kubernetes.core.k8s_info)) and returns a line for each pod that is not
    Ready and has not Succeeded, with its phase and how many of its containers are ready.
  - An empty list means every pod is ready or done.
positional: _input
options:
  _input:
    description: Pod objects.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Wait until every pod of the release is ready or done
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: airflow
  register: pods
  until: pods.resources | length > 0 and pods.resources | airflow_k8s.platform.pods_not_ready | length == 0
"""

RETURN = r"""
_value:
  description: For each pod not ready, its name, its phase and how many of its containers are ready.
  type: list
  elements: str
"""


from ansible_collections.airflow_k8s.platform.plugins.module_utils.pod_status import pods_not_ready


class FilterModule:
    def filters(self):
        return {"pods_not_ready": pods_not_ready}

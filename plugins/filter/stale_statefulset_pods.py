# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The StatefulSet pods a rollout will never replace by itself."""

from __future__ import annotations

DOCUMENTATION = r"""
name: stale_statefulset_pods
author: airflow_k8s.platform maintainers
short_description: StatefulSet pods of an older revision that are not ready
description:
  - A StatefulSet rolls its pods one by one and waits for each to be ready; a pod of an earlier revision that never
    became ready (a crash loop, an image that can't be pulled) is therefore never replaced, even after the
    StatefulSet was fixed (Kubernetes issue 67250). Deleting such a pod lets the fixed revision take its place.
  - Takes Pod objects and StatefulSet objects (C(resources) of M(kubernetes.core.k8s_info)) and returns the names
    of the pods that belong to a StatefulSet, carry a revision other than its update revision, and are not ready.
positional: _input, statefulsets
options:
  _input:
    description: Pod objects.
    type: list
    elements: dict
    required: true
  statefulsets:
    description: StatefulSet objects.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Replace the StatefulSet pods an earlier, broken revision left behind
  kubernetes.core.k8s:
    state: absent
    kind: Pod
    namespace: airflow
    name: "{{ item }}"
  loop: "{{ pods.resources | airflow_k8s.platform.stale_statefulset_pods(statefulsets.resources) }}"
"""

RETURN = r"""
_value:
  description: Names of the pods to delete.
  type: list
  elements: str
"""


def _ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def stale_statefulset_pods(pods, statefulsets):
    revisions = {s.get("metadata", {}).get("name"): (s.get("status") or {}).get("updateRevision")
                 for s in statefulsets or []}
    stale = []
    for pod in pods or []:
        metadata = pod.get("metadata") or {}
        owners = [o.get("name") for o in metadata.get("ownerReferences") or [] if o.get("kind") == "StatefulSet"]
        revision = (metadata.get("labels") or {}).get("controller-revision-hash")
        if owners and revisions.get(owners[0]) and revision != revisions[owners[0]] and not _ready(pod):
            stale.append(metadata.get("name"))
    return stale


class FilterModule:
    def filters(self):
        return {"stale_statefulset_pods": stale_statefulset_pods}

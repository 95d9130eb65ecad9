# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""A namespace's recent events as lines an operator reads."""

from __future__ import annotations

DOCUMENTATION = r"""
name: event_lines
author: airflow_k8s.platform maintainers
short_description: The most recent Kubernetes events, one line each
description:
  - Takes Event objects (the C(resources) of M(kubernetes.core.k8s_info) with C(kind=Event)) and returns the most
    recent ones, oldest first, one line each with the reason, the object and the message.
positional: _input, count
options:
  _input:
    description: Event objects.
    type: list
    elements: dict
    required: true
  count:
    description: How many lines, at most.
    type: int
    default: 15
"""

EXAMPLES = r"""
- name: Show the namespace's recent events
  ansible.builtin.debug:
    msg: "{{ events.resources | airflow_k8s.platform.event_lines }}"
"""

RETURN = r"""
_value:
  description: One line per event, oldest first.
  type: list
  elements: str
"""


def _when(event):
    return event.get("lastTimestamp") or event.get("eventTime") or event.get("metadata", {}).get(
        "creationTimestamp") or ""


def event_lines(events, count=15):
    lines = []
    for event in sorted(events or [], key=_when)[-int(count):]:
        target = event.get("involvedObject") or {}
        lines.append(f"{event.get('reason', '')} {target.get('kind', '')}/{target.get('name', '')}: "
                     f"{' '.join(str(event.get('message', '')).split())}")
    return lines


class FilterModule:
    def filters(self):
        return {"event_lines": event_lines}

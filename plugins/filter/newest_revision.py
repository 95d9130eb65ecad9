# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: newest_revision
short_description: The newest revision of a Helm release, from its storage Secrets' metadata
version_added: 0.1.0
description:
  - Helm keeps each revision of a release in a Secret labelled C(owner=helm), C(name), C(version) (the revision
    number) and C(status). This returns the metadata of the highest revision, compared as numbers (revision 10 is
    newer than 9), or an empty dict when there is none.
  - The airflow role reads it to tell a release an interrupted run left pending from a pending mark an earlier
    rollback left in the history.
options:
  _input:
    description: The C(metadata) of the release's Secrets, as kubernetes.core.k8s_info returns them.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Read helm's record of the release
  kubernetes.core.k8s_info:
    kind: Secret
    namespace: airflow
    label_selectors: [owner=helm, name=airflow]
  register: records
  no_log: true

- name: Show the newest revision's status
  ansible.builtin.debug:
    msg: "{{ (records.resources | map(attribute='metadata') | airflow_k8s.platform.newest_revision).labels.status }}"
"""

RETURN = r"""
_value:
  description: The newest revision's metadata (its C(labels) hold C(version) and C(status)); empty when there is none.
  type: dict
"""


def newest_revision(metadata):
    revisions = [item for item in metadata or [] if str(item.get("labels", {}).get("version", "")).isdigit()]
    return max(revisions, key=lambda item: int(item["labels"]["version"]), default={})


class FilterModule:
    def filters(self):
        return {"newest_revision": newest_revision}

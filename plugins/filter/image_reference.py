# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""An image reference's parts, for roles: the collection's one parser (module_utils/image_reference)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.module_utils.image_reference import ImageReferenceError, parse

DOCUMENTATION = r"""
name: image_reference
author: airflow_k8s.platform maintainers
short_description: Split a container image reference into its parts, as the Docker Engine reads it
description:
  - Parses C([registry[:port]/]path[:tag][@sha256:...]) with the grammar Docker, containerd and Kubernetes share.
  - A reference without a registry is Docker Hub's (C(docker.io)), and a one-part path there is under C(library/).
  - Fails in one line, naming the reference and what is wrong with it, for a reference no registry would take
    (an uppercase repository, a malformed tag or digest, white space, an image id).
positional: _input
options:
  _input:
    description: The image reference.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Give the chart the repository and the tag separately
  ansible.builtin.set_fact:
    chart_image:
      repository: "{{ (image | airflow_k8s.platform.image_reference).name }}"
      tag: "{{ (image | airflow_k8s.platform.image_reference).tag }}"

- name: Pull by digest alone when the reference has one (the Docker API refuses name:tag@digest)
  community.docker.docker_image:
    name: "{{ (image | airflow_k8s.platform.image_reference).pull }}"
    source: pull
"""

RETURN = r"""
_value:
  description: The reference's parts.
  type: dict
  contains:
    written:
      description: The reference as given.
      type: str
    name:
      description: The name as written, without tag and digest, such as C(apache/airflow) or C(localhost:5001/first-script).
      type: str
    registry:
      description: The registry, C(host[:port]); C(docker.io) when the reference names none.
      type: str
    path:
      description: The path in the registry, such as C(apache/airflow) or C(library/busybox).
      type: str
    repository:
      description: The normalised repository, registry and path, such as C(docker.io/library/busybox).
      type: str
    tag:
      description: The tag, or an empty string.
      type: str
    digest:
      description: The digest (C(sha256:) and 64 hex digits), or an empty string.
      type: str
    canonical:
      description: The normalised reference with its tag and digest.
      type: str
    pull:
      description: What the Docker Engine's API pulls, C(name@digest) when pinned, else C(name:tag).
      type: str
"""


def image_reference(reference):
    try:
        return parse(reference).as_dict()
    except ImageReferenceError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self):
        return {"image_reference": image_reference}

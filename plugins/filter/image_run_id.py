# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The DAG run id that belongs to an image: one formula for every caller of dag_run."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.module_utils.image_reference import ImageReferenceError, parse

DOCUMENTATION = r"""
name: image_run_id
author: airflow_k8s.platform maintainers
short_description: The DAG run id for an image reference pinned by digest
description:
  - Turns an image reference pinned by digest (C(registry/name:tag@sha256:...)) into a run id made of a prefix and
    the first 16 hex digits of the digest, such as C(image-3f2a9c1b7d4e5f60).
  - Give it as O(airflow_k8s.platform.dag_run#module:run_id), and a re-run with the same image attaches to the run
    that image already had instead of triggering a second one; a new image gets a new run.
positional: _input, prefix
options:
  _input:
    description: An image reference that ends in C(@sha256:) and 64 hex digits.
    type: str
    required: true
  prefix:
    description: What the run id starts with.
    type: str
    default: image-
"""

EXAMPLES = r"""
- name: Run first_script once per image
  airflow_k8s.platform.dag_run:
    url: "{{ airflow_api_url }}"
    token: "{{ airflow_token }}"
    dag_id: first_script
    run_id: "{{ image_ref | airflow_k8s.platform.image_run_id }}"
    conf:
      image: "{{ image_ref }}"
"""

RETURN = r"""
_value:
  description: The run id, such as C(image-3f2a9c1b7d4e5f60).
  type: str
"""


def image_run_id(image_ref, prefix="image-"):
    try:
        return parse(image_ref).run_id(prefix)
    except ImageReferenceError as error:
        raise AnsibleFilterError("image_run_id needs an image reference pinned by digest (...@sha256:<64 hex>): %s;"
                                 " use the image_ref the image role publishes" % error) from None


class FilterModule:
    def filters(self):
        return {"image_run_id": image_run_id}

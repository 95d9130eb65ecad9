# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""What another tool's failure means, for roles (module_utils/tool_failure)."""

from __future__ import annotations

from ansible_collections.airflow_k8s.platform.plugins.module_utils.tool_failure import describe

DOCUMENTATION = r"""
name: tool_failure
author: airflow_k8s.platform maintainers
short_description: Read another tool's error message - what kind of failure, in one line, and its reason
description:
  - Reads the message a Docker Engine, a registry or a download gave through a module (community.docker's, get_url's),
    so that a role can say what to do instead of matching the tool's words itself.
  - The kind is C(checksum) (a download that is not what was pinned), C(refused) (credentials refused or missing),
    C(tls) (plain HTTP where HTTPS was expected, a certificate this host does not trust), C(not-found) (no such image
    or manifest), C(unreachable) (no DNS, no route, nothing listening, no answer) or C(other). For a build, only the
    Engine's reason counts, not the build's own output.
positional: _input, length
options:
  _input:
    description: The failed task's message.
    type: str
    required: true
  length:
    description: The longest C(line) returned.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Push the image
  block:
    - name: Push it
      community.docker.docker_image:
        name: "{{ repository }}"
        tag: "{{ tag }}"
        source: local
        push: true
  rescue:
    - name: Say why, and what to do
      vars:
        push_failure: "{{ ansible_failed_result.msg | airflow_k8s.platform.tool_failure }}"
      ansible.builtin.fail:
        msg: >-
          {{ 'the registry refused the push (' ~ push_failure.reason ~ '): give a user who may push'
             if push_failure.kind == 'refused' else push_failure.line }}
"""

RETURN = r"""
_value:
  description: What the message means.
  type: dict
  contains:
    kind:
      description: checksum, refused, tls, not-found, unreachable or other.
      type: str
    line:
      description: The message on one line, cut to O(length) characters.
      type: str
    reason:
      description: Its innermost clause, what the server said in the end (C(no basic auth credentials)).
      type: str
"""


def tool_failure(message, length=300):
    return describe(message, int(length))


class FilterModule:
    def filters(self):
        return {"tool_failure": tool_failure}

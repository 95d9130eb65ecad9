# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The tag of an image built from a context: the same files and build arguments, the same tag."""

from __future__ import annotations

import hashlib
import os

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: image_context_tag
author: airflow_k8s.platform maintainers
short_description: The tag that names an image by its build context and build arguments
description:
  - Hashes the build context (each file's path in the context and its sha256) and the build arguments' values
    into a tag such as C(ctx-0123456789abcdef). The same files with the same contents and the same arguments give
    the same tag; a changed, added, removed or renamed file, or another argument, gives a new one.
  - The image role tags what it builds so, and takes an image the registry already holds under that tag instead of
    building it again, which keeps the digest the later stages pinned.
positional: _input, context_dir, build_args
options:
  _input:
    description: The context's files, as M(ansible.builtin.find) returns them with O(ansible.builtin.find#module:get_checksum)
      and C(checksum_algorithm=sha256) (each has C(path) and C(checksum)).
    type: list
    elements: dict
    required: true
  context_dir:
    description: The context folder; the hash takes each file's path relative to it, so the context can move.
    type: str
    required: true
  build_args:
    description: The build arguments' values, in a fixed order.
    type: list
    elements: str
    default: []
  prefix:
    description: What the tag starts with.
    type: str
    default: ctx-
"""

EXAMPLES = r"""
- name: Tag the build by what goes into it
  ansible.builtin.set_fact:
    image_tag: "{{ context_files.files | airflow_k8s.platform.image_context_tag(context_dir, [base_image]) }}"
"""

RETURN = r"""
_value:
  description: The prefix and the first 16 hex digits of the sha256 of the context's paths, checksums and arguments.
  type: str
"""


def image_context_tag(files, context_dir, build_args=None, prefix="ctx-"):
    try:
        ordered = sorted(files, key=lambda found: found["path"])
        paths = [os.path.relpath(found["path"], context_dir) for found in ordered]
        checksums = [found["checksum"] for found in ordered]
    except (KeyError, TypeError):
        raise AnsibleFilterError("image_context_tag needs the files of ansible.builtin.find run with get_checksum: true"
                                 " (each with path and checksum)") from None
    # The paths, then the checksums, then the arguments, joined by a backslash and an "n": what the
    # role's Jinja has always hashed (its '\n' reached Jinja unescaped), so a context keeps its tag.
    text = "\\n".join(paths + checksums + [str(arg) for arg in build_args or []])
    return prefix + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class FilterModule:
    def filters(self):
        return {"image_context_tag": image_context_tag}

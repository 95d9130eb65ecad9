# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""Registry credentials as the .dockerconfigjson of a kubernetes.io/dockerconfigjson Secret."""

from __future__ import annotations

import base64
import json

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: docker_config_json
author: airflow_k8s.platform maintainers
short_description: Registry credentials as the C(.dockerconfigjson) an image pull Secret holds
description:
  - Turns a list of registry credentials into the JSON document that a Secret of type
    C(kubernetes.io/dockerconfigjson) carries under the key C(.dockerconfigjson), the format C(docker login) writes
    and the kubelet reads to pull images.
  - The same credentials give the same text (keys sorted), so a Secret made from it changes only when a credential
    does.
  - The registry is named as image references name it (C(registry.example.com), C(registry.example.com:5000));
    a scheme or a path after the host is refused, since the kubelet would not match it to an image.
positional: _input
options:
  _input:
    description: One entry per registry.
    type: list
    elements: dict
    required: true
    suboptions:
      registry:
        description: The registry's host, and port if not 443.
        type: str
        required: true
      username:
        description: The user to pull as.
        type: str
        required: true
      password:
        description: The user's password or token.
        type: str
        required: true
"""

EXAMPLES = r"""
- name: Keep the registry credentials in an image pull Secret
  kubernetes.core.k8s:
    definition:
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata:
        name: registry-credentials
        namespace: airflow
      data:
        .dockerconfigjson: "{{ credentials | airflow_k8s.platform.docker_config_json | b64encode }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: 'The document, as JSON text: C(auths) maps each registry to its C(username), C(password) and C(auth).'
  type: str
"""


def docker_config_json(credentials):
    auths = {}
    for number, entry in enumerate(credentials or [], 1):
        if not isinstance(entry, dict) or not all(entry.get(key) for key in ("registry", "username", "password")):
            raise AnsibleFilterError("registry credential %d needs registry, username and password, each non-empty"
                                     % number)
        registry = str(entry["registry"])
        if "://" in registry or "/" in registry:
            raise AnsibleFilterError("registry credential %d: %r is not a registry host; give it as image references"
                                     " name it, such as registry.example.com:5000" % (number, registry.split("/", maxsplit=1)[0]))
        username, password = str(entry["username"]), str(entry["password"])
        token = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
        auths[registry] = {"username": username, "password": password, "auth": token}
    return json.dumps({"auths": auths}, sort_keys=True)


class FilterModule:
    def filters(self):
        return {"docker_config_json": docker_config_json}

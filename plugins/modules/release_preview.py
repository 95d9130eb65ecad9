#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_preview
short_description: Show what installing or upgrading a helm release would change, without changing it
version_added: 0.1.0
description:
  - Renders the release as this run would install it, on the cluster's side (C(helm upgrade --install --dry-run=server),
    so the chart's lookups and the API server's validation apply) and compares it with the release as installed
    (C(helm get values), C(helm get manifest), C(helm history)).
  - Reports C(changed) when the values, the chart or any object would change; in diff mode (C(--diff)) it shows the
    chart, app version and images before and after, the values that differ, and the objects helm would add, change
    or remove.
  - Objects are compared whole, Secrets included, but only kinds and names are returned or shown; the values are
    shown, so they should name Secrets rather than hold their data (the airflow role's values do).
  - Changes nothing, in check mode and out of it; no helm revision is recorded and no object is touched. This is what
    C(--check --diff) of the airflow role prints; M(kubernetes.core.helm) shows a diff only with the helm-diff plugin.
author:
  - airflow_k8s.platform maintainers (@airflow_k8s)
attributes:
  check_mode:
    description: Can run in check mode and return a prediction of the change without making it.
    support: full
    details: It only reads, in check mode as otherwise; C(changed) is its prediction.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
options:
  binary_path:
    description: The helm binary, 3.13 or newer (C(--dry-run=server)).
    type: path
    default: helm
  release_name:
    description: The release.
    type: str
    required: true
  release_namespace:
    description: The release's namespace.
    type: str
    required: true
  chart_ref:
    description: The chart, as C(helm upgrade) takes it (C(repo/name), C(oci://...), a folder or a C(.tgz)).
    type: str
    required: true
  chart_version:
    description: The chart version; empty for a chart from a folder or file.
    type: str
  plain_http:
    description: Pull an OCI chart over plain HTTP (a registry without TLS).
    type: bool
    default: false
  release_values:
    description: The values this run would install; handed to helm on its standard input, never on its command line.
    type: dict
    default: {}
  kubeconfig:
    description: The kubeconfig file; empty means helm's usual one.
    type: path
  context:
    description: The kubeconfig context; empty means its current context.
    type: str
notes:
  - An object the chart renders differently on each run (a random value with no lookup to keep it) shows as changed
    every time; the Apache Airflow chart renders none with the airflow role's values.
seealso:
  - module: kubernetes.core.helm
"""

EXAMPLES = r"""
- name: Show what this run would change in the Airflow release
  airflow_k8s.platform.release_preview:
    binary_path: "{{ helm_path }}"
    release_name: airflow
    release_namespace: airflow
    chart_ref: oci://registry.example.com/charts/airflow
    chart_version: 1.22.0
    release_values: "{{ airflow_values }}"
  register: airflow_release_preview
  check_mode: true
  diff: true
"""

RETURN = r"""
release:
  description: The release as installed, or null before the first install.
  returned: always
  type: dict
  contains:
    revision:
      description: Its latest revision.
      type: int
      sample: 3
    status:
      description: That revision's status.
      type: str
      sample: deployed
    chart:
      description: Chart name and version.
      type: str
      sample: airflow-1.21.0
    app_version:
      description: The chart's app version.
      type: str
      sample: 3.2.1
chart:
  description: The chart (name-version) installed and the one this run would install.
  returned: always
  type: dict
  sample: {"current": "airflow-1.21.0", "new": "airflow-1.22.0"}
images:
  description: The container images the release's pods run now and would run.
  returned: always
  type: dict
  sample: {"current": ["registry:5000/airflow:3.3.2"], "new": ["registry:5000/airflow:3.3.3"]}
values_changed:
  description: Whether the values differ from the installed release's.
  returned: always
  type: bool
  sample: true
objects:
  description: The objects (C(Kind/name), namespace first when the object has one) helm would add, change or remove.
  returned: always
  type: dict
  sample: {"added": [], "changed": ["airflow/Deployment/airflow-scheduler"], "removed": []}
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.airflow_k8s.platform.plugins.module_utils.release_changes import (
    HAS_YAML,
    images,
    manifest_objects,
    release_diff,
)


class Helm:
    """The helm commands the preview runs, each failing the module with helm's own last words."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.base = [p["binary_path"]]
        if p["kubeconfig"]:
            self.base += ["--kubeconfig", p["kubeconfig"]]
        if p["context"]:
            self.base += ["--kube-context", p["context"]]
        self.base += ["--namespace", p["release_namespace"]]

    def run(self, what, args, data=None, allow_missing=False):
        rc, out, err = self.module.run_command(self.base + args, data=data, binary_data=False)
        if rc != 0:
            if allow_missing and "not found" in err:
                return None
            words = " ".join(to_text(err).split()) or "exit code %s" % rc
            self.module.fail_json(msg="helm could not %s: %s" % (what, words[-600:]))
        return out

    def installed(self, name):
        history = self.run("read the release's history", ["history", name, "--max", "1", "--output", "json"],
                           allow_missing=True)
        if history is None:
            return None
        last = json.loads(history)[-1]
        values = json.loads(self.run("read the release's values", ["get", "values", name, "--output", "json"]))
        manifest = self.run("read the release's manifest", ["get", "manifest", name])
        chart = last.get("chart")
        return {"revision": last.get("revision"), "status": last.get("status"), "chart": chart,
                "app_version": last.get("app_version"), "values": values or {}, "objects": manifest_objects(manifest)}

    def rendered(self, p):
        args = ["upgrade", p["release_name"], p["chart_ref"], "--install", "--dry-run=server", "--output", "json",
                "--values", "-"]
        if p["chart_version"]:
            args += ["--version", p["chart_version"]]
        if p["plain_http"]:
            args.append("--plain-http")
        release = json.loads(self.run("render the release as this run would install it", args,
                                      data=json.dumps(p["release_values"])))
        metadata = (release.get("chart") or {}).get("metadata") or {}
        return {"chart": "%s-%s" % (metadata.get("name"), metadata.get("version")),
                "app_version": metadata.get("appVersion"), "values": p["release_values"],
                "objects": manifest_objects(release.get("manifest"))}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary_path=dict(type="path", default="helm"),
            release_name=dict(type="str", required=True),
            release_namespace=dict(type="str", required=True),
            chart_ref=dict(type="str", required=True),
            chart_version=dict(type="str"),
            plain_http=dict(type="bool", default=False),
            release_values=dict(type="dict", default={}),
            kubeconfig=dict(type="path"),
            context=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    helm = Helm(module)
    current = helm.installed(module.params["release_name"])
    new = helm.rendered(module.params)
    changes, diff = release_diff(current, new, module.params["release_name"])
    values_changed = current is None or current["values"] != new["values"]
    chart = {"current": current["chart"] if current else None, "new": new["chart"]}
    changed = values_changed or chart["current"] != chart["new"] or any(changes.values())
    result = dict(
        changed=changed,
        release={key: current[key] for key in ("revision", "status", "chart", "app_version")} if current else None,
        chart=chart,
        images={"current": images(current["objects"]) if current else [], "new": images(new["objects"])},
        values_changed=values_changed,
        objects=changes,
    )
    if module._diff and changed:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()

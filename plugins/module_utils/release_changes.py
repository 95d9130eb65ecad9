# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)
#
# Private to this collection: the interface may change without notice.

"""What a helm release would change, from two renderings of it: the release as installed (``helm get``) and as this
run would install it (``helm upgrade --dry-run=server``). Pure functions, so the unit tests need no helm.

Objects are compared whole, Secrets included, but only their kinds and names ever leave this module."""

from __future__ import annotations

import json

try:
    import yaml
    HAS_YAML = True
except ImportError:  # ansible-core itself needs PyYAML on the controller, where helm runs; elsewhere, say so
    HAS_YAML = False

# Where a pod template sits in each kind that has one.
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def manifest_objects(manifest):
    """The objects of a rendered manifest (YAML documents), by "Kind/name" (namespace-qualified when it has one)."""
    objects = {}
    for document in yaml.safe_load_all(manifest or ""):
        if not isinstance(document, dict) or not document.get("kind"):
            continue  # an empty document between two "---"
        metadata = document.get("metadata") or {}
        key = "%s/%s" % (document["kind"], metadata.get("name", ""))
        if metadata.get("namespace"):
            key = "%s/%s" % (metadata["namespace"], key)
        objects[key] = document
    return objects


def object_changes(current, new):
    """Which objects the new rendering adds, changes (any field) and removes, each list sorted."""
    return {
        "added": sorted(set(new) - set(current)),
        "changed": sorted(key for key in set(new) & set(current) if _canonical(new[key]) != _canonical(current[key])),
        "removed": sorted(set(current) - set(new)),
    }


def _canonical(document):
    return json.dumps(document, sort_keys=True, default=str)


def images(objects):
    """Every container image the objects' pod templates name, sorted and once each."""
    found = set()
    for document in objects.values():
        spec = document
        for step in POD_SPEC_PATHS.get(document.get("kind"), ("-",)):
            spec = spec.get(step) if isinstance(spec, dict) else None
        if not isinstance(spec, dict):
            continue
        for group in ("initContainers", "containers"):
            found.update(container["image"] for container in spec.get(group) or [] if container.get("image"))
    return sorted(found)


def values_text(values):
    """Values as YAML with sorted keys: the same values always read the same."""
    return yaml.safe_dump(values or {}, default_flow_style=False, sort_keys=True)


def summary_text(chart, app_version, image_list):
    return yaml.safe_dump({"chart": chart, "app_version": app_version, "images": image_list},
                          default_flow_style=False, sort_keys=False)


def objects_text(keys, changed=()):
    """One line per object; a changed one is marked on the new side, so a diff shows it as -/+ and says no more."""
    return "".join("%s%s\n" % (key, " (changed)" if key in changed else "") for key in sorted(keys))


def release_diff(current, new, name):
    """Ansible's diff (a list of before/after texts) between two release renderings.

    ``current`` and ``new`` are dicts with ``values``, ``chart``, ``app_version``, ``objects`` (as from
    manifest_objects); ``current`` is None before the first install."""
    current = current or {"values": {}, "chart": None, "app_version": None, "objects": {}, "revision": None}
    changes = object_changes(current["objects"], new["objects"])
    where = "release %s, revision %s" % (name, current["revision"]) if current["revision"] else "no release %s" % name
    return changes, [
        {"before_header": "%s: chart and images" % where, "after_header": "this run: chart and images",
         "before": summary_text(current["chart"], current["app_version"], images(current["objects"])),
         "after": summary_text(new["chart"], new["app_version"], images(new["objects"]))},
        {"before_header": "%s: values" % where, "after_header": "this run: values",
         "before": values_text(current["values"]), "after": values_text(new["values"])},
        {"before_header": "%s: objects" % where, "after_header": "this run: objects helm would apply",
         "before": objects_text(current["objects"]),
         "after": objects_text(new["objects"], changes["changed"])},
    ]

"""release_changes: what a release would change, from two renderings of it (no helm needed)."""

from __future__ import annotations

import textwrap

from ansible_collections.airflow_k8s.platform.plugins.module_utils.release_changes import (
    images,
    manifest_objects,
    object_changes,
    release_diff,
)

MANIFEST = textwrap.dedent("""\
    ---
    # Source: airflow/templates/scheduler/scheduler-deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: airflow-scheduler
      namespace: airflow
    spec:
      template:
        spec:
          initContainers:
            - name: wait-for-airflow-migrations
              image: registry:5000/airflow:3.3.2
          containers:
            - name: scheduler
              image: registry:5000/airflow:3.3.2
            - name: git-sync
              image: registry:5000/git-sync:v4
    ---
    apiVersion: v1
    kind: Secret
    metadata:
      name: airflow-metadata
    data:
      connection: c2VjcmV0
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: airflow-cleanup
    spec:
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: cleanup
                  image: registry:5000/airflow:3.3.2
    ---
    """)


def test_objects_are_keyed_by_kind_and_name_with_their_namespace_when_they_have_one():
    assert sorted(manifest_objects(MANIFEST)) == [
        "CronJob/airflow-cleanup", "Secret/airflow-metadata", "airflow/Deployment/airflow-scheduler"]
    assert manifest_objects("") == {} and manifest_objects(None) == {}


def test_the_images_of_every_pod_template_once_each():
    assert images(manifest_objects(MANIFEST)) == ["registry:5000/airflow:3.3.2", "registry:5000/git-sync:v4"]


def test_an_unchanged_rendering_changes_nothing():
    assert object_changes(manifest_objects(MANIFEST), manifest_objects(MANIFEST)) == {
        "added": [], "changed": [], "removed": []}


def test_added_changed_and_removed_objects_are_named_and_a_secret_only_by_name():
    new = MANIFEST.replace("airflow:3.3.2", "airflow:3.3.3").replace("c2VjcmV0", "bmV3LXNlY3JldA==").replace(
        "name: airflow-cleanup", "name: airflow-cleanup-v2")
    changes, diff = release_diff(
        {"values": {"images": {"airflow": {"tag": "3.3.2"}}}, "chart": "airflow-1.21.0", "app_version": "3.2.1",
         "objects": manifest_objects(MANIFEST), "revision": 4},
        {"values": {"images": {"airflow": {"tag": "3.3.3"}}}, "chart": "airflow-1.22.0", "app_version": "3.2.2",
         "objects": manifest_objects(new)}, "airflow")
    assert changes == {"added": ["CronJob/airflow-cleanup-v2"],
                       "changed": ["Secret/airflow-metadata", "airflow/Deployment/airflow-scheduler"],
                       "removed": ["CronJob/airflow-cleanup"]}
    summary, values, objects = diff
    assert summary["before_header"] == "release airflow, revision 4: chart and images"
    assert "chart: airflow-1.21.0" in summary["before"] and "chart: airflow-1.22.0" in summary["after"]
    assert "registry:5000/airflow:3.3.3" in summary["after"]
    assert "tag: 3.3.2" in values["before"] and "tag: 3.3.3" in values["after"]
    assert objects["after"] == ("CronJob/airflow-cleanup-v2\nSecret/airflow-metadata (changed)\n"
                                "airflow/Deployment/airflow-scheduler (changed)\n")
    # The Secret's data is compared, never shown.
    assert not any("c2VjcmV0" in text or "bmV3LXNlY3JldA" in text
                   for part in diff for text in (part["before"], part["after"]))


def test_before_the_first_install_everything_is_added():
    changes, diff = release_diff(None, {"values": {}, "chart": "airflow-1.21.0", "app_version": "3.2.1",
                                        "objects": manifest_objects(MANIFEST)}, "airflow")
    assert changes["added"] == sorted(manifest_objects(MANIFEST)) and not changes["changed"]
    assert diff[0]["before_header"] == "no release airflow: chart and images"

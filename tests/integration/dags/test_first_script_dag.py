"""dags/first_script.py in a real Airflow 3.3.2 with the cncf.kubernetes provider: it imports cleanly,
and the pod its operator builds (the operator's own code, no cluster) is valid and locked down."""

from __future__ import annotations

import json
import os
import subprocess

import kubernetes_validate
import pytest

from tests.support.airflow import ensure_airflow_venv
from tests.support.common import REPO_ROOT

# Runs inside Airflow's venv: parse the DAGs folder, render the task for a run whose conf names an
# image, and print the pod the KubernetesPodOperator would create.
BUILD_POD = r"""
import json, sys
from airflow.models.dagbag import DagBag
from kubernetes.client import ApiClient

bag = DagBag(dag_folder=sys.argv[1])
if bag.import_errors:
    print(json.dumps({"import_errors": {k: v for k, v in bag.import_errors.items()}}))
    sys.exit(0)
dag = bag.get_dag("first_script")
task = dag.get_task("run_first_script")

class Run:
    conf = json.loads(sys.argv[2])

class Variables:
    def get(self, key, default=None):
        return default

context = {"dag_run": Run(), "var": {"value": Variables()}}
task.render_template_fields(context)
pod = task.build_pod_request_obj(dry_run=True)
print(json.dumps({"dag_ids": sorted(bag.dag_ids), "pod": ApiClient().sanitize_for_serialization(pod)}))
"""
PULL_SECRETS = "airflow-registry-credentials,site-mirror"

IMAGE = "localhost:5001/first-script@sha256:" + "ab" * 32


def build_pod(venv, env, conf: dict) -> dict:
    done = subprocess.run([str(venv / "bin" / "python"), "-c", BUILD_POD, str(REPO_ROOT / "dags"), json.dumps(conf)],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pods(tmp_path_factory):
    """The pod the task builds for a run whose conf names only the image, and for one that names pull Secrets too."""
    venv = ensure_airflow_venv()
    home = tmp_path_factory.mktemp("airflow-home")
    env = dict(os.environ, AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db")
    # Parsing and rendering read the metadata database (a throwaway SQLite one here).
    migrated = subprocess.run([str(venv / "bin" / "airflow"), "db", "migrate"], capture_output=True, text=True,
                              env=env, check=False, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return (build_pod(venv, env, {"image": IMAGE}),
            build_pod(venv, env, {"image": IMAGE, "image_pull_secrets": PULL_SECRETS}))


@pytest.fixture(scope="module")
def built(pods):
    return pods[0]


def test_the_dag_imports_without_errors(built):
    assert "import_errors" not in built, built
    assert built["dag_ids"] == ["first_script"]


def test_the_pod_validates_and_runs_the_image_from_conf(built):
    pod = built["pod"]
    kubernetes_validate.validate(pod, "1.35", strict=True)
    container = pod["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert container["command"] == ["python3", "/app/first-script.py"]
    # A script that fails ends the task's error with its last lines (kubelet's termination message).
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_the_pod_is_locked_down(built):
    spec = built["pod"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 1001
    container = spec["containers"][0]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"] == {"cpu": "250m", "memory": "128Mi"}
    assert container["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}


def test_the_pod_pulls_with_the_secrets_the_conf_names_and_with_none_without(pods):
    plain, private = pods
    assert "import_errors" not in private, private
    kubernetes_validate.validate(private["pod"], "1.35", strict=True)
    assert private["pod"]["spec"]["imagePullSecrets"] == [{"name": "airflow-registry-credentials"},
                                                          {"name": "site-mirror"}]
    assert not plain["pod"]["spec"].get("imagePullSecrets")

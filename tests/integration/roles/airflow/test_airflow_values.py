"""The airflow role without a cluster: its values pass the official chart's schema under a real helm,
its own Kubernetes objects validate, and bad input stops it with its own words."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from tests.support.airflow_role import INVENTORIES, KUBERNETES_VERSION, render
from tests.support.ansible_run import run_playbook
from tests.support.common import REPO_ROOT
from tests.support.helm import HELM_PIN

# The official chart, vendored for the offline build (without its subchart): its data files are what Helm validates.
CHART = REPO_ROOT / "offline" / "charts" / "airflow-1.21.0"
DIGEST = "sha256:" + "ab" * 32
# What the kind_cluster role's mirror step would have found where there is no internet.
KIND_MIRROR = {"airflow_image": f"localhost:5001/airflow:3.3.2-0123abcd@{DIGEST}",
               "git_sync_image": f"localhost:5001/git-sync:4567ef@{DIGEST}",
               "chart_source": "oci://localhost:5001/charts/airflow", "chart_version": "1.21.0",
               "chart_plain_http": True, "statsd_enabled": False, "image_base": "localhost/debian-python:1",
               "helm_mirror_url": "file:///tmp/helm-mirror", "helm_sha256": "cd" * 32}


@pytest.fixture(scope="module")
def values_only_chart(tmp_path_factory):
    """The official chart's Chart.yaml, values.yaml and schema, with no templates and no subchart: a real `helm lint`
    on it is Helm's own schema validation of the values the role renders, and nothing else."""
    chart = tmp_path_factory.mktemp("chart") / "airflow"
    chart.mkdir()
    for name in ("Chart.yaml", "values.yaml", "values.schema.json"):
        shutil.copy(CHART / name, chart / name)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta.pop("dependencies", None)
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    return chart


def helm_lint(helm, chart, values_file):
    return subprocess.run([str(helm), "lint", str(chart), "-f", str(values_file)], capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_values_for_every_inventory_pass_the_official_chart_schema(tmp_path, inventory, helm, values_only_chart):
    run, values, objects = render(tmp_path, inventory)
    assert run.rc == 0, run.output
    assert values["dags"]["gitSync"]["enabled"] is True
    assert values["createUserJob"]["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "admin-password"
    # What the chart's install notes print: where the password is, never a password (nor admin/admin).
    assert values["createUserJob"]["defaultUser"]["password"] == "in Secret airflow-platform-keys, key admin-password"
    linted = helm_lint(helm, values_only_chart, tmp_path / "values.yml")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in linted.stdout

    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_kind_values_with_the_offline_mirror_pass_the_schema_and_pin_every_image(tmp_path, helm, values_only_chart):
    run, values, objects = render(tmp_path, "kind", kind_cluster_mirror=KIND_MIRROR)
    assert run.rc == 0, run.output
    assert (values["defaultAirflowRepository"], values["defaultAirflowTag"], values["defaultAirflowDigest"]) == (
        "localhost:5001/airflow", "3.3.2-0123abcd", DIGEST)
    assert values["airflowVersion"] == "3.3.2"
    assert values["images"]["gitSync"] == {"repository": "localhost:5001/git-sync", "tag": f"4567ef@{DIGEST}"}
    assert values["statsd"] == {"enabled": False}
    assert values["data"] == {"metadataSecretName": "airflow-metadata-connection"}
    assert values["postgresql"] == {"enabled": False}
    linted = helm_lint(helm, values_only_chart, tmp_path / "values.yml")
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_schema_check_can_fail(tmp_path, helm, values_only_chart):
    run, _values, _objects = render(tmp_path, "kind", airflow_extra_values={"apiServer": {"replicaz": 2}})
    assert run.rc == 0, run.output
    linted = helm_lint(helm, values_only_chart, tmp_path / "values.yml")
    assert linted.returncode != 0
    assert "replicaz" in linted.stdout + linted.stderr


def test_generated_keys_are_strong_and_the_fernet_key_is_valid(tmp_path):
    import base64

    _run, _values, objects = render(tmp_path, "kind")
    secret = next(obj for obj in objects if obj["kind"] == "Secret")["stringData"]
    assert len(base64.urlsafe_b64decode(secret["fernet-key"])) == 32
    for key in ("api-secret-key", "jwt-secret", "webserver-secret-key"):
        assert len(secret[key]) >= 48
    assert secret["admin-password"] not in ("admin", "") and len(secret["admin-password"]) >= 24


def test_the_admin_user_job_follows_the_keys_secret(tmp_path):
    """A changed Secret (a new admin password, a Secret made again) changes the job, so it runs again."""
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
    _run, values, _objects = render(tmp_path / "a", "kind")
    assert "jobAnnotations" not in values["createUserJob"]  # a render knows no Secret
    _run, values, _objects = render(tmp_path / "b", "kind", airflow_keys_version="4711")
    assert values["createUserJob"]["jobAnnotations"] == {"airflow-k8s-platform/keys-secret-version": "4711"}
    # An admin already in the database gets the Secret's password (checked on a cluster in test_airflow_on_kind).
    assert "airflow users reset-password" in values["createUserJob"]["args"][2]


def test_the_components_the_chart_checks_with_an_airflow_cli_are_checked_at_the_roles_cadence(tmp_path):
    run, values, _objects = render(tmp_path, "kind", airflow_liveness_check_period=90, airflow_liveness_check_failures=3)
    assert run.rc == 0, run.output
    for component in ("scheduler", "dagProcessor", "triggerer"):
        assert values[component]["livenessProbe"] == {"periodSeconds": 90, "failureThreshold": 3}, component
    # The scheduler's start is still checked at the chart's pace: the install waits on it.
    assert "startupProbe" not in values["scheduler"]


@pytest.mark.parametrize("variables, message", [
    ({"airflow_git_repo": ""}, "airflow_git_repo is empty: gitSync needs the git repository that holds the DAGs"),
    ({"airflow_git_ssh_key_secret": "git-key", "airflow_git_known_hosts": ""},
     "airflow_git_ssh_key_secret is set but airflow_git_known_hosts is empty: pin the git server's host keys"),
    ({"airflow_executor": "FastExecutor"}, "airflow_executor 'FastExecutor' is not one of LocalExecutor"),
    ({"airflow_executor": "CeleryKubernetesExecutor"},
     "airflow_executor CeleryKubernetesExecutor was removed in Airflow 3: use CeleryExecutor,KubernetesExecutor"),
    ({"airflow_executor": "LocalKubernetesExecutor"},
     "airflow_executor LocalKubernetesExecutor was removed in Airflow 3: use LocalExecutor,KubernetesExecutor"),
    # (the kind inventory keeps logs on a claim: turned off here)
    ({"airflow_executor": "KubernetesExecutor", "airflow_logs_persistence": False},
     "airflow_executor KubernetesExecutor runs each task in a pod that is deleted when the task ends, and its log "
     "with it: set airflow_logs_persistence true"),
    ({"airflow_liveness_check_period": 0},
     "airflow_liveness_check_period (0) and airflow_liveness_check_failures (2) must each be 1 or more"),
    ({"airflow_pod_security": "lenient"}, "Validation of arguments failed"),
    ({"airflow_git_sync_image": "registry.k8s.io/git-sync/git-sync"},
     "The gitSync image 'registry.k8s.io/git-sync/git-sync' has no tag: the chart needs repository:tag"),
    ({"airflow_chart_version": "1.15.0"},
     "The role's values are checked against chart versions 1.21.0, 1.22.0, not 1.15.0"),
    ({"airflow_git_ssh_key_secret": "git-key", "airflow_git_ssh_private_key": "KEY", "airflow_git_known_hosts": "h k"},
     "Both airflow_git_ssh_key_secret and airflow_git_ssh_private_key are set: give the key itself"),
    ({"airflow_git_ssh_private_key": "KEY", "airflow_git_known_hosts": ""},
     "airflow_git_ssh_private_key is set but airflow_git_known_hosts is empty: pin the git server's host keys"),
    ({"airflow_registry_credentials": [{"registry": "r.example", "username": "u"}]},
     "Validation of arguments failed"),
])
def test_bad_input_stops_the_role_with_its_own_words(tmp_path, variables, message):
    run, _values, _objects = render(tmp_path, "kind", **variables)
    assert run.rc != 0
    assert run.failure.startswith(message), run.failure


def test_an_image_reference_no_registry_takes_stops_the_role_in_one_line_that_names_it(tmp_path):
    run, _values, _objects = render(tmp_path, "kind", airflow_git_sync_image="localhost:5001/Git-Sync:v4")
    assert run.rc != 0
    assert run.failure.endswith(
        "image_reference' failed: image reference 'localhost:5001/Git-Sync:v4': the repository 'Git-Sync' must be lowercase"
    ), run.failure
    assert "\n" not in run.failure and "Traceback" not in run.output


def test_the_example_inventorys_secrets_reach_the_chart_by_name_only(tmp_path):
    """The registry credential, the git deploy key and the database URL come from the vault: the role keeps each in a
    Secret of its own (the pull Secret as the kubelet reads it), and the chart values only name them."""
    vault = {"vault_image_registry_password": "pull-pw-61f2", "vault_git_deploy_key": "-----KEY 8c1e-----",
             "vault_database_password": "db-pw-77a0", "vault_airflow_admin_password": "admin-pw-5d3b"}
    run, values, objects = render(tmp_path, "example", **vault)
    assert run.rc == 0, run.output
    assert values["imagePullSecrets"] == ["airflow-registry-credentials"]
    assert values["dags"]["gitSync"]["sshKeySecret"] == "airflow-git-ssh"
    assert values["data"]["metadataSecretName"] == "airflow-metadata-connection"
    assert values["volumeMounts"] == [{"name": "database-ca", "mountPath": "/opt/airflow/database-ca", "readOnly": True}]
    assert values["volumes"][0]["configMap"]["name"] == "airflow-database-ca"
    rendered = (tmp_path / "values.yml").read_text()
    assert not [secret for secret in vault.values() if secret in rendered]

    by_name = {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}
    pull = by_name["Secret", "airflow-registry-credentials"]
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(pull["data"][".dockerconfigjson"]))["auths"]
    assert auths["registry.example.com"]["username"] == "ci-pusher"
    assert base64.b64decode(auths["registry.example.com"]["auth"]).decode() == "ci-pusher:pull-pw-61f2"
    key = base64.b64decode(by_name["Secret", "airflow-git-ssh"]["data"]["gitSshKey"]).decode()
    assert key == "-----KEY 8c1e-----\n"
    url = base64.b64decode(by_name["Secret", "airflow-metadata-connection"]["data"]["connection"]).decode()
    assert url.endswith("@db.example.com:5432/airflow?sslmode=verify-full&sslrootcert=/opt/airflow/database-ca/ca.crt")
    assert by_name["ConfigMap", "airflow-database-ca"]["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("chart_version", ["1.21.0", "1.22.0"])
def test_a_helm_too_old_for_the_chart_stops_the_role_before_its_first_request_to_the_cluster(
        tmp_path, helm_binary, chart_version):
    """Real helm builds (4.1.4, 3.17.2) against the chart versions the role supports: chart 1.22.0 needs helm 3.19.0.
    No cluster is there: a run that passes the check fails at its first request to one, naming the kubeconfig."""
    version, helm = helm_binary
    kubeconfig = tmp_path / "no-cluster-here"
    run = run_playbook([{"name": "Install", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow"}}],
                       tmp_path, extra_vars={"airflow_helm_binary": str(helm), "airflow_chart_version": chart_version,
                                             "airflow_git_repo": "https://git.example.invalid/dags.git",
                                             "airflow_kubeconfig": str(kubeconfig)})
    assert run.rc != 0
    if (version, chart_version) == ("v3.17.2", "1.22.0"):
        assert run.failure == (
            f"Chart 1.22.0 needs helm 3.19.0 or newer, and airflow_helm_binary '{helm}' is helm 3.17.2: install a "
            f"newer one (the helm stage installs {HELM_PIN} unless helm_version says otherwise), or set "
            "airflow_chart_version to a chart this helm installs."), run.output
    else:
        assert str(kubeconfig) in run.failure, run.output

"""The role's values through the official chart's own templates (1.21.0, vendored in offline/charts),
checked the way a cluster would: helm lint --strict, every object against the Kubernetes 1.35 API
(kubernetes-validate, strict), every pod against the "restricted" Pod Security Standard, requests and
limits on every container, and every Secret and ConfigMap a pod needs made by the chart or the role,
or looked up by the role before install. For every inventory and every executor the role accepts."""

from __future__ import annotations

import subprocess
import urllib.parse

import kubernetes_validate
import pytest
import yaml

from tests.support.airflow_role import INVENTORIES, KUBERNETES_VERSION, looked_up, render
from tests.support.common import REPO_ROOT
from tests.support.pod_checks import pod_specs, referenced, resource_gaps, restricted_violations

CHART = REPO_ROOT / "offline" / "charts" / "airflow-1.21.0"
EXECUTORS = ["LocalExecutor", "CeleryExecutor", "KubernetesExecutor", "CeleryExecutor,KubernetesExecutor"]


def template(helm, tmp_path):
    """Every object the chart renders from the role's values, pod templates in ConfigMaps included."""
    done = subprocess.run([str(helm), "template", "airflow", str(CHART), "--namespace", "airflow",
                           "--kube-version", KUBERNETES_VERSION, "-f", str(tmp_path / "values.yml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return [obj for obj in yaml.safe_load_all(done.stdout) if obj]


def pod_templates(objects):
    """KubernetesExecutor's worker pod, kept as a file in a ConfigMap."""
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            for key, text in (obj.get("data") or {}).items():
                if key.endswith(".yaml") and "kind: Pod" in text:
                    pod = yaml.safe_load(text)
                    yield f"ConfigMap/{obj['metadata']['name']}:{key}", pod["spec"]


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("inventory", INVENTORIES)
def test_what_the_chart_makes_from_the_roles_values_passes_what_a_cluster_checks(tmp_path, helm, inventory,
                                                                                 executor):
    variables = {"airflow_executor": executor}
    if "KubernetesExecutor" in executor:
        variables["airflow_logs_persistence"] = True
    run, _values, role_objects = render(tmp_path, inventory, **variables)
    assert run.rc == 0, run.failure or run.output

    linted = subprocess.run([str(helm), "lint", "--strict", str(CHART), "--kube-version", KUBERNETES_VERSION,
                             "-f", str(tmp_path / "values.yml")], capture_output=True, text=True, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr

    objects = template(helm, tmp_path)
    for obj in objects + role_objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)

    pods = list(pod_specs(objects)) + list(pod_templates(objects))
    assert len(pods) >= 6, [name for name, _spec in pods]
    made = {(obj["kind"], obj["metadata"]["name"]) for obj in objects + role_objects}
    problems = {}
    for name, spec in pods:
        found = restricted_violations(spec) + resource_gaps(spec) + [
            f"needs {kind} {ref}, which nothing makes or looks up" for kind, ref in
            sorted(referenced(spec) - made - looked_up(tmp_path))]
        if found:
            problems[name] = found
    assert problems == {}

    # The create-user job waits for the API server's health by its Service's name (values.yml.j2, through the
    # chart's tpl): a Service the chart makes, on that port.
    job = next(obj for obj in objects if obj["kind"] == "Job" and obj["metadata"]["name"].endswith("create-user"))
    health = urllib.parse.urlsplit(job["spec"]["template"]["spec"]["containers"][0]["args"][4])
    services = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Service"}
    assert health.hostname in services, (health, sorted(services))
    assert health.port in [port["port"] for port in services[health.hostname]["spec"]["ports"]], health


def test_the_pod_checks_can_fail(tmp_path, helm):
    """The same checks on the chart's own defaults find what the role fixes."""
    run, _values, _objects = render(tmp_path, "kind", airflow_pod_security_context={},
                                    airflow_container_security_context={})
    assert run.rc == 0, run.output
    values = yaml.safe_load((tmp_path / "values.yml").read_text())
    values.pop("securityContexts")
    values["scheduler"].pop("resources")
    (tmp_path / "values.yml").write_text(yaml.safe_dump(values))
    scheduler = dict(pod_specs(template(helm, tmp_path)))["Deployment/airflow-scheduler"]
    assert "container scheduler does not set runAsNonRoot: true (nor does the pod)" in restricted_violations(scheduler)
    assert "container scheduler has no requests.cpu, requests.memory, limits.cpu, limits.memory" in \
        resource_gaps(scheduler)
    assert ("Secret", "airflow-metadata-connection") in referenced(scheduler)

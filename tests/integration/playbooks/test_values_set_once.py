"""Each port and name the stages share is set in one place: changed there, every use follows.

The kind_cluster and airflow roles' render steps and the airflow role's deployed step run with the
kind inventory, as site.yml chains them, with the registry port, the API node port and the release
(which names the keys Secret) changed from their defaults; nothing else is set."""

from __future__ import annotations

import yaml

from tests.support.ansible_run import run_playbook
from tests.support.common import REPO_ROOT

CHANGED = {"kind_cluster_registry_port": 5099, "kind_cluster_api_node_port": 30999, "kind_cluster_api_host_port": 30998,
           "airflow_release_name": "moved"}


def node_ports(values):
    """Every nodePort in the chart values, wherever the service is."""
    if isinstance(values, dict):
        own = [values["nodePort"]] if "nodePort" in values else []
        return own + [port for value in values.values() for port in node_ports(value)]
    if isinstance(values, list):
        return [port for value in values for port in node_ports(value)]
    return []


def test_the_registry_port_the_api_node_port_and_the_keys_secret_each_change_in_one_place(tmp_path):
    tasks = [
        {"name": "Cluster", "ansible.builtin.include_role": {
            "name": "airflow_k8s.platform.kind_cluster", "tasks_from": "render"}},
        {"name": "Airflow", "ansible.builtin.include_role": {
            "name": "airflow_k8s.platform.airflow", "tasks_from": "render"}},
        # With the password given, the deployed step publishes without reading the cluster.
        {"name": "Deployed", "ansible.builtin.include_role": {
            "name": "airflow_k8s.platform.airflow", "tasks_from": "deployed"}},
        {"name": "Uses", "ansible.builtin.debug": {"msg": {
            "image_registry": "{{ image_registry }}",
            "kind_config": "{{ kind_cluster_rendered_config }}",
            "kind_objects": "{{ kind_cluster_rendered_objects }}",
            "values": "{{ airflow_rendered_values }}",
            "objects": "{{ airflow_rendered_objects }}",
            "deployed": "{{ airflow_deployed | dict2items | rejectattr('key', 'eq', 'admin_password') | items2dict }}",
        }}},
    ]
    run = run_playbook(tasks, tmp_path, inventory=REPO_ROOT / "inventories" / "kind",
                       extra_vars={**CHANGED, "airflow_admin_password": "given-for-this-test",
                                   "kind_cluster_database_url": "postgresql://airflow:secret@db:5432/airflow"})
    assert run.rc == 0, run.output
    uses = run.result("Uses")["msg"]

    # The registry port: where the image stage pushes, and what the cluster announces.
    assert uses["image_registry"] == "localhost:5099"
    hosting = yaml.safe_load(uses["kind_objects"][0]["data"]["localRegistryHosting.v1"])
    assert hosting["host"] == "localhost:5099"

    # The API node port: what kind maps to the host, and the port the chart's API service opens.
    mapping = uses["kind_config"]["nodes"][0]["extraPortMappings"]
    assert [(port["containerPort"], port["hostPort"]) for port in mapping] == [(30999, 30998)]
    assert node_ports(uses["values"]) == [30999]
    assert uses["deployed"]["api_url"] == "http://localhost:30998"

    # The keys Secret: the one the role creates, every name the chart reads it by, and the one the
    # dag_run stage and the verify read the password from (airflow_deployed.keys_secret).
    secret = next(obj for obj in uses["objects"] if obj["kind"] == "Secret")
    assert secret["metadata"]["name"] == "moved-platform-keys"
    values = uses["values"]
    assert {values[key] for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName")} == {
        "moved-platform-keys"}
    assert uses["deployed"]["keys_secret"] == "moved-platform-keys"
    assert uses["deployed"]["release_name"] == "moved"


def test_no_inventory_restates_a_role_default():
    defaults = {}
    for role in (REPO_ROOT / "roles").iterdir():
        defaults.update(yaml.safe_load((role / "defaults" / "main.yml").read_text(encoding="utf-8")) or {})
    restated = {}
    for inventory in (REPO_ROOT / "inventories").iterdir():
        for group_vars in (inventory / "group_vars").rglob("*.yml"):
            for name, value in (yaml.safe_load(group_vars.read_text(encoding="utf-8")) or {}).items():
                if name in defaults and value == defaults[name]:
                    restated[f"{inventory.name}: {name}"] = value
    assert restated == {}

"""The airflow role's render step, run as the tests need it: with an inventory's variables and, for
the kind inventory, the kind_cluster role's render step first (it publishes kind_cluster_published,
which that inventory derives the airflow role's input from)."""

from __future__ import annotations

import yaml

from .ansible_run import run_playbook
from .common import REPO_ROOT

INVENTORIES = sorted(path.name for path in (REPO_ROOT / "inventories").iterdir() if path.is_dir())
KUBERNETES_VERSION = "1.35"
# What the kind_cluster role's database step would have found (its render step publishes
# kind_cluster_published from it, as a converge does).
KIND_DATABASE = {"kind_cluster_database_url": "postgresql://airflow:secret@airflow-postgres:5432/airflow"}


def render(tmp_path, inventory=None, **variables):
    """Run the role's render step; returns the run, the chart values and the objects it would apply (and leaves
    the names of the Secrets it would look up in tmp_path/looked_up.yml, for looked_up())."""
    tasks = [
        {"name": "Render",
         "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow", "tasks_from": "render",
                                          "public": True}},
        {"name": "Write the values", "ansible.builtin.copy": {
            "content": "{{ airflow_rendered_values | to_nice_yaml }}", "dest": str(tmp_path / "values.yml"),
            "mode": "0600"}},
        {"name": "Write the objects", "ansible.builtin.copy": {
            "content": "{{ airflow_rendered_objects | to_nice_yaml }}", "dest": str(tmp_path / "objects.yml"),
            "mode": "0600"}},
        # What the role looks up on the cluster before it installs (Secrets made out of band), as the role itself
        # resolves it from its input: read by looked_up(), never from the role's vars file.
        {"name": "Write the Secrets the role looks up", "ansible.builtin.copy": {
            "content": "{{ airflow_existing_secrets | selectattr('name') | map(attribute='name') | list | to_yaml }}",
            "dest": str(tmp_path / "looked_up.yml"), "mode": "0600"}},
    ]
    if inventory == "kind":
        tasks.insert(0, {"name": "Publish kind_cluster_published", "ansible.builtin.include_role": {
            "name": "airflow_k8s.platform.kind_cluster", "tasks_from": "render"}})
        variables = {**KIND_DATABASE, **variables}
    run = run_playbook(tasks, tmp_path, extra_vars=variables,
                       inventory=REPO_ROOT / "inventories" / inventory if inventory else None)
    if run.rc != 0:
        return run, None, None
    return (run, yaml.safe_load((tmp_path / "values.yml").read_text()),
            yaml.safe_load((tmp_path / "objects.yml").read_text()))


def looked_up(tmp_path) -> set[tuple[str, str]]:
    """The Secrets the last render() in tmp_path would look up before install (made out of band, not by the role)."""
    return {("Secret", name) for name in yaml.safe_load((tmp_path / "looked_up.yml").read_text()) or []}

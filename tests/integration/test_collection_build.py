"""The collection as people install it: built from the checkout with ansible-galaxy, installed into an
empty collections path, and found there by Ansible without this checkout's link."""

from __future__ import annotations

import json
import tarfile

import yaml

from tests.support.common import REPO_ROOT, run_tool, tool_env

# Local state of a working checkout that must never ship in the artifact.
NEVER_SHIPPED = (".venv/", ".pytest_cache/", ".ansible/", ".ci/", ".cache/", "collections/ansible_collections/",
                 "tests/output/", "benchmarks/")
SHIPPED = ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "plugins/modules/dag_run.py",
           "plugins/module_utils/airflow_api.py", "plugins/module_utils/dag_runner.py",
           "roles/airflow/meta/argument_specs.yml", "roles/helm/tasks/main.yml", "roles/image/tasks/main.yml",
           "roles/kind_cluster/tasks/main.yml", "images/first-script/Dockerfile", "dags/first_script.py")


def test_the_built_collection_installs_and_its_docs_load_without_the_checkout(tmp_path):
    # Built where maintainers build it: in the checkout, with whatever local state it holds.
    (REPO_ROOT / ".pytest_cache").mkdir(exist_ok=True)
    run_tool("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path))
    artifact = tmp_path / "airflow_k8s-platform-0.1.0.tar.gz"
    with tarfile.open(artifact) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert not [name for name in names if name.startswith(NEVER_SHIPPED) or "__pycache__" in name]
    assert set(SHIPPED) <= set(names)
    # What the collection declares is what AWX's project sync installs: one set of ranges.
    requirements = yaml.safe_load((REPO_ROOT / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    assert manifest["collection_info"]["dependencies"] == {
        item["name"]: item["version"] for item in requirements["collections"]}
    assert all(",<" in version for version in manifest["collection_info"]["dependencies"].values())

    # Installed alone: the dependencies come with the ansible package, as on the control node.
    installed = tmp_path / "installed"
    outside = tmp_path / "elsewhere"  # no ansible.cfg, no collections/ link: only the install counts
    outside.mkdir()
    (outside / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_CONFIG=str(outside / "ansible.cfg"))
    run_tool("ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(installed), str(artifact),
             cwd=outside, env=env)
    assert (installed / "ansible_collections" / "airflow_k8s" / "platform" / "plugins" / "modules" / "dag_run.py").exists()

    doc = run_tool("ansible-doc", "--json", "airflow_k8s.platform.dag_run", cwd=outside, env=env)
    module = json.loads(doc.stdout)["airflow_k8s.platform.dag_run"]
    assert str(installed) in module["doc"]["filename"]
    assert {"url", "dag_id", "password", "validate_certs"} <= set(module["doc"]["options"])
    assert module["return"]["run"] and module["examples"].strip()

    roles = run_tool("ansible-doc", "--json", "-t", "role", "-l", "airflow_k8s.platform", cwd=outside, env=env)
    assert {"airflow_k8s.platform.airflow", "airflow_k8s.platform.helm", "airflow_k8s.platform.image",
            "airflow_k8s.platform.kind_cluster"} <= set(json.loads(roles.stdout))

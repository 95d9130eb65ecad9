"""The collection as people install it: built from the checkout with ansible-galaxy, installed into an
empty collections path, and found there by Ansible without this checkout's link."""

from __future__ import annotations

import json
import re
import tarfile

import yaml
from packaging.specifiers import SpecifierSet

from tests.support.common import REPO_ROOT, run_tool, tool_env

# A working checkout's local state, and the playbook project around the collection: neither ships.
NEVER_SHIPPED = (".venv/", ".pytest_cache/", ".ansible/", ".ci/", ".cache/", "collections/", "tests/output/",
                 "benchmarks/", "site.yml", "playbooks/", "inventories/", "molecule/", "images/", "dags/",
                 "scripts/", "offline/", "execution-environment", "requirements.txt", "Makefile", "ansible.cfg",
                 "tests/integration/", "tests/support/", "tests/offline/")
SHIPPED = ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "meta/execution-environment.yml",
           "plugins/modules/dag_run.py", "plugins/module_utils/airflow_api.py", "plugins/module_utils/dag_runner.py",
           "plugins/modules/pods_wait.py", "plugins/module_utils/pod_status.py",
           "roles/airflow/meta/argument_specs.yml", "roles/helm/tasks/main.yml", "roles/image/tasks/main.yml",
           "roles/kind_cluster/tasks/main.yml", "roles/kind_cluster/files/docker-engine/setup.sh", "pins.yml",
           "changelogs/changelog.yaml",
           "tests/unit/plugins/modules/test_dag_run_main.py", "tests/sanity/ignore-2.21.txt")


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
    # The collection declares ranges with an upper major bound; the project pins, inside them, what it runs.
    declared = manifest["collection_info"]["dependencies"]
    assert declared and all(",<" in version for version in declared.values())
    requirements = yaml.safe_load((REPO_ROOT / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    pinned = {item["name"]: item["version"] for item in requirements["collections"]}
    for name, spec in declared.items():
        assert SpecifierSet(spec).contains(pinned[name]), (name, spec, pinned)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in pinned.values()), pinned

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


def test_the_readme_example_for_galaxy_users_uses_only_what_the_collection_documents():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using the collection from Galaxy", 1)[1]
    play = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])[0]
    mains = [yaml.safe_load((REPO_ROOT / "roles" / name.split(".")[-1] / "meta" / "argument_specs.yml")
                            .read_text(encoding="utf-8"))["argument_specs"]["main"]["options"] for name in play["roles"]]
    options = {option: spec for main in mains for option, spec in main.items()}
    assert set(play["vars"]) <= set(options) and len(play["vars"]) == 3
    required = {option for option, spec in options.items() if spec.get("required")}
    assert required <= set(play["vars"]), f"the example leaves out required {required - set(play['vars'])}"
    task = play["tasks"][0]["airflow_k8s.platform.dag_run"]
    doc = run_tool("ansible-doc", "--json", "airflow_k8s.platform.dag_run")
    assert set(task) <= set(json.loads(doc.stdout)["airflow_k8s.platform.dag_run"]["doc"]["options"])
    assert "airflow_k8s.platform.image_run_id" in task["run_id"]

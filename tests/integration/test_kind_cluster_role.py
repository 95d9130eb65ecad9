"""The kind_cluster role where no kind can run (see the role's README): what it renders validates,
the kind commands it runs are built right, checked with a kind *test double*, and the DAG git server
runs for real in Docker Engine and is cloned from."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import uuid

import docker
import kubernetes_validate
import pytest
import yaml

from tests.support.ansible_run import run_playbook
from tests.support.common import REPO_ROOT, wait_for

# A test double for the kind CLI, not kind: it records each call and keeps a list of "clusters".
KIND_TEST_DOUBLE = textwrap.dedent("""\
    #!/bin/sh
    # kind TEST DOUBLE: records its arguments, pretends to create and delete clusters.
    here=$(dirname "$0")
    printf '%s\\n' "$*" >> "$here/calls.log"
    case "$1 $2" in
      "get clusters") cat "$here/clusters" 2>/dev/null || true ;;
      "create cluster") echo "$4" >> "$here/clusters" ;;
      "delete cluster") grep -vx "$4" "$here/clusters" > "$here/clusters.new"; mv "$here/clusters.new" "$here/clusters" ;;
      "get kubeconfig") printf 'apiVersion: v1\\nkind: Config\\nclusters: []\\n' ;;
    esac
    """)


def test_rendered_kind_config_and_objects_validate(tmp_path):
    tasks = [
        {"name": "Render",
         "ansible.builtin.include_role": {"name": "airflow_k8s.platform.kind_cluster", "tasks_from": "render"}},
        {"name": "Show", "ansible.builtin.debug": {"msg": {
            "config": "{{ kind_cluster_rendered_config }}", "objects": "{{ kind_cluster_rendered_objects }}",
            "hosts": "{{ kind_cluster_rendered_registry_hosts }}"}}},
    ]
    run = run_playbook(tasks, tmp_path, inventory=REPO_ROOT / "inventories" / "kind")
    assert run.rc == 0, run.output
    shown = run.result("Show")["msg"]

    config = shown["config"]
    assert (config["kind"], config["apiVersion"], config["name"]) == ("Cluster", "kind.x-k8s.io/v1alpha4", "airflow")
    node = config["nodes"][0]
    assert node["role"] == "control-plane"
    assert node["image"].startswith("kindest/node:v1.35.0@sha256:")
    assert node["extraPortMappings"] == [{"containerPort": 30080, "hostPort": 30080, "listenAddress": "127.0.0.1",
                                          "protocol": "TCP"}]
    assert 'config_path = "/etc/containerd/certs.d"' in config["containerdConfigPatches"][0]
    assert shown["hosts"].strip() == '[host."http://kind-registry:5000"]'

    for obj in shown["objects"]:
        kubernetes_validate.validate(obj, "1.35", strict=True)
    registry = yaml.safe_load(shown["objects"][0]["data"]["localRegistryHosting.v1"])
    assert registry["host"] == "localhost:5001"


def test_cluster_commands_create_once_reuse_then_delete(tmp_path):
    double = tmp_path / "kind"
    double.write_text(KIND_TEST_DOUBLE)
    double.chmod(0o755)
    variables = {"kind_cluster_binary": str(double), "kind_cluster_name": "under-test",
                 "kind_cluster_state_dir": str(tmp_path / "state"),
                 "kind_cluster_kubeconfig": str(tmp_path / "kubeconfig"),
                 "kind_cluster_registry_name": "under-test-registry-absent",
                 "kind_cluster_git_server_name": "under-test-git-absent"}
    cluster = [{"name": "Cluster", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.kind_cluster",
                                                                    "tasks_from": "cluster"}}]

    first = run_playbook(cluster, tmp_path, extra_vars=variables)
    assert first.rc == 0, first.output
    calls = (tmp_path / "calls.log").read_text().splitlines()
    config = str(tmp_path / "state" / "kind-config.yml")
    assert calls == ["get clusters",
                     f"create cluster --name under-test --config {config} --kubeconfig {tmp_path / 'kubeconfig'} "
                     "--wait 180s",
                     "get kubeconfig --name under-test"]
    assert yaml.safe_load(open(config))["name"] == "under-test"

    second = run_playbook(cluster, tmp_path, extra_vars=variables)
    assert second.rc == 0, second.output
    assert second.changed == 0, json.dumps([t["name"] for t in second.tasks if t["result"].get("changed")])
    assert not any(call.startswith("create") for call in (tmp_path / "calls.log").read_text().splitlines()[3:])

    teardown = [{"name": "Teardown", "ansible.builtin.include_role": {
        "name": "airflow_k8s.platform.kind_cluster", "tasks_from": "teardown"}}]
    removed = run_playbook(teardown, tmp_path, extra_vars=variables)
    assert removed.rc == 0, removed.output
    assert f"delete cluster --name under-test --kubeconfig {tmp_path / 'kubeconfig'}" in \
        (tmp_path / "calls.log").read_text()
    assert not (tmp_path / "state").exists() and not (tmp_path / "kubeconfig").exists()


@pytest.fixture
def kind_network(docker_client):
    """The Docker network kind puts its nodes on; made here, and removed again, when no cluster made it."""
    try:
        docker_client.networks.get("kind")
        made = None
    except docker.errors.NotFound:
        made = docker_client.networks.create("kind", driver="bridge")
    yield "kind"
    if made:
        made.remove()


def git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60)


def test_git_server_serves_the_dags_folder_and_mirrors_its_changes(tmp_path, docker_client, base_image, kind_network):
    dags = tmp_path / "dags"
    shutil.copytree(REPO_ROOT / "dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
    (dags / "second_dag.py").write_text("# a second DAG file\n")
    name = "under-test-git-" + uuid.uuid4().hex[:8]
    variables = {"kind_cluster_state_dir": str(tmp_path / "state"), "kind_cluster_dags_dir": str(dags),
                 "kind_cluster_git_server_name": name, "kind_cluster_git_server_image": base_image}
    serve = [{"name": "Git server", "ansible.builtin.include_role": {
        "name": "airflow_k8s.platform.kind_cluster", "tasks_from": "git_server"}}]
    clone = tmp_path / "clone"
    try:
        first = run_playbook(serve, tmp_path, extra_vars=variables)
        assert first.rc == 0, first.output
        address = docker_client.containers.get(name).attrs["NetworkSettings"]["Networks"][kind_network]["IPAddress"]
        url = f"http://{address}:8000/dags.git"  # what gitSync fetches, by address instead of kind's DNS name
        wait_for(f"a clone of {url}", lambda: git("clone", "--quiet", url, str(clone)).returncode == 0, timeout=30)
        assert (clone / "dags" / "first_script.py").read_bytes() == (REPO_ROOT / "dags" / "first_script.py").read_bytes()
        assert (clone / "dags" / "second_dag.py").exists()
        # git's static HTTP protocol has no shallow fetch: why the kind inventory sets airflow_git_depth: 0.
        shallow = git("clone", "--quiet", "--depth", "1", url, str(tmp_path / "shallow"))
        assert shallow.returncode != 0 and "dumb http transport does not support shallow" in shallow.stderr

        second = run_playbook(serve, tmp_path, extra_vars=variables)
        assert second.rc == 0, second.output
        assert second.changed == 0, json.dumps([t["name"] for t in second.tasks if t["result"].get("changed")])

        (dags / "second_dag.py").unlink()
        (dags / "__pycache__").mkdir()
        (dags / "__pycache__" / "first_script.cpython-312.pyc").write_bytes(b"byte code")
        third = run_playbook(serve, tmp_path, extra_vars=variables)
        assert third.rc == 0, third.output
        assert third.changed == 1
        pulled = git("pull", "--quiet", cwd=clone)
        assert pulled.returncode == 0, pulled.stderr
        assert sorted(path.name for path in (clone / "dags").iterdir()) == ["first_script.py"]
    finally:
        try:
            docker_client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass

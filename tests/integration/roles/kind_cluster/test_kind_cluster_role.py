"""The kind_cluster role on a real kind cluster, on this machine: with no internet it builds kind and
its images here (offline/build.py) and uses them; the cluster it makes runs what Airflow will need
(DNS, images pushed to its registry, the git server, volumes, privileged pods); a second converge
changes nothing, and absent leaves nothing behind. Bad input stops it in one line."""

from __future__ import annotations

import functools
import json
import shutil
import socket
import subprocess
import threading
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import docker
import kubernetes_validate
import pytest
import yaml

from tests.support.ansible_run import run_playbook
from tests.support.common import REPO_ROOT, free_port, wait_for
from tests.support.docker_engine import volumes_left_behind
from tests.support.kind import ROLE

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


CAP_SYS_ADMIN = 21
# The Docker volume the role keeps the registry's data in, shared by every cluster (kind_cluster_registry_cache).
REGISTRY_CACHE = "airflow_k8s_platform-registry-cache"


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
    registry_patch, oom_patch = config["containerdConfigPatches"]
    assert 'config_path = "/etc/containerd/certs.d"' in registry_patch
    assert "restrict_oom_score_adj = true" in oom_patch
    assert yaml.safe_load(config["kubeadmConfigPatches"][0]) == {"kind": "KubeletConfiguration", "failCgroupV1": False}
    assert shown["hosts"].strip() == '[host."http://airflow-registry:5000"]'

    for obj in shown["objects"]:
        kubernetes_validate.validate(obj, "1.35", strict=True)
    registry = yaml.safe_load(shown["objects"][0]["data"]["localRegistryHosting.v1"])
    assert registry["host"] == "localhost:5001"


def test_the_cgroupfs_driver_is_set_for_kubelet_and_runc_alike(tmp_path):
    tasks = [{"name": "Render", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.kind_cluster",
                                                                 "tasks_from": "render"}},
             {"name": "Show", "ansible.builtin.debug": {"msg": "{{ kind_cluster_rendered_config }}"}}]
    run = run_playbook(tasks, tmp_path, inventory=REPO_ROOT / "inventories" / "kind",
                       extra_vars={"kind_cluster_cgroup_driver": "cgroupfs"})
    assert run.rc == 0, run.output
    config = run.result("Show")["msg"]
    assert yaml.safe_load(config["kubeadmConfigPatches"][0])["cgroupDriver"] == "cgroupfs"
    assert config["containerdConfigPatches"][-1].split() == [
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]', "SystemdCgroup", "=", "false"]


# -- a real cluster ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(shared_cluster):
    """The session's shared cluster (conftest.py): the role made it, test_airflow_on_kind installed on it."""
    return shared_cluster


def pod(name: str, image: str, script: str, **container_extra) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "containers": [
                {"name": name, "image": image, "command": ["sh", "-c", script], **container_extra}]}}


def test_node_is_ready_and_runs_the_system_pods(cluster):
    node = cluster.core.read_node(f"{cluster.name}-control-plane")
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert node.status.node_info.kubelet_version == "v1.35.0"

    def system_pods_running():
        pods = cluster.core.list_pod_for_all_namespaces().items
        running = {p.metadata.name.rsplit("-", 1)[0] for p in pods if p.status.phase == "Running"}
        wanted = {"coredns-" + p.metadata.name.split("-")[1] for p in pods if p.metadata.name.startswith("coredns-")}
        return running if wanted and {"kube-proxy", "kind-network-agent"} <= running else None

    running = wait_for("the system pods", system_pods_running, timeout=120, interval=2)
    assert any(name.startswith("local-path-provisioner") for name in running)


def test_on_cgroup_v1_the_node_manages_cgroups_without_systemd(cluster, docker_client):
    # kind_cluster_cgroup_driver auto: on cgroup v1 runc's systemd driver freezes each new container, and on a
    # busy host the freeze times out (issue 22); where the Engine runs cgroup v2 kind's own systemd stays.
    wanted = "cgroupfs" if docker_client.info()["CgroupVersion"] == "1" else "systemd"
    node = docker_client.containers.get(f"{cluster.name}-control-plane")
    kubelet = node.exec_run(["grep", "^cgroupDriver:", "/var/lib/kubelet/config.yaml"]).output.decode().split()
    runc = json.loads(node.exec_run(["crictl", "info"]).output)["config"]["containerd"]["runtimes"]["runc"]
    assert kubelet == ["cgroupDriver:", wanted]
    assert runc["options"]["SystemdCgroup"] is (wanted == "systemd")


@pytest.fixture(scope="module")
def probe_image(cluster, docker_client, base_image):
    """The tests' Debian image, pushed from this host to the cluster's registry as localhost:<port>/...:
    the name pods pull it by too."""
    port = cluster.variables["kind_cluster_registry_port"]
    repository, tag = f"localhost:{port}/probe/debian-python", uuid.uuid4().hex[:8]
    docker_client.images.get(base_image).tag(repository, tag)
    try:
        for line in docker_client.images.push(repository, tag, stream=True, decode=True):
            assert "error" not in line, line
    finally:
        docker_client.images.remove(f"{repository}:{tag}")
    return f"{repository}:{tag}"


def test_a_pod_runs_the_pushed_image_and_reaches_dns_and_the_git_server(cluster, probe_image):
    script = ("import socket, urllib.request; "
              "print('service', socket.gethostbyname('kubernetes.default.svc.cluster.local')); "
              f"print('git', urllib.request.urlopen('http://{cluster.name}-git:8000/dags.git/HEAD', timeout=10).read())")
    log = cluster.run_pod(pod("probe", probe_image, f'python3 -c "{script}"'))
    assert "service 10.96.0.1" in log
    assert "git b'ref: refs/heads/main\\n'" in log


def test_a_claim_binds_through_local_path(cluster, probe_image):
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "probe-data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}
    cluster.core.create_namespaced_persistent_volume_claim("default", claim)
    writer = pod("probe-writer", probe_image, "echo kept > /data/file && cat /data/file",
                 volumeMounts=[{"name": "data", "mountPath": "/data"}])
    writer["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "probe-data"}}]
    assert cluster.run_pod(writer).strip() == "kept"
    assert cluster.core.read_namespaced_persistent_volume_claim("probe-data", "default").status.phase == "Bound"


def test_a_privileged_pod_runs_with_the_capabilities_kube_proxy_needs(cluster, probe_image):
    log = cluster.run_pod(pod("probe-privileged", probe_image, "grep CapEff /proc/self/status",
                              securityContext={"privileged": True}))
    assert int(log.split()[1], 16) >> CAP_SYS_ADMIN & 1


def test_a_second_converge_changes_nothing(cluster):
    again = cluster.converge()
    assert again.rc == 0, again.failure or again.output[-4000:]
    assert again.changed == 0, json.dumps([t["name"] for t in again.tasks if t["result"].get("changed")])


@pytest.mark.ends("shared_cluster")
def test_absent_leaves_no_container_network_or_volume_but_the_registrys_cache(cluster, docker_client, probe_image):
    registry_image = docker_client.containers.get(f"{cluster.name}-registry").image
    removed = cluster.converge(kind_cluster_state="absent")
    assert removed.rc == 0, removed.failure or removed.output[-4000:]
    left = [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(cluster.name)]
    assert left == []
    assert volumes_left_behind(docker_client, cluster.volumes_before) <= {REGISTRY_CACHE}
    # The registry's data stays for the next cluster: the image pushed to this one's registry is in the cache, for a
    # new registry to serve at once.
    data = next(iter(registry_image.attrs["Config"]["Volumes"]))
    listed = docker_client.containers.run(
        registry_image.id, [f"{data}/docker/registry/v2/repositories/probe"], entrypoint=["ls"], remove=True,
        volumes={REGISTRY_CACHE: {"bind": data, "mode": "ro"}}).decode().split()
    assert listed == ["debian-python"], listed
    others = docker_client.containers.list(all=True, filters={"network": "kind"})
    if not others:
        with pytest.raises(docker.errors.NotFound):
            docker_client.networks.get("kind")
    again = cluster.converge(kind_cluster_state="absent")
    assert again.rc == 0 and again.changed == 0, again.output[-3000:]


# -- bad input, one line each -------------------------------------------------------------------

@pytest.fixture
def quick(tmp_path):
    """Variables for a role run that should stop before it makes anything."""
    name = "bad-" + uuid.uuid4().hex[:6]
    return {"kind_cluster_name": name, "kind_cluster_registry_name": f"{name}-registry",
            "kind_cluster_git_server_name": f"{name}-git", "kind_cluster_registry_port": free_port(),
            "kind_cluster_api_host_port": free_port(), "kind_cluster_state_dir": str(tmp_path / "state"),
            "kind_cluster_kubeconfig": str(tmp_path / "kubeconfig"), "kind_cluster_install_dir": str(tmp_path / "bin"),
            "kind_cluster_offline_dir": str(REPO_ROOT / "offline")}


def one_line(run) -> str:
    assert run.rc != 0, run.output[-3000:]
    message = run.failure
    assert message and "\n" not in message.strip() and "Traceback" not in message, message
    return message


def test_a_docker_engine_that_does_not_answer(tmp_path, quick):
    run = run_playbook([ROLE], tmp_path, extra_vars=quick, env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert one_line(run).startswith("The kind_cluster role needs a running Docker Engine on localhost")


def test_a_host_port_already_taken(tmp_path, quick, docker_client):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", quick["kind_cluster_api_host_port"]))
        listener.listen()
        run = run_playbook([ROLE], tmp_path, extra_vars=quick)
    assert one_line(run) == (f"Port 127.0.0.1:{quick['kind_cluster_api_host_port']} (kind_cluster_api_host_port) is "
                             "already taken by another program: stop it, or set kind_cluster_api_host_port to a free "
                             "port.")


def test_a_kind_version_the_proxy_does_not_serve(tmp_path, quick, docker_client):
    run = run_playbook([ROLE], tmp_path, extra_vars={**quick, "kind_cluster_source": "build",
                                                     "kind_cluster_version": "v0.99.0"})
    assert one_line(run).startswith(
        "offline build: kind: the Go module proxy does not serve sigs.k8s.io/kind@v0.99.0 (")


def test_a_build_without_the_checkouts_builder(tmp_path, quick, docker_client):
    # The collection as installed from Galaxy: no offline/ folder beside its roles (the default is empty).
    without = {name: value for name, value in quick.items() if name != "kind_cluster_offline_dir"}
    run = run_playbook([ROLE], tmp_path, extra_vars={**without, "kind_cluster_source": "build"})
    assert one_line(run) == (
        "kind_cluster_source is build: kind, node-image, registry-image, git-server-image, postgres-image must be built "
        "here, and kind_cluster_offline_dir is empty: set it to the project checkout's offline/ folder, or give the "
        "role a mirror (kind_cluster_mirror_url and the images).")
    assert not (tmp_path / "bin" / "kind").exists()


@pytest.fixture
def fake_mirror(tmp_path):
    """A loopback mirror whose kind binary is not kind: its checksum can't match the pinned one."""
    root = tmp_path / "mirror"
    (root / "v0.31.0").mkdir(parents=True)
    (root / "v0.31.0" / "kind-linux-amd64").write_bytes(b"#!/bin/sh\necho not kind\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_checksum_mismatch_stops_even_in_auto(tmp_path, quick, fake_mirror, docker_client):
    run = run_playbook([ROLE], tmp_path, extra_vars={**quick, "kind_cluster_mirror_url": fake_mirror})
    message = one_line(run)
    assert "checksum" in message.lower() and "offline build" not in run.output
    assert not (tmp_path / "bin" / "kind").exists()


def test_official_never_builds(tmp_path, quick, docker_client):
    closed = f"http://127.0.0.1:{free_port()}"
    run = run_playbook([ROLE], tmp_path, extra_vars={**quick, "kind_cluster_source": "official",
                                                     "kind_cluster_mirror_url": closed})
    assert "Connection refused" in one_line(run)
    assert "offline build" not in run.output


# -- the DAG git server on its own ------------------------------------------------------------

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

"""The offline build for real on this machine (offline/build.py): what it makes runs and tells its
pinned version, a second build reuses everything within seconds, and a bad pin or a failing build
ends in one line that names the part and the command."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml

from offline.builder.cache import Cache
from offline.builder.plan import Plan, role_pins
from tests.support.common import REPO_ROOT

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


BUILD = REPO_ROOT / "offline" / "build.py"
PINS = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())["offline"]
KIND_VERSION, KUBERNETES_VERSION, HELM_VERSION = role_pins()


def build(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def in_node(image: str, script: str) -> str:
    """Run ``script`` with bash in a plain (unprivileged) container of the node image."""
    done = subprocess.run(["docker", "run", "--rm", "--entrypoint", "bash", image, "-c", script], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def built(docker_client):
    """Every target, built now or (as in CI, after its build stage) taken from the cache."""
    done = build()
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)["results"]


def test_a_second_build_reuses_everything_within_seconds(built):
    start = time.monotonic()
    again = build()
    elapsed = time.monotonic() - start
    assert again.returncode == 0, again.stderr[-3000:]
    report = json.loads(again.stdout)
    assert report == {"results": built, "built": []}
    assert "reused" in again.stderr
    assert elapsed < 60, f"a build with nothing to do took {elapsed:.0f}s"


def test_kind_is_the_pinned_release(built):
    version = subprocess.run([built["kind"], "version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"kind {KIND_VERSION} ")


def test_the_node_binaries_tell_their_pinned_versions(built):
    output = in_node(built["node-image"], "kubelet --version; kubeadm version -o short; kubectl version --client;"
                                          " containerd --version; runc --version; crictl --version; cat /kind/version")
    pins = PINS["go_parts"]
    for expected in (f"Kubernetes {KUBERNETES_VERSION}", f"Client Version: {KUBERNETES_VERSION}",
                     f"containerd github.com/containerd/containerd/v2 {pins['containerd']['version']}",
                     f"runc version {pins['runc']['version'].lstrip('v')}", f"crictl version {pins['crictl']['version']}"):
        assert expected in output
    assert output.splitlines()[1] == KUBERNETES_VERSION and output.splitlines()[-1] == KUBERNETES_VERSION


def test_the_node_preloads_every_image_kubeadm_and_its_manifests_name(built):
    output = in_node(built["node-image"], f"""set -e
        containerd >/dev/null 2>&1 &
        for _ in $(seq 30); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done
        echo "== kubeadm"; kubeadm config images list --kubernetes-version {KUBERNETES_VERSION}
        echo "== sandbox"; sed -n 's/^ *sandbox_image *= *"\\(.*\\)"/\\1/p' /etc/containerd/config.toml
        echo "== manifests"; sed -n 's/^ *image: *"\\{{0,1\\}}\\([^"]*\\)"\\{{0,1\\}}/\\1/p' /kind/manifests/*.yaml
        echo "== preloaded"; ctr -n k8s.io images list --quiet
        echo "== pinned"; ctr -n k8s.io images list --quiet 'labels."io.cri-containerd.pinned"==pinned'""")
    sections, current = {}, None
    for line in output.splitlines():
        if line.startswith("== "):
            current = sections.setdefault(line[3:], set())
        elif line.strip():
            current.add(line.strip())
    wanted = sections["kubeadm"] | sections["sandbox"] | sections["manifests"]
    assert len(sections["manifests"]) == 3  # network agent, storage provisioner and its helper
    assert wanted <= sections["preloaded"], wanted - sections["preloaded"]
    assert wanted <= sections["pinned"], wanted - sections["pinned"]


def test_coredns_has_the_plugins_of_kubeadms_corefile_and_none_built_on_a_clouds_sdk(built):
    """The CoreDNS built here leaves six plugins out (offline/overlays/coredns/zplugin.go): the cluster's DNS still
    has every plugin kubeadm's Corefile names, which the node's CoreDNS pods load."""
    cache = Cache(None)
    coredns = Plan(cache, role_pins()).part("coredns") / "bin" / "coredns"
    listed = subprocess.run([str(coredns), "-plugins"], capture_output=True, text=True, timeout=60, check=True).stdout
    plugins = set(listed.split())
    corefile = {"errors", "health", "ready", "kubernetes", "prometheus", "forward", "cache", "loop", "reload",
                "loadbalance"}
    assert corefile <= plugins, corefile - plugins
    assert not plugins & {"azure", "clouddns", "route53", "etcd", "nomad", "trace"}, plugins


def test_the_images_beside_the_cluster_run_unprivileged(built, docker_client):
    for image, user in ((built["registry-image"], "docker-registry"), (built["git-server-image"], "65534")):
        assert docker_client.images.get(image).attrs["Config"]["User"] == user


def test_a_version_the_proxy_does_not_serve_is_one_line_naming_it():
    done = build("--kind-version", "v0.99.0", "kind")
    assert done.returncode == 1 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("offline build: kind: the Go module proxy does not serve sigs.k8s.io/kind@v0.99.0 (")
    assert last.endswith("check the version in kind_cluster_version (pins.yml kind.version, --kind-version), or GOPROXY")


def test_a_failing_build_names_the_part_and_the_command(tmp_path):
    pins = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())
    pins["offline"]["go_parts"]["kind"]["binaries"] = {"kind": "cmd/no-such-package"}
    (tmp_path / "pins.yml").write_text(yaml.safe_dump(pins))
    done = build("--pins", str(tmp_path / "pins.yml"), "kind")
    assert done.returncode == 1 and done.stdout == ""
    failure = next(line for line in done.stderr.splitlines() if line.startswith("offline build:"))
    assert failure.startswith(f"offline build: kind: `go get -tool sigs.k8s.io/kind/cmd/no-such-package@{KIND_VERSION}`"
                              " exited 1 (log: ")
    assert "does not contain package sigs.k8s.io/kind/cmd/no-such-package" in done.stderr

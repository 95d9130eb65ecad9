"""What each target needs, in the order that lets the slow steps overlap: the Debian root file
systems (network and disk) are made in the background while Go compiles (CPU)."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import yaml

from . import docker, gobuild, image_reference, images, nodeimage, oci, rootfs, stack
from .cache import Cache, key
from .common import BuildFailed, Stopwatch, run, say

OFFLINE = Path(__file__).resolve().parent.parent
# The collection's one pins file: the roles' versions, and under "offline" what this build makes.
PINS = OFFLINE.parent / "pins.yml"
# What a kind cluster needs, then what the Airflow flow on it needs.
TARGETS = ("kind", "node-image", "registry-image", "git-server-image", "postgres-image",
           "helm", "python-base-image", "airflow-image", "git-sync-image", "airflow-chart", "git-ssh-server-image",
           # Only the upgrade test installs it, on the shared cluster, after the cluster tests that start first.
           "previous-airflow-image",
           # Last: only the existing-cluster tests run it, after everything else, and it is the slowest Go part after
           # Kubernetes: built last, it holds up no cluster.
           "ingress-controller-image")
# Debian root file systems, by the targets that need them.
ROOTFS = {"node": {"node-image"}, "minimal": {"node-image", "registry-image", "git-server-image", "python-base-image"},
          "postgres": {"postgres-image"}, "airflow": {"airflow-image", "previous-airflow-image"}, "git": {"git-sync-image", "git-ssh-server-image"}}
# A Kubernetes release as the node image's tag and --kubernetes-version give it.
KUBERNETES_RELEASE = re.compile(r"v\d+\.\d+\.\d+")
# Targets a registry can be given (--push-to): what pods pull, rather than what Docker runs.
# postgres-image too: its pg_dump and pg_restore are the airflow role's backup and restore jobs' tools.
PUSHABLE = ("airflow-image", "previous-airflow-image", "git-sync-image", "airflow-chart", "postgres-image")


def role_pins(pins_path: Path = PINS) -> tuple[str, str, str]:
    """(kind version, Kubernetes version, helm version) as pins.yml pins them for the roles."""
    pins = yaml.safe_load(pins_path.read_text())
    return pins["kind"]["version"], kubernetes_version_of(pins["kind"]["node_image"]), pins["helm"]["version"]


def kubernetes_version_of(node_image: str) -> str:
    try:
        tag = image_reference.parse(node_image).tag
    except image_reference.ImageReferenceError as error:
        raise BuildFailed("node-image", f"{error}: name the Kubernetes version with --kubernetes-version") from None
    if not KUBERNETES_RELEASE.fullmatch(tag):
        raise BuildFailed("node-image", f"no Kubernetes version in the tag of {node_image!r}: name one with"
                                        " --kubernetes-version")
    return tag


class Plan:
    def __init__(self, cache: Cache, versions: tuple[str, str, str], pins_path: Path = PINS, push_to: str = ""):
        self.cache = cache
        self.push_to = push_to
        self.kind_version, self.kubernetes_version, self.helm_version = versions
        self.pins = yaml.safe_load(pins_path.read_text())["offline"]
        self._background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rootfs")
        self._rootfs: dict[str, Future] = {}
        self._parts: dict[str, Path] = {}

    def build(self, targets: list[str]) -> dict[str, str]:
        clock = Stopwatch()
        try:
            for name, needed_by in ROOTFS.items():
                if needed_by & set(targets):
                    self._start_rootfs(name)
            built = {}
            for target in TARGETS:
                if target in targets:
                    built[target] = getattr(self, target.replace("-", "_"))()
                    if self.push_to and target in PUSHABLE:
                        built[target] = self.push(target, built[target])
        finally:
            self._background.shutdown(wait=True, cancel_futures=True)
        say(f"done in {clock}: {', '.join(targets)}")
        return built

    # -- targets -----------------------------------------------------------------------------

    def kind(self) -> str:
        return str(self.part("kind") / "bin" / "kind")

    def node_image(self) -> str:
        kubernetes = self.part("kubernetes")
        wanted = self.kubeadm_images
        tools = images.ensure(images.node_tools(images.imported("node-debian", self.rootfs("node"), self.cache)),
                              self.cache)
        minimal = self.minimal_image
        agent = images.ensure(images.network_agent(tools, kubernetes / "bin" / "kubectl"), self.cache)
        provisioner = images.ensure(images.static_binary(
            "local-path-provisioner", self.part("local_path_provisioner") / "bin" / "local-path-provisioner"),
            self.cache)
        helper = images.ensure(images.local_path_helper(minimal), self.cache)
        kube = {name: images.ensure(images.static_binary(name, kubernetes / "bin" / name, wanted[name]), self.cache)
                for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")}
        kube["kube-proxy"] = images.ensure(
            images.kube_proxy(tools, kubernetes / "bin" / "kube-proxy", wanted["kube-proxy"]), self.cache)
        kube["etcd"] = images.ensure(images.static_binary("etcd", self.part("etcd") / "bin" / "etcd"), self.cache)
        kube["coredns"] = images.ensure(images.static_binary("coredns", self.part("coredns") / "bin" / "coredns",
                                                             entrypoint=True), self.cache)
        kube["pause"] = images.ensure(images.static_binary("pause", self.pause() / "bin" / "pause", entrypoint=True,
                                                           user="65535:65535"), self.cache)
        preloads = [nodeimage.Preload(tag, wanted[name]) for name, tag in kube.items()]
        preloads += [nodeimage.Preload(tag, tag) for tag in (agent, provisioner, helper)]
        return nodeimage.assemble(nodeimage.NodeInputs(
            kubernetes_version=self.kubernetes_version, rootfs=self.rootfs("node"), kind_dir=self.kind_source,
            binaries={part: self.part(part) for part in nodeimage.PLACES}, preloads=preloads,
            pause_image=wanted["pause"], network_agent_image=agent, storage_images=(provisioner, helper)), self.cache)

    def registry_image(self) -> str:
        return images.ensure(images.registry(self.minimal_image), self.cache)

    def git_server_image(self) -> str:
        return images.ensure(images.git_server(self.minimal_image), self.cache)

    def postgres_image(self) -> str:
        base = images.imported("debian-postgres", self.rootfs("postgres"), self.cache)
        return images.ensure(stack.postgres(base), self.cache)

    def python_base_image(self) -> str:
        """A Debian with Python, for images built FROM a Python base (images/first-script's BASE_IMAGE)."""
        return self.minimal_image

    def airflow_image(self, image_pin: str = "airflow_image") -> str:
        pin = self.pins[image_pin]
        base = images.imported("debian-python", self.rootfs("airflow"), self.cache)
        wheels = stack.wheels(self.pins, self.cache, image_pin) / "wheels"
        return images.ensure(stack.airflow(base, wheels, OFFLINE / pin["lock"], pin["version"]), self.cache)

    def previous_airflow_image(self) -> str:
        """The Airflow release before airflow-image's, for the upgrade tests."""
        return self.airflow_image("previous_airflow_image")

    def git_sync_image(self) -> str:
        base = images.imported("debian-git", self.rootfs("git"), self.cache)
        return images.ensure(stack.git_sync(base), self.cache)

    def helm(self) -> dict:
        """helm, packed as the official archive in a folder the helm role takes as its mirror."""
        return stack.helm_mirror(self.part("helm") / "bin" / "helm", self.helm_version, self.cache)

    def git_ssh_server_image(self) -> str:
        base = images.imported("debian-git", self.rootfs("git"), self.cache)
        return images.ensure(stack.git_ssh_server(base), self.cache)

    def ingress_controller_image(self) -> str:
        """Traefik, static, as an unprivileged user: the ingress controller of the tests' stand-in for an existing
        cluster (its Kubernetes Ingress provider)."""
        return images.ensure(images.static_binary("traefik", self.part("traefik") / "bin" / "traefik", entrypoint=True,
                                                  user="65532:65532"), self.cache)

    def airflow_chart(self) -> str:
        return str(OFFLINE / self.pins["airflow_chart"]["path"])

    # -- publishing ----------------------------------------------------------------------------

    def push(self, target: str, built: str) -> str | dict:
        """Put what ``target`` made into the registry ``push_to``; returns it as pods and helm name it."""
        if target == "airflow-chart":
            where, pushed = oci.push(Path(built), self.push_to, "charts/airflow")
        else:
            where, pushed = docker.push(target, built, self.push_to, self.cache.log(f"push-{target}"))
        if pushed:
            self.cache.made.append(f"push-{target}")
        say(f"{target}: {'pushed to' if pushed else 'already in'} {self.push_to}")
        return where

    # -- parts -------------------------------------------------------------------------------

    def part(self, name: str) -> Path:
        if name not in self._parts:
            self._parts[name] = gobuild.build(self.go_part(name), self.cache)
        return self._parts[name]

    def go_part(self, name: str) -> gobuild.GoPart:
        pin = dict(self.pins["go_parts"][name])
        pin.pop("from", None)
        source = pin.pop("version_from", None)
        pinned_by = {"kind.version": "kind_cluster_version (pins.yml kind.version, --kind-version)",
                     "kind.node_image": "the tag of kind_cluster_node_image (pins.yml kind.node_image,"
                                        " --kubernetes-version)",
                     "helm.version": "helm_version (pins.yml helm.version, --helm-version)",
                     "kubeadm": f"kubeadm {self.kubernetes_version}'s image list"}.get(source, "pins.yml")
        if source == "kind.version":
            version = self.kind_version
        elif source == "kind.node_image":
            version = self.kubernetes_version
        elif source == "helm.version":
            version = self.helm_version
        elif source == "kubeadm":
            version = self.kubeadm_versions[name]
        else:
            version = pin.pop("version")
        # A module's major version can be part of its path (helm.sh/helm/v4).
        major = version.lstrip("v").split(".")[0]
        pin["module"] = pin["module"].format(major=major)
        pin["version_variables"] = {variable.format(major=major): value
                                    for variable, value in pin.get("version_variables", {}).items()}
        replaces = {}
        if name == "kubernetes":
            replaces = gobuild.kubernetes_staging_replaces(version, self.cache, self.cache.log(name))
        if pin.pop("follow_replaces", False):
            replaces = gobuild.upstream_replaces(name, pin["module"], version, self.cache, self.cache.log(name))
        return gobuild.GoPart(name=name, version=version, replaces=replaces, pinned_by=pinned_by, **pin)

    @cached_property
    def kubeadm_images(self) -> dict[str, str]:
        """The images kubeadm asks for, by component: {"etcd": "registry.k8s.io/etcd:3.6.6-0", ...}."""
        kubeadm = self.part("kubernetes") / "bin" / "kubeadm"
        listed = run("kubernetes", [str(kubeadm), "config", "images", "list", "--kubernetes-version",
                                    self.kubernetes_version], self.cache.log("kubernetes"), capture=True).split()
        return {image_reference.parse(image).path.rsplit("/", 1)[-1]: image for image in listed}

    @cached_property
    def kubeadm_versions(self) -> dict[str, str]:
        """The module versions of the parts kubeadm pins: etcd 3.6.6-0 is go.etcd.io/etcd/server/v3@v3.6.6."""
        tags = {name: image_reference.parse(image).tag for name, image in self.kubeadm_images.items()}
        return {"etcd": "v" + tags["etcd"].split("-")[0], "coredns": tags["coredns"], "pause": tags["pause"]}

    def pause(self) -> Path:
        """kubeadm's pause, from the Kubernetes module's pause.c, as its Makefile compiles it."""
        with self.cache.making("pause"):
            return self._pause()

    def _pause(self) -> Path:
        version = self.kubeadm_versions["pause"]
        source = Path(gobuild.module_info("pause", "k8s.io/kubernetes", self.kubernetes_version, self.cache,
                                          self.cache.log("pause"))["Dir"]) / "build" / "pause" / "linux" / "pause.c"
        compiler = run("pause", ["gcc", "-dumpfullversion"], self.cache.log("pause"), capture=True).strip()
        result = self.cache.result("pause", version, key(1, version, source.read_text(), compiler))
        if self.cache.complete(result):
            say(f"pause {version}: reused the cached build")
            return result
        out = self.cache.begin(result) / "bin"
        out.mkdir()
        log = self.cache.log("pause")
        run("pause", ["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{version}", "-o",
                      str(out / "pause"), str(source)], log)
        run("pause", ["strip", str(out / "pause")], log)
        self.cache.finish(result, {"part": "pause", "version": version, "gcc": compiler})
        self.cache.made.append("pause")
        say(f"pause {version}: compiled")
        return result

    @cached_property
    def kind_source(self) -> Path:
        return Path(gobuild.module_info("kind", "sigs.k8s.io/kind", self.kind_version, self.cache,
                                        self.cache.log("kind"))["Dir"])

    # -- root file systems -------------------------------------------------------------------

    def _start_rootfs(self, name: str) -> None:
        debian = self.pins["debian"]
        packages = debian[f"{name}_packages"]
        self._rootfs[name] = self._background.submit(rootfs.debootstrap, name, debian["suite"], packages, self.cache)

    def rootfs(self, name: str) -> Path:
        if name not in self._rootfs:
            self._start_rootfs(name)
        return self._rootfs[name].result()

    @cached_property
    def minimal_image(self) -> str:
        return images.imported("debian-minimal", self.rootfs("minimal"), self.cache)

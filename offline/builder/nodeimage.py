"""The kind node image, assembled the way kind's own builder lays it out (images/base/Dockerfile
and pkg/build/nodeimage of the pinned kind), from parts built here instead of downloaded ones:

1. the node's Debian (debootstrap) with kind's base files, its systemd clean-up and units;
2. kubeadm, kubelet, kubectl in /usr/bin; containerd, runc, crictl, CNI plugins where kind puts them;
3. /kind/version, and the default CNI and storage manifests kind applies at cluster creation;
4. every image the node needs preloaded into its containerd (pinned, so kubelet never removes
   them), under the names kubeadm and the manifests use;
5. imported as one layer, with kind's entrypoint, ENV container=docker and systemd's stop signal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import docker, kindsource
from .cache import Cache, key
from .common import BuildFailed, Stopwatch, run, say
from .images import PREFIX

PART = "node-image"
# Bump when the assembly below changes what it makes.
RECIPE = 1
CNI_MANIFEST = Path(__file__).resolve().parent.parent / "images" / "kind-network-agent" / "default-cni.yaml"
ENTRYPOINT = '["/usr/local/bin/entrypoint", "/sbin/init"]'


@dataclass
class Preload:
    tag: str  # the image on the host's Engine
    name: str  # the name the node knows it by


@dataclass
class NodeInputs:
    kubernetes_version: str
    rootfs: Path  # the node's Debian, a tarball
    kind_dir: Path  # kind's module source
    binaries: dict[str, Path]  # part -> folder of its binaries (kubernetes, containerd, runc, crictl, cni_plugins)
    preloads: list[Preload]
    pause_image: str  # the sandbox image, as kubeadm names it
    network_agent_image: str
    storage_images: tuple[str, str]  # local-path provisioner, helper

    def manifests(self) -> dict[str, str]:
        return {
            "default-cni.yaml": CNI_MANIFEST.read_text().replace("@IMAGE@", self.network_agent_image),
            "default-storage.yaml": kindsource.storage_manifest(self.kind_dir, *self.storage_images),
        }

    def key(self) -> str:
        return key(RECIPE, self.kubernetes_version, str(self.rootfs), str(self.kind_dir),
                   {part: str(path) for part, path in self.binaries.items()},
                   [(preload.tag, preload.name) for preload in self.preloads], self.pause_image, self.manifests())


def assemble(inputs: NodeInputs, cache: Cache) -> str:
    """The node image's tag, assembled now unless the Engine has it already."""
    with cache.making(PART):
        return _assemble(inputs, cache)


def _assemble(inputs: NodeInputs, cache: Cache) -> str:
    tag = f"{PREFIX}/kind-node:{inputs.kubernetes_version}-{inputs.key()}"
    if docker.exists(tag):
        say(f"{PART} {inputs.kubernetes_version}: reused {tag}")
        return tag
    clock = Stopwatch()
    log = cache.log(PART, fresh=True)
    say(f"{PART} {inputs.kubernetes_version}: assembling from the built parts")
    work = cache.work(PART)
    root = work / "rootfs"
    root.mkdir()
    run(PART, ["tar", "--numeric-owner", "-C", str(root), "-xf", str(inputs.rootfs)], log)
    install_kind_base(root, kindsource.base_files(inputs.kind_dir), log)
    install_binaries(root, inputs.binaries)
    configure_containerd(root, inputs, log)
    (root / "kind" / "version").write_text(inputs.kubernetes_version)
    manifests = root / "kind" / "manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    for name, text in inputs.manifests().items():
        (manifests / name).write_text(text)
    preload(root, inputs, work, log)

    tarball = work / "node.tar"
    run(PART, ["tar", "--numeric-owner", "-C", str(root), "-cf", str(tarball), "."], log)
    shutil.rmtree(root)
    flat = docker.import_tarball(PART, tarball, f"{tag}-flat", ["ENV container=docker", f"ENTRYPOINT {ENTRYPOINT}"],
                                 log)
    # docker import can't set a stop signal; systemd stops cleanly on SIGRTMIN+3, not on SIGTERM.
    docker.build(PART, tag, f"FROM {flat}\nSTOPSIGNAL SIGRTMIN+3\n", {}, log)
    docker.remove(flat)
    shutil.rmtree(work, ignore_errors=True)
    cache.made.append(PART)
    say(f"{PART} {inputs.kubernetes_version}: assembled {tag} in {clock}")
    return tag


def install_kind_base(root: Path, files: Path, log: Path) -> None:
    """What kind's images/base/Dockerfile does to its Debian, with kind's own files."""
    for source in sorted(files.rglob("*")):
        target = root / source.relative_to(files)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            target.chmod(0o755)
        else:
            shutil.copyfile(source, target)
            executable = target.parent in (root / "usr" / "local" / "bin", root / "kind" / "bin")
            target.chmod(0o755 if executable else 0o644)
    systemd = root / "lib" / "systemd" / "system"
    for pattern in ("sysinit.target.wants/systemd-tmpfiles-setup.service", "multi-user.target.wants/*",
                    "local-fs.target.wants/*", "sockets.target.wants/*udev*", "sockets.target.wants/*initctl*",
                    "basic.target.wants/*"):
        for path in systemd.glob(pattern):
            path.unlink()
    for path in (root / "etc" / "systemd" / "system").glob("*.wants/*"):
        path.unlink()
    with open(root / "etc" / "systemd" / "journald.conf", "a", encoding="utf-8") as journald:
        journald.write("ReadKMsg=no\n")
    init = root / "sbin" / "init"
    if init.is_symlink() or init.exists():
        init.unlink()
    init.symlink_to("/lib/systemd/systemd")
    run(PART, ["chroot", str(root), "systemctl", "enable", "kubelet.service", "containerd.service",
               "undo-mount-hacks.service"], log)
    run(PART, ["chroot", str(root), "systemctl", "mask", "systemd-binfmt.service"], log)
    (root / "etc" / "kubernetes" / "manifests").mkdir(parents=True, exist_ok=True)


# Where kind's node image keeps each part's binaries.
PLACES = {
    "kubernetes": ("usr/bin", ["kubeadm", "kubelet", "kubectl"]),
    "containerd": ("usr/local/bin", ["containerd", "containerd-shim-runc-v2", "ctr"]),
    "runc": ("usr/local/sbin", ["runc"]),
    "crictl": ("usr/local/bin", ["crictl"]),
    "cni_plugins": ("opt/cni/bin", ["host-local", "loopback", "ptp", "portmap"]),
}


def install_binaries(root: Path, binaries: dict[str, Path]) -> None:
    for part, (folder, names) in PLACES.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(binaries[part] / "bin" / name, root / folder / name)
            (root / folder / name).chmod(0o755)


def configure_containerd(root: Path, inputs: NodeInputs, log: Path) -> None:
    config = root / "etc" / "containerd" / "config.toml"
    config.write_text(kindsource.with_sandbox_image(config.read_text(), inputs.pause_image))
    # The base OCI spec of every container, as kind makes it: containerd's default, with kind's hook
    # that mounts the node's product files, and without rlimits.
    spec = json.loads(run(PART, [str(inputs.binaries["containerd"] / "bin" / "ctr"), "oci", "spec"], log,
                          capture=True))
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append({"path": "/kind/bin/mount-product-files.sh"})
    spec["process"].pop("rlimits", None)
    (root / "etc" / "containerd" / "cri-base.json").write_text(json.dumps(spec, indent=2) + "\n")


def preload(root: Path, inputs: NodeInputs, work: Path, log: Path) -> None:
    """Import the images into the node's containerd store, with a containerd run on this host
    against the node's /var/lib/containerd (kind's builder runs it inside a build container)."""
    tars = work / "images"
    tars.mkdir()
    state = work / "containerd"
    state.mkdir()
    address = state / "containerd.sock"
    config = state / "config.toml"
    config.write_text(
        "version = 3\n"
        f'root = "{root / "var" / "lib" / "containerd"}"\n'
        f'state = "{state / "state"}"\n'
        "# Only the content and image stores are needed here.\n"
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", '
        '"io.containerd.cri.v1.images", "io.containerd.internal.v1.opt"]\n'
        f'[grpc]\n  address = "{address}"\n'
        f'[ttrpc]\n  address = "{address}.ttrpc"\n')
    bin_dir = inputs.binaries["containerd"] / "bin"
    ctr = [str(bin_dir / "ctr"), "--address", str(address), "--namespace", "k8s.io"]
    with open(log, "ab") as output:
        daemon = subprocess.Popen([str(bin_dir / "containerd"), "--config", str(config)], stdout=output,
                                  stderr=output, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(ctr + ["version"], capture_output=True, check=False).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise BuildFailed(PART, f"containerd for the preload did not start (log: {log})")
            time.sleep(0.5)
        for image in inputs.preloads:
            tarball = docker.save(PART, image.tag, tars / f"{image.tag.rsplit('/', 1)[-1]}.tar", log)
            run(PART, ctr + ["images", "import", "--no-unpack", "--all-platforms",
                             "--label=io.cri-containerd.pinned=pinned", str(tarball)], log)
            if image.name != image.tag:
                run(PART, ctr + ["images", "tag", "--force", image.tag, image.name], log)
                run(PART, ctr + ["images", "label", image.name, "io.cri-containerd.pinned=pinned"], log)
                run(PART, ctr + ["images", "rm", image.tag], log)
            tarball.unlink()
        listed = run(PART, ctr + ["images", "list", "--quiet"], log, capture=True).split()
        missing = sorted({image.name for image in inputs.preloads} - set(listed))
        if missing:
            raise BuildFailed(PART, f"images missing from the node after the preload: {', '.join(missing)}")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, 9)
            daemon.wait()

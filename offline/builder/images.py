"""Container images made from the built parts: the ones the node preloads (named as kubeadm and
the node's manifests ask for them) and the ones that run beside the cluster (registry, git server).

Each is tagged on the host's Engine under PREFIX with a key of its inputs, so an unchanged image
is not built again; images the node preloads get kubeadm's names only inside the node.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from . import docker
from .cache import Cache, key
from .common import say

PREFIX = "localhost/airflow-k8s-platform"
HERE = Path(__file__).resolve().parent.parent / "images"
# Bump when a recipe below changes what it makes.
RECIPE = 1
SCRATCH = "FROM scratch\nENV PATH=/usr/local/bin:/usr/bin:/bin\n"
IPTABLES_COMMANDS = "iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore"


@dataclass
class Image:
    name: str  # short name under PREFIX
    dockerfile: str
    files: dict[str, Path | str] = field(default_factory=dict)
    final_name: str = ""  # the name the node knows it by, when that is not ours (kubeadm's images)
    version: str = ""  # what the image runs, when it says more than the key (the Airflow release)

    @property
    def tag(self) -> str:
        contents = {name: digest(source) if isinstance(source, Path) else source
                    for name, source in sorted(self.files.items())}
        inputs_key = key(RECIPE, self.dockerfile, contents)
        return f"{PREFIX}/{self.name}:{self.version}-{inputs_key}" if self.version else f"{PREFIX}/{self.name}:{inputs_key}"


def digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ensure(image: Image, cache: Cache) -> str:
    """Build ``image`` on the Engine unless an image with its tag (its inputs' key) is there."""
    with cache.making(f"image-{image.name}"):
        if not docker.exists(image.tag):
            docker.build(f"image-{image.name}", image.tag, image.dockerfile, image.files,
                         cache.log(f"image-{image.name}"))
            cache.made.append(f"image-{image.name}")
    return image.tag


def static_binary(name: str, binary: Path, final_name: str = "", entrypoint: bool = False, user: str = "") -> Image:
    """A FROM scratch image holding one static binary in /usr/local/bin."""
    lines = [SCRATCH, f"COPY {binary.name} /usr/local/bin/{binary.name}\n"]
    if entrypoint:
        lines.append(f'ENTRYPOINT ["/usr/local/bin/{binary.name}"]\n')
    if user:
        lines.append(f"USER {user}\n")
    return Image(name, "".join(lines), {binary.name: binary}, final_name)


def node_tools(base: str) -> Image:
    """The node's own Debian with the iptables wrapper: what kube-proxy and the network agent run in."""
    return Image("node-tools", f"FROM {base}\nCOPY iptables-wrapper /usr/sbin/iptables-wrapper\n"
                               f"RUN for command in {IPTABLES_COMMANDS}; do"
                               " ln -sfn iptables-wrapper /usr/sbin/$command; done\n",
                 {"iptables-wrapper": HERE / "iptables" / "iptables-wrapper"})


def kube_proxy(tools: str, binary: Path, final_name: str) -> Image:
    return Image("kube-proxy", f"FROM {tools}\nCOPY kube-proxy /usr/local/bin/kube-proxy\n", {"kube-proxy": binary},
                 final_name)


def network_agent(tools: str, kubectl: Path) -> Image:
    return Image("kind-network-agent",
                 f"FROM {tools}\nCOPY kubectl kind-network-agent /usr/local/bin/\n",
                 {"kubectl": kubectl, "kind-network-agent": HERE / "kind-network-agent" / "kind-network-agent.sh"})


def local_path_helper(minimal: str) -> Image:
    """What local-path-provisioner's helper pods run: a shell and coreutils. A label makes it an image of its own:
    a bare FROM would give it the base's ID, and a pod pulling the base (python-base-image) under another name
    beside this preloaded one made the kubelet try to pull the helper by its preloaded name, so no claim bound
    (containerd 2.2, kind)."""
    return Image("local-path-helper", f"FROM {minimal}\nLABEL org.opencontainers.image.title=local-path-helper\n")


def registry(minimal: str) -> Image:
    """Debian's docker-registry (distribution 2.8) laid out as the registry:2 image: port 5000, no
    authentication, data in a volume; as the package's own unprivileged user."""
    return Image("registry", f"FROM {minimal}\nCOPY config.yml /etc/docker/registry/config.yml\n"
                             "USER docker-registry\nEXPOSE 5000\nVOLUME /var/lib/docker-registry\n"
                             'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]\n',
                 {"config.yml": HERE / "registry" / "config.yml"})


def git_server(minimal: str) -> Image:
    """Python's static HTTP server for git's "dumb" protocol, as nobody."""
    return Image("git-server", f"FROM {minimal}\nUSER 65534\nEXPOSE 8000\n"
                               'CMD ["python3", "-m", "http.server", "8000", "--directory", "/srv/git"]\n')


def imported(name: str, tarball: Path, cache: Cache, changes: tuple[str, ...] = ()) -> str:
    """A root file system tarball as an image, imported unless its tag is on the Engine already."""
    tag = f"{PREFIX}/{name}:{key(RECIPE, str(tarball), tarball.stat().st_mtime_ns, changes)}"
    with cache.making(f"image-{name}"):
        if not docker.exists(tag):
            say(f"{name}: importing {tarball.name} into the Docker Engine")
            docker.import_tarball(f"image-{name}", tarball, tag, list(changes), cache.log(f"image-{name}"))
            cache.made.append(f"image-{name}")
    return tag

"""A git server speaking SSH (the image offline/build.py makes from Debian's openssh-server and git), on
a kind cluster's network, serving this checkout's dags/ to one deploy key: what gitSync over SSH talks to
at a real site. Its host key and the deploy key are made for it; a second key it does not know is made
too, for the tests of a wrong key."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docker

from .common import REPO_ROOT, wait_for
from .docker_engine import run_on_network
from .offline import built

PORT = 2222


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)
    path.chmod(0o644)  # read by the server's unprivileged user: the test's throwaway keys
    return path.with_suffix(".pub").read_text().strip()


@dataclass
class SshGitServer:
    container: docker.models.containers.Container
    host: str  # the name pods reach it by
    keys: Path  # host_key, deploy_key and other_key, each with its .pub
    host_public_key: str

    @property
    def url(self) -> str:
        return f"ssh://git@{self.host}:{PORT}/srv/git/dags.git"

    @property
    def known_hosts(self) -> str:
        return f"[{self.host}]:{PORT} {self.host_public_key}"

    def stop(self) -> None:
        self.container.remove(force=True)


def start_ssh_git_server(docker_client: docker.DockerClient, root: Path, name: str, network: str = "kind",
                         aliases: tuple[str, ...] = ()) -> SshGitServer:
    """Start it as container ``name`` on ``network`` (the nodes' own), reachable by that name and by ``aliases``;
    its files live under ``root``. The first alias, if any, is the host name it is known by."""
    image = built("git-ssh-server-image")["git-ssh-server-image"]
    (root / "keys").mkdir(parents=True)
    host_key = keygen(root / "keys" / "host_key")
    deploy_key = keygen(root / "keys" / "deploy_key")
    keygen(root / "keys" / "other_key")
    (root / "ssh").mkdir()
    shutil.copy(root / "keys" / "host_key", root / "ssh" / "host_key")
    (root / "ssh" / "authorized_keys").write_text(deploy_key + "\n")
    work = root / "work"
    shutil.copytree(REPO_ROOT / "dags", work / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    subprocess.run(git + ["-C", str(work), "add", "-A"], check=True)
    subprocess.run(git + ["-C", str(work), "commit", "-q", "-m", "dags"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(root / "git" / "dags.git")], check=True)
    container = run_on_network(docker_client, image, name, network, aliases,
                               volumes={str(root / "ssh"): {"bind": "/srv/ssh", "mode": "ro"},
                                        str(root / "git"): {"bind": "/srv/git", "mode": "ro"}})
    server = SshGitServer(container, aliases[0] if aliases else name, root / "keys", host_key)
    try:
        wait_for("the SSH git server", lambda: "Server listening" in container.logs().decode(), timeout=30)
    except Exception:
        server.stop()
        raise
    return server

"""A stand-in for an existing cluster, as inventories/example expects one: made here with the kind CLI (not
the kind_cluster role), a control plane and two workers, reached only through a kubeconfig file of its own
and the context STANDIN_CONTEXT. Beside it, on kind's Docker network and known by names of their own:

- a registry that wants a user and password (htpasswd) and serves TLS with a certificate from a CA made for
  the session; the nodes trust that CA as a site configures containerd (a hosts.toml with the CA in
  /etc/containerd/certs.d/<registry>/), the host's Docker Engine as a site configures it
  (/etc/docker/certs.d/<registry>/ca.crt); no insecure registry, no plain HTTP;
- a second registry whose CA the nodes were never given (the fault of an untrusted registry);
- the SSH git server holding dags/ (tests/support/ssh_git.py), its host key pinned by the inventory;
- PostgreSQL with TLS on, for sslmode=verify-full, and one without TLS (the fault of a database that refuses
  it);
- Traefik, the ingress controller, in the cluster: a NodePort for HTTPS that kind maps to a loopback port.

The servers beside the cluster sit on a Docker network of the stand-in's own, which the nodes join: IPv4 only,
as a site's network is (kind's network also gives every container an IPv6 address that pods can't route to,
and clients that try it first report that instead of the real failure). The control node (this host) finds
the registries and the API's host name through /etc/hosts lines this module adds and removes, as DNS would at
a real site; the nodes and pods find the servers by Docker's DNS. What a site's mirror would hold (Airflow's
image, git-sync) is pushed to the registry.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import docker
import kubernetes
import requests
import yaml

from .common import REPO_ROOT, PartUnavailable, port_open, wait_for
from .docker_engine import run_on_network
from .offline import built
from .pki import CertificateAuthority
from .ssh_git import SshGitServer, start_ssh_git_server

STANDIN_CONTEXT = "standin-existing"
DOMAIN = "standin.test"
REGISTRY_HOST = f"registry.{DOMAIN}:5000"
UNTRUSTED_REGISTRY_HOST = f"registry-untrusted.{DOMAIN}:5000"
API_HOST = f"airflow.{DOMAIN}"
DATABASE_HOST = f"db.{DOMAIN}"
PLAIN_DATABASE_HOST = f"db-plain.{DOMAIN}"
GIT_HOST = f"git.{DOMAIN}"
INGRESS_NODE_PORT = 30443
HOSTS_FILE = Path("/etc/hosts")
DOCKER_CERTS = Path("/etc/docker/certs.d")
# Marks the /etc/hosts lines this module writes, so a session that stopped before its clean-up is mended.
HOSTS_MARK = "# airflow_k8s.platform stand-in"
PARTS = ("kind", "node-image", "registry-image", "postgres-image", "git-ssh-server-image", "ingress-controller-image",
         "airflow-image", "git-sync-image", "python-base-image", "helm")
SETUP_DOCKER_ENGINE = REPO_ROOT / "roles" / "kind_cluster" / "files" / "docker-engine" / "setup.sh"


def kind_config(node_image: str, api_port: int, cgroup_v1: bool) -> dict:
    """Three nodes, the host's needs on this Docker Engine (the same ones the kind_cluster role meets: kubelet
    on cgroup v1, containerd without CAP_SYS_RESOURCE), containerd reading per-registry settings from
    certs.d, and the ingress's HTTPS node port on a loopback port."""
    containerd = ['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"',
                  '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true']
    kubelet = "kind: KubeletConfiguration\nfailCgroupV1: false\n"
    if cgroup_v1:
        containerd.append('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
                          '  SystemdCgroup = false')
        kubelet += "cgroupDriver: cgroupfs\n"
    return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "containerdConfigPatches": containerd,
            "kubeadmConfigPatches": [kubelet],
            "nodes": [
                {"role": "control-plane", "image": node_image, "extraPortMappings": [
                    {"containerPort": INGRESS_NODE_PORT, "hostPort": api_port, "listenAddress": "127.0.0.1",
                     "protocol": "TCP"}]},
                {"role": "worker", "image": node_image},
                {"role": "worker", "image": node_image}]}


@dataclass
class Database:
    container: docker.models.containers.Container
    host: str
    password: str

    def url(self, sslmode: str = "verify-full") -> str:
        return (f"postgresql://airflow:{self.password}@{self.host}:5432/airflow?sslmode={sslmode}"
                "&sslrootcert=/opt/airflow/database-ca/ca.crt")


@dataclass
class StandIn:
    folder: Path
    docker_client: docker.DockerClient
    name: str = field(default_factory=lambda: "standin-" + uuid.uuid4().hex[:6])
    registry_user: str = "ci-pusher"  # the example inventory's image_registry_username
    registry_password: str = field(default_factory=lambda: "registry-" + uuid.uuid4().hex)
    # The ingress's HTTPS on the host's own 443, so the API's URL is https://<host>/ as the inventory writes it.
    api_port: int = 443

    def __post_init__(self):
        self.parts: dict = {}
        self.containers: list[docker.models.containers.Container] = []
        self.kubeconfig = self.folder / "kubeconfig"
        self.ca: CertificateAuthority | None = None
        self.git: SshGitServer | None = None
        self.database: Database | None = None
        self.plain_database: Database | None = None
        self.mirror: dict = {}
        self._trusted_on_host: list[Path] = []
        self.volumes_before: set[str] = set()

    # -- the whole ----------------------------------------------------------------------------------

    def start(self) -> StandIn:
        if port_open(self.api_port):
            raise PartUnavailable(f"port {self.api_port} on 127.0.0.1 is taken: the stand-in's ingress serves the API"
                                  f" there, as https://{API_HOST}/; stop what listens on it")
        # What the Docker Engine held before: what the stand-in must leave behind, and nothing more.
        self.volumes_before = {volume.name for volume in self.docker_client.volumes.list()}
        self.parts = built(*PARTS)
        subprocess.run(["bash", str(SETUP_DOCKER_ENGINE)], check=True, capture_output=True)
        self.ca = CertificateAuthority(self.folder / "pki")
        self._remove_hosts_lines(stale=True)
        self._create_cluster()
        self._make_network()
        self._start_registries()
        self._start_databases()
        self.git = start_ssh_git_server(self.docker_client, self.folder / "git", f"{self.name}-git", self.name,
                                        (GIT_HOST,))
        self.containers.append(self.git.container)
        self._start_ingress_controller()
        self._add_hosts_line("127.0.0.1", API_HOST)
        self._fill_the_mirror()
        return self

    def stop(self) -> None:
        for container in self.containers:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        if self.parts.get("kind"):
            subprocess.run([self.parts["kind"], "delete", "cluster", "--name", self.name], capture_output=True,
                           check=False)
        with contextlib.suppress(docker.errors.NotFound):
            self.docker_client.networks.get(self.name).remove()
        self._remove_hosts_lines()
        for folder in self._trusted_on_host:
            with contextlib.suppress(OSError):
                for file in folder.iterdir():
                    file.unlink()
                folder.rmdir()

    @property
    def host_trust(self) -> list[Path]:
        """The folders under /etc/docker/certs.d that make this host's Docker Engine trust the stand-in's registries."""
        return list(self._trusted_on_host)

    # -- the cluster ----------------------------------------------------------------------------------

    def _create_cluster(self) -> None:
        config = self.folder / "kind-config.yml"
        cgroup_v1 = str(self.docker_client.info().get("CgroupVersion")) == "1"
        config.write_text(yaml.safe_dump(kind_config(self.parts["node-image"], self.api_port, cgroup_v1)))
        made = subprocess.run([self.parts["kind"], "create", "cluster", "--name", self.name, "--config", str(config),
                               "--kubeconfig", str(self.folder / "kind-kubeconfig"), "--wait", "240s"],
                              capture_output=True, text=True, check=False, timeout=900)
        if made.returncode != 0:
            raise PartUnavailable(f"kind could not make the stand-in cluster: {made.stderr[-3000:]}")
        # An existing cluster's kubeconfig: a context of the site's own name, not kind's.
        kubeconfig = yaml.safe_load((self.folder / "kind-kubeconfig").read_text())
        for context in kubeconfig["contexts"]:
            context["name"] = STANDIN_CONTEXT
        kubeconfig["current-context"] = STANDIN_CONTEXT
        self.kubeconfig.write_text(yaml.safe_dump(kubeconfig))
        self.kubeconfig.chmod(0o600)
        (self.folder / "kind-kubeconfig").unlink()

    def _make_network(self) -> None:
        network = self.docker_client.networks.create(self.name, driver="bridge", enable_ipv6=False)
        for node in self.nodes:
            network.connect(node)

    @property
    def nodes(self) -> list[str]:
        listed = subprocess.run([self.parts["kind"], "get", "nodes", "--name", self.name], capture_output=True,
                                text=True, check=True)
        return sorted(listed.stdout.split())

    @property
    def api_client(self) -> kubernetes.client.ApiClient:
        return kubernetes.config.new_client_from_config(str(self.kubeconfig), context=STANDIN_CONTEXT)

    @property
    def core(self) -> kubernetes.client.CoreV1Api:
        return kubernetes.client.CoreV1Api(self.api_client)

    def apply(self, objects: list[dict]) -> None:
        """Create each object (server-side apply would need kubectl; these are new)."""
        kubernetes.utils.create_from_yaml(self.api_client, yaml_objects=objects)

    # -- registries -------------------------------------------------------------------------------------

    def _start_registries(self) -> None:
        self._start_registry(REGISTRY_HOST, self.ca, trusted_by_nodes=True)
        # Its own CA: the host trusts it (so a push works), the nodes were never told of it.
        other = CertificateAuthority(self.folder / "pki-untrusted", name="a CA the nodes do not know")
        self._start_registry(UNTRUSTED_REGISTRY_HOST, other, trusted_by_nodes=False)

    def _start_registry(self, host_port: str, ca: CertificateAuthority, trusted_by_nodes: bool) -> None:
        host = host_port.split(":")[0]
        folder = self.folder / host
        (folder / "tls").mkdir(parents=True)
        cert, key = ca.issue("registry", [host])
        for source in (cert, key):
            target = folder / "tls" / source.name
            target.write_bytes(source.read_bytes())
            target.chmod(0o644)  # read by the image's unprivileged docker-registry user; a throwaway test key
        hashed = bcrypt.hashpw(self.registry_password.encode(), bcrypt.gensalt()).decode()
        (folder / "htpasswd").write_text(f"{self.registry_user}:{hashed}\n")
        (folder / "htpasswd").chmod(0o644)
        (folder / "config.yml").write_text(yaml.safe_dump({
            "version": 0.1, "storage": {"filesystem": {"rootdirectory": "/var/lib/docker-registry"},
                                        "delete": {"enabled": True}},
            "http": {"addr": ":5000", "tls": {"certificate": "/srv/tls/registry.crt", "key": "/srv/tls/registry.key"}},
            "auth": {"htpasswd": {"realm": "stand-in registry", "path": "/srv/htpasswd"}}}))
        container = run_on_network(
            self.docker_client, self.parts["registry-image"], f"{self.name}-{host.split('.')[0]}", self.name, (host,),
            volumes={str(folder / "config.yml"): {"bind": "/etc/docker/registry/config.yml", "mode": "ro"},
                     str(folder / "tls"): {"bind": "/srv/tls", "mode": "ro"},
                     str(folder / "htpasswd"): {"bind": "/srv/htpasswd", "mode": "ro"}})
        self.containers.append(container)
        self._add_hosts_line(self._address(container), host)
        trust = DOCKER_CERTS / host_port
        trust.mkdir(parents=True, exist_ok=True)
        (trust / "ca.crt").write_bytes(ca.pem)
        self._trusted_on_host.append(trust)
        if trusted_by_nodes:
            hosts_toml = (f'server = "https://{host_port}"\n\n[host."https://{host_port}"]\n'
                          f'  capabilities = ["pull", "resolve"]\n  ca = "/etc/containerd/certs.d/{host_port}/ca.crt"\n')
            for node in self.nodes:
                node_container = self.docker_client.containers.get(node)
                node_container.exec_run(["mkdir", "-p", f"/etc/containerd/certs.d/{host_port}"], user="root")
                self._write_in(node_container, f"/etc/containerd/certs.d/{host_port}/ca.crt", ca.pem)
                self._write_in(node_container, f"/etc/containerd/certs.d/{host_port}/hosts.toml", hosts_toml.encode())
        wait_for(f"registry {host_port}", lambda: self._registry_answers(host_port, ca), timeout=60)

    @staticmethod
    def _registry_answers(host_port: str, ca: CertificateAuthority) -> bool:
        answer = requests.get(f"https://{host_port}/v2/", verify=str(ca.cert_file), timeout=5)
        return answer.status_code == 401  # it serves, and wants credentials

    @staticmethod
    def _write_in(container, path: str, content: bytes) -> None:
        """A file into a running container (a node), through the Engine's archive API."""
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            info = tarfile.TarInfo(Path(path).name)
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
        if not container.put_archive(str(Path(path).parent), archive.getvalue()):
            raise PartUnavailable(f"could not write {path} in {container.name}")

    def _address(self, container) -> str:
        container.reload()
        return container.attrs["NetworkSettings"]["Networks"][self.name]["IPAddress"]

    def push(self, source: str, repository: str, host: str = REGISTRY_HOST) -> str:
        """Push the local image ``source`` as <host>/<repository>:<tag>, with the registry's credentials;
        returns its name pinned by digest."""
        tag = source.rsplit(":", 1)[-1]
        target = f"{host}/{repository}"
        self.docker_client.images.get(source).tag(target, tag)
        auth = {"username": self.registry_user, "password": self.registry_password}
        for line in self.docker_client.images.push(target, tag, auth_config=auth, stream=True, decode=True):
            if "error" in line:
                raise PartUnavailable(f"pushing {target}:{tag} failed: {line['error']}")
        digest = self.docker_client.images.get_registry_data(f"{target}:{tag}", auth_config=auth).id
        return f"{target}:{tag}@{digest}"

    def _fill_the_mirror(self) -> None:
        """What an air-gapped site's mirror holds, as the example inventory's airflow_mirror would name it."""
        self.mirror = {"airflow_image": self.push(self.parts["airflow-image"], "mirror/airflow"),
                       "git_sync_image": self.push(self.parts["git-sync-image"], "mirror/git-sync"),
                       "chart_source": str(REPO_ROOT / "offline" / "charts" / "airflow-1.21.0"),
                       "chart_version": "1.21.0", "statsd_enabled": False}

    # -- databases ---------------------------------------------------------------------------------------

    def _start_databases(self) -> None:
        self.database = self._start_database(DATABASE_HOST, tls=True)
        self.plain_database = self._start_database(PLAIN_DATABASE_HOST, tls=False)

    def _start_database(self, host: str, tls: bool) -> Database:
        password = "db-" + uuid.uuid4().hex
        image = self.parts["postgres-image"]
        volumes, command = {}, []
        if tls:
            folder = self.folder / host
            folder.mkdir()
            cert, key = self.ca.issue("server", [host])
            # PostgreSQL reads its key only when its own user owns it, mode 0600.
            # Removed with its anonymous data volume (the image declares one): auto-remove would leave that behind.
            asking = self.docker_client.containers.run(image, ["-u", "postgres"], entrypoint="id", detach=True)
            try:
                asking.wait(timeout=60)
                uid = int(asking.logs().decode().strip())
            finally:
                asking.remove(force=True, v=True)
            for source in (cert, key):
                target = folder / source.name
                target.write_bytes(source.read_bytes())
                target.chmod(0o600)
                subprocess.run(["chown", f"{uid}:{uid}", str(target)], check=True)
            folder.chmod(0o755)
            volumes = {str(folder): {"bind": "/srv/tls", "mode": "ro"}}
            command = ["-c", "ssl=on", "-c", "ssl_cert_file=/srv/tls/server.crt", "-c", "ssl_key_file=/srv/tls/server.key"]
        container = run_on_network(self.docker_client, image, f"{self.name}-{host.split('.')[0]}", self.name, (host,),
                                   command=command, volumes=volumes,
                                   environment={"POSTGRES_USER": "airflow", "POSTGRES_PASSWORD": password,
                                                "POSTGRES_DB": "airflow"})
        self.containers.append(container)

        def ready():
            probe = container.exec_run(["pg_isready", "-h", "127.0.0.1", "-U", "airflow"])
            return probe.exit_code == 0
        wait_for(f"PostgreSQL {host}", ready, timeout=60)
        return Database(container, host, password)

    # -- the ingress controller -------------------------------------------------------------------------

    def _start_ingress_controller(self) -> None:
        image = self.parts["ingress-controller-image"]
        loaded = subprocess.run([self.parts["kind"], "load", "docker-image", image, "--name", self.name],
                                capture_output=True, text=True, check=False, timeout=600)
        if loaded.returncode != 0:
            raise PartUnavailable(f"kind could not load the ingress controller's image: {loaded.stderr[-2000:]}")
        self.apply(traefik_objects(image))
        apps = kubernetes.client.AppsV1Api(self.api_client)

        def ready():
            deployment = apps.read_namespaced_deployment("traefik", "ingress")
            return (deployment.status.ready_replicas or 0) >= 1
        wait_for("the ingress controller", ready, timeout=180, interval=2)

    # -- /etc/hosts ---------------------------------------------------------------------------------------

    def _add_hosts_line(self, address: str, host: str) -> None:
        with open(HOSTS_FILE, "a", encoding="utf-8") as hosts:
            hosts.write(f"{address} {host} {HOSTS_MARK} {self.name}\n")

    def _remove_hosts_lines(self, stale: bool = False) -> None:
        """This stand-in's lines; with ``stale``, every line a stand-in left (a session that stopped early)."""
        mark = HOSTS_MARK if stale else f"{HOSTS_MARK} {self.name}"
        lines = HOSTS_FILE.read_text().splitlines(True)
        kept = [line for line in lines if mark not in line]
        if kept != lines:
            # In place: /etc/hosts may be a bind mount that a rename would not reach.
            with open(HOSTS_FILE, "w", encoding="utf-8") as hosts:
                hosts.writelines(kept)


def traefik_objects(image: str) -> list[dict]:
    """Traefik as a site's ingress controller: its own namespace and service account, read access to what its
    Kubernetes Ingress provider watches, the IngressClass "traefik", and HTTPS on a node port."""
    labels = {"app": "traefik"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ingress"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "traefik", "namespace": "ingress"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "standin-traefik"},
         "rules": [{"apiGroups": [""], "resources": ["services", "secrets", "nodes"], "verbs": ["get", "list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
                    "verbs": ["get", "list", "watch"]},
                   {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses"],
                    "verbs": ["get", "list", "watch"]},
                   {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "standin-traefik"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "standin-traefik"},
         "subjects": [{"kind": "ServiceAccount", "name": "traefik", "namespace": "ingress"}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "traefik"},
         "spec": {"controller": "traefik.io/ingress-controller"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "traefik", "namespace": "ingress"},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"serviceAccountName": "traefik",
                      "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                      "containers": [{
                          "name": "traefik", "image": image, "imagePullPolicy": "Never",
                          "args": ["--entryPoints.websecure.address=:8443", "--entryPoints.websecure.http.tls=true",
                                   "--providers.kubernetesingress=true",
                                   "--providers.kubernetesingress.ingressClass=traefik",
                                   "--ping=true", "--ping.entryPoint=websecure", "--log.level=INFO"],
                          "ports": [{"name": "websecure", "containerPort": 8443}],
                          "readinessProbe": {"tcpSocket": {"port": 8443}, "periodSeconds": 2},
                          "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                              "capabilities": {"drop": ["ALL"]}},
                          "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                        "limits": {"cpu": "500m", "memory": "256Mi"}}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "traefik", "namespace": "ingress"},
         "spec": {"type": "NodePort", "selector": labels, "ports": [
             {"name": "websecure", "port": 443, "targetPort": "websecure", "nodePort": INGRESS_NODE_PORT}]}},
    ]


def wait_until_served(url: str, ca_file: Path, timeout: float = 120) -> None:
    """Until the ingress answers ``url`` with a certificate ``ca_file`` verifies (it reads Ingresses and Secrets
    a few seconds after they change)."""
    def answers():
        return requests.get(url, verify=str(ca_file), timeout=5).status_code < 500
    wait_for(url, answers, timeout=timeout, interval=2)

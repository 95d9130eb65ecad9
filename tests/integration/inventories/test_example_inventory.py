"""inventories/example deployed for real, on a cluster the flow did not make (tests/support/standin.py: three
kind nodes reached through a kubeconfig and context of their own, a registry with a password and TLS, gitSync
over SSH with the host key pinned, PostgreSQL with TLS checked as verify-full, and a TLS ingress).

The inventory is the example as written. A second inventory source (OVERRIDES, below) swaps in the stand-in's
addresses and names, and a vault of its own, encrypted with ansible-vault, takes the place of the example's
placeholder vault.yml; site.yml runs with a vault password file, as an operator runs it. What the stand-in can't
do as the example says is overridden in the same place, each with why."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import kubernetes
import pytest
import requests
import yaml

from tests.support.common import REPO_ROOT, VENV_BIN, tool_env
from tests.support.docker_engine import volumes_left_behind
from tests.support.offline import built
from tests.support.standin import API_HOST, DATABASE_HOST, HOSTS_MARK, REGISTRY_HOST, STANDIN_CONTEXT, \
    UNTRUSTED_REGISTRY_HOST, StandIn, wait_until_served

# A kind cluster and the offline build: after the tests that need neither, and after the demo's (conftest.py).
pytestmark = pytest.mark.cluster

NAMESPACE = "airflow"  # the example's (the role's default)
TLS_SECRET = "airflow-tls"  # the example's airflow_api_tls_secret, made out of band as cert-manager would
KPO_LABELS = "dag_id=first_script,kubernetes_pod_operator=True"
# "Within a minute" for a fault whose cause shows at once; a run through the whole flow to reach it takes longer.
FAST = 60


def overrides(standin: StandIn, helm: dict, base_image: str, work: Path) -> dict:
    """Everything the test changes in the example inventory, and why: the one place to read it."""
    return {
        # -- addresses and names: the stand-in's, where the example names example.com's ----------------------------
        "airflow_kubeconfig": str(standin.kubeconfig),
        "airflow_kube_context": STANDIN_CONTEXT,
        "image_registry": f"{REGISTRY_HOST}/data-team",
        "airflow_git_repo": standin.git.url,
        "airflow_git_known_hosts": standin.git.known_hosts + "\n",
        "airflow_api_host": API_HOST,
        "airflow_api_ingress_class": "traefik",
        # The stand-in's certificates come from a CA made for the test, not a public one.
        "airflow_api_ca_path": str(standin.ca.cert_file),
        "airflow_database_url": (f"postgresql://airflow:{{{{ vault_database_password }}}}@{DATABASE_HOST}:5432/airflow"
                                 "?sslmode=verify-full&sslrootcert=/opt/airflow/database-ca/ca.crt"),
        "airflow_database_ca": standin.ca.pem.decode(),
        # -- no internet on these machines: what an air-gapped site's mirror holds, where the example pulls the
        #    official chart, images and helm ---------------------------------------------------------------------
        "airflow_mirror": standin.mirror,
        "image_mirror": {"image_base": base_image},
        "helm_mirror_url": helm["mirror_url"],
        "helm_sha256": helm["sha256"],
        "helm_install_dir": str(work / "bin"),
        # -- what the stand-in can't do as written ------------------------------------------------------------------
        # kind has no ReadWriteMany storage (the example's nfs-client): task logs go to a ReadWriteOnce claim of
        # local-path, so the pods that write logs run on that claim's node (issue 24 moves them to object storage).
        "airflow_logs_storage_class": "",
        "airflow_logs_access_mode": "ReadWriteOnce",
    }


@dataclass
class Example:
    standin: StandIn
    work: Path
    vault: dict
    vault_password_file: Path
    pods_seen: dict = field(default_factory=dict)  # KubernetesPodOperator pods by name: their last status seen
    first: Run | None = None  # site.yml's first run, from nothing
    first_started: float = 0.0  # when it started (the epoch), for the files it left

    @property
    def inventory(self) -> Path:
        return self.work / "standin-inventory"

    @property
    def image_ref(self) -> str:
        """What the first run's image stage pushed and handed on."""
        return self.first.task_result("Hand the image reference to the plays that run on the control node")[
            "ansible_facts"]["image_ref"]

    def playbook(self, playbook: str = "site.yml", *extra: str, vault_password_file: Path | None = None,
                 verbosity: int = 0, timeout: float = 1800) -> Run:
        """ansible-playbook as an operator runs it: both inventory sources and the vault password file."""
        argv = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", "inventories/example", "-i", str(self.inventory),
                "--vault-password-file", str(vault_password_file or self.vault_password_file), *extra]
        if verbosity:
            argv.append("-" + "v" * verbosity)
        env = tool_env() if verbosity else tool_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
        started = time.monotonic()
        done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started, json_report=not verbosity)

    def watch_pods(self, stop: threading.Event) -> None:
        """Record the KubernetesPodOperator's pods as they run: they are deleted when their task ends."""
        core = self.standin.core
        while not stop.is_set():
            try:
                for pod in core.list_namespaced_pod(NAMESPACE, label_selector=KPO_LABELS).items:
                    self.pods_seen[pod.metadata.name] = pod
            except kubernetes.client.exceptions.ApiException:
                pass
            stop.wait(1)


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float
    json_report: bool = True

    @property
    def report(self) -> dict:
        return json.loads(self.stdout) if self.json_report else {}

    @property
    def changed(self) -> int:
        if not self.json_report:
            return sum(int(count) for count in re.findall(r"changed=(\d+)", self.stdout.split("PLAY RECAP", 1)[-1]))
        return sum(host.get("changed", 0) for host in self.report["stats"].values())

    def changed_tasks(self) -> list[str]:
        return [task["task"]["name"] for play in self.report["plays"] for task in play["tasks"]
                if any(result.get("changed") for result in task["hosts"].values())]

    @property
    def failure(self) -> str:
        """The message of the task that failed (the json report), or ansible-playbook's own error."""
        if self.json_report:
            try:
                failed = [result for play in self.report["plays"] for task in play["tasks"]
                          for result in task["hosts"].values() if result.get("failed")]
            except ValueError:
                failed = []
            if failed:
                # A loop's message is its failed item's.
                items = [item for item in failed[-1].get("results", []) if item.get("failed")]
                return " ".join(str((items[-1] if items else failed[-1]).get("msg", "")).split())
        return " ".join((self.stderr.strip() or self.stdout.strip()).splitlines()[-1:])

    def task_result(self, name: str) -> dict:
        return next(result for play in self.report["plays"] for task in play["tasks"] if task["task"]["name"] == name
                    for result in task["hosts"].values())


def write_vault(work: Path, vault: dict) -> Path:
    """The example's secrets in a vault.yml encrypted with ansible-vault; returns the password file."""
    password_file = work / "vault-password"
    password_file.write_text(uuid.uuid4().hex + "\n")
    password_file.chmod(0o600)
    target = work / "standin-inventory" / "group_vars" / "all" / "vault.yml"
    target.write_text(yaml.safe_dump(vault))
    target.chmod(0o600)
    subprocess.run([str(VENV_BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file),
                    str(target)], check=True, capture_output=True, env=tool_env())
    assert target.read_text().startswith("$ANSIBLE_VAULT;")
    return password_file


@pytest.fixture(scope="module")
def example(standin, tmp_path_factory, base_image):
    """The stand-in, the second inventory source and the vault, the ingress's certificate made out of band, and
    site.yml's first run from nothing (a watcher records the pods the DAG starts)."""
    work = tmp_path_factory.mktemp("example")
    inventory = work / "standin-inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    # The example builds images on a Docker host over SSH (image_builders); here that host is this one.
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"image_builders": {"hosts": {
        "builder.example.com": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}))
    helm = built("helm")["helm"]
    (inventory / "group_vars" / "all" / "standin.yml").write_text(
        yaml.safe_dump(overrides(standin, helm, base_image, work), width=1000))
    vault = {"vault_image_registry_password": standin.registry_password,
             "vault_airflow_admin_password": "admin-" + uuid.uuid4().hex,
             "vault_database_password": standin.database.password,
             "vault_git_deploy_key": (standin.git.keys / "deploy_key").read_text()}
    made = Example(standin, work, vault, write_vault(work, vault))

    cert, key = standin.ca.issue("airflow-api", [API_HOST])
    core = standin.core
    core.create_namespace({"metadata": {"name": NAMESPACE}})
    core.create_namespaced_secret(NAMESPACE, {"metadata": {"name": TLS_SECRET}, "type": "kubernetes.io/tls",
                                              "stringData": {"tls.crt": cert.read_text(), "tls.key": key.read_text()}})
    stop = threading.Event()
    watcher = threading.Thread(target=made.watch_pods, args=(stop,), daemon=True)
    watcher.start()
    try:
        made.first_started = time.time()
        made.first = made.playbook()
    finally:
        stop.set()
        watcher.join()
    yield made


def secrets_of(example: Example) -> list[str]:
    return [value.strip() for value in example.vault.values()] + [
        line for line in (example.standin.git.keys / "deploy_key").read_text().splitlines() if len(line) > 40]


# -- the deploy, as written -----------------------------------------------------------------------------------

def test_site_deploys_the_example_from_nothing_and_the_run_shows_the_scripts_output(example):
    first = example.first
    assert first.rc == 0, first.failure + "\n" + first.stdout[-3000:] + first.stderr[-2000:]
    logs = example.first.task_result("Show what the task printed")["msg"]["run_first_script"]
    assert any("Hello from kubernetes!!!" in line for line in logs), logs
    print(f"site.yml from nothing on the stand-in: {first.seconds:.0f}s")


def test_the_scripts_pod_pulled_its_image_by_digest_from_the_authenticated_registry(example):
    assert example.first.rc == 0, example.first.failure
    image_ref = example.image_ref
    assert image_ref.startswith(f"{REGISTRY_HOST}/data-team/first-script@sha256:"), image_ref
    pulled = [pod for pod in example.pods_seen.values()
              if any(status.image_id for status in pod.status.container_statuses or [])]
    assert pulled, f"no pod of the DAG was seen running: {sorted(example.pods_seen)}"
    pod = pulled[-1]
    assert [secret.name for secret in pod.spec.image_pull_secrets] == ["airflow-registry-credentials"]
    status = pod.status.container_statuses[0]
    # The runtime's record of what it pulled: that registry's repository, at the digest the image stage pushed.
    assert status.image_id == image_ref, status.image_id
    assert pod.spec.containers[0].image == image_ref


def test_the_api_answers_over_https_through_the_ingress_with_the_test_ca(example):
    url = f"https://{API_HOST}/api/v2/monitor/health"
    health = requests.get(url, verify=str(example.standin.ca.cert_file), timeout=30)
    assert health.status_code == 200 and {part["status"] for part in health.json().values()} == {"healthy"}
    # The certificate is the test CA's, for that name: the system's CAs do not vouch for it.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=30)


def test_two_schedulers_run_at_once_and_the_run_happened_once(example):
    core = example.standin.core
    schedulers = core.list_namespaced_pod(NAMESPACE, label_selector="component=scheduler").items
    ready = [pod for pod in schedulers if all(status.ready for status in pod.status.container_statuses or [])]
    assert len(ready) == 2, [pod.metadata.name for pod in schedulers]
    assert len({pod.spec.node_name for pod in schedulers}) >= 1
    api = f"https://{API_HOST}"
    token = requests.post(f"{api}/auth/token", json={"username": "admin",
                                                     "password": example.vault["vault_airflow_admin_password"]},
                          verify=str(example.standin.ca.cert_file), timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    runs = requests.get(f"{api}/api/v2/dags/first_script/dagRuns", headers=headers,
                        verify=str(example.standin.ca.cert_file), timeout=30).json()["dag_runs"]
    assert len(runs) == 1 and runs[0]["state"] == "success", runs
    tries = requests.get(f"{api}/api/v2/dags/first_script/dagRuns/{runs[0]['dag_run_id']}/taskInstances",
                         headers=headers, verify=str(example.standin.ca.cert_file), timeout=30).json()
    assert [(task["task_id"], task["try_number"]) for task in tries["task_instances"]] == [("run_first_script", 1)]
    # One pod for the one try: neither scheduler queued the task a second time.
    assert len(example.pods_seen) == 1, sorted(example.pods_seen)


def test_a_second_run_at_the_highest_verbosity_changes_nothing_and_shows_no_secret(example):
    again = example.playbook(verbosity=3)
    assert again.rc == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert again.changed == 0, again.stdout.split("PLAY RECAP", 1)[-1]
    shown = again.stdout + again.stderr
    assert [secret for secret in secrets_of(example) if secret in shown] == []


def test_no_secret_in_the_release_or_in_the_files_the_runs_left(example):
    values = subprocess.run([str(example.work / "bin" / "helm"), "get", "values", "airflow", "--all", "--namespace",
                             NAMESPACE, "--kubeconfig", str(example.standin.kubeconfig), "--kube-context",
                             STANDIN_CONTEXT, "-o", "json"], capture_output=True, text=True, check=True)
    assert [secret for secret in secrets_of(example) if secret in values.stdout] == []
    # Files the runs wrote or changed, wherever a run writes: the checkout, the home folder, the temporary folder.
    since = example.first_started
    leaks = []
    for root in (REPO_ROOT, Path.home(), Path("/tmp")):
        for path in root.rglob("*"):
            if ".venv" in path.parts or ".cache" in path.parts or example.work in path.parents:
                continue
            try:
                if not path.is_file() or path.stat().st_mtime < since or path.stat().st_size > 5_000_000:
                    continue
                text = path.read_text(errors="ignore")
            except OSError:
                continue
            leaks += [f"{path}" for secret in secrets_of(example) if secret in text]
    assert leaks == []


# -- bad input: one line naming the cause, quickly, and nothing a re-run can't mend ------------------------------

def one_line(run: Run, within: float = FAST) -> str:
    assert run.rc != 0, run.stdout[-3000:]
    assert run.seconds < within, f"the failure took {run.seconds:.0f}s to show"
    first = run.failure.split("Last log lines", 1)[0].strip()
    assert first and "Traceback" not in first, run.failure
    return first


def vars_file(example: Example, name: str, variables: dict) -> str:
    path = example.work / f"{name}.yml"
    path.write_text(yaml.safe_dump(variables, width=1000))
    return f"@{path}"


def variant(example: Example, image_ref: str, host: str, name: str) -> str:
    """An image of its own digest (a label added to the one the image stage pushed), pushed to ``host``: a run of
    its own, whose pod no node has pulled before."""
    source = f"localhost/airflow-k8s-test/{name}:{uuid.uuid4().hex[:8]}"
    example.standin.docker_client.images.build(fileobj=io.BytesIO(
        f"FROM {image_ref}\nLABEL airflow-k8s-test.fault={name}\n".encode()), tag=source, rm=True)
    return example.standin.push(source, "data-team/first-script-" + name, host=host)


def test_a_wrong_registry_password_is_refused_at_the_push_naming_the_registry(example):
    wrong = vars_file(example, "wrong-registry-password", {"vault_image_registry_password": "not-" + uuid.uuid4().hex})
    message = one_line(example.playbook("playbooks/image.yml", "-e", wrong))
    assert message == (f"Logging in to registry {REGISTRY_HOST}/data-team as 'ci-pusher' failed: the registry refused"
                       " the credentials, check image_registry_username and image_registry_password."), message


def test_a_wrong_pull_secret_on_the_cluster_is_the_pods_pull_error_and_the_next_run_mends_it(example):
    assert example.first.rc == 0, example.first.failure
    image_ref = example.image_ref
    core = example.standin.core
    # The Secret drifted on the cluster (someone edited it): the credentials in it are wrong.
    wrong = {"auths": {REGISTRY_HOST: {"username": "ci-pusher", "password": "drifted",
                                       "auth": base64.b64encode(b"ci-pusher:drifted").decode()}}}
    core.patch_namespaced_secret("airflow-registry-credentials", NAMESPACE, {"data": {
        ".dockerconfigjson": base64.b64encode(json.dumps(wrong).encode()).decode()}})
    elsewhere = variant(example, image_ref, REGISTRY_HOST, "pull-secret")
    failed = example.playbook("playbooks/dag_run.yml", "-e", vars_file(example, "pull-secret", {"image_ref": elsewhere}))
    message = one_line(failed)
    assert "ErrImagePull" in message and "401 Unauthorized" in message, message
    # The next site.yml puts the vault's credentials back, and changes nothing else.
    mended = example.playbook()
    assert mended.rc == 0, mended.failure
    assert [name.split(" : ")[-1] for name in mended.changed_tasks()] == [
        "Keep the registry credentials in an image pull Secret"], mended.changed_tasks()


def test_a_registry_the_nodes_do_not_trust_is_the_pods_pull_error_naming_the_certificate(example):
    assert example.first.rc == 0, example.first.failure
    image_ref = example.image_ref
    untrusted = variant(example, image_ref, UNTRUSTED_REGISTRY_HOST, "untrusted")
    failed = example.playbook("playbooks/dag_run.yml", "-e", vars_file(example, "untrusted", {"image_ref": untrusted}))
    message = one_line(failed)
    assert "ErrImagePull" in message and "x509: certificate signed by unknown authority" in message, message


def test_an_ingress_certificate_for_another_host_fails_dag_run_naming_the_host(example):
    core = example.standin.core
    kept = core.read_namespaced_secret(TLS_SECRET, NAMESPACE).data
    cert, key = example.standin.ca.issue("another-host", [f"another.{API_HOST.split('.', 1)[1]}"])
    core.patch_namespaced_secret(TLS_SECRET, NAMESPACE, {"data": {
        "tls.crt": base64.b64encode(cert.read_bytes()).decode(), "tls.key": base64.b64encode(key.read_bytes()).decode()}})
    try:
        # Traefik serves the new certificate a few seconds after the Secret changes.
        wait_for_certificate_mismatch(example)
        image_ref = example.image_ref
        message = one_line(example.playbook("playbooks/dag_run.yml", "-e",
                                            vars_file(example, "ingress", {"image_ref": image_ref})))
        assert API_HOST in message and "certificate" in message.lower(), message
    finally:
        core.patch_namespaced_secret(TLS_SECRET, NAMESPACE, {"data": kept})
        wait_until_served(f"https://{API_HOST}/api/v2/monitor/health", example.standin.ca.cert_file)


def wait_for_certificate_mismatch(example: Example, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"https://{API_HOST}/api/v2/monitor/health", verify=str(example.standin.ca.cert_file),
                         timeout=5)
        except requests.exceptions.SSLError:
            return
        time.sleep(1)
    raise AssertionError(f"the ingress still served a certificate for {API_HOST} after {timeout:.0f}s")


def test_a_wrong_vault_password_stops_before_anything_runs(example):
    wrong = example.work / "wrong-vault-password"
    wrong.write_text("not-the-vault-password\n")
    message = one_line(example.playbook(vault_password_file=wrong))
    assert "Decryption failed" in message, message


def test_a_kubeconfig_context_that_does_not_exist_is_named(example):
    missing = vars_file(example, "no-context", {"airflow_kube_context": "prod-nowhere",
                                                "airflow_helm_binary": str(example.work / "bin" / "helm")})
    message = one_line(example.playbook("playbooks/airflow.yml", "-e", missing))
    assert "prod-nowhere" in message and str(example.standin.kubeconfig) in message, message


def test_a_database_that_refuses_tls_stops_the_install_naming_it_and_leaves_nothing_a_rerun_cant_mend(example):
    """A release of its own, in a namespace of its own, pointed at a PostgreSQL without TLS."""
    namespace = "database-without-tls"
    plain = vars_file(example, "plain-database", {
        "airflow_namespace": namespace, "airflow_api_exposure": "url", "airflow_api_url_override": "https://127.0.0.1:9",
        "airflow_api_tls_secret": "", "airflow_helm_binary": str(example.work / "bin" / "helm"),
        "airflow_database_url": example.standin.plain_database.url().replace(
            example.standin.plain_database.password, "{{ vault_database_password }}")})
    try:
        failed = example.playbook("playbooks/airflow.yml", "-e", plain)
        # A job's container must fail three times before the wait calls it stuck (a first failure may be a start
        # that a retry cures, issue 22), each an Airflow start: 66-77 s on an idle machine, 136 s in a CI run
        # under load. Still well inside the wait's own timeout, as test_airflow_on_kind's installs that fail.
        message = one_line(failed, within=4 * FAST)
        # The migration job and the create-user job meet it alike; the wait names whichever failed its third time first.
        assert re.search(r"container (run-airflow-migrations|create-user) is", message), message
        assert "server does not support SSL, but SSL was required" in message, message
    finally:
        example.standin.core.delete_namespace(namespace)


# -- the end ------------------------------------------------------------------------------------------------------

@pytest.mark.ends("standin")
def test_the_stand_in_goes_and_leaves_nothing_behind(example, docker_client):
    """Last on the stand-in (conftest.py runs it after every other test on it): remove it now, not at the end of the
    session, so the tests after it have the cores; and leave nothing, since a test cluster left in the Docker Engine
    restarts with it and shares the next run's cores (a whole CI run, measured: scripts/remove-test-leftovers.sh)."""
    standin = example.standin
    trusted = standin.host_trust
    assert trusted, "the stand-in made the host trust no registry: nothing to check below"
    standin.stop()
    assert [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(standin.name)] == []
    assert [n.name for n in docker_client.networks.list() if n.name == standin.name] == []
    # Named or anonymous (an image's VOLUME): none made since the stand-in started.
    assert volumes_left_behind(docker_client, standin.volumes_before) == set()
    assert f"{HOSTS_MARK} {standin.name}" not in Path("/etc/hosts").read_text()
    assert [folder for folder in trusted if folder.exists()] == []

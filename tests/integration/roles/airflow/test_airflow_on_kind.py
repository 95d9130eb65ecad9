"""The airflow role on a real kind cluster, where things go wrong: each failure stops the role in
one line that names the pod, the container, the reason and the container's last log line, within
a minute or two of the install, not at the wait's timeout. And gitSync over SSH, as most real sites
run it: a deploy key in a Secret and the git server's host key pinned; a wrong host key and a wrong
key each fail the same way, naming the cause.

Each failing install goes to a namespace of its own on one cluster and exposes the API as a plain
URL (no node port), since it never gets that far. The release that works is installed once (the
`release` fixture, on the Airflow release before the role's) and re-run by the tests after it in
turn: an Airflow upgrade (one that fails and is rolled back first), a downgrade refused, a preview,
an interrupted deploy, reinstalls, a new password, a backup restored after the database is dropped."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import kubernetes
import kubernetes.stream
import pytest
import requests
import yaml
from ansible_collections.airflow_k8s.platform.plugins.module_utils.image_reference import parse as parse_image

from tests.support.ansible_run import run_playbook, start_playbook
from tests.support.common import REPO_ROOT, wait_for
from tests.support.helm import ensure_helm
from tests.support.kind import Cluster
from tests.support.offline import built
from tests.support.script_image import push_script_image
from tests.support.ssh_git import start_ssh_git_server

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


ROLE = {"name": "Airflow", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow"}}
# The role's backup and restore entry points, as playbooks/backup.yml and playbooks/restore.yml run them.
BACKUP = {"name": "Backup",
          "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow", "tasks_from": "backup"}}
RESTORE = {"name": "Restore",
           "ansible.builtin.include_role": {"name": "airflow_k8s.platform.airflow", "tasks_from": "restore"}}
# The Airflow the role deploys, and the release before it that the release below starts on and is upgraded from.
OFFLINE_PINS = yaml.safe_load((REPO_ROOT / "pins.yml").read_text())["offline"]
AIRFLOW, PREVIOUS_AIRFLOW = OFFLINE_PINS["airflow_image"]["version"], OFFLINE_PINS["previous_airflow_image"]["version"]
# The wait's own timeout is long; every failure below must come well before it.
WAIT_TIMEOUT = 600
FAST = 240
# A scheduler that exits at once: the container that can't start, in the crash-loop and the rollback tests.
BROKEN_SCHEDULER = {"scheduler": {"args": ["bash", "-c", "echo scheduler broken on purpose; exit 3"]}}


@pytest.fixture(scope="module")
def cluster(shared_cluster):
    """The session's shared cluster (conftest.py); what a test installs goes to a namespace of its own."""
    return shared_cluster


def variables(cluster: Cluster, namespace: str, **overrides) -> dict:
    published = cluster.published
    return {"airflow_namespace": namespace, "airflow_helm_binary": str(ensure_helm()),
            "airflow_kubeconfig": published["kubeconfig"],
            "airflow_kube_context": published["kube_context"],
            "airflow_git_repo": published["git_repo_url"], "airflow_git_depth": 0,
            "airflow_database_url": published["database_url"],
            "airflow_mirror": published["mirror"],
            "airflow_api_exposure": "url", "airflow_api_url_override": "http://127.0.0.1:9",
            "airflow_wait_timeout": WAIT_TIMEOUT, **overrides}


def install(cluster: Cluster, tmp_path, namespace: str, **overrides):
    tmp_path.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run = run_playbook([ROLE], tmp_path, extra_vars=variables(cluster, namespace, **overrides), timeout=1800)
    return run, time.monotonic() - started


def remove_namespace(cluster: Cluster, namespace: str) -> None:
    """Delete the namespace and wait until it is gone: the next install may want the same node port.
    Its pods go first without a grace period: nothing in a test's namespace has work to finish, and the
    chart's pods take up to a minute each to stop (measured: 74 s per namespace, 5 minutes of CI)."""
    try:
        cluster.core.delete_collection_namespaced_pod(namespace, grace_period_seconds=0)
        cluster.core.delete_namespace(namespace)
    except kubernetes.client.exceptions.ApiException:
        return

    def gone():
        try:
            cluster.core.read_namespace(namespace)
        except kubernetes.client.exceptions.ApiException as error:
            return error.status == 404
        return False
    wait_for(f"namespace {namespace} to go", gone, timeout=180, interval=2)


def scheduler_pod(cluster: Cluster, namespace: str):
    pods = cluster.core.list_namespaced_pod(namespace, label_selector="component=scheduler").items
    assert len(pods) == 1, [pod.metadata.name for pod in pods]
    return pods[0]


def fails_fast(run, elapsed: float) -> str:
    assert run.rc != 0, run.output[-4000:]
    assert elapsed < FAST, f"the failure took {elapsed:.0f}s to show"
    message = " ".join((run.failure or "").split())
    assert message and "Traceback" not in message
    return message


@pytest.fixture
def namespace(cluster):
    name = "t-" + uuid.uuid4().hex[:6]
    yield name
    remove_namespace(cluster, name)


def test_a_branch_gitsync_cannot_read(cluster, tmp_path, namespace):
    message = fails_fast(*install(cluster, tmp_path, namespace, airflow_git_ref="no-such-branch"))
    assert re.search(r"init container git-sync-init is (CrashLoopBackOff|Error)", message), message
    assert "no-such-branch" in message, message


def test_an_image_the_node_cannot_pull(cluster, tmp_path, namespace):
    mirror = dict(cluster.published["mirror"])
    airflow = parse_image(mirror["airflow_image"])
    mirror["airflow_image"] = f"{airflow.name}:{airflow.tag}@sha256:" + "0" * 64
    message = fails_fast(*install(cluster, tmp_path, namespace, airflow_mirror=mirror))
    assert re.search(r"is (ErrImagePull|ImagePullBackOff)", message), message
    assert "0" * 64 in message, message


def test_a_database_it_cannot_reach(cluster, tmp_path, namespace):
    message = fails_fast(*install(cluster, tmp_path, namespace,
                                  airflow_database_url="postgresql://airflow:secret@no-such-db:5432/airflow"))
    assert "no-such-db" in message, message


def test_a_component_that_crash_loops(cluster, tmp_path, namespace):
    message = fails_fast(*install(cluster, tmp_path, namespace, airflow_extra_values=BROKEN_SCHEDULER))
    assert re.search(r"container scheduler is (CrashLoopBackOff|Error)", message), message
    assert message.endswith("its log says: scheduler broken on purpose"), message


def test_a_secret_the_input_names_but_nobody_made(cluster, tmp_path, namespace):
    run, elapsed = install(cluster, tmp_path, namespace, airflow_database_url="", airflow_database_secret="no-such-db")
    assert run.rc != 0 and elapsed < 60, (elapsed, run.output[-3000:])
    assert run.failure == (f"Secret no-such-db (airflow_database_secret) is not in namespace {namespace}: create it "
                           "there with the keys connection before installing, or fix airflow_database_secret")
    # Before anything changed: not even the namespace was made.
    assert namespace not in [item.metadata.name for item in cluster.core.list_namespace().items]


# -- gitSync over SSH ------------------------------------------------------------------------------
# Before the release below: its Airflow would idle through these two installs (about a fifth of a core).

@pytest.fixture(scope="module")
def ssh_git_server(cluster, tmp_path_factory, docker_client):
    """The SSH git server (tests/support/ssh_git.py) on the cluster's network, serving this checkout's dags/."""
    server = start_ssh_git_server(docker_client, tmp_path_factory.mktemp("ssh-git"), f"{cluster.name}-git-ssh")
    yield {"url": server.url, "known_hosts": server.known_hosts, "keys": server.keys}
    server.stop()


def with_ssh_secret(cluster: Cluster, namespace: str, key_file) -> None:
    cluster.core.create_namespace({"metadata": {"name": namespace}})
    cluster.core.create_namespaced_secret(namespace, {
        "metadata": {"name": "git-ssh"}, "type": "Opaque", "stringData": {"gitSshKey": key_file.read_text()}})


def test_gitsync_over_ssh_refuses_a_host_key_it_was_not_given(cluster, tmp_path, ssh_git_server):
    namespace = "ssh-host-key"
    with_ssh_secret(cluster, namespace, ssh_git_server["keys"] / "deploy_key")
    other = (ssh_git_server["keys"] / "other_key.pub").read_text().strip()
    wrong_known_hosts = ssh_git_server["known_hosts"].split(" ")[0] + " " + other
    try:
        message = fails_fast(*install(cluster, tmp_path, namespace, airflow_git_repo=ssh_git_server["url"],
                                      airflow_git_ssh_key_secret="git-ssh", airflow_git_known_hosts=wrong_known_hosts))
        assert "Host key verification failed" in message, message
    finally:
        remove_namespace(cluster, namespace)


def test_gitsync_over_ssh_with_a_key_the_server_does_not_know(cluster, tmp_path, ssh_git_server):
    namespace = "ssh-wrong-key"
    with_ssh_secret(cluster, namespace, ssh_git_server["keys"] / "other_key")
    try:
        message = fails_fast(*install(cluster, tmp_path, namespace, airflow_git_repo=ssh_git_server["url"],
                                      airflow_git_ssh_key_secret="git-ssh",
                                      airflow_git_known_hosts=ssh_git_server["known_hosts"]))
        assert "Permission denied (publickey)" in message, message
    finally:
        remove_namespace(cluster, namespace)


# -- a release that works: gitSync over SSH, restricted admission, the admin at once, a new image ----------

def admin_password(cluster: Cluster, namespace: str) -> str:
    """The admin's password, from the Secret the role keeps."""
    secret = cluster.core.read_namespaced_secret("airflow-platform-keys", namespace)
    return base64.b64decode(secret.data["admin-password"]).decode()


def admin_login(cluster: Cluster, namespace: str) -> requests.Response:
    """A login as the admin."""
    return requests.post(cluster.published["api_url"] + "/auth/token",
                         json={"username": "admin", "password": admin_password(cluster, namespace)}, timeout=30)


def admin_token(cluster: Cluster, namespace: str) -> int:
    """The status of a login as the admin."""
    return admin_login(cluster, namespace).status_code


def retagged_airflow_image(docker_client, mirror: dict) -> str:
    """The mirror's Airflow image with one more label: a new tag and a new digest, in seconds."""
    base = mirror["airflow_image"]
    repository = parse_image(base).name
    docker_client.images.pull(base)
    tag = "upgrade-" + uuid.uuid4().hex[:6]
    image, _log = docker_client.images.build(fileobj=io.BytesIO(f"FROM {base}\nLABEL upgraded={tag}\n".encode()),
                                             tag=f"{repository}:{tag}", rm=True)
    docker_client.images.push(repository, tag=tag)
    image.reload()  # the push gave it its digest in the registry
    digest = next(parse_image(entry).digest for entry in image.attrs["RepoDigests"]
                  if parse_image(entry).repository == parse_image(repository).repository)
    return f"{repository}:{tag}@{digest}"


def own_database(cluster: Cluster, namespace: str) -> str:
    """A database of its own on the cluster's PostgreSQL: installs in other namespaces of this module
    share the default one, and an admin user made there keeps that install's password."""
    return cluster.create_database(namespace.replace("-", "_"))


@pytest.fixture(scope="module")
def previous_airflow_image(cluster):
    """Airflow 3.2 (pins.yml's previous_airflow_image), built here and pushed to the cluster's registry."""
    return built("previous-airflow-image", push_to=cluster.published["registry"])["previous-airflow-image"]


@pytest.fixture(scope="module")
def release(cluster, tmp_path_factory, docker_client, ssh_git_server, previous_airflow_image):
    """One release that comes up, as most real sites run it: DAGs by gitSync over SSH with a deploy key and
    the server's host key pinned, a namespace that enforces "restricted", the API on the node port, a
    database of its own, task logs on a volume, tasks retried once. It starts on the Airflow release before the
    role's (the upgrade test takes it to the role's). The tests below re-run the role on it in turn (an Airflow
    upgrade, a new image, an interrupted deploy, reinstalls, a new password, a restore); each leaves it working and
    keeps in ``variables`` what reaches it as it now is. One successful install instead of six: each takes minutes
    on these machines (issue 28)."""
    namespace = "t-release"
    with_ssh_secret(cluster, namespace, ssh_git_server["keys"] / "deploy_key")
    kept = {"airflow_git_repo": ssh_git_server["url"], "airflow_git_depth": 1,
            "airflow_git_ssh_key_secret": "git-ssh", "airflow_git_known_hosts": ssh_git_server["known_hosts"],
            "airflow_api_exposure": "nodeport", "airflow_api_nodeport_url": cluster.published["api_url"],
            "airflow_database_url": own_database(cluster, namespace),
            "airflow_mirror": {**cluster.published["mirror"], "airflow_image": previous_airflow_image},
            "airflow_image_tag": PREVIOUS_AIRFLOW,
            # A run's log outlives the scheduler's pod (LocalExecutor runs tasks there): upgrades replace it.
            "airflow_logs_persistence": True, "airflow_logs_access_mode": "ReadWriteOnce",
            # A task whose worker an upgrade stopped is run again, as sites that upgrade with runs in flight set.
            "airflow_extra_values": {"config": {"core": {"default_task_retries": 1, "default_task_retry_delay": 5}}}}
    try:
        run = install(cluster, tmp_path_factory.mktemp("release"), namespace, **kept)[0]
        assert run.rc == 0, run.failure or run.output[-4000:]
        # Read at once: the role returns after the create-user job, so the admin can log in straight away.
        yield {"namespace": namespace, "variables": kept, "first_login": admin_token(cluster, namespace)}
    finally:
        remove_namespace(cluster, namespace)


def test_a_release_in_a_restricted_namespace_has_its_admin_at_once_and_its_dags_over_ssh(cluster, release):
    namespace = release["namespace"]
    # The API server's own admission judged every pod: the namespace enforces "restricted".
    labels = cluster.core.read_namespace(namespace).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert release["first_login"] in (200, 201)
    scheduler = scheduler_pod(cluster, namespace)
    synced = cluster.core.read_namespaced_pod_log(scheduler.metadata.name, namespace, container="git-sync-init")
    assert f"synced main of {release['variables']['airflow_git_repo']}" in synced
    assert scheduler.status.phase == "Running"
    # What came over SSH reached Airflow: the DAG processor parsed the checkout's first_script.
    session = api_session(cluster, namespace)

    def first_script():
        answer = session.get(cluster.published["api_url"] + "/api/v2/dags/first_script", timeout=30)
        return answer.json() if answer.status_code == 200 else None
    dag = wait_for("the API to list first_script", first_script, timeout=180, interval=5)
    # The chart's gitSync checkout is the "repo" link in the DAGs folder.
    assert re.search(r"/repo/dags/first_script\.py$", dag["fileloc"]), dag["fileloc"]


# -- day two: an Airflow upgrade with a run in flight, a downgrade refused, a backup restored --------------

def api_session(cluster: Cluster, namespace: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + admin_login(cluster, namespace).json()["access_token"]
    return session


def airflow_version(cluster: Cluster, namespace: str) -> str:
    return api_session(cluster, namespace).get(cluster.published["api_url"] + "/api/v2/version", timeout=30).json()[
        "version"]


def history(cluster: Cluster, namespace: str) -> dict[str, int]:
    """What the metadata database holds, as the API counts it."""
    session, api = api_session(cluster, namespace), cluster.published["api_url"] + "/api/v2"
    listings = {"runs": "/dags/~/dagRuns", "task instances": "/dags/~/dagRuns/~/taskInstances",
                "variables": "/variables", "connections": "/connections"}
    counted = {}
    for name, path in listings.items():
        answer = session.get(api + path, params={"limit": 1}, timeout=30)
        assert answer.status_code == 200, answer.text
        counted[name] = answer.json()["total_entries"]
    return counted


def task_log(cluster: Cluster, namespace: str, run_id: str, try_number: int = 1) -> str:
    """first_script's task log of run ``run_id`` as the API serves it, from the logs' volume."""
    answer = api_session(cluster, namespace).get(
        f"{cluster.published['api_url']}/api/v2/dags/first_script/dagRuns/{run_id}/taskInstances/run_first_script"
        f"/logs/{try_number}", headers={"Accept": "application/json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return json.dumps(answer.json()["content"])


def script_image(cluster: Cluster, docker_client, workdir: Path, script: str) -> str:
    """A first-script image with ``script``, on the mirror's Python base, in the cluster's registry; by digest."""
    return push_script_image(docker_client, workdir, cluster.published["mirror"]["image_base"],
                             f"{cluster.published['registry']}/day-two-script", script)


def first_script_run(cluster: Cluster, namespace: str, image: str, run_id: str) -> dict:
    """The dag_run task the dag_run stage runs, for first_script with ``image``, as the release's admin."""
    return {"name": "Run", "airflow_k8s.platform.dag_run": {
        "url": cluster.published["api_url"], "username": "admin", "dag_id": "first_script", "run_id": run_id,
        "password": admin_password(cluster, namespace), "conf": {"image": image},
        "wait_timeout": 1200, "log_tasks": ["*"], "unpause": True}}


def run_state(cluster: Cluster, namespace: str, run_id: str) -> str | None:
    answer = api_session(cluster, namespace).get(
        f"{cluster.published['api_url']}/api/v2/dags/first_script/dagRuns/{run_id}", timeout=10)
    return answer.json()["state"] if answer.status_code == 200 else None


BACKED_UP = "airflow_k8s.platform.airflow : Say where the backup is"


def test_an_airflow_upgrade_migrates_once_keeps_the_history_and_the_run_in_flight_succeeds(
        cluster, tmp_path, release, docker_client):
    """Issue 25, items 1 to 3: the release on Airflow 3.2 has a finished run with its log, a Variable and a
    Connection. An upgrade to 3.3 whose scheduler can't start is rolled back, its database restored. Then a run is
    running when the same role, with only the Airflow version changed, upgrades it to 3.3: the role backs up the
    database first (named after the revision and both versions), the migration job runs once, the pods run the new
    image, the run in flight ends successfully, and every run, task instance, Variable and Connection is there."""
    namespace, kept = release["namespace"], release["variables"]
    assert airflow_version(cluster, namespace) == PREVIOUS_AIRFLOW
    quick = script_image(cluster, docker_client, tmp_path / "quick", 'print("ran before the upgrade")\n')
    slow = script_image(cluster, docker_client, tmp_path / "slow",
                        'import time\nprint("in flight", flush=True)\ntime.sleep(60)\nprint("done after the upgrade")\n')
    before_id, in_flight_id = "before-upgrade-" + uuid.uuid4().hex[:6], "in-flight-" + uuid.uuid4().hex[:6]
    first = run_playbook([first_script_run(cluster, namespace, quick, before_id)], tmp_path)
    assert first.rc == 0, first.failure or first.output[-4000:]
    value, password = uuid.uuid4().hex, uuid.uuid4().hex
    set_variable_and_connection(cluster, namespace, "upgrade_probe", value, password)
    release["upgrade_probe"] = value, password
    counted = history(cluster, namespace)
    revision = max(release_revisions(cluster, namespace))

    # Item 3 first: the same upgrade with a scheduler that can't start. The migration job has changed the database by
    # then: the role rolls the release back to the Airflow before and restores the backup it took, in one line.
    broken = dict(kept, airflow_mirror=cluster.published["mirror"], airflow_image_tag=AIRFLOW,
                  airflow_extra_values={**kept["airflow_extra_values"], **BROKEN_SCHEDULER})
    started = time.monotonic()
    failed = install(cluster, tmp_path / "broken", namespace, **broken)[0]
    print(f"upgrade that did not become healthy, rolled back and restored: {time.monotonic() - started:.0f}s")
    message = " ".join((failed.failure or "").split())
    assert failed.rc != 0 and "Traceback" not in message, failed.output[-4000:]
    restored = re.search(rf"; rolled back to revision {revision} \(Airflow {re.escape(PREVIOUS_AIRFLOW)}\), its database "
                         rf"restored from (airflow-r{revision}-{re.escape(PREVIOUS_AIRFLOW)}-to-{re.escape(AIRFLOW)}-\S+"
                         r"[.]dump), which is healthy again: fix the cause, then run again", message)
    assert restored and message.startswith("The upgrade of release airflow did not become healthy (airflow-scheduler-"), \
        message
    assert "container scheduler is" in message and "its log says: scheduler broken on purpose)" in message, message
    assert airflow_version(cluster, namespace) == PREVIOUS_AIRFLOW
    assert history(cluster, namespace) == counted
    revisions = release_revisions(cluster, namespace)
    assert (max(revisions), revisions[max(revisions)]) == (revision + 2, "deployed"), revisions
    revision = max(revisions)

    (tmp_path / "in-flight").mkdir()
    running = start_playbook([first_script_run(cluster, namespace, slow, in_flight_id)], tmp_path / "in-flight")
    wait_for("the run's script to run", lambda: any(
        pod.status.phase == "Running" for pod in cluster.core.list_namespaced_pod(namespace).items
        if pod.metadata.name.startswith("first-script")), timeout=300, interval=1)
    assert run_state(cluster, namespace, in_flight_id) == "running"

    upgraded = dict(kept, airflow_mirror=cluster.published["mirror"], airflow_image_tag=AIRFLOW)
    started = time.monotonic()
    upgrade = install(cluster, tmp_path / "upgrade", namespace, **upgraded)[0]
    assert upgrade.rc == 0, upgrade.failure or upgrade.output[-4000:]
    kept.update(upgraded)
    print(f"upgrade from Airflow {PREVIOUS_AIRFLOW} to {AIRFLOW}: {time.monotonic() - started:.0f}s")
    said = upgrade.result(BACKED_UP)["msg"]
    assert re.search(rf"to airflow-r{revision}-{re.escape(PREVIOUS_AIRFLOW)}-to-{re.escape(AIRFLOW)}-[0-9]{{8}}T"
                     rf"[0-9]{{6}}Z[.]dump in volume {namespace}/airflow-database-backups; backed up to .* bytes",
                     said), said
    release["upgrade_backup"] = re.search(r"to (airflow-r\S+[.]dump) in volume", said).group(1)
    # The migration job ran once, with the new image, and succeeded.
    migrations = kubernetes.client.BatchV1Api(cluster.core.api_client).list_namespaced_job(
        namespace, label_selector="component=run-airflow-migrations").items
    assert [(job.status.succeeded, job.status.failed) for job in migrations] == [(1, None)], migrations
    digest = parse_image(cluster.published["mirror"]["airflow_image"]).digest
    assert digest in migrations[0].spec.template.spec.containers[0].image
    assert airflow_version(cluster, namespace) == AIRFLOW
    running_images = {container.image for pod in cluster.core.list_namespaced_pod(namespace, label_selector="release=airflow").items
                      if pod.status.phase == "Running" and not pod.metadata.deletion_timestamp
                      for container in pod.spec.containers if container.name in ("scheduler", "api-server")}
    assert running_images and all(digest in image for image in running_images), running_images

    in_flight = running.wait(timeout=1500)
    assert in_flight.rc == 0, in_flight.failure or in_flight.output[-4000:]
    result = in_flight.result("Run")
    assert result["run"]["state"] == "success", result["run"]
    assert any("done after the upgrade" in line for line in result["logs"]["run_first_script"]), result["logs"]

    assert history(cluster, namespace) == {**counted, "runs": counted["runs"] + 1,
                                           "task instances": counted["task instances"] + 1}
    assert "ran before the upgrade" in task_log(cluster, namespace, before_id)
    assert_variable_and_connection(cluster, namespace, "upgrade_probe", value, password)


def test_an_older_airflow_is_refused_before_anything_changes(cluster, tmp_path, release, previous_airflow_image):
    namespace, kept = release["namespace"], release["variables"]
    settled(cluster, namespace)
    revisions, versions = release_revisions(cluster, namespace), object_versions(cluster, namespace)
    older = dict(kept, airflow_mirror={**kept["airflow_mirror"], "airflow_image": previous_airflow_image},
                 airflow_image_tag=PREVIOUS_AIRFLOW)
    run, elapsed = install(cluster, tmp_path, namespace, **older)
    assert run.rc != 0 and elapsed < 60, (elapsed, run.output[-3000:])
    assert run.failure == (
        f"Release airflow runs Airflow {AIRFLOW} (revision {max(revisions)}) and airflow_image_tag asks for "
        f"{PREVIOUS_AIRFLOW}: Airflow does not migrate its database back to an older version. Keep airflow_image_tag "
        f"at {AIRFLOW} or newer; to go back, roll the release back to the revision a backup names and restore that "
        "backup (playbooks/restore.yml).")
    assert release_revisions(cluster, namespace) == revisions
    assert object_versions(cluster, namespace) == versions


def settled(cluster: Cluster, namespace: str) -> None:
    """Wait until the last rollout has finished on the cluster's side too: the role returns once the new pods are
    ready, while the old ones may still be stopping (an Airflow pod takes up to a minute) and their Deployments'
    status still changing; what a test compares must not move under it."""
    apps = kubernetes.client.AppsV1Api(cluster.core.api_client)

    def done():
        deployments = apps.list_namespaced_deployment(namespace).items
        rolled = all(item.status.observed_generation == item.metadata.generation
                     and (item.status.replicas or 0) == (item.status.updated_replicas or 0) == (item.spec.replicas or 0)
                     for item in deployments)
        stopping = [pod for pod in cluster.core.list_namespaced_pod(namespace).items if pod.metadata.deletion_timestamp]
        return rolled and not stopping
    wait_for(f"the rollouts in {namespace} to finish", done, timeout=300, interval=2)


def object_versions(cluster: Cluster, namespace: str) -> dict[str, str]:
    """Every object of the namespace that a release or the role makes, by kind and name: its resourceVersion."""
    client = cluster.core.api_client
    apps, batch = kubernetes.client.AppsV1Api(client), kubernetes.client.BatchV1Api(client)
    listings = {
        "Pod": cluster.core.list_namespaced_pod, "Service": cluster.core.list_namespaced_service,
        "Secret": cluster.core.list_namespaced_secret, "ConfigMap": cluster.core.list_namespaced_config_map,
        "ServiceAccount": cluster.core.list_namespaced_service_account,
        "PersistentVolumeClaim": cluster.core.list_namespaced_persistent_volume_claim,
        "Deployment": apps.list_namespaced_deployment, "StatefulSet": apps.list_namespaced_stateful_set,
        "Job": batch.list_namespaced_job, "CronJob": batch.list_namespaced_cron_job,
    }
    versions = {"Namespace/" + namespace: cluster.core.read_namespace(namespace).metadata.resource_version}
    for kind, listing in listings.items():
        versions.update({f"{kind}/{item.metadata.name}": item.metadata.resource_version
                         for item in listing(namespace).items})
    return versions


PREVIEW = "airflow_k8s.platform.airflow : Show what the release would change"


def test_check_diff_shows_what_a_changed_inventory_would_change_and_changes_nothing(
        cluster, tmp_path, release, docker_client):
    """`--check --diff` (issue 25): on the unchanged release it shows no difference; with a new image it shows the
    images, the values and the objects helm would touch. Neither run records a helm revision or touches an object."""
    namespace, kept = release["namespace"], release["variables"]
    settled(cluster, namespace)
    revisions, versions = release_revisions(cluster, namespace), object_versions(cluster, namespace)

    unchanged = run_playbook([ROLE], tmp_path, extra_vars=variables(cluster, namespace, **kept), check=True, diff=True)
    assert unchanged.rc == 0, unchanged.failure or unchanged.output[-4000:]
    preview = unchanged.result(PREVIEW)
    assert not preview["changed"] and "diff" not in preview, preview
    assert unchanged.changed == 0, [task["name"] for task in unchanged.tasks if task["result"].get("changed")]

    mirror = dict(cluster.published["mirror"])
    new_image = retagged_airflow_image(docker_client, mirror)
    changed = run_playbook([ROLE], tmp_path, check=True, diff=True, extra_vars=variables(
        cluster, namespace, **{**kept, "airflow_mirror": {**mirror, "airflow_image": new_image}}))
    assert changed.rc == 0, changed.failure or changed.output[-4000:]
    preview = changed.result(PREVIEW)
    assert preview["changed"] and preview["values_changed"], preview
    old_image = parse_image(mirror["airflow_image"])
    assert any(old_image.digest in image for image in preview["images"]["current"]), preview["images"]
    assert any(parse_image(new_image).digest in image for image in preview["images"]["new"]), preview["images"]
    assert preview["chart"]["current"] == preview["chart"]["new"]
    touched = preview["objects"]["changed"]
    assert any(key.endswith("Deployment/airflow-scheduler") for key in touched), touched
    assert not preview["objects"]["removed"], preview["objects"]
    summary, values, objects = preview["diff"]
    assert parse_image(new_image).digest in summary["after"] and parse_image(new_image).digest not in summary["before"]
    assert parse_image(new_image).digest in values["after"]
    assert "Deployment/airflow-scheduler (changed)" in objects["after"]

    assert release_revisions(cluster, namespace) == revisions
    assert object_versions(cluster, namespace) == versions


# -- what operators re-run after: an interrupted deploy, reinstalls, a changed password -----------------

def release_revisions(cluster: Cluster, namespace: str) -> dict[int, str]:
    """Helm's record of the release: revision -> status, read from its storage Secrets' labels."""
    secrets = cluster.core.list_namespaced_secret(namespace, label_selector="owner=helm,name=airflow").items
    return {int(item.metadata.labels["version"]): item.metadata.labels["status"] for item in secrets}


def helm_upgrades(namespace: str) -> list[int]:
    """Process ids of the `helm upgrade` commands deploying into ``namespace`` (kubernetes.core.helm gives
    helm its namespace in HELM_NAMESPACE, in a session of the module's own)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"helm") and b"upgrade" in argv and f"HELM_NAMESPACE={namespace}".encode() in environ:
            found.append(int(proc.name))
    return found


def kill_while_helm_deploys(cluster: Cluster, namespace: str, running) -> dict[int, str]:
    """Kill the run and its helm the moment helm has marked a revision pending, before it is done: a
    machine that dies mid-deploy. (Killing ansible-playbook alone is not enough: helm runs in a session
    of its own and finishes; that was the first attempt.)"""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and running.proc.poll() is None:
        if "pending-upgrade" in release_revisions(cluster, namespace).values():
            helm = helm_upgrades(namespace)
            for pid in helm:
                os.kill(pid, signal.SIGKILL)
            running.kill()
            assert helm, "no helm upgrade process found to kill"
            return release_revisions(cluster, namespace)
        time.sleep(0.05)
    raise AssertionError(f"helm finished before it could be interrupted: {release_revisions(cluster, namespace)}")


def helm_command(cluster: Cluster, *args: str) -> None:
    subprocess.run([str(ensure_helm()), *args, "--kubeconfig", cluster.published["kubeconfig"],
                    "--kube-context", cluster.published["kube_context"]], check=True, capture_output=True, timeout=300)


def test_a_deploy_killed_while_helm_upgrades_is_recovered_by_the_next_run(cluster, tmp_path, release):
    namespace, kept = release["namespace"], release["variables"]
    # A change that makes the next run upgrade: a ConfigMap of its own, so no pod needs to restart.
    changed = dict(kept, airflow_extra_values={**kept["airflow_extra_values"],
                                               "extraConfigMaps": {"fault-probe": {"data": "probe: one\n"}}})
    deployed = max(release_revisions(cluster, namespace))
    running = start_playbook([ROLE], tmp_path, extra_vars=variables(cluster, namespace, **changed))
    left = kill_while_helm_deploys(cluster, namespace, running)
    assert (left[deployed], left[deployed + 1], max(left)) == ("deployed", "pending-upgrade", deployed + 1), left

    # The next run, as an operator starts it: no helm command by hand.
    again, elapsed = install(cluster, tmp_path, namespace, **changed)
    assert again.rc == 0, again.failure or again.output[-4000:]
    kept.update(changed)
    said = again.result("airflow_k8s.platform.airflow : Say what the interrupted run left and what this run does "
                        "about it")["msg"]
    assert said == (f"Release airflow was left pending-upgrade at revision {deployed + 1} by a run that did not "
                    f"finish; rolling back to revision {deployed}, then upgrading again."), said
    revisions = release_revisions(cluster, namespace)
    assert revisions[max(revisions)] == "deployed", revisions
    assert cluster.core.read_namespaced_config_map("fault-probe", namespace).data == {"probe": "one"}
    assert admin_token(cluster, namespace) in (200, 201)
    assert elapsed < WAIT_TIMEOUT
    # The same Airflow version: no backup before the upgrade.
    assert not any(task["name"] == BACKED_UP for task in again.tasks), [task["name"] for task in again.tasks]
    # The pending mark the rollback left in the history is not taken for a new interruption.
    settled = install(cluster, tmp_path, namespace, **changed)[0]
    assert settled.rc == 0 and settled.changed == 0, settled.failure or settled.output[-4000:]


def airflow_cli(cluster: Cluster, namespace: str, *argv: str) -> str:
    """Run the airflow CLI in the scheduler's pod (it reaches the metadata database)."""
    pod = scheduler_pod(cluster, namespace)
    return kubernetes.stream.stream(
        cluster.core.connect_get_namespaced_pod_exec, pod.metadata.name, namespace, container="scheduler",
        command=["airflow", *argv], stderr=False, stdin=False, stdout=True, tty=False)


def set_variable_and_connection(cluster: Cluster, namespace: str, key: str, value: str, password: str) -> None:
    """A Variable and a Connection with a password, both encrypted with the release's Fernet key."""
    api, session = cluster.published["api_url"], api_session(cluster, namespace)
    for path, body in (("variables", {"key": key, "value": value}),
                       ("connections", {"connection_id": key, "conn_type": "http", "host": "example.test",
                                        "password": password})):
        answer = session.post(f"{api}/api/v2/{path}", json=body, timeout=30)
        assert answer.status_code == 201, answer.text


def assert_variable_and_connection(cluster: Cluster, namespace: str, key: str, value: str, password: str) -> None:
    """Both read back and decrypted by Airflow itself, in the scheduler's pod."""
    assert airflow_cli(cluster, namespace, "variables", "get", key).strip().splitlines()[-1] == value
    shown = airflow_cli(cluster, namespace, "connections", "get", key, "--output", "json")
    assert json.loads(shown[shown.index("["):])[0]["password"] == password


def test_reinstalls_keep_the_keys_and_what_they_encrypt_and_a_new_password_logs_in(cluster, tmp_path, release):
    namespace, exposed = release["namespace"], release["variables"]
    keys = cluster.core.read_namespaced_secret("airflow-platform-keys", namespace).data
    api = cluster.published["api_url"]
    value, password = uuid.uuid4().hex, uuid.uuid4().hex
    set_variable_and_connection(cluster, namespace, "fault_probe", value, password)

    second = install(cluster, tmp_path, namespace, **exposed)[0]
    assert second.rc == 0 and second.changed == 0, second.failure or second.output[-4000:]
    helm_command(cluster, "uninstall", "airflow", "--namespace", namespace, "--wait")
    again = install(cluster, tmp_path, namespace, **exposed)[0]
    assert again.rc == 0, again.failure or again.output[-4000:]

    assert cluster.core.read_namespaced_secret("airflow-platform-keys", namespace).data == keys
    assert admin_token(cluster, namespace) in (200, 201)
    # Encrypted with the Fernet key before the reinstall, read back with the one kept.
    assert_variable_and_connection(cluster, namespace, "fault_probe", value, password)

    # A new password from the vault reaches the Secret and the admin already in the database.
    new_password = "rotated-" + uuid.uuid4().hex
    rotated = install(cluster, tmp_path, namespace, airflow_admin_password=new_password, **exposed)[0]
    assert rotated.rc == 0, rotated.failure or rotated.output[-4000:]
    exposed["airflow_admin_password"] = new_password
    answer = requests.post(api + "/auth/token", json={"username": "admin", "password": new_password}, timeout=30)
    assert answer.status_code in (200, 201), answer.text


RESTORED = "airflow_k8s.platform.airflow : Say what was restored"


def test_a_backup_brings_every_run_back_after_the_database_is_dropped(cluster, tmp_path, release, docker_client):
    """Issue 25, item 2's drill: playbooks/backup.yml backs the release's database up, the database is dropped and
    made again empty, playbooks/restore.yml brings the backup back, and every run, task instance, Variable and
    Connection is there again, the admin logs in, Airflow reports healthy. The backup is copied to a folder on the
    control node too (airflow_backup_controller_dir, with its retention), and the restore takes it from there. Before
    that, two restores that must not start: a backup of the older Airflow (the one the upgrade took), and a name the
    volume does not hold; each stops before any component stops."""
    namespace, kept = release["namespace"], release["variables"]
    counted = history(cluster, namespace)
    revision = max(release_revisions(cluster, namespace))

    def restore(name: str, **more):
        return run_playbook([RESTORE], tmp_path, extra_vars=variables(cluster, namespace, **kept,
                                                                      airflow_restore_backup=name, **more), timeout=1200)

    def running_pods() -> set[str]:
        return {pod.metadata.uid for pod in cluster.core.list_namespaced_pod(
            namespace, label_selector="release=airflow").items if pod.status.phase == "Running"}
    settled(cluster, namespace)
    pods = running_pods()
    upgrade_backup = release["upgrade_backup"]
    older = restore(upgrade_backup)
    upgraded_from = int(re.match(r"airflow-r([0-9]+)-", upgrade_backup).group(1))
    assert older.rc != 0 and older.failure == (
        f"{upgrade_backup} holds the database of Airflow {PREVIOUS_AIRFLOW} (revision {upgraded_from}), and release "
        f"airflow runs Airflow {AIRFLOW} (revision {revision}): bring that revision back first (helm rollback airflow "
        f"{upgraded_from} --namespace {namespace}), then restore."), older.failure or older.output[-3000:]

    # A copy on the control node as well, where the folder already holds six older backups of the release (and an
    # operator's file the retention leaves alone): the new one and the four newest of those stay.
    folder = tmp_path / "backups"
    folder.mkdir()
    older_copies = [folder / f"airflow-r1-{AIRFLOW}-2026010{day}T000000Z.dump" for day in range(1, 7)]
    for age, path in enumerate(reversed(older_copies), start=1):
        path.write_bytes(b"an older backup")
        os.utime(path, (time.time() - age * 3600,) * 2)
    (folder / "operator-notes.dump").write_bytes(b"not the role's")
    backup = run_playbook([BACKUP], tmp_path, extra_vars=variables(cluster, namespace, **kept,
                                                                   airflow_backup_controller_dir=str(folder)))
    assert backup.rc == 0, backup.failure or backup.output[-4000:]
    said = backup.result(BACKED_UP)["msg"]
    name = re.search(r"to (airflow-r\S+[.]dump) in volume", said).group(1)
    assert re.fullmatch(rf"airflow-r{revision}-{re.escape(AIRFLOW)}-[0-9]{{8}}T[0-9]{{6}}Z[.]dump", name), name
    assert f"and a copy in {folder}" in said, said
    copy = folder / name
    assert int(re.search(rf"backed up to {re.escape(name)} [(]([0-9]+) bytes[)]", said).group(1)) == copy.stat().st_size
    assert (folder.stat().st_mode & 0o777, copy.stat().st_mode & 0o777) == (0o700, 0o600)
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [name, "operator-notes.dump"] + [path.name for path in older_copies[2:]])

    missing = restore("no-such-backup.dump")
    assert missing.rc != 0
    assert "(There is no backup no-such-backup.dump in the backups volume: it holds " in missing.failure
    assert name in missing.failure and upgrade_backup in missing.failure, missing.failure
    assert running_pods() == pods, "a restore that did not start stopped a component"
    a_path = restore("../" + name, airflow_backup_controller_dir=str(folder))
    assert a_path.rc != 0 and a_path.failure.startswith(
        f"airflow_restore_backup '../{name}' is a path: give the backup's file name alone"), a_path.failure

    database = kept["airflow_database_url"].rsplit("/", 1)[1]
    postgres = docker_client.containers.get(f"{cluster.name}-postgres")
    dropped = postgres.exec_run(["psql", "-U", "airflow", "-d", "postgres", "-c", f"DROP DATABASE {database} WITH (FORCE)",
                                 "-c", f"CREATE DATABASE {database}"])
    assert dropped.exit_code == 0, dropped.output
    tables = postgres.exec_run(["psql", "-U", "airflow", "-d", database, "-tAc",
                                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"])
    assert tables.output.decode().strip() == "0"

    # Restored from the control node's copy, under a name the volume does not hold: the copy goes back into the
    # volume first.
    only_on_the_controller = re.sub(r"[0-9]{8}T[0-9]{6}Z", "20260101T000001Z", name)
    copy.rename(folder / only_on_the_controller)
    started = time.monotonic()
    restored = restore(only_on_the_controller, airflow_backup_controller_dir=str(folder))
    assert restored.rc == 0, restored.failure or restored.output[-4000:]
    print(f"restore of {name}: {time.monotonic() - started:.0f}s, components stopped and started again")
    assert only_on_the_controller in restored.result(RESTORED)["msg"]
    assert history(cluster, namespace) == counted
    assert admin_token(cluster, namespace) in (200, 201)
    assert_variable_and_connection(cluster, namespace, "upgrade_probe", *release["upgrade_probe"])

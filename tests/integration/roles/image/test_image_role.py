"""The image role against a real Docker Engine and a real registry, with the offline base image."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import docker
import pytest

from tests.support.ansible_run import run_playbook
from tests.support.common import REPO_ROOT, free_port
from tests.support.docker_engine import drop_references

ROLE = [
    {"name": "Build and push", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.image"}},
    {"name": "Show image_ref", "ansible.builtin.debug": {"var": "image_ref"}},
]


# The registries the role was pointed at in this module (build() adds each).
USED_REGISTRIES: set[str] = set()


@pytest.fixture(autouse=True)
def drop_new_test_tags(docker_client):
    """Untag what a test built or pulled for the registries it used, so the Engine does not collect them. Only
    those: cluster tests run at the same time (another pytest, `--groups`) tag images for loopback registries of
    their own."""
    def tags():
        return {name for image in docker_client.images.list()
                for name in image.tags + image.attrs.get("RepoDigests", [])}
    before = tags()
    yield
    for tag in tags() - before:
        if tag.split("/", 1)[0] in USED_REGISTRIES:
            drop_references(docker_client, tag, tag.split("/", 1)[0])


@pytest.fixture
def context(tmp_path):
    """A copy of images/first-script that a test may change."""
    copy = tmp_path / "context"
    shutil.copytree(REPO_ROOT / "images" / "first-script", copy)
    return copy


def build(tmp_path, registry_host, base_image, **variables):
    """Run the role once; runs of one test share a home (so a login carries over), tests do not."""
    variables = {"image_registry": registry_host, "image_base": base_image, "image_name": "first-script",
                 "image_context_dir": str(REPO_ROOT / "images" / "first-script"), **variables}
    USED_REGISTRIES.add(registry_host)
    workdir = tmp_path / f"run-{time.monotonic_ns()}"
    workdir.mkdir()
    (tmp_path / "home").mkdir(exist_ok=True)
    # docker_login stores credentials under ~/.docker: a home of the test's own keeps a login from one
    # test (and from the machine's user) out of the others.
    return run_playbook(ROLE, workdir, extra_vars=variables, env={"HOME": str(tmp_path / "home")})


def test_build_push_rerun_unchanged_then_pull_by_digest_and_run(tmp_path, docker_client, registry, base_image):
    first = build(tmp_path, registry.host, base_image, image_name="first-script-main")
    assert first.rc == 0, first.output
    image_ref = first.result("Show image_ref")["image_ref"]
    assert image_ref.startswith(f"{registry.host}/first-script-main@sha256:")

    second = build(tmp_path, registry.host, base_image, image_name="first-script-main")
    assert second.rc == 0, second.output
    assert second.changed == 0, [t["name"] for t in second.tasks if t["result"].get("changed")]
    assert second.result("Show image_ref")["image_ref"] == image_ref

    # Pull back by digest from the registry, after dropping this repository's local references.
    drop_references(docker_client, image_ref, registry.host)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_ref)
    docker_client.images.pull(image_ref)
    output = docker_client.containers.run(image_ref, remove=True, hostname="pod-under-test").decode()
    assert "Hello from kubernetes!!!" in output
    assert "Hostname: pod-under-test" in output
    assert "User id: 1001" in output and "Home directory: /app" in output
    assert docker_client.images.get(image_ref).labels["org.opencontainers.image.title"] == "first-script"


def test_an_image_only_the_registry_holds_is_pulled_not_rebuilt(tmp_path, docker_client, registry, base_image):
    first = build(tmp_path, registry.host, base_image, image_name="first-script-reused")
    assert first.rc == 0, first.output
    image_ref = first.result("Show image_ref")["image_ref"]
    drop_references(docker_client, image_ref, registry.host)  # a fresh builder: only the registry has it

    again = build(tmp_path, registry.host, base_image, image_name="first-script-reused")
    assert again.rc == 0, again.output
    assert [t["name"] for t in again.tasks if t["result"].get("changed")] == [
        "airflow_k8s.platform.image : Take the image for this context from the registry when only the registry has it"]
    assert again.result("Show image_ref")["image_ref"] == image_ref


def test_a_changed_script_gives_a_new_tag_and_digest(tmp_path, context, registry, base_image):
    before = build(tmp_path, registry.host, base_image, image_context_dir=str(context), image_name="changing")
    assert before.rc == 0, before.output
    with open(context / "first-script.py", "a", encoding="utf-8") as script:
        script.write('print("one more line")\n')
    after = build(tmp_path, registry.host, base_image, image_context_dir=str(context), image_name="changing")
    assert after.rc == 0, after.output
    old, new = before.result("Show image_ref")["image_ref"], after.result("Show image_ref")["image_ref"]
    assert old != new and new.startswith(f"{registry.host}/changing@sha256:")
    assert after.changed > 0


def test_a_registry_with_htpasswd_takes_right_credentials(tmp_path, auth_registry, base_image):
    run = build(tmp_path, auth_registry.host, base_image, image_name="private",
                image_registry_username=auth_registry.username, image_registry_password=auth_registry.password)
    assert run.rc == 0, run.output
    assert run.result("Show image_ref")["image_ref"].startswith(f"{auth_registry.host}/private@sha256:")
    assert auth_registry.password not in run.output
    # The login lived in a Docker client config of the run's own: nothing of it stays on disk, and the
    # user's own ~/.docker is left alone.
    docker_config = Path.home() / ".docker" / "config.json"
    assert auth_registry.host not in (docker_config.read_text() if docker_config.exists() else "")
    assert not list(Path(tempfile.gettempdir()).glob("airflow-k8s-docker-config.*"))
    again = build(tmp_path, auth_registry.host, base_image, image_name="private",
                  image_registry_username=auth_registry.username, image_registry_password=auth_registry.password)
    assert again.rc == 0 and again.changed == 0, [task["name"] for task in again.tasks if task["result"].get("changed")]


def test_wrong_registry_credentials_are_one_clear_line(tmp_path, auth_registry, base_image):
    run = build(tmp_path, auth_registry.host, base_image, image_name="private",
                image_registry_username=auth_registry.username, image_registry_password="not-the-password-4711")
    assert run.rc != 0
    assert run.failure == (f"Logging in to registry {auth_registry.host} as '{auth_registry.username}' failed: "
                           "the registry refused the credentials, check image_registry_username and "
                           "image_registry_password.")
    assert "not-the-password-4711" not in run.output


def test_a_push_the_registry_refuses_names_the_registry(tmp_path, auth_registry, base_image):
    run = build(tmp_path, auth_registry.host, base_image, image_name="anonymous-push")
    assert run.rc != 0
    assert run.failure.startswith(f"Pushing {auth_registry.host}/anonymous-push:ctx-")
    assert f"registry {auth_registry.host} refused the push" in run.failure


def test_an_unreachable_registry_is_named(tmp_path, base_image):
    host = f"127.0.0.1:{free_port()}"
    run = build(tmp_path, host, base_image, image_name="nowhere")
    assert run.rc != 0
    assert f"registry {host} is unreachable" in run.failure


def test_a_missing_base_image_that_cannot_be_pulled(tmp_path, registry):
    run = build(tmp_path, registry.host, "airflow-k8s-test/no-such-base:1", image_name="nobase")
    assert run.rc != 0
    assert "the base image airflow-k8s-test/no-such-base:1 is not on this Docker Engine and could not be " \
           "pulled" in run.failure


def test_no_docker_engine_says_docker_is_required(tmp_path, registry, base_image):
    run = build(tmp_path, registry.host, base_image, image_docker_host=f"unix://{tmp_path}/no-docker.sock")
    assert run.rc != 0
    assert run.failure.startswith("The image role needs a running Docker Engine on localhost")
    assert run.failure.endswith("Start it and check with 'docker info'.")

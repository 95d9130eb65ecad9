"""Each test-support part is the real thing: these fail if any part is faked or missing."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid

import docker
import pytest

from tests.support.docker_engine import drop_references


def test_airflow_answers_version_and_every_component_is_healthy(airflow):
    assert airflow.get("/api/v2/version")["version"] == "3.3.2"
    health = airflow.health()
    for component in ("metadatabase", "scheduler", "dag_processor", "triggerer"):
        assert health[component]["status"] == "healthy", health


def test_airflow_accepts_the_known_admin_password_and_refuses_a_wrong_one(airflow):
    def token_status(password: str) -> int:
        request = urllib.request.Request(
            airflow.url + "/auth/token", method="POST",
            data=json.dumps({"username": airflow.admin, "password": password}).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert json.load(response)["access_token"]
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert token_status(airflow.admin_password) == 201
    assert token_status("wrong-" + airflow.admin_password) == 401


def test_base_image_is_pushed_pulled_back_by_digest_and_runs(docker_client, registry, base_image):
    repository = f"{registry.host}/parts/base"
    tag = uuid.uuid4().hex[:8]
    docker_client.images.get(base_image).tag(repository, tag)
    try:
        docker_client.images.push(repository, tag=tag)
        digest = docker_client.images.get_registry_data(f"{repository}:{tag}").id
        assert digest.startswith("sha256:")
    finally:
        docker_client.images.remove(f"{repository}:{tag}")

    # Only references are dropped, never the image by id: that would delete the shared base image.
    by_digest = f"{repository}@{digest}"
    pulled = docker_client.images.pull(by_digest)
    try:
        assert by_digest in pulled.attrs["RepoDigests"]
        output = docker_client.containers.run(
            by_digest, ["python3", "-c", "import os, sys; print(os.getuid(), sys.version_info[0])"],
            user="1001", remove=True)
        assert output.decode().split() == ["1001", "3"]
    finally:
        drop_references(docker_client, by_digest, registry.host)


def test_registry_with_htpasswd_accepts_right_and_refuses_wrong_credentials(docker_client, auth_registry):
    right = docker_client.login(username=auth_registry.username, password=auth_registry.password,
                                registry=auth_registry.host, reauth=True)
    assert right["Status"] == "Login Succeeded"
    with pytest.raises(docker.errors.APIError, match="401|unauthorized"):
        docker_client.login(username=auth_registry.username, password="wrong-password",
                            registry=auth_registry.host, reauth=True)


def test_helm_prints_its_version(helm_binary):
    version, path = helm_binary
    result = subprocess.run([str(path), "version", "--short"], capture_output=True, text=True, check=True)
    assert result.stdout.strip().startswith(version)

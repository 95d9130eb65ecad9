"""docker_config_json: registry credentials as the document an image pull Secret holds."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.filter.docker_config_json import docker_config_json


def test_each_registry_gets_its_user_password_and_the_auth_docker_login_writes():
    document = json.loads(docker_config_json([
        {"registry": "registry.example.com:5000", "username": "puller", "password": "s3cr:et"},
        {"registry": "ghcr.io", "username": "bot", "password": "token"}]))
    entry = document["auths"]["registry.example.com:5000"]
    assert entry["username"] == "puller" and entry["password"] == "s3cr:et"
    # The kubelet reads "auth": base64 of user:password, the password's own colons kept.
    assert base64.b64decode(entry["auth"]).decode() == "puller:s3cr:et"
    assert set(document["auths"]) == {"registry.example.com:5000", "ghcr.io"}


def test_the_same_credentials_give_the_same_text_whatever_their_order():
    one = {"registry": "a.example", "username": "u", "password": "p"}
    two = {"registry": "b.example", "username": "v", "password": "q"}
    assert docker_config_json([one, two]) == docker_config_json([two, one])
    assert docker_config_json([]) == '{"auths": {}}'


@pytest.mark.parametrize("entry", [
    {"registry": "r.example", "username": "u"},
    {"registry": "r.example", "username": "", "password": "p"},
    "r.example",
])
def test_an_incomplete_entry_names_what_is_missing_without_its_values(entry):
    with pytest.raises(AnsibleFilterError, match=r"^registry credential 1 needs registry, username and password") as error:
        docker_config_json([entry])
    assert "p'" not in str(error.value)


@pytest.mark.parametrize("registry", ["https://r.example", "r.example/team"])
def test_a_url_or_a_path_is_not_a_registry_host(registry):
    with pytest.raises(AnsibleFilterError, match=r"is not a registry host; give it as image references name it"):
        docker_config_json([{"registry": registry, "username": "u", "password": "secret-value"}])

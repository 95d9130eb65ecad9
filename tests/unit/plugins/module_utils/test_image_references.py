"""The collection's one image-reference parser, against references as they are written in the wild.

Each expected split is what the Docker Engine stores for that reference (`docker pull` then
`docker image inspect --format '{{.RepoTags}} {{.RepoDigests}}'`), which is the distribution
project's grammar that containerd and Kubernetes share.
"""

from __future__ import annotations

import pytest

from ansible_collections.airflow_k8s.platform.plugins.module_utils.image_reference import ImageReferenceError, parse

D = "sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f"

# written -> (name, registry, path, tag, digest)
VALID = [
    ("busybox", ("busybox", "docker.io", "library/busybox", "", "")),
    ("busybox:1.36", ("busybox", "docker.io", "library/busybox", "1.36", "")),
    ("apache/airflow:3.1.7", ("apache/airflow", "docker.io", "apache/airflow", "3.1.7", "")),
    ("docker.io/apache/airflow:3.1.7", ("docker.io/apache/airflow", "docker.io", "apache/airflow", "3.1.7", "")),
    ("docker.io/busybox", ("docker.io/busybox", "docker.io", "library/busybox", "", "")),
    ("index.docker.io/library/python:3.12-slim",
     ("index.docker.io/library/python", "docker.io", "library/python", "3.12-slim", "")),
    ("kindest/node:v1.35.0@" + D, ("kindest/node", "docker.io", "kindest/node", "v1.35.0", D)),
    ("registry.k8s.io/git-sync/git-sync:v4.4.2",
     ("registry.k8s.io/git-sync/git-sync", "registry.k8s.io", "git-sync/git-sync", "v4.4.2", "")),
    ("localhost:5001/first-script@" + D, ("localhost:5001/first-script", "localhost:5001", "first-script", "", D)),
    ("localhost:5001/first-script:ctx-0123456789abcdef@" + D,
     ("localhost:5001/first-script", "localhost:5001", "first-script", "ctx-0123456789abcdef", D)),
    ("localhost/first-script", ("localhost/first-script", "localhost", "first-script", "", "")),
    ("registry.example.com:443/team/sub/first-script:0.1.0",
     ("registry.example.com:443/team/sub/first-script", "registry.example.com:443", "team/sub/first-script", "0.1.0", "")),
    ("127.0.0.1:5000/a_b__c-d.e:T_1", ("127.0.0.1:5000/a_b__c-d.e", "127.0.0.1:5000", "a_b__c-d.e", "T_1", "")),
    ("[::1]:5000/x:1", ("[::1]:5000/x", "[::1]:5000", "x", "1", "")),
    ("quay.io/centos/centos:stream10@" + D, ("quay.io/centos/centos", "quay.io", "centos/centos", "stream10", D)),
    # An uppercase first component can only be a host name: registries are case-insensitive.
    ("Registry.Example.com/team/app", ("Registry.Example.com/team/app", "Registry.Example.com", "team/app", "", "")),
    # A name without a dot, colon or "localhost" first is a Docker Hub namespace, not a registry.
    ("myregistry/app:1", ("myregistry/app", "docker.io", "myregistry/app", "1", "")),
]


@pytest.mark.parametrize(("written", "parts"), VALID, ids=[case[0] for case in VALID])
def test_a_reference_splits_as_the_docker_engine_stores_it(written, parts):
    reference = parse(written)
    assert (reference.name, reference.registry, reference.path, reference.tag, reference.digest) == parts
    assert reference.written == written
    assert parse(reference.canonical).canonical == reference.canonical


def test_the_normalised_repository_is_the_same_however_docker_hub_is_written():
    assert {parse(w).repository for w in ("busybox", "docker.io/busybox", "library/busybox",
                                          "docker.io/library/busybox:1", "index.docker.io/library/busybox")} \
        == {"docker.io/library/busybox"}


def test_what_the_docker_api_pulls_is_the_digest_alone_when_there_is_one():
    assert parse("kindest/node:v1.35.0@" + D).pull == "kindest/node@" + D
    assert parse("localhost:5001/x:1").pull == "localhost:5001/x:1"
    assert parse("localhost:5001/x").pull == "localhost:5001/x"


def test_the_run_id_is_the_prefix_and_the_digests_first_16_hex_digits():
    assert parse("localhost:5001/x@" + D).run_id() == "image-452d707d4862f525"
    assert parse("x:1@" + D).run_id("verify-") == "verify-452d707d4862f525"
    with pytest.raises(ImageReferenceError, match=r"^image reference 'x:1' is not pinned by a sha256 digest"):
        parse("x:1").run_id()


INVALID = [
    ("", r"^the image reference is empty"),
    (None, r"^the image reference is empty"),
    ("   ", r"^the image reference is empty"),
    (" busybox", r"holds white space$"),
    ("busy box", r"holds white space$"),
    ("Apache/Airflow:3", r"the repository 'Apache/Airflow' must be lowercase$"),
    ("localhost:5001/First-Script", r"the repository 'First-Script' must be lowercase$"),
    ("busybox:-1", r"has an invalid tag '-1'"),
    ("busybox:" + "a" * 129, r"has an invalid tag"),
    ("busybox@sha256:abc", r"has a malformed digest 'sha256:abc'"),
    ("busybox@md5:" + "0" * 32, r"has a malformed digest"),
    ("busybox@" + D.upper().replace("SHA256", "sha256"), r"has a malformed digest"),
    ("localhost:5001/", r"has an invalid repository ''"),
    ("a//b", r"has an invalid repository 'a//b'"),
    ("-x/y", r"has an invalid repository '-x/y'"),
    (":1", r"names no repository$"),
    ("@" + D, r"names no repository$"),
    ("bad_host.example.com/x", r"has an invalid registry 'bad_host.example.com'"),
    ("0" * 64, r"is an image id, not a reference"),
    ("x/" * 130 + "y", r"is longer than 255 characters before its tag$"),
]


@pytest.mark.parametrize(("written", "message"), INVALID, ids=[repr(case[0])[:40] for case in INVALID])
def test_a_reference_no_registry_would_take_is_refused_in_one_line(written, message):
    with pytest.raises(ImageReferenceError, match=message) as refused:
        parse(written)
    assert "\n" not in str(refused.value)

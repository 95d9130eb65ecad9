"""The one formula for a DAG run id per image."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.filter.image_run_id import image_run_id

DIGEST = "sha256:" + "3f2a9c1b7d4e5f60" + "a" * 48


def test_the_run_id_is_the_prefix_and_the_digests_first_16_hex_digits():
    assert image_run_id("localhost:5001/first-script:0.1.0@" + DIGEST) == "image-3f2a9c1b7d4e5f60"
    assert image_run_id("registry.example.com:443/team/first-script@" + DIGEST, "verify-") == "verify-3f2a9c1b7d4e5f60"


@pytest.mark.parametrize("reference", ["first-script:0.1.0", "first-script@sha256:abc", "", None])
def test_a_reference_without_a_digest_is_refused_in_one_line(reference):
    with pytest.raises(AnsibleFilterError, match=r"^image_run_id needs an image reference pinned by digest"):
        image_run_id(reference)

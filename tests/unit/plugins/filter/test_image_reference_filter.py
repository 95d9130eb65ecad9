"""The image_reference filter: the parser's parts as a dict, its refusals as a filter error."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.filter.image_reference import image_reference

D = "sha256:" + "ab" * 32


def test_the_filter_gives_every_part_by_name():
    assert image_reference("localhost:5001/first-script:0.1.0@" + D) == {
        "written": "localhost:5001/first-script:0.1.0@" + D, "name": "localhost:5001/first-script",
        "registry": "localhost:5001", "path": "first-script", "repository": "localhost:5001/first-script",
        "tag": "0.1.0", "digest": D, "canonical": "localhost:5001/first-script:0.1.0@" + D,
        "pull": "localhost:5001/first-script@" + D}


def test_a_bad_reference_is_a_filter_error_that_names_it():
    with pytest.raises(AnsibleFilterError, match=r"^image reference 'Apache/Airflow': the repository 'Apache/Airflow' must be lowercase$"):
        image_reference("Apache/Airflow")

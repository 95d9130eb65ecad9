"""release_platform: a host's facts to the <os>-<arch> name of Go-built release files (helm, kind)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.platform.plugins.filter.release_platform import release_platform


@pytest.mark.parametrize(("system", "machine", "platform"), [
    ("Linux", "x86_64", "linux-amd64"),  # what ansible.builtin.setup reports on this machine
    ("Linux", "aarch64", "linux-arm64"),
    ("Darwin", "arm64", "darwin-arm64"),  # macOS reports Go's own name
    ("Linux", "armv7l", "linux-arm"),
    ("Linux", "ppc64le", "linux-ppc64le"),
])
def test_the_kernels_names_become_the_releases(system, machine, platform):
    assert release_platform({"system": system, "architecture": machine}) == platform


def test_what_the_caller_gives_wins_over_the_facts_and_needs_none():
    assert release_platform({"system": "Linux", "architecture": "x86_64"}, "darwin", "arm64") == "darwin-arm64"
    assert release_platform({}, "linux", "amd64") == "linux-amd64"


def test_no_facts_says_to_gather_them():
    with pytest.raises(AnsibleFilterError, match=r"gather them with ansible.builtin.setup"):
        release_platform({})


def test_an_unknown_architecture_names_it_and_what_is_known():
    with pytest.raises(AnsibleFilterError, match=r"'mips64'.*amd64, arm, arm64"):
        release_platform({"system": "Linux", "architecture": "mips64"})

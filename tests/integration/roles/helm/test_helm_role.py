"""The helm role with real helm builds (v4.1.4, v3.17.2) from a loopback mirror."""

from __future__ import annotations

import subprocess

from tests.support.ansible_run import run_playbook
from tests.support.common import free_port

ROLE = [{"name": "Install helm", "ansible.builtin.include_role": {"name": "airflow_k8s.platform.helm"}}]


def install(tmp_path, install_dir, version, mirror_url, sha256="", check=False):
    workdir = tmp_path / f"run-{version}-{len(list(tmp_path.iterdir()))}"
    workdir.mkdir()
    return run_playbook(ROLE, workdir, check=check, extra_vars={
        "helm_version": version, "helm_install_dir": str(install_dir), "helm_mirror_url": mirror_url,
        "helm_sha256": sha256})


def installed_version(install_dir):
    return subprocess.run([str(install_dir / "helm"), "version", "--short"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_fresh_install_then_unchanged_rerun_then_switch_versions(tmp_path, helm_mirror):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    first = install(tmp_path, bin_dir, "v4.1.4", helm_mirror.url, helm_mirror.sha256["v4.1.4"])
    assert first.rc == 0, first.output
    assert first.changed > 0
    assert installed_version(bin_dir).startswith("v4.1.4+")

    again = install(tmp_path, bin_dir, "v4.1.4", helm_mirror.url, helm_mirror.sha256["v4.1.4"])
    assert again.rc == 0, again.output
    assert again.changed == 0
    # A check run (site.yml --check) asks the installed helm too, and finds nothing to do.
    checked = install(tmp_path, bin_dir, "v4.1.4", helm_mirror.url, helm_mirror.sha256["v4.1.4"], check=True)
    assert checked.rc == 0, checked.output
    assert checked.changed == 0

    switched = install(tmp_path, bin_dir, "v3.17.2", helm_mirror.url, helm_mirror.sha256["v3.17.2"])
    assert switched.rc == 0, switched.output
    assert switched.changed > 0
    assert installed_version(bin_dir).startswith("v3.17.2+")
    assert sorted(path.name for path in bin_dir.iterdir()) == ["helm"]


def test_an_archive_that_does_not_match_the_official_checksum_is_refused(tmp_path, helm_mirror):
    # The mirror's archive holds the real v4.1.4 binary but was packed here, so its sha256 is not the
    # official one in the role's table: exactly what a tampered mirror looks like.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    run = install(tmp_path, bin_dir, "v4.1.4", helm_mirror.url)
    assert run.rc != 0
    assert run.failure.startswith("helm v4.1.4 was not installed: its sha256 does not match "
                                  "70b2c30a19da4db264dfd68c8a3664e05093a361cefd89572ffb36f8abfa3d09, so it was refused.")
    assert list(bin_dir.iterdir()) == []


def test_a_version_without_a_known_checksum_is_refused(tmp_path, helm_mirror):
    run = install(tmp_path, tmp_path, "v3.17.2", helm_mirror.url)
    assert run.rc != 0
    assert run.failure.startswith("No sha256 is known for helm-v3.17.2-linux-amd64.tar.gz: set helm_sha256")


def test_a_mirror_that_is_down_is_named(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    run = install(tmp_path, tmp_path, "v4.1.4", url)
    assert run.rc != 0
    assert run.failure.startswith("helm v4.1.4 was not installed: the download failed (")
    assert f"Source: {url}/helm-v4.1.4-linux-amd64.tar.gz; check helm_mirror_url." in run.failure

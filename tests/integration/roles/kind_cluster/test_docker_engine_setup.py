"""roles/kind_cluster/files/docker-engine/setup.sh on this host's real Docker Engine: privileged containers start
(kind's nodes are privileged), the setup changes nothing on a second run, and it keeps what
daemon.json already held."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.common import REPO_ROOT

SETUP = REPO_ROOT / "roles" / "kind_cluster" / "files" / "docker-engine" / "setup.sh"


def bounding_set_is_short() -> bool:
    last = int(open("/proc/sys/kernel/cap_last_cap", encoding="ascii").read())
    with open("/proc/self/status", encoding="ascii") as status:
        bounding = next(int(line.split()[1], 16) for line in status if line.startswith("CapBnd:"))
    return bounding != (1 << (last + 1)) - 1


def setup(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SETUP), *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


def test_a_privileged_container_starts(docker_client, base_image):
    done = setup()
    assert done.returncode == 0, done.stderr
    assert setup("--check").returncode == 0
    output = docker_client.containers.run(base_image, ["grep", "CapEff", "/proc/self/status"], privileged=True,
                                          remove=True).decode()
    effective = int(output.split()[1], 16)
    assert effective >> 21 & 1, "CAP_SYS_ADMIN missing from a privileged container"


def test_a_second_run_says_it_has_nothing_to_do():
    done = setup()
    assert done.returncode == 0, done.stderr
    expected = "already set up" if bounding_set_is_short() else "the capability bounding set is complete"
    assert expected in done.stdout and done.stdout.count("\n") == 1


@pytest.mark.skipif(not bounding_set_is_short(), reason="this host needs no runtime: setup.sh leaves it alone")
def test_setup_keeps_what_daemon_json_held(tmp_path, docker_client):
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"log-level": "warn", "runtimes": {"other": {"path": "/usr/bin/other"}}}))
    assert setup("--check", env={"DOCKER_DAEMON_JSON": str(daemon_json)}).returncode == 3
    done = setup(env={"DOCKER_DAEMON_JSON": str(daemon_json)})
    assert done.returncode == 0, done.stderr
    config = json.loads(daemon_json.read_text())
    assert config["log-level"] == "warn" and config["runtimes"]["other"] == {"path": "/usr/bin/other"}
    assert config["default-runtime"] == "runc-within-bounds"
    assert setup("--check", env={"DOCKER_DAEMON_JSON": str(daemon_json)}).returncode == 0

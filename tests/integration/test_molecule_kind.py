"""`molecule test -s kind`: the whole flow on a real kind cluster of its own, created, converged
twice (the second run must change nothing), verified and destroyed. It takes nothing from this
test session but the Docker Engine: the scenario makes everything it needs."""

from __future__ import annotations

import re

import docker
import pytest

from tests.support.common import run_tool, tool_env

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


def test_molecule_kind_scenario_runs_the_whole_flow(docker_client):
    # A first run on a machine with empty caches builds the cluster and the Airflow stack too.
    done = run_tool("molecule", "test", "-s", "kind", env=tool_env(), timeout=3600)
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    # destroy, syntax, create, converge, idempotence, verify, destroy: all seven, none failed.
    assert re.search(r"kind\s+: actions=7\s+successful=7\s.*\sfailed=0", output), output[-3000:]
    # destroy left nothing of the scenario's cluster behind
    assert [c.name for c in docker_client.containers.list(all=True) if c.name.startswith("molecule-")] == []
    try:
        docker_client.volumes.get("molecule-postgres-data")
        raise AssertionError("the scenario's database volume is still there")
    except docker.errors.NotFound:
        pass

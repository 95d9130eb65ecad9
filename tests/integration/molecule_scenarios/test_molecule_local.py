"""`molecule test -s local`: the offline part of the flow on the session's real parts."""

from __future__ import annotations

from tests.support.common import run_tool, tool_env
from tests.support.molecule_local import install_local_dag, parts_env


def test_molecule_local_scenario_converges_idempotently_and_verifies(airflow, registry, base_image, helm_mirror):
    install_local_dag(airflow)
    env = tool_env(**parts_env(airflow, registry.host, base_image, helm_mirror))
    done = run_tool("molecule", "test", "-s", "local", env=env, timeout=1500)
    output = done.stdout + done.stderr
    assert "Idempotence completed successfully" in output or "idempotence" in output.lower()
    assert airflow.admin_password not in output

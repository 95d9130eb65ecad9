"""`molecule test -s local`: the offline part of the flow on the session's real parts."""

from __future__ import annotations

import subprocess

from tests.support.common import REPO_ROOT, tool_env
from tests.support.molecule_local import install_local_dag, parts_env


def test_molecule_local_scenario_converges_idempotently_and_verifies(airflow, registry, base_image, helm_mirror):
    install_local_dag(airflow)
    env = tool_env(**parts_env(airflow, registry.host, base_image, helm_mirror))
    done = subprocess.run(["molecule", "test", "-s", "local"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=1500, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Idempotence completed successfully" in output or "idempotence" in output.lower()
    assert airflow.admin_password not in output


def test_molecule_kind_scenario_parses():
    """The kind scenario needs Docker and internet, so it can't run here: its playbooks still must parse."""
    done = subprocess.run(["molecule", "syntax", "-s", "kind"], cwd=REPO_ROOT, env=tool_env(), capture_output=True,
                          text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "converge.yml" in output or "site.yml" in output

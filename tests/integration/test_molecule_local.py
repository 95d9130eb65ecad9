"""`molecule test -s local`: the offline part of the flow on the session's real parts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.common import REPO_ROOT


def test_molecule_local_scenario_converges_idempotently_and_verifies(airflow, registry, base_image, helm_mirror):
    airflow.write_dag("first_script.py", (REPO_ROOT / "molecule" / "local" / "dags" / "first_script.py").read_text())
    airflow.reserialize()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        MOLECULE_HELM_MIRROR_URL=helm_mirror.url,
        MOLECULE_HELM_SHA256=helm_mirror.sha256["v4.1.4"],
        MOLECULE_REGISTRY=registry.host,
        MOLECULE_BASE_IMAGE=base_image,
        MOLECULE_AIRFLOW_URL=airflow.url,
        AIRFLOW_USERNAME=airflow.admin,
        AIRFLOW_PASSWORD=airflow.admin_password,
        ANSIBLE_NOCOLOR="1",
        NO_COLOR="1",
    )
    done = subprocess.run(["molecule", "test", "-s", "local"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=1500, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Idempotence completed successfully" in output or "idempotence" in output.lower()
    assert airflow.admin_password not in output


def test_molecule_kind_scenario_parses():
    """The kind scenario needs Docker and internet, so it can't run here: its playbooks still must parse."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", ANSIBLE_NOCOLOR="1",
               NO_COLOR="1")
    done = subprocess.run(["molecule", "syntax", "-s", "kind"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "converge.yml" in output or "site.yml" in output

"""`molecule test -s kind` on the demo's cluster, after test_make_demo and before the fault tests
and the teardown (conftest.py): the scenario's create reuses the cluster, its converge runs site.yml, a second converge
changes nothing, and verify checks the flow from outside. Its destroy is skipped (`--destroy never`):
test_make_demo_teardown removes the cluster as a user would. A cluster and an Airflow install of its
own would prove again what `make demo` already proved from nothing, for minutes of CI (issue 28); the
scenario is what the extra vars do not change: its playbooks, its sequence, its verify."""

from __future__ import annotations

import re

import pytest

from tests.support.common import run_tool, tool_env
from tests.support.demo import NAME, Demo

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


def test_molecule_kind_scenario_runs_the_whole_flow_on_the_demos_cluster(demo: Demo, docker_client, tmp_path):
    assert demo.first.returncode == 0, "the demo did not deploy: " + demo.first.stdout[-3000:]
    # The demo's variables (cluster name, host ports) given to every playbook of the scenario. Molecule's state in
    # a folder of this test's: with --destroy never, the state an earlier run left says "created", and molecule
    # would skip create.
    done = run_tool("molecule", "test", "-s", "kind", "--destroy", "never", "--", "-e", f"@{demo.variables}",
                    env=tool_env(MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "molecule")), timeout=3600)
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    # syntax, create, converge, idempotence and verify succeeded, none failed; both destroys were skipped (molecule
    # counts them among the actions, not among the successes).
    assert re.search(r"kind\s+: actions=7\s+successful=5\s.*\sfailed=0", output), output[-3000:]
    assert output.count("Skipping, '--destroy=never' requested.") == 2, output[-3000:]
    # It worked on the demo's cluster: create made no cluster of the scenario's own name beside it.
    names = [c.name for c in docker_client.containers.list(all=True)]
    assert f"{NAME}-control-plane" in names and not [name for name in names if name.startswith("molecule")], names

"""site.yml and every stage playbook parse against every inventory in the repository; a stage run
alone where it can't says what to run instead."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.common import REPO_ROOT, VENV_BIN, run_tool, tool_env

INVENTORIES = sorted(path.name for path in (REPO_ROOT / "inventories").iterdir() if path.is_dir())
PLAYBOOKS = ["site.yml"] + sorted(f"playbooks/{path.name}" for path in (REPO_ROOT / "playbooks").glob("*.yml")
                                  if path.name != "awx.yml")


@pytest.mark.parametrize("inventory", INVENTORIES)
@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax_check(playbook, inventory):
    done = run_tool("ansible-playbook", playbook, "-i", f"inventories/{inventory}", "--syntax-check",
                    env=tool_env(ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg")))
    assert f"playbook: {playbook}" in done.stdout


def test_the_dag_run_stage_alone_on_the_kind_inventory_says_what_to_run_first():
    """The kind inventory derives every stage's input from what the cluster stage publishes."""
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), "playbooks/dag_run.yml", "-i", "inventories/kind",
                           "-e", "image_ref=localhost:5001/first-script@sha256:" + "0" * 64],
                          cwd=REPO_ROOT, env=tool_env(ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg")),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stdout[-3000:]
    assert "no cluster stage ran in this run: run site.yml" in " ".join(done.stdout.split()), done.stdout[-3000:]
    assert "is undefined" not in done.stdout

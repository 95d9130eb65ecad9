"""site.yml and every stage playbook parse against every inventory in the repository."""

from __future__ import annotations

import pytest

from tests.support.common import REPO_ROOT, run_tool, tool_env

INVENTORIES = sorted(path.name for path in (REPO_ROOT / "inventories").iterdir() if path.is_dir())
PLAYBOOKS = ["site.yml"] + sorted(f"playbooks/{path.name}" for path in (REPO_ROOT / "playbooks").glob("*.yml")
                                  if path.name != "awx.yml")


@pytest.mark.parametrize("inventory", INVENTORIES)
@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax_check(playbook, inventory):
    done = run_tool("ansible-playbook", playbook, "-i", f"inventories/{inventory}", "--syntax-check",
                    env=tool_env(ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg")))
    assert f"playbook: {playbook}" in done.stdout

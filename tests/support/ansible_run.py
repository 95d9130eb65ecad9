"""Run this collection's modules the way users do: through ansible-playbook, from the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from .common import REPO_ROOT


def run_task(task: dict, tmp_path: Path, check: bool = False, verbosity: int = 0,
             env: dict[str, str] | None = None) -> tuple[int, dict | None, str]:
    """Run one task on localhost; returns (exit code, the task's result, everything printed)."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Module under test", "hosts": "localhost", "gather_facts": False,
        "tasks": [dict(task, register="under_test")],
    }]), encoding="utf-8")
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
            "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
    if check:
        argv.append("--check")
    if verbosity:
        argv.append("-" + "v" * verbosity)
    run_env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if not verbosity:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    run_env.update(env or {})
    done = subprocess.run(argv, capture_output=True, text=True, env=run_env, cwd=REPO_ROOT, timeout=900,
                          check=False)
    output = done.stdout + done.stderr
    result = None
    if not verbosity:
        try:
            plays = json.loads(done.stdout)["plays"]
            result = plays[0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError):
            result = None
    return done.returncode, result, output

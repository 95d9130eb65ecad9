"""Run this collection's modules and roles the way users do: through ansible-playbook, from the checkout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .common import REPO_ROOT, VENV_BIN


@dataclass
class PlaybookRun:
    rc: int
    output: str
    # [{"name": ..., "result": {...}, "duration": {"start": ..., "end": ...}}] in order (the json callback's times)
    tasks: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def result(self, name: str) -> dict:
        return next(task["result"] for task in self.tasks if task["name"] == name)

    @property
    def failure(self) -> str | None:
        """The message of the task that failed, if one did."""
        failed = [task["result"] for task in self.tasks if task["result"].get("failed")]
        return failed[-1].get("msg") if failed else None

    @property
    def changed(self) -> int:
        return self.stats.get("changed", 0)


class RunningPlaybook:
    """An ansible-playbook run in the background, in a session of its own: ``kill()`` stops it and every
    process it started at once (helm included), as a lost CI runner or a closed laptop would."""

    def __init__(self, argv: list[str], env: dict[str, str], json_report: bool):
        self.json_report = json_report
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=REPO_ROOT, start_new_session=True)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.communicate()

    def wait(self, timeout: float = 900) -> PlaybookRun:
        stdout, stderr = self.proc.communicate(timeout=timeout)
        run = PlaybookRun(self.proc.returncode, stdout + stderr)
        if not self.json_report:
            return run
        try:
            report = json.loads(stdout)
        except ValueError:
            return run
        for play in report["plays"]:
            for task in play["tasks"]:
                if "localhost" in task["hosts"]:
                    run.tasks.append({"name": task["task"]["name"], "result": task["hosts"]["localhost"],
                                      "duration": task["task"].get("duration", {})})
        run.stats = report.get("stats", {}).get("localhost", {})
        return run


def start_playbook(tasks: list[dict], tmp_path: Path, extra_vars: dict | None = None, check: bool = False,
                   verbosity: int = 0, env: dict[str, str] | None = None,
                   inventory: Path | None = None, diff: bool = False) -> RunningPlaybook:
    """Start ``tasks`` on localhost in one play, with ``inventory``'s variables when given.

    Extra vars go through a file, never the command line."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Under test", "hosts": "localhost", "gather_facts": False, "tasks": tasks,
    }]), encoding="utf-8")
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump(dict(extra_vars or {}, ansible_python_interpreter=sys.executable)),
                         encoding="utf-8")
    hosts = ["-i", str(inventory)] if inventory else ["-i", "localhost,", "-c", "local"]
    argv = [str(VENV_BIN / "ansible-playbook"), *hosts, "-e", f"@{variables}", str(playbook)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if verbosity:
        argv.append("-" + "v" * verbosity)
    run_env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if not verbosity:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    run_env.update(env or {})
    return RunningPlaybook(argv, run_env, json_report=not verbosity)


def run_playbook(tasks: list[dict], tmp_path: Path, extra_vars: dict | None = None, check: bool = False,
                 verbosity: int = 0, env: dict[str, str] | None = None, inventory: Path | None = None,
                 timeout: float = 900, diff: bool = False) -> PlaybookRun:
    """Run ``tasks`` on localhost in one play (see start_playbook) and wait for the result."""
    running = start_playbook(tasks, tmp_path, extra_vars, check, verbosity, env, inventory, diff)
    try:
        return running.wait(timeout)
    except subprocess.TimeoutExpired:
        running.kill()
        raise


def run_task(task: dict, tmp_path: Path, check: bool = False, verbosity: int = 0,
             env: dict[str, str] | None = None) -> tuple[int, dict | None, str]:
    """Run one task; returns (exit code, the task's result, everything printed)."""
    run = run_playbook([task], tmp_path, check=check, verbosity=verbosity, env=env)
    return run.rc, (run.tasks[0]["result"] if run.tasks else None), run.output

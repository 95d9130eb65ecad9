"""The whole flow's times on a kind cluster of its own, with warm caches (the offline build and the
images already made):

1. first: site.yml from no cluster at all to the first successful DAG run;
2. second: site.yml again on the unchanged system (it must change nothing), and its ratio to the
   first (issue 28's goal: 0.10 or less);
3. dag_run: the dag_run stage's own task in each (profile_tasks): triggering the run and waiting
   for it in the first, attaching to the finished run in the second.

The cluster is called "bench" and uses host ports of its own, so a demo cluster is left alone; it
is removed at the end. Needs the same as `make demo`. With --keep DIR, both runs' output (with
profile_tasks' slowest tasks at the end) is kept there as first.out and second.out.

    .venv/bin/python benchmarks/demo_flow.py [--keep DIR] [--set VARIABLE=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.common import VENV_BIN, free_port  # noqa: E402


def playbook(name: str, variables: Path, *extra: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), name, "-i", "inventories/kind", "-e", f"@{variables}",
                           *extra], cwd=REPO, capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                               "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                               "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
                               "PATH": f"{VENV_BIN}:{os.environ['PATH']}"})
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    return elapsed, done.stdout


def changed(output: str) -> int:
    recap = [line for line in output.splitlines() if line.startswith("localhost")][-1]
    return int(recap.split("changed=")[1].split()[0])


def task_seconds(output: str, name: str) -> float:
    """The time profile_tasks gives the task ``name``: a play's ("<name> ---- 12.34s") or a role's
    ("<role> : <name> ---- 12.34s")."""
    line = next(line for line in output.splitlines()
                if (line.startswith(name) or f" : {name} " in line) and line.rstrip().endswith("s"))
    return float(line.rsplit(" ", 1)[-1].rstrip("s"))


DAG_RUN_TASK = "Trigger the DAG with the pushed image and wait for it"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="a folder to keep both runs' output in")
    parser.add_argument("--set", action="append", default=[], metavar="VARIABLE=VALUE",
                        help="an inventory variable for both runs (say kind_cluster_registry_cache= for a baseline)")
    options = parser.parse_args()
    keep = options.keep
    with tempfile.TemporaryDirectory(prefix="bench-flow-") as workdir:
        variables = Path(workdir) / "vars.yml"
        variables.write_text(yaml.safe_dump({"kind_cluster_name": "bench", "kind_cluster_registry_port": free_port(),
                                             "kind_cluster_api_host_port": free_port(),
                                             **dict(setting.split("=", 1) for setting in options.set)}))
        try:
            first, output = playbook("site.yml", variables)
            trigger = task_seconds(output, DAG_RUN_TASK)
            if keep:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / "first.out").write_text(output)
            print(f"first     site.yml, no cluster to the first successful DAG run   {first:7.1f}s", flush=True)
            print(f"          of which dag_run, trigger and wait for the run          {trigger:7.1f}s", flush=True)
            second, output = playbook("site.yml", variables)
            attach = task_seconds(output, DAG_RUN_TASK)
            if keep:
                (keep / "second.out").write_text(output)
            print(f"second    site.yml on the unchanged system ({changed(output)} changed)        {second:7.1f}s"
                  f"   ratio to first {second / first:.3f} (goal <= 0.10)", flush=True)
            print(f"          of which dag_run, attach to the finished run            {attach:7.1f}s", flush=True)
        finally:
            playbook("playbooks/cluster.yml", variables, "-e", "kind_cluster_state=absent")


if __name__ == "__main__":
    main()

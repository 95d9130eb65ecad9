"""How fast broken input fails site.yml on a kind cluster of its own (issue: "within two minutes"),
against a baseline in the same run: site.yml again on the unchanged system.

1. baseline: site.yml on the unchanged system (it changes nothing);
2. gitsync: a gitSync branch that does not exist (the airflow stage's wait stops at git-sync's
   crash loop), then a fixed run that puts the right branch back;
3. image: a script image the node cannot pull (the dag_run stage reports the pod's waiting reason).

Each failing run prints its time, its ratio to the baseline and its first line. The cluster is
called "bench-faults" and uses host ports of its own; it is removed at the end. Needs the same as
`make demo`; warm caches, or the first run builds offline what it cannot download.

    .venv/bin/python benchmarks/broken_input.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.common import VENV_BIN, free_port  # noqa: E402

BOUND = 120  # seconds: what the issue asks of each broken input


def playbook(name: str, variables: Path, *extra: str, fails: bool = False) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), name, "-i", "inventories/kind", "-e", f"@{variables}",
                           *extra], cwd=REPO, capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                               "PATH": f"{VENV_BIN}:{os.environ['PATH']}"})
    elapsed = time.monotonic() - started
    if (done.returncode != 0) != fails:
        raise SystemExit(f"{name} {' '.join(extra)} {'passed' if fails else 'failed'}, which it should not:\n"
                         f"{done.stdout[-4000:]}{done.stderr[-2000:]}")
    return elapsed, done.stdout + done.stderr


def first_error(output: str) -> str:
    """The failed task's message, as ansible-playbook's [ERROR] line gives it."""
    line = next((line for line in output.splitlines() if line.startswith("[ERROR]")), "(no [ERROR] line)")
    return re.sub(r"^\[ERROR\]: Task failed: (Action|Module) failed: ", "", line)[:240]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as workdir:
        variables = Path(workdir) / "vars.yml"
        registry_port = free_port()
        variables.write_text(yaml.safe_dump({"kind_cluster_name": "bench-faults",
                                             "kind_cluster_registry_port": registry_port,
                                             "kind_cluster_api_host_port": free_port()}))
        try:
            playbook("site.yml", variables)
            baseline = playbook("site.yml", variables)[0]
            print(f"baseline  site.yml on the unchanged system                 {baseline:6.1f}s", flush=True)

            branch = "no-such-branch-" + uuid.uuid4().hex[:6]
            gitsync, output = playbook("site.yml", variables, "-e", f"airflow_git_ref={branch}", fails=True)
            print(f"gitsync   a branch that does not exist                     {gitsync:6.1f}s"
                  f"   ratio to baseline {gitsync / baseline:.2f}   bound {BOUND}s", flush=True)
            print(f"          {first_error(output)}", flush=True)
            playbook("site.yml", variables)

            # The image stage's repository (image_name's default) at a digest the registry lacks.
            missing = f"localhost:{registry_port}/first-script@sha256:" + "0" * 64
            pull, output = playbook("site.yml", variables, "-e", f"image_ref={missing}", fails=True)
            print(f"image     a script image the node cannot pull              {pull:6.1f}s"
                  f"   ratio to baseline {pull / baseline:.2f}   bound {BOUND}s", flush=True)
            print(f"          {first_error(output)}", flush=True)
        finally:
            playbook("playbooks/cluster.yml", variables, "-e", "kind_cluster_state=absent")


if __name__ == "__main__":
    main()

"""Wall time of the molecule/local scenario, and of its second converge as a ratio of the first.

Starts the parts the scenario needs (as the test suite does), resets the scenario's ephemeral
state so the first converge installs helm, builds, pushes and triggers from scratch, then times
converge, a second converge (the idempotence case: nothing to change, no second run) and verify.

    .venv/bin/python benchmarks/molecule_local_timing.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.airflow import Airflow, ensure_airflow_venv  # noqa: E402
from tests.support.base_image import ensure_base_image  # noqa: E402
from tests.support.common import tool_env  # noqa: E402
from tests.support.helm_mirror import HelmMirror  # noqa: E402
from tests.support.molecule_local import install_local_dag, parts_env  # noqa: E402
from tests.support.registry import Registry  # noqa: E402


def molecule(step, env):
    started = time.monotonic()
    done = subprocess.run(["molecule", step, "-s", "local"], cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"molecule {step} failed:\n{(done.stdout + done.stderr)[-4000:]}")
    return elapsed


def main():
    base = ensure_base_image()
    registry, mirror, airflow = Registry(), HelmMirror(), Airflow(ensure_airflow_venv())
    try:
        install_local_dag(airflow)
        env = tool_env(**parts_env(airflow, registry.host, base, mirror))
        molecule("reset", env)
        first = molecule("converge", env)
        second = molecule("converge", env)
        verify = molecule("verify", env)
        print(f"first converge  {first:6.1f} s (install helm, build, push, trigger and wait)")
        print(f"second converge {second:6.1f} s (nothing to change)")
        print(f"verify          {verify:6.1f} s")
        print(f"scenario wall time (converge + second converge + verify): {first + second + verify:.1f} s")
        print(f"second/first converge ratio: {second / first:.3f}")
    finally:
        airflow.stop()
        mirror.stop()
        registry.stop()


if __name__ == "__main__":
    main()

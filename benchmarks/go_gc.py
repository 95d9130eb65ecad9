"""What the offline build's GOGC=400 (offline/builder/cache.py) saves against Go's default GOGC=100: `go build std`
from an empty build cache, and optionally Go parts of the build from an empty build cache (sharing the build's
module cache), at each setting in turn, in one run. Prints wall time, CPU time and the largest process's peak
memory, and the ratios.

    .venv/bin/python benchmarks/go_gc.py              # go build std, twice at each setting: about 2 minutes
    .venv/bin/python benchmarks/go_gc.py crictl etcd  # and these parts
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.go_overlays import scratch_cache  # noqa: E402
from offline.builder import gobuild  # noqa: E402
from offline.builder.cache import Cache  # noqa: E402
from offline.builder.plan import Plan, role_pins  # noqa: E402

SETTINGS = ("100", "400")


def measured(action) -> tuple[float, float]:
    """Wall and CPU time (every child process) of ``action``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    action()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic() - started, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def go_build_std(shared: Cache) -> None:
    with tempfile.TemporaryDirectory(prefix="go-gc-std-") as folder:
        env = {**os.environ, **shared.go_env(), "GOCACHE": folder, "CGO_ENABLED": "0"}
        subprocess.run(["go", "build", "std"], env=env, check=True)


def part_build(part: gobuild.GoPart, shared: Cache) -> None:
    with tempfile.TemporaryDirectory(prefix="go-gc-part-") as folder:
        gobuild.build(part, scratch_cache(shared, Path(folder)))


def main(argv: list[str]) -> int:
    shared = Cache(None)
    plan = Plan(shared, role_pins())
    jobs = [("go build std", lambda: go_build_std(shared))] * 2
    jobs += [(name, lambda name=name: part_build(plan.go_part(name), shared)) for name in argv]
    totals = {setting: [0.0, 0.0] for setting in SETTINGS}
    for title, action in jobs:
        for setting in SETTINGS:
            os.environ["GOGC"] = setting
            wall, cpu = measured(action)
            totals[setting][0] += wall
            totals[setting][1] += cpu
            print(f"{title}, GOGC={setting}: {wall:.1f}s wall, {cpu:.1f}s CPU", flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    (base_wall, base_cpu), (wall, cpu) = totals[SETTINGS[0]], totals[SETTINGS[1]]
    print(f"GOGC={SETTINGS[1]} against GOGC={SETTINGS[0]}: {wall / base_wall:.3f} of the wall time,"
          f" {cpu / base_cpu:.3f} of the CPU time (largest process of the run: {peak:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

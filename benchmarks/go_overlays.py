"""What the offline build's overlays save: each Go part that has them (pins.yml, offline/overlays/), built with an
empty Go build cache twice, as upstream has it and with our files in place, beside `go build std` from an empty
build cache as the yardstick, all in one run. The Go module cache is the build's own (modules are downloaded once
and shared), so the figures are compile and link time, which is what the cores spend on a cold machine.

    .venv/bin/python benchmarks/go_overlays.py            # coredns and traefik: about 15 minutes on 2 cores
    .venv/bin/python benchmarks/go_overlays.py coredns    # one part
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from offline.builder import gobuild  # noqa: E402
from offline.builder.cache import Cache  # noqa: E402
from offline.builder.plan import Plan, role_pins  # noqa: E402


def scratch_cache(shared: Cache, folder: Path) -> Cache:
    """A cache of its own (empty build cache, no finished parts) that shares the build's module cache."""
    cache = Cache(folder)
    (folder / "go").mkdir()
    (folder / "go" / "mod").symlink_to(shared.root / "go" / "mod")
    return cache


def cold_build(part: gobuild.GoPart, shared: Cache) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="go-overlays-") as folder:
        cache = scratch_cache(shared, Path(folder))
        started = time.monotonic()
        built = gobuild.build(part, cache)
        elapsed = time.monotonic() - started
        size = sum(path.stat().st_size for path in (built / "bin").iterdir())
    return elapsed, size


def go_build_std(shared: Cache) -> float:
    with tempfile.TemporaryDirectory(prefix="go-std-") as folder:
        env = {**os.environ, **shared.go_env(), "GOCACHE": folder, "CGO_ENABLED": "0"}
        started = time.monotonic()
        subprocess.run(["go", "build", "std"], env=env, check=True)
        return time.monotonic() - started


def main(argv: list[str]) -> int:
    shared = Cache(None)
    plan = Plan(shared, role_pins())
    names = argv or sorted(name for name, pin in plan.pins["go_parts"].items() if pin.get("overlays"))
    baseline = go_build_std(shared)
    print(f"go build std, empty build cache: {baseline:.0f}s (the yardstick)")
    for name in names:
        trimmed = plan.go_part(name)
        upstream = dataclasses.replace(trimmed, overlays={})
        full, full_size = cold_build(upstream, shared)
        ours, ours_size = cold_build(trimmed, shared)
        print(f"{name}: as upstream {full:.0f}s ({full / baseline:.1f}x std, {full_size >> 20} MiB);"
              f" with offline/overlays/{name} {ours:.0f}s ({ours / baseline:.1f}x std, {ours_size >> 20} MiB);"
              f" ratio {ours / full:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

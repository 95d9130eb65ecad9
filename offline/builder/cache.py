"""Where the offline build keeps what it made, keyed by everything that went into it.

A part's results live in parts/<part>/<version>-<key>/ and count only once the build wrote
``.complete`` there: an interrupted build is redone, a finished one is reused. The key is a hash of
the part's inputs (versions, flags, the recipe's own version), so a changed pin rebuilds that part
and what contains it, and nothing else.

Each part is made under a lock of its own (``Cache.making``): two builds at once make a part once,
the second waiting for the first and then reusing it, and a build that asks only for the cluster's
parts never waits for another build's slow part it does not need.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .common import say

DEFAULT_ROOT = Path.home() / ".cache" / "airflow_k8s_platform" / "offline"


def key(*inputs: object) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:12]


class Cache:
    def __init__(self, root: Path | None = None):
        self.root = Path(root or os.environ.get("AIRFLOW_K8S_OFFLINE_CACHE") or DEFAULT_ROOT)
        self.root.mkdir(parents=True, exist_ok=True)
        # What this run made rather than reused, in order: how a caller tells "changed".
        self.made: list[str] = []

    def go_env(self) -> dict[str, str]:
        """Go's module and build caches live here too, so "empty the caches" is one folder. The compiler and linker
        collect garbage a quarter as often as Go's default (GOGC=400): a fifth less CPU and wall time for a third
        more memory per process (benchmarks/go_gc.py: go build std and crictl from an empty build cache, 0.80). A
        soft limit of 4 GiB a process (GOMEMLIMIT) keeps the largest Kubernetes packages, two compiling at once
        beside a link, from taking four times their live memory; below 2 GiB live it collects no more often than
        Go's default would. A GOGC or GOMEMLIMIT in the environment wins."""
        return {"GOMODCACHE": str(self.root / "go" / "mod"), "GOCACHE": str(self.root / "go" / "build"),
                "GOFLAGS": "-mod=mod", "GOWORK": "off", "GOGC": os.environ.get("GOGC", "400"),
                "GOMEMLIMIT": os.environ.get("GOMEMLIMIT", "4GiB")}

    @contextmanager
    def making(self, part: str) -> Iterator[None]:
        """Hold ``part``'s lock: check whether it is made, and make it, inside this block only. Another build
        holding it is making the same part: wait for it (saying so), then find its result made."""
        path = self.root / "locks" / f"{part}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"{part}: another build is making it, waiting for that one")
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def log(self, part: str, fresh: bool = False) -> Path:
        """The log of ``part``'s last build; ``fresh`` empties it for a new one."""
        path = self.root / "logs" / f"{part}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.write_text("")
        return path

    def result(self, part: str, version: str, part_key: str) -> Path:
        return self.root / "parts" / part / f"{version}-{part_key}"

    def work(self, part: str) -> Path:
        """A fresh scratch folder for one part's build."""
        path = self.root / "work" / part
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @staticmethod
    def complete(path: Path) -> bool:
        return (path / ".complete").exists()

    @staticmethod
    def begin(path: Path) -> Path:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @staticmethod
    def finish(path: Path, manifest: dict) -> None:
        (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        (path / ".complete").touch()

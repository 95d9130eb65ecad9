"""What every step of the offline build shares: commands run with a log, one-line progress, and
failures that name the part and the command."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path


class BuildFailed(Exception):
    """A part could not be built. The message is one line naming the part and what failed (the
    command, and where its log is); ``detail`` holds the end of that log."""

    def __init__(self, part: str, reason: str, detail: str = ""):
        super().__init__(f"offline build: {part}: {reason}")
        self.part = part
        self.detail = detail


def say(message: str) -> None:
    print(f"offline: {message}", file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run(part: str, argv: list[str], log: Path, *, env: dict[str, str] | None = None, cwd: Path | None = None,
        stdin: bytes | None = None, capture: bool = False) -> str:
    """Run ``argv``, its output appended to ``log``; returns stdout when ``capture``.

    A command that is missing or exits non-zero raises BuildFailed with the command, the end of
    its output and the log's path."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = shlex.join(argv)
    with open(log, "ab") as handle:
        handle.write(f"\n$ {command}\n".encode())
        handle.flush()
        try:
            done = subprocess.run(argv, env=None if env is None else {**os.environ, **env}, cwd=cwd, input=stdin,
                                  stdout=subprocess.PIPE if capture else handle, stderr=handle, check=False)
        except FileNotFoundError:
            raise BuildFailed(part, f"{argv[0]} is not installed (needed for: {command})") from None
    if done.returncode != 0:
        raise BuildFailed(part, f"`{command}` exited {done.returncode} (log: {log})", tail(log))
    return done.stdout.decode() if capture else ""


class Stopwatch:
    """Measures one step, for the lines that say how long each part took."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __str__(self) -> str:
        return duration(time.monotonic() - self.start)

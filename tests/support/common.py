"""Helpers the parts share: a per-machine cache, free ports, waiting, and owned processes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
# The venv the tests run in: ansible-playbook, molecule, ansible-lint and friends live here.
VENV_BIN = Path(sys.executable).parent


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for the venv's command-line tools: found first on PATH, plain output."""
    return dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", ANSIBLE_NOCOLOR="1", NO_COLOR="1", **extra)


def run_tool(tool: str, *args: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """Run one of the venv's tools and fail the test, with the end of its output, unless it succeeds."""
    done = subprocess.run([str(VENV_BIN / tool), *args], cwd=cwd, env=env or tool_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(args)} exited {done.returncode}:\n"
                             f"{(done.stdout + done.stderr)[-6000:]}")
    return done


class PartUnavailable(RuntimeError):
    """A real part the tests need could not be provided; the message says what to do."""


def cache_dir(*parts: str) -> Path:
    """A folder kept between test sessions on this machine (venvs, base image tarball, helm)."""
    root = Path(os.environ.get("AIRFLOW_K8S_TEST_CACHE", Path.home() / ".cache" / "airflow_k8s_platform"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Serialise building one cached thing, so two sessions never build it at once."""
    with open(cache_dir("locks") / f"{name}.lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    """Call ``probe`` until it returns something truthy; raise PartUnavailable naming ``what``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
            if result:
                return result
        except Exception as exc:  # the part is still starting: remember why, try again
            last_error = exc
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    raise PartUnavailable(f"{what} not ready after {timeout:.0f}s{detail}")


class OwnedProcess:
    """A background process in its own session, so stopping it also stops everything it spawned."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> None:
        if self.alive():
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Children that outlived their parent still belong to the process group.
        self._signal_group(signal.SIGKILL)
        self._log.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

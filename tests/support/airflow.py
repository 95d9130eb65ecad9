"""A real Apache Airflow 3 on loopback: api-server, scheduler, dag-processor and triggerer.

Airflow lives in a virtual environment of its own (``tests/airflow-requirements.txt``), built once
per machine and reused. Each test session gets a fresh AIRFLOW_HOME with SQLite, LocalExecutor, the
simple auth manager with known passwords, and a DAGs folder the tests write into.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from .common import REPO_ROOT, OwnedProcess, PartUnavailable, free_port, port_open, wait_for
from .venvs import ensure_venv

REQUIREMENTS = REPO_ROOT / "tests" / "airflow-requirements.txt"


def ensure_airflow_venv(requirements: Path = REQUIREMENTS) -> Path:
    """A virtual environment with the pinned Airflow, rebuilt only when the pins change."""
    return ensure_venv(requirements)


class Airflow:
    """One running Airflow 3. ``url``, ``admin``/``admin_password`` and ``dags_folder`` are what tests use."""

    api_server = "api-server"
    components = ("scheduler", "dag-processor", "triggerer")
    health_path = "/api/v2/monitor/health"
    healthy_components = ("metadatabase", "scheduler", "dag_processor", "triggerer")

    def __init__(self, venv: Path):
        self.venv = venv
        self.home = Path(tempfile.mkdtemp(prefix="test-airflow-"))
        self.dags_folder = self.home / "dags"
        self.dags_folder.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin, self.admin_password = "admin", secrets.token_urlsafe(16)
        self.viewer, self.viewer_password = "viewer", secrets.token_urlsafe(16)
        self._processes: dict[str, OwnedProcess] = {}
        try:
            self._airflow("db", "migrate")
            self._create_users()
            self._start(self.api_server)
            for component in self.components:
                self._start(component)
            self.wait_until_healthy(timeout=180)
        except Exception:
            self.stop()
            raise

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.admin}:admin,{self.viewer}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            # Defaults (8793, 8794) collide between instances: every port is picked at run time.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # New DAG files are seen within seconds instead of the default five minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            # Two cores: the default 32 idle LocalExecutor workers only cost memory and start-up time.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "PATH": f"{self.venv / 'bin'}:{os.environ.get('PATH', '')}",
        })
        return env

    def _create_users(self) -> None:
        """The simple auth manager reads users' passwords from a file: ours are known and random."""
        passwords = {self.admin: self.admin_password, self.viewer: self.viewer_password}
        path = self.home / "passwords.json"
        path.write_text(json.dumps(passwords), encoding="utf-8")
        path.chmod(0o600)

    def _airflow(self, *args: str, stdin: str | None = None, retry_if: str | None = None, attempts: int = 1) -> str:
        """Run an airflow command; run it again (up to ``attempts``) while its stderr contains ``retry_if``."""
        for attempt in range(1, attempts + 1):
            result = subprocess.run([str(self.venv / "bin" / "airflow"), *args], env=self.env, input=stdin,
                                    capture_output=True, text=True, check=False, timeout=300)
            if result.returncode == 0:
                return result.stdout
            if not (retry_if and retry_if in result.stderr) or attempt == attempts:
                break
        raise PartUnavailable(f"airflow {' '.join(args)} failed: {result.stderr[-2000:]}")

    def _start(self, component: str) -> None:
        self._processes[component] = OwnedProcess(
            component, [str(self.venv / "bin" / "airflow"), component],
            self.home / f"{component}.log", env=self.env, cwd=self.home)

    # -- what tests call ---------------------------------------------------------------------------

    def get(self, path: str, timeout: float = 5) -> dict:
        """GET an unauthenticated API path (``/api/v2/version``, ``/api/v2/monitor/health``)."""
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.load(response)

    def health(self) -> dict:
        return self.get(self.health_path)

    def unhealthy_components(self) -> list[str]:
        health = self.health()
        return [name for name in self.healthy_components if (health.get(name) or {}).get("status") != "healthy"]

    def wait_until_healthy(self, timeout: float) -> None:
        def probe() -> bool:
            dead = [name for name, proc in self._processes.items() if not proc.alive()]
            if dead:
                raise PartUnavailable(self._died(dead[0]))
            return not self.unhealthy_components()
        try:
            wait_for(f"Airflow on {self.url}", probe, timeout=timeout, interval=1)
        except PartUnavailable as exc:
            if "exited" in str(exc):
                raise
            raise PartUnavailable(f"{exc}; {self.api_server} log:\n{self._processes[self.api_server].log_tail()}") from exc

    def _died(self, component: str) -> str:
        return f"Airflow {component} exited; log:\n{self._processes[component].log_tail()}"

    def write_dag(self, filename: str, source: str) -> Path:
        """Put a DAG file into the DAGs folder; the dag-processor finds it within seconds."""
        path = self.dags_folder / filename
        tmp = path.with_suffix(".tmp")
        tmp.write_text(source, encoding="utf-8")
        os.replace(tmp, path)  # the dag-processor never reads half a file
        return path

    def reserialize(self) -> None:
        """Parse the DAGs folder now instead of waiting for the dag-processor's next pass.

        The running dag-processor may store a new DAG in the same instant: on SQLite the loser of
        that race fails on the DAG's unique id. The DAG is stored then, so parsing again succeeds.
        """
        self._airflow("dags", "reserialize", retry_if="UNIQUE constraint failed", attempts=3)

    def process_group(self, component: str) -> int:
        """The process group of a component: it and every process it started (an OwnedProcess leads its own)."""
        return self._processes[component].proc.pid

    def stop_api_server(self) -> None:
        self._processes.pop(self.api_server).stop()
        wait_for(f"port {self.port} to close", lambda: not port_open(self.port), timeout=30)

    def start_api_server(self, timeout: float = 120) -> None:
        self._start(self.api_server)
        self.wait_until_healthy(timeout=timeout)

    def stop(self) -> None:
        for process in self._processes.values():
            process.stop()
        self._processes.clear()
        shutil.rmtree(self.home, ignore_errors=True)


class Airflow2(Airflow):
    """A running Airflow 2 (webserver and scheduler, /api/v1, basic auth), for the v1 code path."""

    api_server = "webserver"
    components = ("scheduler",)
    health_path = "/api/v1/health"
    healthy_components = ("metadatabase", "scheduler")

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env.update({
            "AIRFLOW__API__AUTH_BACKENDS": "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth,"
                                           "airflow.api.auth.backend.session",
            "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(self.port),
            "AIRFLOW__WEBSERVER__BASE_URL": self.url,
            "AIRFLOW__WEBSERVER__WORKERS": "1",
            "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        })
        return env

    def _create_users(self) -> None:
        # Only the admin: FAB creates its other roles when the webserver first starts. The password
        # goes in on standard input (the prompt), never on a command line.
        self._airflow("users", "create", "--username", self.admin, "--role", "Admin", "--firstname", "admin",
                      "--lastname", "test", "--email", "admin@example.invalid",
                      stdin=f"{self.admin_password}\n{self.admin_password}\n")

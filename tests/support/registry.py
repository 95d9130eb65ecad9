"""A real container registry (Debian's docker-registry) on a free loopback port.

Docker pushes to 127.0.0.0/8 over plain HTTP without any daemon configuration, so no TLS here.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt

from .common import OwnedProcess, PartUnavailable, free_port, wait_for

REGISTRY_BINARY = "docker-registry"


class Registry:
    def __init__(self, username: str | None = None, password: str | None = None):
        if not shutil.which(REGISTRY_BINARY):
            raise PartUnavailable(
                f"{REGISTRY_BINARY} is not installed: apt-get install docker-registry")
        self.username = username
        self.password = password
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._dir = Path(tempfile.mkdtemp(prefix="test-registry-"))
        config = self._dir / "config.yml"
        config.write_text(self._config(), encoding="utf-8")
        self._process = OwnedProcess("registry", [REGISTRY_BINARY, "serve", str(config)],
                                     self._dir / "registry.log")
        try:
            wait_for(f"registry on {self.host}", self._answers, timeout=30)
        except PartUnavailable as exc:
            tail = self._process.log_tail()
            self.stop()
            raise PartUnavailable(f"{exc}; log:\n{tail}") from exc

    @property
    def auth_enabled(self) -> bool:
        return self.username is not None

    def _config(self) -> str:
        auth = ""
        if self.username is not None:
            hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt()).decode()
            htpasswd = self._dir / "htpasswd"
            htpasswd.write_text(f"{self.username}:{hashed}\n", encoding="utf-8")
            auth = f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n"
        return (
            "version: 0.1\n"
            "log:\n  level: info\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self._dir / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n"
            + auth
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as exc:
            # With htpasswd on, an anonymous /v2/ is refused: that refusal proves it serves.
            return exc.code == 401 and self.auth_enabled

    def stop(self) -> None:
        self._process.stop(grace=5)
        shutil.rmtree(self._dir, ignore_errors=True)

"""A loopback HTTP mirror serving real helm builds in the official archive layout.

``helm-<version>-linux-amd64.tar.gz`` holding ``linux-amd64/helm``, as the official download site
serves them. The archives are packed here, so their sha256 differs from the official ones: tests
that install from this mirror pass the mirror's checksum, and one test checks that the official
checksum table refuses them.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import tarfile
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .helm import HELM_BUILDS, ensure_helm

PLATFORM = "linux-amd64"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class HelmMirror:
    def __init__(self, versions=tuple(HELM_BUILDS)):
        self._dir = Path(tempfile.mkdtemp(prefix="helm-mirror-"))
        self.sha256 = {}
        for version in versions:
            archive = self._dir / f"helm-{version}-{PLATFORM}.tar.gz"
            with tarfile.open(archive, "w:gz") as packed:
                packed.add(ensure_helm(version), arcname=f"{PLATFORM}/helm")
            self.sha256[version] = hashlib.sha256(archive.read_bytes()).hexdigest()
        handler = functools.partial(_QuietHandler, directory=str(self._dir))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

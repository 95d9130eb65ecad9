"""What offline/build.py makes, for tests that need one of its images."""

from __future__ import annotations

import json
import subprocess
import sys

from .common import REPO_ROOT, PartUnavailable


def built(*targets: str, push_to: str = "") -> dict:
    """The build's results for ``targets`` (made now, or taken from its cache); pushed to the registry ``push_to``
    (host:port), when given, and then named as pods pull them (image@digest)."""
    push = ["--push-to", push_to] if push_to else []
    done = subprocess.run([sys.executable, str(REPO_ROOT / "offline" / "build.py"), *push, *targets],
                          capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise PartUnavailable(f"offline/build.py {' '.join(targets)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)["results"]

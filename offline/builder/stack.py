"""The Airflow stack's images, for machines that can't pull apache/airflow, git-sync or postgres:
made from PyPI's wheels and Debian's packages, laid out as the official images are."""

from __future__ import annotations

import hashlib
import io
import platform
import sys
import tarfile
from pathlib import Path

from .cache import Cache, key
from .common import Stopwatch, run, say
from .images import HERE, Image

RECIPE = 1


def wheels(pins: dict, cache: Cache, image_pin: str = "airflow_image") -> Path:
    """Every wheel of an Airflow lock (pins' airflow_image, or previous_airflow_image), downloaded for the
    image's Python and checked against the lock's sha256 (pip refuses a file whose hash differs)."""
    with cache.making("airflow-wheels"):
        return _wheels(pins, cache, image_pin)


def _wheels(pins: dict, cache: Cache, image_pin: str) -> Path:
    # The previous release's lock is resolved for the same interpreter and platforms.
    image = {**pins["airflow_image"], **pins[image_pin]}
    lock = HERE.parent / image["lock"]
    result = cache.result("airflow-wheels", image["version"], key(RECIPE, lock.read_text(), image["python"],
                                                                  image["platforms"]))
    if cache.complete(result):
        say(f"airflow-wheels {image['version']}: reused the cached downloads")
        return result
    clock = Stopwatch()
    log = cache.log("airflow-wheels", fresh=True)
    say(f"airflow-wheels {image['version']}: downloading the locked wheels from PyPI")
    folder = cache.begin(result) / "wheels"
    platforms = [argument for platform in image["platforms"] for argument in ("--platform", platform)]
    run("airflow-wheels", [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                           "--only-binary=:all:", "--python-version", image["python"], "--implementation", "cp",
                           *platforms, "--dest", str(folder), "--requirement", str(lock)], log)
    cache.finish(result, {"part": "airflow-wheels", "lock": str(lock), "files": len(list(folder.iterdir()))})
    cache.made.append("airflow-wheels")
    say(f"airflow-wheels {image['version']}: downloaded in {clock}")
    return result


def airflow(base: str, wheel_folder: Path, lock: Path, version: str) -> Image:
    """apache-airflow in a venv at /home/airflow/.local, as user airflow (50000, group 0), with
    AIRFLOW_HOME=/opt/airflow, /entrypoint and /clean-logs: where the chart expects them from the
    official image."""
    files: dict[str, Path | str] = {f"wheels/{wheel.name}": wheel for wheel in sorted(wheel_folder.iterdir())}
    files["lock.txt"] = lock
    files["entrypoint"] = HERE / "airflow" / "entrypoint.sh"
    files["clean-logs"] = HERE / "airflow" / "clean-logs.sh"
    dockerfile = f"""FROM {base} AS install
COPY wheels /wheels
COPY lock.txt /lock.txt
RUN python3 -m venv /home/airflow/.local \\
 && /home/airflow/.local/bin/pip install --quiet --no-index --no-deps --require-hashes --find-links /wheels \\
      --requirement /lock.txt \\
 && /home/airflow/.local/bin/airflow version

FROM {base}
RUN useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home --shell /bin/bash airflow \\
 && mkdir -p /opt/airflow/dags /opt/airflow/logs \\
 && chown -R 50000:0 /opt/airflow && chmod -R g+rwX /opt/airflow /home/airflow
COPY --from=install --chown=50000:0 /home/airflow/.local /home/airflow/.local
COPY entrypoint clean-logs /
ENV AIRFLOW_HOME=/opt/airflow AIRFLOW_USER_HOME_DIR=/home/airflow PYTHONUNBUFFERED=1 \\
    PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/airflow
USER 50000
EXPOSE 8080
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
CMD []
"""
    return Image("airflow", dockerfile, files, version=version)


def git_sync(base: str) -> Image:
    """The chart's gitSync container: git, ssh and git-sync.sh, as the chart's user 65533."""
    return Image("git-sync", f"""FROM {base}
COPY git-sync.sh /usr/local/bin/git-sync
COPY git-sync-askpass.sh /usr/local/bin/git-sync-askpass
RUN useradd --uid 65533 --gid 0 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin git-sync
USER 65533
ENTRYPOINT ["/usr/local/bin/git-sync"]
""", {"git-sync.sh": HERE / "git-sync" / "git-sync.sh",
      "git-sync-askpass.sh": HERE / "git-sync" / "git-sync-askpass.sh"})


def git_ssh_server(base: str) -> Image:
    """git over SSH for gitSync's SSH path: sshd as the unprivileged user git (port 2222), host key
    and authorized keys mounted under /srv/ssh, repositories under /srv/git."""
    return Image("git-ssh-server", f"""FROM {base}
COPY sshd_config /etc/ssh/sshd_config_git
COPY entrypoint.sh /usr/local/bin/git-ssh-server
RUN useradd --uid 1000 --home-dir /srv/git --create-home --shell /usr/bin/git-shell git \
 && mkdir -p /srv/ssh && chown git /srv/ssh \\
 && git config --system --add safe.directory '*'
# (The served repositories are mounted, owned by whoever mounted them: git would refuse them as
# "dubious ownership" without that.)
USER git
EXPOSE 2222
ENTRYPOINT ["/usr/local/bin/git-ssh-server"]
""", {"sshd_config": HERE / "git-ssh-server" / "sshd_config", "entrypoint.sh": HERE / "git-ssh-server" / "entrypoint.sh"})


def postgres(base: str) -> Image:
    """Debian's PostgreSQL 15 with the official postgres image's environment and data folder."""
    return Image("postgres", f"""FROM {base}
COPY entrypoint.sh /usr/local/bin/postgres-entrypoint
RUN mkdir -p /var/lib/postgresql/data && chown -R postgres:postgres /var/lib/postgresql \\
 && chmod 0700 /var/lib/postgresql/data
ENV PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
""", {"entrypoint.sh": HERE / "postgres" / "entrypoint.sh"})


def helm_mirror(binary: Path, version: str, cache: Cache) -> dict:
    """A folder laid out as helm's download site (helm-<version>-<os>-<arch>.tar.gz holding
    <os>-<arch>/helm), with ``binary`` in it: the helm role's helm_mirror_url, and the archive's
    sha256 for its helm_sha256."""
    with cache.making("helm-mirror"):
        return _helm_mirror(binary, version, cache)


def _helm_mirror(binary: Path, version: str, cache: Cache) -> dict:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    name = f"linux-{arch}"
    content = binary.read_bytes()
    result = cache.result("helm-mirror", version, key(RECIPE, name, hashlib.sha256(content).hexdigest()))
    archive = result / f"helm-{version}-{name}.tar.gz"
    if not cache.complete(result):
        cache.begin(result)
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:gz") as tar:
            info = tarfile.TarInfo(f"{name}/helm")
            info.size, info.mode = len(content), 0o755
            tar.addfile(info, io.BytesIO(content))
        archive.write_bytes(packed.getvalue())
        cache.finish(result, {"part": "helm-mirror", "version": version, "archive": archive.name})
        cache.made.append("helm-mirror")
    return {"mirror_url": result.as_uri(), "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}

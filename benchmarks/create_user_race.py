"""How often the create-user job or the API server fails on a new database, with the job as one plain try
and as the airflow role renders it (issue 22).

On a new database the chart starts everything at once: the migrations job, the API server (after its
wait-for-migrations init container), the scheduler and the create-user job. The API server writes the
FAB auth manager's roles and permissions as it starts, while `airflow users create` writes the same rows,
and either may fail on a unique key (`ab_permission_view_role_permission_view_id_role_id_uq`): in a
cluster the loser's container restarts, which a first deploy must not do. Each round here starts the same
four on a new database in the Docker Engine, with the Airflow and PostgreSQL images the offline build
makes (the API server by the name the chart's Service gives it), and runs the create-user script two
ways: as one try (the baseline), and as the airflow role renders it (it waits for the API server's
health, then tries a few times). Prints, per way, the rounds in which the job or the API server failed,
and the rounds a retry cured. Needs a Docker Engine; the offline build makes the images if they are not
cached.

    .venv/bin/python benchmarks/create_user_race.py [ROUNDS]
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.airflow_role import render  # noqa: E402
from tests.support.offline import built  # noqa: E402

PASSWORD = "race-" + uuid.uuid4().hex[:12]
WAIT = "airflow db check-migrations --migration-wait-timeout=600"
# The create-user command with one try: what the role ran before it retried.
ONE_TRY = (f"{WAIT} && printf '%s\\n%s\\n' \"$AIRFLOW_ADMIN_PASSWORD\" \"$AIRFLOW_ADMIN_PASSWORD\" | "
           "airflow users create --role Admin --username \"$0\" --email \"$0@airflow.invalid\" "
           "--firstname Airflow --lastname Admin")


# The chart's API server Service for the role's default release name: the name the role's script asks.
API_SERVER = "airflow-api-server"


def role_script() -> list[str]:
    """The create-user job's script and its arguments as the airflow role renders them (bash -c SCRIPT USERNAME
    HEALTH_URL)."""
    with tempfile.TemporaryDirectory() as tmp:
        rendered = render(Path(tmp), airflow_git_repo="https://git.invalid/dags.git")
        values = rendered[1]
        assert values, rendered[0].output[-3000:]
    args = values["createUserJob"]["args"]
    assert args[:2] == ["bash", "-c"], args
    # The health URL is a chart template (the chart names the Service): here, the API server container's name.
    return [*args[2:4], f"http://{API_SERVER}:8080/api/v2/monitor/health"]


def api_server_failed(api) -> bool:
    """Whether the API server exited (in a cluster: restarted) before it answered its health check."""
    for _attempt in range(120):
        api.reload()
        if api.status == "exited":
            return True
        address = next(iter(api.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
        try:
            urllib.request.urlopen(f"http://{address}:8080/api/v2/monitor/health", timeout=5)
            return False
        except OSError:
            time.sleep(2)
    return True


def one_round(client: docker.DockerClient, images: dict, network: str, command: list[str]) -> tuple[int, str, bool]:
    """(the script's exit code, its log, whether the API server failed) for one new database with everything
    started at once."""
    database = "r" + uuid.uuid4().hex[:8]
    client.containers.get("race-postgres").exec_run(["psql", "-U", "postgres", "-c", f"CREATE DATABASE {database}"])
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres:{PASSWORD}@race-postgres/{database}",
           "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
           "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex, "AIRFLOW_ADMIN_PASSWORD": PASSWORD}
    started = []
    try:
        def start(argv: list[str], name: str | None = None):
            started.append(client.containers.run(images["airflow-image"], argv, environment=env, network=network,
                                                 name=name, detach=True))
            return started[-1]
        job = start(["bash", "-c", *command])
        start(["airflow", "db", "migrate"])
        api = start(["bash", "-c", f"{WAIT} && exec airflow api-server"], name=API_SERVER)
        start(["bash", "-c", f"{WAIT} && exec airflow scheduler"])
        code = job.wait(timeout=900)["StatusCode"]
        return code, job.logs().decode(errors="replace"), api_server_failed(api)
    finally:
        for container in started:
            container.remove(force=True, v=True)


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    images = built("airflow-image", "postgres-image")
    client = docker.from_env()
    network = client.networks.create("race-" + uuid.uuid4().hex[:6])
    postgres = client.containers.run(images["postgres-image"], name="race-postgres", network=network.name,
                                     environment={"POSTGRES_PASSWORD": PASSWORD}, detach=True)
    try:
        time.sleep(5)
        ways = {"one try (baseline)": [ONE_TRY, "admin"], "the role's script": role_script()}
        for way, command in ways.items():
            failed = cured = 0
            for number in range(1, rounds + 1):
                code, log, api_failed = one_round(client, images, network.name, command)
                retried = "failed (try 1 of" in log
                failed += code != 0 or api_failed
                cured += code == 0 and retried
                cause = next((line for line in log.splitlines() if "UniqueViolation" in line), "")
                print(f"{way}, round {number}: job exit {code}{', a retry cured it' if code == 0 and retried else ''}"
                      f"{', the API server failed' if api_failed else ''}{': ' + cause[:160] if cause else ''}",
                      flush=True)
            print(f"== {way}: {failed} of {rounds} rounds had a failed job or API server (a container restart in a"
                  f" deploy), {cured} cured by a retry", flush=True)
    finally:
        postgres.remove(force=True, v=True)  # with its data volume
        network.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The backup and restore jobs' script (roles/airflow/files/database-job.sh) under bash, with test doubles for
pg_dump, pg_restore and psql that record how they were called: the URL the chart reads becomes libpq's without its
password, the password reaches libpq in PGPASSWORD (decoded), a dump cut short never passes for a backup, the
retention keeps the newest of the release's own backups, a restore empties the schema and restores in one
transaction, and bad input is named. The real pg_dump, pg_restore and psql run in the drill and the rollback on the
kind cluster (test_airflow_on_kind)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.common import REPO_ROOT

SCRIPT = REPO_ROOT / "roles" / "airflow" / "files" / "database-job.sh"

# Test doubles: record argv and PGPASSWORD; pg_dump writes its --file, and fails when FAIL_DUMP is set.
FAKE_PG_DUMP = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$RECORD/pg_dump.argv"
printf '%s' "$PGPASSWORD" > "$RECORD/pg_dump.password"
[ -z "${FAIL_DUMP:-}" ] || { echo "pg_dump: error: connection to server failed" >&2; exit 1; }
for arg; do case "$arg" in --file=*) echo dump > "${arg#--file=}";; esac; done
"""
FAKE_PG_RESTORE = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$RECORD/pg_restore.argv"
printf 'SET transaction_timeout = 0;\\nCREATE TABLE public.dag_run ();\\n'
"""
# psql: records argv, PGPASSWORD and the script it was given on stdin; fails when FAIL_PSQL is set.
FAKE_PSQL = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$RECORD/psql.argv"
printf '%s' "$PGPASSWORD" > "$RECORD/psql.password"
cat > "$RECORD/psql.stdin"
[ -z "${FAIL_PSQL:-}" ] || { echo 'psql:<stdin>:40: ERROR:  must be owner of table dag_run' >&2; exit 3; }
"""


@pytest.fixture
def job(tmp_path):
    """Run the script as the job would, with /backups at a temporary folder (the script's one absolute path)."""
    bin_dir, record, backups = tmp_path / "bin", tmp_path / "record", tmp_path / "backups"
    for folder in (bin_dir, record, backups):
        folder.mkdir()
    for name, body in (("pg_dump", FAKE_PG_DUMP), ("pg_restore", FAKE_PG_RESTORE), ("psql", FAKE_PSQL)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    script = SCRIPT.read_text().replace("/backups", str(backups))

    def run(action: str, backup: str, url: str, keep: int = 5, **env) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False, timeout=30, env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record), "ACTION": action, "BACKUP": backup,
            "RELEASE": "airflow", "KEEP": str(keep), "DATABASE_URL": url, **env})
    run.record, run.backups = record, backups
    return run


def test_the_password_reaches_libpq_decoded_and_never_the_command_line(job):
    url = "postgresql+psycopg2://airflow:p%40ss%2Fw%3Ard@db.example:5432/airflow?sslmode=verify-full"
    done = job("backup", "airflow-r3-3.3.2-20261207T010203Z.dump", url)
    assert done.returncode == 0, done.stderr
    argv = (job.record / "pg_dump.argv").read_text().splitlines()
    assert "--dbname=postgresql://airflow@db.example:5432/airflow?sslmode=verify-full" in argv, argv
    assert (job.record / "pg_dump.password").read_text() == "p@ss/w:rd"
    assert not any("p%40ss" in arg or "p@ss" in arg for arg in argv)
    assert "backed up to airflow-r3-3.3.2-20261207T010203Z.dump" in done.stdout
    assert [path.name for path in job.backups.iterdir()] == ["airflow-r3-3.3.2-20261207T010203Z.dump"]


def test_a_url_without_a_password_or_a_driver_works_as_it_is(job):
    done = job("backup", "airflow-r1-3.3.2-20261207T010203Z.dump", "postgres://airflow@db:5432/airflow")
    assert done.returncode == 0, done.stderr
    assert "--dbname=postgresql://airflow@db:5432/airflow" in (job.record / "pg_dump.argv").read_text().splitlines()
    assert (job.record / "pg_dump.password").read_text() == ""


def test_a_dump_cut_short_leaves_no_backup_by_that_name(job):
    done = job("backup", "airflow-r2-3.3.2-20261207T010203Z.dump", "postgresql://a:b@db/airflow", FAIL_DUMP="1")
    assert done.returncode == 1
    assert "pg_dump: error: connection to server failed" in done.stderr
    assert not (job.backups / "airflow-r2-3.3.2-20261207T010203Z.dump").exists()


def test_the_newest_of_the_releases_own_backups_are_kept(job):
    others = job.backups / "other-r1-3.3.2-20261201T000000Z.dump", job.backups / "by-hand.sql"
    for path in others:
        path.write_text("kept")
    names = [f"airflow-r{revision}-3.3.2-2026120{revision}T000000Z.dump" for revision in range(1, 5)]
    said = []
    for name in names:
        done = job("backup", name, "postgresql://a:b@db/airflow", keep=2)
        assert done.returncode == 0, done.stderr
        said.append(done.stdout)
        time.sleep(0.02)  # a later modification time, as a later backup has
    assert sorted(path.name for path in job.backups.iterdir() if path.name.startswith("airflow-")) == names[2:]
    assert all(path.exists() for path in others)
    assert f"removed {names[0]} (keeping the newest 2)" in said[2] and "removed" not in said[1], said


def test_a_restore_runs_in_one_transaction_and_a_missing_backup_is_named_with_what_is_there(job):
    """The check before a restore stops anything, and the restore itself, name what the volume holds."""
    (job.backups / "airflow-r1-3.3.2-20261207T010203Z.dump").write_text("dump")
    done = job("restore", "airflow-r1-3.3.2-20261207T010203Z.dump", "postgresql://a:s3cret@db/airflow")
    assert done.returncode == 0, done.stderr
    assert (job.record / "pg_restore.argv").read_text().splitlines()[-1].endswith(
        "/airflow-r1-3.3.2-20261207T010203Z.dump")
    psql = (job.record / "psql.argv").read_text().splitlines()
    assert {"--single-transaction", "--set=ON_ERROR_STOP=1", "--dbname=postgresql://a@db/airflow"} <= set(psql), psql
    assert (job.record / "psql.password").read_text() == "s3cret"
    # In that one transaction: first everything in the schema goes, then the backup's SQL, less what an older server
    # refuses.
    script = (job.record / "psql.stdin").read_text()
    assert script.index("DROP TABLE IF EXISTS") < script.index("CREATE TABLE public.dag_run ();")
    assert "transaction_timeout" not in script

    (job.record / "psql.argv").unlink()
    for action in ("check", "restore"):
        missing = job(action, "airflow-r9-3.3.2-20261207T010203Z.dump", "postgresql://a:s3cret@db/airflow")
        assert missing.returncode == 3
        assert missing.stderr.strip() == ("There is no backup airflow-r9-3.3.2-20261207T010203Z.dump in the backups "
                                          "volume: it holds airflow-r1-3.3.2-20261207T010203Z.dump.")
    found = job("check", "airflow-r1-3.3.2-20261207T010203Z.dump", "postgresql://a:s3cret@db/airflow")
    assert found.returncode == 0 and found.stdout.strip() == "found airflow-r1-3.3.2-20261207T010203Z.dump (4 bytes)"
    assert not (job.record / "psql.argv").exists()  # a check restores nothing


def test_a_restore_the_database_refuses_fails_with_its_words(job):
    (job.backups / "airflow-r1-3.3.2-20261207T010203Z.dump").write_text("dump")
    done = job("restore", "airflow-r1-3.3.2-20261207T010203Z.dump", "postgresql://a:b@db/airflow", FAIL_PSQL="1")
    assert done.returncode != 0 and "restored" not in done.stdout
    assert "ERROR:  must be owner of table dag_run" in done.stderr


def test_kubernetes_leaves_the_script_as_it_is():
    """The script is the Job's command, where Kubernetes turns "$$" into "$" and "$(NAME)" into a variable's value."""
    script = SCRIPT.read_text()
    assert "$$" not in script
    assert not re.search(r"\$\((ACTION|BACKUP|RELEASE|KEEP|DATABASE_URL)\)", script)


@pytest.mark.parametrize("url", ["mysql://airflow:secret@db/airflow", "sqlite:////tmp/airflow.db"])
def test_a_database_that_is_not_postgresql_is_named_without_its_url(job, url):
    done = job("backup", "airflow-r1-3.3.2-20261207T010203Z.dump", url)
    assert done.returncode == 2
    assert done.stderr.strip() == ("The metadata database is not PostgreSQL: the airflow role backs up and restores "
                                   "PostgreSQL only.")
    assert not Path(job.record / "pg_dump.argv").exists()

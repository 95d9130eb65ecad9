#!/usr/bin/env bash
# Backs up or restores the metadata database, in the Job the airflow role runs (templates/database-job.yml.j2):
#   ACTION=backup  pg_dump into /backups/$BACKUP (custom format), then keeps the newest $KEEP of $RELEASE's backups;
#   ACTION=restore /backups/$BACKUP in place of everything in the database's schema, in one transaction: all of
#                  it, or nothing changed (what a later Airflow's migration added goes too: a table a restore left
#                  would stop the next upgrade's migration);
#   ACTION=check   only that /backups/$BACKUP is there (before anything stops for a restore).
# The URL comes from the release's metadata Secret (DATABASE_URL). Its password goes to libpq in PGPASSWORD, never
# on pg_dump's command line, where the node's process list would show it.
set -euo pipefail
umask 077

case "$DATABASE_URL" in
  postgres://* | postgresql://* | postgresql+*://*) ;;
  *)
    echo "The metadata database is not PostgreSQL: the airflow role backs up and restores PostgreSQL only." >&2
    exit 2
    ;;
esac

# postgresql+psycopg2://user:password@host:port/database?sslmode=... -> libpq's URI without the password.
rest=${DATABASE_URL#*://}
authority=${rest%%[/?]*}
path=${rest#"$authority"}
user="" password=""
if [[ $authority == *@* ]]; then
  userinfo=${authority%@*}
  authority=${authority##*@}
  user=${userinfo%%:*}
  if [[ $userinfo == *:* ]]; then
    password=${userinfo#*:}
  fi
fi
# A URL's password is percent-encoded; libpq wants it decoded.
printf -v PGPASSWORD '%b' "${password//%/\\x}"
export PGPASSWORD
url="postgresql://${user:+$user@}$authority$path"

# Before the backup's SQL, in the same transaction: drop what the schema holds (tables with their sequences, views,
# enum types), whoever's migration made it. pg_restore's --clean drops only what the backup has. (A named dollar
# quote: this script is the Job's command, where Kubernetes turns two dollars in a row into one.)
EMPTY_THE_SCHEMA=$(cat <<'SQL'
SET client_min_messages = warning;
DO $empty$
DECLARE
  found record;
BEGIN
  FOR found IN SELECT format('DROP VIEW IF EXISTS %I.%I CASCADE', schemaname, viewname) AS drop
               FROM pg_views WHERE schemaname = current_schema()
               UNION ALL
               SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE', schemaname, tablename)
               FROM pg_tables WHERE schemaname = current_schema()
               UNION ALL
               SELECT format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', schemaname, sequencename)
               FROM pg_sequences WHERE schemaname = current_schema()
  LOOP
    EXECUTE found.drop;
  END LOOP;
  FOR found IN SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname) AS drop
               FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname = current_schema() AND t.typtype = 'e'
  LOOP
    EXECUTE found.drop;
  END LOOP;
END
$empty$;
SQL
)

# The backups' file names matching a pattern, newest first.
newest_first() {
  find /backups -maxdepth 1 -name "$1" -printf '%T@ %f\n' | sort -rn | cut -d' ' -f2-
}

case "$ACTION" in
  backup)
    # Written under another name first: a dump cut short never passes for a backup.
    pg_dump --format=custom --no-owner --no-privileges --dbname="$url" --file="/backups/$BACKUP.partial"
    mv "/backups/$BACKUP.partial" "/backups/$BACKUP"
    echo "backed up to $BACKUP ($(stat -c %s "/backups/$BACKUP") bytes)"
    # The release's own backups only (the volume may hold what an operator put there).
    newest_first "$RELEASE-r*.dump" | tail -n +$((KEEP + 1)) | while read -r old; do
      rm -f -- "/backups/$old"
      echo "removed $old (keeping the newest $KEEP)"
    done
    ;;
  check | restore)
    if [[ ! -f /backups/$BACKUP ]]; then
      held=$(newest_first '*.dump' | paste -sd' ')
      echo "There is no backup $BACKUP in the backups volume: it holds ${held:-no backup}." >&2
      exit 3
    fi
    if [[ $ACTION == check ]]; then
      echo "found $BACKUP ($(stat -c %s "/backups/$BACKUP") bytes)"
      exit 0
    fi
    # pg_restore 17 writes "SET transaction_timeout = 0" (off, the default), which a server before 17 refuses.
    { printf '%s\n' "$EMPTY_THE_SCHEMA"; pg_restore --no-owner --no-privileges --file=- "/backups/$BACKUP"; } \
      | sed '/^SET transaction_timeout = 0;$/d' \
      | psql --single-transaction --set=ON_ERROR_STOP=1 --quiet --no-psqlrc --dbname="$url" --file=- >/dev/null
    echo "restored $BACKUP"
    ;;
  *)
    echo "ACTION is backup, check or restore, not '$ACTION'" >&2
    exit 2
    ;;
esac

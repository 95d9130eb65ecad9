#!/usr/bin/env bash
# Debian's PostgreSQL 15 behind the official postgres image's contract: POSTGRES_PASSWORD
# (required), POSTGRES_USER (default postgres) and POSTGRES_DB (default: the user's name) make
# the database on the first start, in PGDATA (default /var/lib/postgresql/data); later starts
# reuse it. Clients authenticate with scram-sha-256 over the network. Arguments go to postgres, as the
# official image's do (-c ssl=on -c ssl_cert_file=... for TLS).
set -euo pipefail

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set: the database needs a password}"
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
data=${PGDATA:-/var/lib/postgresql/data}
bin=/usr/lib/postgresql/15/bin

if [ ! -s "$data/PG_VERSION" ]; then
  # The password goes through a file that lives only for initdb: never on a command line.
  password_file=$(mktemp)
  trap 'rm -f "$password_file"' EXIT
  printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
  "$bin/initdb" --pgdata="$data" --username="$user" --pwfile="$password_file" --encoding=UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$password_file"
  echo "listen_addresses = '*'" >>"$data/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
  if [ "$database" != postgres ]; then
    echo "CREATE DATABASE \"$database\" OWNER \"$user\"" | "$bin/postgres" --single -D "$data" postgres >/dev/null
  fi
  echo "postgres: made database $database for $user in $data"
fi
exec "$bin/postgres" -D "$data" "$@"

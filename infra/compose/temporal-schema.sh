#!/bin/sh
# Creates or upgrades Temporal's schema in PostgreSQL (connection from SQL_* variables). Safe on every
# `docker compose up`: setup-schema leaves an existing schema alone, update-schema applies only missing versions.
# The databases themselves are created by postgres-init.sql when the volume is new.
# `npm run cluster` runs this same script outside Docker, with TEMPORAL_SCHEMA_DIR pointing at the schema files of
# the server version it built (the image has them at the default path) and its PostgreSQL already up.
set -eu

schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

if command -v nc >/dev/null 2>&1; then
  until nc -z "$SQL_HOST" "$SQL_PORT"; do
    echo 'waiting for PostgreSQL'
    sleep 1
  done
fi

temporal-sql-tool --db temporal setup-schema -v 0.0
temporal-sql-tool --db temporal update-schema -d "$schema/temporal/versioned"
temporal-sql-tool --db temporal_visibility setup-schema -v 0.0
temporal-sql-tool --db temporal_visibility update-schema -d "$schema/visibility/versioned"
echo 'Temporal schema is up to date'

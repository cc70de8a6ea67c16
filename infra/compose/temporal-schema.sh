#!/bin/sh
# Creates or upgrades Temporal's schema in PostgreSQL (connection from SQL_* variables). Safe on every
# `docker compose up`: setup-schema leaves an existing schema alone, update-schema applies only missing versions.
# The databases themselves are created by postgres-init.sql when the volume is new.
set -eu

schema=/etc/temporal/schema/postgresql/v12

until nc -z "$SQL_HOST" "$SQL_PORT"; do
  echo 'waiting for PostgreSQL'
  sleep 1
done

temporal-sql-tool --db temporal setup-schema -v 0.0
temporal-sql-tool --db temporal update-schema -d "$schema/temporal/versioned"
temporal-sql-tool --db temporal_visibility setup-schema -v 0.0
temporal-sql-tool --db temporal_visibility update-schema -d "$schema/visibility/versioned"
echo 'Temporal schema is up to date'

#!/usr/bin/env bash
# Runs once when the PostgreSQL volume is created: one database and one role per service, so a
# service can reach only its own data.
set -euo pipefail
for svc in identity membership benefits legal_aid jobs; do
  var="$(echo "$svc" | tr a-z A-Z)_DB_PASSWORD"
  password="${!var:?$var must be set}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE ${svc} LOGIN PASSWORD '${password}';
CREATE DATABASE smartunion_${svc} OWNER ${svc};
REVOKE ALL ON DATABASE smartunion_${svc} FROM PUBLIC;
SQL
done

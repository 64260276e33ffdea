#!/bin/sh
# The app's own Postgres role: it logs in, owns its database (and so the tables its
# migrations create) and nothing else; no superuser, no CREATEDB, no CREATEROLE. The
# official postgres image runs this once, when the db service starts on an empty volume;
# the superuser (POSTGRES_PASSWORD) stays with operators: backups, restores, upgrades.
set -eu
: "${APP_DB_USER:?}" "${APP_DB_NAME:?}" "${APP_DB_PASSWORD:?set APP_DB_PASSWORD in .env}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --set app_user="$APP_DB_USER" --set app_db="$APP_DB_NAME" \
    --set app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
-- New databases let every role connect; this one is the app's alone.
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
SQL

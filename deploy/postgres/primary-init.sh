#!/bin/bash
# First start of the primary (docker-entrypoint-initdb.d): the role a hot standby streams
# WAL with, allowed to connect for replication only. Nothing happens without
# POSTGRES_REPLICATION_PASSWORD (profile single).
set -euo pipefail
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ]; then
    echo "no POSTGRES_REPLICATION_PASSWORD: no replication role (profile single)"
    exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=pw="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"

#!/bin/bash
# The hot standby (docker-compose.yml, service postgres-replica, profile distributed).
# First start: a base backup of the primary with a replication slot and the standby
# settings (-R writes primary_conninfo and standby.signal); then PostgreSQL as a
# read-only standby that streams WAL from the primary. Later starts resume streaming.
# Arguments (the compose file's PostgreSQL settings) are passed on to postgres.
set -euo pipefail
: "${REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD for the distributed profile}"
export PGPASSWORD="$REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_basebackup --host="$PRIMARY_HOST" --username="$REPLICATION_USER" \
            --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf \
            --create-slot --slot=archive_replica --no-password --progress; do
        echo "primary not ready for a base backup; retrying"
        rm -rf "${PGDATA:?}"/*
        sleep 3
    done
    chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on "$@"

#!/bin/bash
# The swarm stack's PostgreSQL start (this file is its only source;
# xtask/src/swarm.rs deploys it with the stack).
set -euo pipefail
data=/var/lib/postgresql/fleet
if [ ! -s "$data/PG_VERSION" ]; then
    initdb -D "$data" -U fleet --pwfile=/run/secrets/postgres_password -A scram-sha-256
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
    pg_ctl -D "$data" -w -o "-c listen_addresses=127.0.0.1 -k /tmp" start
    for db in $FLEET_DATABASES; do
        PGPASSWORD="$(cat /run/secrets/postgres_password)" createdb -h 127.0.0.1 -U fleet "$db"
    done
    pg_ctl -D "$data" -w stop
fi
exec postgres -D "$data" -c listen_addresses='*' -k /tmp

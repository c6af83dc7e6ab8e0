"""audit append in one call: the chain's events written where the head's lock is held

Revision ID: 0096
Revises: 0094

PostgreSQL only. ``audit_append(at, events)`` claims the sequence numbers on
``audit_head`` (its row lock: appends stay serial, numbers gap-free), hashes each event
— SHA-256 of its canonical JSON, which the application sends in three parts around the
two values only the lock holder knows (the previous hash and the sequence number) —
inserts the events and moves the head, all in one round trip. Before, the application
claimed, hashed, inserted and moved the head in three round trips while holding the lock,
and every audited request (each search, read and download is one) waited for them: under
load the holder spent most of that time waiting for its own API process to be scheduled
(issue 18's load test). The hash is the one :func:`archive.audit.chain.event_hash`
computes; verification is unchanged. SQLite keeps the application-side append.
"""
from __future__ import annotations

from alembic import op

revision = '0096'
down_revision = '0094'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION audit_append(p_at timestamptz, p_events jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n integer := jsonb_array_length(p_events);
    last_seq bigint;
    prev text;
    next_seq bigint;
    digest text;
    ev jsonb;
BEGIN
    UPDATE audit_head SET seq = audit_head.seq + n WHERE id = 1
        RETURNING audit_head.seq, audit_head.hash INTO last_seq, prev;
    next_seq := last_seq - n;
    FOR ev IN SELECT e.value FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, i)
              ORDER BY e.i LOOP
        next_seq := next_seq + 1;
        digest := encode(sha256(convert_to(
            (ev->>'before_prev') || prev || (ev->>'before_seq') || next_seq::text
            || (ev->>'after_seq'), 'UTF8')), 'hex');
        INSERT INTO audit_events (seq, at, actor, role, action, target_type, target_id,
                                  org_id, details, client, outcome, prev_hash, hash)
        VALUES (next_seq, p_at, ev->>'actor', ev->>'role', ev->>'action',
                ev->>'target_type', ev->>'target_id', (ev->>'org_id')::integer,
                ev->'details', ev->>'client', ev->>'outcome', prev, digest);
        prev := digest;
    END LOOP;
    UPDATE audit_head SET hash = prev WHERE id = 1;
    RETURN last_seq;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_append(timestamptz, jsonb)")

"""audit events' times never go backwards along the chain: the time decided under the lock

Revision ID: 0098
Revises: 0096

PostgreSQL only. ``audit_append(at, events)`` (0096) stored the time the application read
before it waited for the head's lock, so an event could carry a time earlier than the
event chained just before it (the one whose transaction held the lock meanwhile). Now the
function stores ``greatest(at, the previous event's time)`` — decided after it has taken
the lock, where the previous event is known; unless the previous time is more than a
minute ahead, a clock that wrong being shown as it is — and hashes the time it stores: the
application sends each event's canonical JSON in four parts, around the time, the
previous hash and the sequence number (:func:`archive.audit.chain.hash_parts`), and
``audit_at_text`` writes the time exactly as :func:`archive.audit.chain.at_text` does.
The hash is the one :func:`archive.audit.chain.event_hash` computes; verification is
unchanged. An application of before this migration sends three parts: the function
refuses them rather than store an event it cannot hash. SQLite takes the later of the
two times in the application (``archive.audit.service``).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = '0098'
down_revision = '0096'
branch_labels = None
depends_on = None

AT_TEXT = r"""
CREATE OR REPLACE FUNCTION audit_at_text(p_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
$$;
"""

FUNCTION = r"""
CREATE OR REPLACE FUNCTION audit_append(p_at timestamptz, p_events jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n integer := jsonb_array_length(p_events);
    last_seq bigint;
    prev text;
    next_seq bigint;
    at_value timestamptz;
    at_str text;
    digest text;
    ev jsonb;
BEGIN
    UPDATE audit_head SET seq = audit_head.seq + n WHERE id = 1
        RETURNING audit_head.seq, audit_head.hash INTO last_seq, prev;
    next_seq := last_seq - n;
    -- under the head's lock: never earlier than the event chained before (none yet on
    -- an empty trail: the time read by the application) -- unless that one is more than
    -- a minute ahead: a clock that wrong is shown as it is (verify reports it), not
    -- copied onto every later event (archive.audit.service.CLOCK_TOLERANCE)
    SELECT CASE WHEN e.at - p_at <= interval '1 minute' THEN greatest(p_at, e.at) ELSE p_at END
        INTO at_value FROM audit_events e WHERE e.seq = next_seq;
    at_value := coalesce(at_value, p_at);
    at_str := audit_at_text(at_value);
    FOR ev IN SELECT e.value FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, i)
              ORDER BY e.i LOOP
        IF ev->>'before_at' IS NULL OR ev->>'before_prev' IS NULL
           OR ev->>'before_seq' IS NULL OR ev->>'after_seq' IS NULL THEN
            RAISE EXCEPTION 'audit_append: an event without its four hash parts';
        END IF;
        next_seq := next_seq + 1;
        digest := encode(sha256(convert_to(
            (ev->>'before_at') || at_str || (ev->>'before_prev') || prev
            || (ev->>'before_seq') || next_seq::text || (ev->>'after_seq'), 'UTF8')), 'hex');
        INSERT INTO audit_events (seq, at, actor, role, action, target_type, target_id,
                                  org_id, details, client, outcome, prev_hash, hash)
        VALUES (next_seq, at_value, ev->>'actor', ev->>'role', ev->>'action',
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
        op.execute(AT_TEXT)
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # 0096's function again (the application of before 0098 sends three parts)
        path = Path(__file__).with_name("0096_audit_append_function.py")
        spec = importlib.util.spec_from_file_location("migration_0096", path)
        assert spec is not None and spec.loader is not None
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous.FUNCTION)
        op.execute("DROP FUNCTION IF EXISTS audit_at_text(timestamptz)")

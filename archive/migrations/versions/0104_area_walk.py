"""ingest: a record's area found by walking up its organisation's parents (PostgreSQL)

Revision ID: 0104
Revises: 0103

Every insert into ``evidence`` sets ``search_area`` (migration 0101) with
``organisation_area(org_id)``, which was a SQL function over ``organisation_areas``: a
recursive query that PostgreSQL plans again on every call of a SQL function (its plan
lives for one call), about 90 µs per record measured alone. Under the bulk-ingest
benchmark it was the largest statement after the insert itself: 228 of the 466 ms the
inserts of 608 records took (``pg_stat_statements``, ``docs/scale.md``).

``organisation_area`` is now PL/pgSQL: it looks up one organisation's parent at a time
(the tree is a few levels deep) with plans kept for the session, about 6 µs per record.
Same answer: the organisation's branch just below the top of the tree, the top itself for
the top, NULL for an organisation that does not exist or a chain longer than 64 levels (a
cycle). ``organisation_areas`` (a set of organisations at once: a search's scope) keeps
the recursive query; ``tests/archive/search/test_area_grams.py`` checks the two agree.

An organisation moved by an operator so that the tree has a cycle no longer hangs the
``UPDATE``: the move trigger's walk down the subtree was a ``UNION ALL`` recursion, which
goes round a cycle for ever; it is now a ``UNION``, which stops when it finds no new
organisation (the records of a cycle get no area: NULL, found by the nation's index).
"""
from __future__ import annotations

from alembic import op

revision = '0104'
down_revision = '0103'
branch_labels = None
depends_on = None

WALK = """
CREATE OR REPLACE FUNCTION organisation_area(org integer) RETURNS integer
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    node integer := org;
    up integer;
    above integer;
BEGIN
    SELECT o.parent_id INTO up FROM organisations o WHERE o.id = node;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    FOR depth IN 1..64 LOOP             -- a bound, in case a cycle was ever written
        IF up IS NULL THEN              -- node is the top of the tree
            RETURN node;
        END IF;
        SELECT o.parent_id INTO above FROM organisations o WHERE o.id = up;
        IF above IS NULL THEN           -- node is just below the top
            RETURN node;
        END IF;
        node := up;
        up := above;
    END LOOP;
    RETURN NULL;
END $$;
"""

MOVE = """
CREATE OR REPLACE FUNCTION organisations_move_search_area() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evidence_refresh_search_area(ARRAY(
        WITH RECURSIVE subtree(id) AS (
            SELECT NEW.id
            UNION
            SELECT o.id FROM organisations o JOIN subtree s ON o.parent_id = s.id)
        SELECT id FROM subtree));
    RETURN NULL;
END $$;
"""

RECURSIVE = """
CREATE OR REPLACE FUNCTION organisation_area(org integer) RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$ SELECT organisation_areas(ARRAY[org]) $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(WALK)
        op.execute(MOVE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RECURSIVE)
        op.execute(MOVE.replace("UNION\n", "UNION ALL\n"))

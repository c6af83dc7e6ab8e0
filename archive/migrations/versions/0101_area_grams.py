"""search at 10 M records: text keyed by each record's area (its province), not its organisation (PostgreSQL)

Revision ID: 0101
Revises: 0100

Migration 0099 keyed each record's hashed trigrams with its organisation: a provincial
auditor's text search looked up the ~120 organisations of the province one by one (OR-ed
bitmaps). Measured at 10,000,000 records (``docs/scale.md``) that was 2.7 times faster than
the nation's trigram index and still ~3 times the 50 ms target: ~1 ms per organisation,
plus planning ~120 terms. The index was also large (1,267 bytes per record: its posting
lists are per organisation, mostly of one or two records).

The key is now the record's *area*: the organisation's branch just below the top of the
tree (the province, for an LAO or a provincial office; the DLA office for its own records),
kept in ``evidence.search_area`` by triggers. A provincial search is one lookup of the
province's posting lists; an LAO's is the same lookup narrowed by its ``org_id``; a scope of
a few provinces, one per province. The nation keeps the trigram index.

* ``organisation_areas(orgs)``: the areas of a set of organisations, walking ``parent_id``
  up (the tree is a few levels deep); ``organisation_area(org)``: one organisation's.
* ``evidence.search_area``: set before each insert and each change of ``org_id``.
* An organisation given another parent (the application never does; an operator might)
  moves its subtree's records to their new area: ``evidence_refresh_search_area(orgs)``,
  which also fills in the column here, each organisation's area computed once.
* ``ix_evidence_area_grams``: GIN over ``evidence_org_grams(search_area, text)`` (the
  function of 0099: any 32-bit prefix). ``ix_evidence_org_grams`` is dropped.

Backfill: one UPDATE joined with the organisations' areas (a large archive should run it
in batches beforehand, then build the index with ``CREATE INDEX CONCURRENTLY`` under the
same name and definition: the migration creates it only if missing). SQLite: nothing.
"""
from __future__ import annotations

from alembic import op

revision = '0101'
down_revision = '0100'
branch_labels = None
depends_on = None

AREA_FUNCTIONS = """
CREATE OR REPLACE FUNCTION organisation_areas(orgs integer[]) RETURNS SETOF integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    WITH RECURSIVE chain(org, node, parent, depth) AS (
        SELECT o.id, o.id, o.parent_id, 0 FROM organisations o WHERE o.id = ANY(orgs)
        UNION ALL
        SELECT c.org, p.id, p.parent_id, c.depth + 1
          FROM chain c JOIN organisations p ON p.id = c.parent
         WHERE c.depth < 64)             -- a bound, in case a cycle was ever written
    SELECT DISTINCT c.node FROM chain c LEFT JOIN organisations p ON p.id = c.parent
     WHERE (c.parent IS NULL AND c.node = c.org)      -- the top of the tree itself
        OR (c.parent IS NOT NULL AND p.parent_id IS NULL)  -- just below the top
$$;
CREATE OR REPLACE FUNCTION organisation_area(org integer) RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$ SELECT organisation_areas(ARRAY[org]) $$;
CREATE OR REPLACE FUNCTION evidence_refresh_search_area(orgs integer[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE evidence e SET search_area = a.area
      FROM (SELECT o AS org, organisation_area(o) AS area FROM unnest(orgs) AS o) a
     WHERE e.org_id = a.org AND e.search_area IS DISTINCT FROM a.area
$$;
"""

EVIDENCE_TRIGGER = """
CREATE OR REPLACE FUNCTION evidence_set_search_area() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_area := organisation_area(NEW.org_id);
    RETURN NEW;
END $$;
CREATE TRIGGER evidence_search_area BEFORE INSERT OR UPDATE OF org_id ON evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_set_search_area();
"""

MOVE_TRIGGER = """
CREATE OR REPLACE FUNCTION organisations_move_search_area() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evidence_refresh_search_area(ARRAY(
        WITH RECURSIVE subtree(id) AS (
            SELECT NEW.id
            UNION ALL
            SELECT o.id FROM organisations o JOIN subtree s ON o.parent_id = s.id)
        SELECT id FROM subtree));
    RETURN NULL;
END $$;
CREATE TRIGGER organisations_search_area AFTER UPDATE OF parent_id ON organisations
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION organisations_move_search_area();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE evidence ADD COLUMN IF NOT EXISTS search_area integer")
    op.execute(AREA_FUNCTIONS)
    op.execute("SELECT evidence_refresh_search_area(ARRAY(SELECT id FROM organisations))")
    op.execute(EVIDENCE_TRIGGER)
    op.execute(MOVE_TRIGGER)
    op.execute("DROP INDEX IF EXISTS ix_evidence_org_grams")
    op.execute("""CREATE INDEX IF NOT EXISTS ix_evidence_area_grams ON evidence USING gin
                  (evidence_org_grams(search_area, evidence_search_all(search_meta, search_text)))""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_evidence_area_grams")
    op.execute("DROP TRIGGER IF EXISTS organisations_search_area ON organisations")
    op.execute("DROP FUNCTION IF EXISTS organisations_move_search_area()")
    op.execute("DROP TRIGGER IF EXISTS evidence_search_area ON evidence")
    op.execute("DROP FUNCTION IF EXISTS evidence_set_search_area()")
    op.execute("DROP FUNCTION IF EXISTS evidence_refresh_search_area(integer[])")
    op.execute("DROP FUNCTION IF EXISTS organisation_area(integer)")
    op.execute("DROP FUNCTION IF EXISTS organisation_areas(integer[])")
    op.execute("ALTER TABLE evidence DROP COLUMN IF EXISTS search_area")
    op.execute("""CREATE INDEX IF NOT EXISTS ix_evidence_org_grams ON evidence USING gin
                  (evidence_org_grams(org_id, evidence_search_all(search_meta, search_text)))""")

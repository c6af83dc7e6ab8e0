"""search at 10 M records: a text index of each organisation's own trigrams (PostgreSQL)

Revision ID: 0099
Revises: 0098

Measured at 10,000,000 records (``bench/search.py``, ``docs/scale.md``): a provincial
auditor's text search (one province: ~1.4 % of the records, ~120 organisations) read the
whole nation's posting lists of the word's trigrams in ``ix_evidence_search_all_trgm``
(a common word: 278,000 records nation-wide, 3,964 in the province; the index scan alone
took 180–280 ms) before keeping the province's. No index over the nation's text can do
better: it reads at least the nation's matches of the rarest trigram.

``evidence_org_grams(org_id, text)``: the trigrams ``pg_trgm`` finds in the text
(``show_trgm``: its words, lower-cased, each padded with blanks), each hashed to 32 bits
(``hashtext``) and prefixed with the record's organisation in the upper 32 bits. A GIN
index over it holds one posting list per organisation and trigram, so a search in a scope
looks up, for each organisation of the scope, that organisation's lists only (``@>`` of
its keys: one bitmap per organisation, OR-ed). Hash collisions only add candidates: every candidate is
tested on its text (``strpos``) as before. Nation-wide searches, and scopes of many
organisations, keep using the trigram index (``archive/search/service.py``).

The function names ``show_trgm`` with the schema ``pg_trgm`` was installed in, so that
the index expression evaluates the same under any ``search_path`` (``pg_restore`` runs
with an empty one).

Building the index locks writes to ``evidence`` while it is built, and it is built by one
process (GIN builds are not parallel in PostgreSQL 15): at 10 M records, see docs/scale.md.
On a large archive an operator can build it beforehand with ``CREATE INDEX
CONCURRENTLY`` under the same name and definition (after creating the function as here):
the migration creates it only if missing. SQLite: nothing (its FTS5 trigram tables are
per-database and small deployments are one organisation or a few).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0099'
down_revision = '0098'
branch_labels = None
depends_on = None


def _function(trgm_schema: str) -> str:
    schema = '"' + trgm_schema.replace('"', '""') + '"'
    return f"""CREATE OR REPLACE FUNCTION evidence_org_grams(org integer, body text)
       RETURNS bigint[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT ARRAY(SELECT (org::bigint << 32) | (hashtext(g)::bigint & 4294967295)
                          FROM unnest({schema}.show_trgm(body)) AS g) $$"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    trgm_schema = bind.scalar(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"))
    op.execute(_function(str(trgm_schema)))
    op.execute("""CREATE INDEX IF NOT EXISTS ix_evidence_org_grams ON evidence USING gin
                  (evidence_org_grams(org_id, evidence_search_all(search_meta, search_text)))""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_evidence_org_grams")
    op.execute("DROP FUNCTION IF EXISTS evidence_org_grams(integer, text)")

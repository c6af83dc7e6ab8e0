"""search: extracted text, trigram indexes (pg_trgm / FTS5 trigram), exports, evidence flags

Revision ID: 0010
Revises: 0002

Both databases search NFC text folded the same way: ASCII letters lower-cased, every
other character kept as it is (so that results are identical on PostgreSQL and SQLite).

* PostgreSQL: two unmapped columns on ``evidence``, each with a ``pg_trgm`` GIN index:
  ``search_meta``, generated from ``evidence_search_meta(...)`` (issuer name,
  description, voucher and document numbers, tax ID, folded and joined by U+001F so that
  no query matches across two fields), and ``search_text``, the folded extracted text of
  the record's blob, copied by triggers (on insert of a record, on insert, update and
  delete of the blob's text).
* SQLite: ``search_meta`` holds the same folded metadata string per record (triggers on
  ``evidence`` keep it), and two FTS5 tables with the ``trigram`` tokenizer index it and
  the blob texts (triggers keep them). SQLite drops a table's triggers with the table:
  a later migration that *recreates* ``evidence`` or ``blob_texts`` (batch mode "move and
  copy") must create these triggers again — ``tests/archive/search`` checks they exist.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.db

revision = '0010'
down_revision = '0002'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')

_META_FIELDS = ("issuer_name", "description", "voucher_no", "doc_number", "issuer_tax_id")


def _sqlite_meta(row: str) -> str:
    joined = " || char(31) || ".join(f"coalesce({row}.{f}, '')" for f in _META_FIELDS)
    return f"lower({joined})"


PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Immutable SQL functions (inlined by the planner) so that the index expressions and
    # the queries are the same expression.
    """CREATE OR REPLACE FUNCTION archive_fold(t text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$""",
    """CREATE OR REPLACE FUNCTION evidence_search_meta(issuer_name text, description text,
           voucher_no text, doc_number text, issuer_tax_id text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT archive_fold(coalesce(issuer_name, '') || chr(31) || coalesce(description, '')
              || chr(31) || coalesce(voucher_no, '') || chr(31) || coalesce(doc_number, '')
              || chr(31) || coalesce(issuer_tax_id, '')) $$""",
    # The folded texts live on the evidence row itself, so one query can start from the
    # caller's organisations or from a trigram index, whichever is more selective, and the
    # index recheck reads stored text instead of folding every row again:
    # ``search_meta`` is a stored generated column; ``search_text`` (the blob's extracted
    # text) is copied by triggers when the record is inserted and when the text arrives.
    """ALTER TABLE evidence ADD COLUMN search_meta text GENERATED ALWAYS AS
       (evidence_search_meta(issuer_name, description, voucher_no, doc_number, issuer_tax_id))
       STORED""",
    "ALTER TABLE evidence ADD COLUMN search_text text",
    """CREATE FUNCTION evidence_copy_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           NEW.search_text := (SELECT archive_fold(t.text) FROM blob_texts t
                               WHERE t.blob_id = NEW.blob_id);
           RETURN NEW;
       END $$""",
    """CREATE TRIGGER evidence_search_text_bi BEFORE INSERT ON evidence
       FOR EACH ROW EXECUTE FUNCTION evidence_copy_search_text()""",
    """CREATE FUNCTION blob_texts_spread_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           IF TG_OP = 'DELETE' THEN
               UPDATE evidence SET search_text = NULL WHERE blob_id = OLD.blob_id;
           ELSE
               UPDATE evidence SET search_text = archive_fold(NEW.text)
               WHERE blob_id = NEW.blob_id;
           END IF;
           RETURN NULL;
       END $$""",
    """CREATE TRIGGER blob_texts_search_text_aiud AFTER INSERT OR UPDATE OF text OR DELETE
       ON blob_texts FOR EACH ROW EXECUTE FUNCTION blob_texts_spread_search_text()""",
    "CREATE INDEX ix_evidence_search_meta_trgm ON evidence USING gin (search_meta gin_trgm_ops)",
    "CREATE INDEX ix_evidence_search_text_trgm ON evidence USING gin (search_text gin_trgm_ops)",
]

PG_DOWN = [
    "DROP TRIGGER IF EXISTS blob_texts_search_text_aiud ON blob_texts",
    "DROP TRIGGER IF EXISTS evidence_search_text_bi ON evidence",
    "DROP FUNCTION IF EXISTS blob_texts_spread_search_text()",
    "DROP FUNCTION IF EXISTS evidence_copy_search_text()",
    "DROP INDEX IF EXISTS ix_evidence_search_text_trgm",
    "DROP INDEX IF EXISTS ix_evidence_search_meta_trgm",
    "ALTER TABLE evidence DROP COLUMN IF EXISTS search_text",
    "ALTER TABLE evidence DROP COLUMN IF EXISTS search_meta",
    "DROP FUNCTION IF EXISTS evidence_search_meta(text, text, text, text, text)",
    "DROP FUNCTION IF EXISTS archive_fold(text)",
]

SQLITE_UP = [
    """CREATE TABLE search_meta (
           id INTEGER PRIMARY KEY,
           evidence_id CHAR(32) NOT NULL UNIQUE,
           text TEXT NOT NULL)""",
    """CREATE VIRTUAL TABLE search_meta_fts USING fts5(
           text, content='search_meta', content_rowid='id',
           tokenize='trigram case_sensitive 1')""",
    """CREATE VIRTUAL TABLE blob_text_fts USING fts5(
           text, content='', tokenize='trigram case_sensitive 1')""",
    """CREATE TRIGGER search_meta_ai AFTER INSERT ON search_meta BEGIN
           INSERT INTO search_meta_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER search_meta_ad AFTER DELETE ON search_meta BEGIN
           INSERT INTO search_meta_fts(search_meta_fts, rowid, text)
           VALUES ('delete', old.id, old.text);
       END""",
    """CREATE TRIGGER search_meta_au AFTER UPDATE ON search_meta BEGIN
           INSERT INTO search_meta_fts(search_meta_fts, rowid, text)
           VALUES ('delete', old.id, old.text);
           INSERT INTO search_meta_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    f"""CREATE TRIGGER evidence_search_ai AFTER INSERT ON evidence BEGIN
           INSERT INTO search_meta(evidence_id, text) VALUES (new.id, {_sqlite_meta('new')});
       END""",
    f"""CREATE TRIGGER evidence_search_au AFTER UPDATE OF {', '.join(_META_FIELDS)}
       ON evidence BEGIN
           UPDATE search_meta SET text = {_sqlite_meta('new')} WHERE evidence_id = new.id;
       END""",
    """CREATE TRIGGER evidence_search_ad AFTER DELETE ON evidence BEGIN
           DELETE FROM search_meta WHERE evidence_id = old.id;
       END""",
    """CREATE TRIGGER blob_texts_ai AFTER INSERT ON blob_texts BEGIN
           INSERT INTO blob_text_fts(rowid, text) VALUES (new.blob_id, lower(coalesce(new.text, '')));
       END""",
    """CREATE TRIGGER blob_texts_ad AFTER DELETE ON blob_texts BEGIN
           INSERT INTO blob_text_fts(blob_text_fts, rowid, text)
           VALUES ('delete', old.blob_id, lower(coalesce(old.text, '')));
       END""",
    """CREATE TRIGGER blob_texts_au AFTER UPDATE OF text ON blob_texts BEGIN
           INSERT INTO blob_text_fts(blob_text_fts, rowid, text)
           VALUES ('delete', old.blob_id, lower(coalesce(old.text, '')));
           INSERT INTO blob_text_fts(rowid, text) VALUES (new.blob_id, lower(coalesce(new.text, '')));
       END""",
    f"INSERT INTO search_meta(evidence_id, text) SELECT id, {_sqlite_meta('evidence')} FROM evidence",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS blob_texts_au",
    "DROP TRIGGER IF EXISTS blob_texts_ad",
    "DROP TRIGGER IF EXISTS blob_texts_ai",
    "DROP TRIGGER IF EXISTS evidence_search_ad",
    "DROP TRIGGER IF EXISTS evidence_search_au",
    "DROP TRIGGER IF EXISTS evidence_search_ai",
    "DROP TABLE IF EXISTS blob_text_fts",
    "DROP TABLE IF EXISTS search_meta_fts",
    "DROP TABLE IF EXISTS search_meta",
]


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pdfa_compliant', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('on_hold', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index('ix_evidence_issue_date_id', ['issue_date', 'id'], unique=False)
        batch_op.create_index('ix_evidence_amount_id', ['amount', 'id'], unique=False)
        batch_op.create_index('ix_evidence_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_evidence_org_id_created_at', ['org_id', 'created_at'],
                              unique=False)

    op.create_table('blob_texts',
    sa.Column('blob_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('chars', sa.Integer(), nullable=False),
    sa.Column('extractor', sa.String(length=40), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('extracted_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_blob_texts_blob_id_blobs')),
    sa.PrimaryKeyConstraint('blob_id', name=op.f('pk_blob_texts'))
    )
    op.create_table('exports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requester_user_id', sa.Integer(), nullable=True),
    sa.Column('requester_role', sa.String(length=20), nullable=False),
    sa.Column('query', _JSON, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', _JSON, nullable=True),
    sa.Column('record_count', sa.Integer(), nullable=True),
    sa.Column('org_ids', _JSON, nullable=True),
    sa.Column('result_key', sa.String(length=200), nullable=True),
    sa.Column('result_version_id', sa.String(length=200), nullable=True),
    sa.Column('result_sha256', sa.String(length=64), nullable=True),
    sa.Column('result_size', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requester_user_id'], ['users.id'], name=op.f('fk_exports_requester_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports'))
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exports_requested_by'), ['requested_by'], unique=False)

    statements = PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exports_requested_by'))
    op.drop_table('exports')
    op.drop_table('blob_texts')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_org_id_created_at')
        batch_op.drop_index('ix_evidence_created_at_id')
        batch_op.drop_index('ix_evidence_amount_id')
        batch_op.drop_index('ix_evidence_issue_date_id')
        batch_op.drop_column('on_hold')
        batch_op.drop_column('pdfa_compliant')

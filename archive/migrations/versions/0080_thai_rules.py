"""Thai rules: one Thai normalisation for search, where a record's fiscal year came from

Revision ID: 0080
Revises: 0070

* ``evidence.fiscal_year_source``: ``typed`` (the uploader gave it), ``issue_date`` or
  ``upload_date`` (defaulted from that day). A defaulted fiscal year is re-derived when
  the inspection fills the issue date from the file. Existing rows: NULL (unknown,
  treated as typed: never changed behind the uploader's back).
* The Thai search normalisation (``archive.textnorm.thai_search_form``: sara am
  composed, marks in canonical order, Thai digits as Arabic) applied where the
  databases fold metadata: PostgreSQL's ``archive_fold`` (behind the generated
  ``evidence.search_meta`` and the copied ``evidence.search_text``; the replacements
  nested in SQL), SQLite's ``search_meta`` triggers (through the function
  ``archive_thai_search_form`` that ``archive.db.make_engine`` registers on every
  connection: SQLite's parser cannot nest 46 ``replace`` calls). Existing rows are normalised: the extracted texts
  (``blob_texts``, in batches, only the rows that change; triggers carry them into the
  indexes) and the folded metadata.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from archive.search.extract import normalise
from archive.textnorm import thai_search_form_sql

revision = '0080'
down_revision = '0062'
branch_labels = None
depends_on = None

_META_FIELDS = ("issuer_name", "description", "voucher_no", "doc_number", "issuer_tax_id")
_ASCII = ("'ABCDEFGHIJKLMNOPQRSTUVWXYZ'", "'abcdefghijklmnopqrstuvwxyz'")


def _pg_fold(thai: bool) -> str:
    body = thai_search_form_sql("t") if thai else "t"
    return f"""CREATE OR REPLACE FUNCTION archive_fold(t text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT translate({body}, {_ASCII[0]}, {_ASCII[1]}) $$"""


def _sqlite_meta(row: str, thai: bool) -> str:
    joined = " || char(31) || ".join(f"coalesce({row}.{f}, '')" for f in _META_FIELDS)
    return f"lower({f'archive_thai_search_form({joined})' if thai else joined})"


def _sqlite_triggers(thai: bool) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS evidence_search_ai",
        "DROP TRIGGER IF EXISTS evidence_search_au",
        f"""CREATE TRIGGER evidence_search_ai AFTER INSERT ON evidence BEGIN
               INSERT INTO search_meta(evidence_id, text)
               VALUES (new.id, {_sqlite_meta('new', thai)});
           END""",
        f"""CREATE TRIGGER evidence_search_au AFTER UPDATE OF {', '.join(_META_FIELDS)}
           ON evidence BEGIN
               UPDATE search_meta SET text = {_sqlite_meta('new', thai)}
               WHERE evidence_id = new.id;
           END""",
        f"""UPDATE search_meta SET text = (SELECT {_sqlite_meta('evidence', thai)}
               FROM evidence WHERE evidence.id = search_meta.evidence_id)""",
    ]


def _pg_refresh_meta() -> str:
    # An UPDATE recomputes the stored generated column; only rows whose folding changes.
    args = ", ".join(_META_FIELDS)
    return f"""UPDATE evidence SET issuer_name = issuer_name
               WHERE search_meta IS DISTINCT FROM evidence_search_meta({args})"""


def _renormalise_texts() -> None:
    bind = op.get_bind()
    last = -1
    while True:
        rows = bind.execute(sa.text(
            "SELECT blob_id, text FROM blob_texts WHERE blob_id > :last AND text IS NOT NULL "
            "ORDER BY blob_id LIMIT 500"), {"last": last}).all()
        if not rows:
            return
        for blob_id, text in rows:
            new = normalise(text)
            if new != text:
                bind.execute(sa.text("UPDATE blob_texts SET text = :t, chars = :n "
                                     "WHERE blob_id = :b"),
                             {"t": new, "n": len(new), "b": blob_id})
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('fiscal_year_source', sa.String(length=12),
                                      nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_fold(thai=True))
        _renormalise_texts()
        op.execute(_pg_refresh_meta())
    else:
        for statement in _sqlite_triggers(thai=True):
            op.execute(statement)
        _renormalise_texts()


def downgrade() -> None:
    # The normalised texts stay normalised (the earlier form is not kept); only the
    # folding of metadata returns to what it was.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_fold(thai=False))
        op.execute(_pg_refresh_meta())
    else:
        for statement in _sqlite_triggers(thai=False):
            op.execute(statement)
    with op.batch_alter_table('evidence', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('fiscal_year_source')

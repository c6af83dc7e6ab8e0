"""search at 10 M records: indexes for scoped lookups and covering audit-period indexes

Revision ID: 0094
Revises: 0093

Measured at 10,000,000 records (``bench/search.py``, ``docs/scale.md``): a provincial
auditor's scope (one province: ~1.3 % of the records, ~120 organisations) was applied
after walking the whole nation's matches of a voucher number, a tax ID or an audit
period, and every match of an audit period was read from the table only to test
``status <> 'destroyed'`` (which every search has). Both databases:

* ``(voucher_no, org_id)``: a voucher number in a scope reads the scope's matches only
  (one index descent per organisation), not the nation's thousands;
* ``(issuer_tax_id, fiscal_year, org_id)``: a vendor's records of one fiscal year, in a
  scope or nation-wide, without reading the vendor's other years from the table;
* ``(org_id, issue_date, amount, created_at, id)``: an audit period and an amount band
  in a scope, with the default order and the id, so such a search and its count read
  this index alone.

PostgreSQL only: that last index, and ``ix_evidence_issue_date_amount`` (recreated), are
partial, ``WHERE status <> 'destroyed'``: a search (which excludes destroyed records
unless asked) then never visits the table to test the status, and both can be read as
index-only scans. A search that includes destroyed records uses the other indexes.
(SQLite cannot prove a bound parameter implies an index's predicate, so there both stay
whole.)

Plain ``CREATE INDEX`` on both databases (nothing recreates ``evidence``: SQLite keeps
its search triggers). Building them locks writes to ``evidence`` while they are built
(minutes at 10 M records). On a large archive an operator can build them beforehand
without that lock, ``CREATE INDEX CONCURRENTLY`` with the same names and definitions
(the partial one under another name, then swapped in by ``DROP INDEX`` and ``ALTER INDEX
… RENAME`` in one transaction): the three new ones are created only if missing, and
``ix_evidence_issue_date_amount`` is replaced only if it is not partial yet.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0094'
down_revision = '0093'
branch_labels = None
depends_on = None

NOT_DESTROYED = sa.text("status <> 'destroyed'")


def _is_partial(name: str) -> bool:
    return op.get_bind().scalar(sa.text(
        "SELECT i.indpred IS NOT NULL FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = :name"), {"name": name}) is True


def upgrade() -> None:
    op.create_index('ix_evidence_voucher_no_org_id', 'evidence', ['voucher_no', 'org_id'],
                    unique=False, if_not_exists=True)
    op.create_index('ix_evidence_issuer_tax_id_fiscal_year_org_id', 'evidence',
                    ['issuer_tax_id', 'fiscal_year', 'org_id'], unique=False,
                    if_not_exists=True)
    op.create_index('ix_evidence_org_id_issue_date_amount', 'evidence',
                    ['org_id', 'issue_date', 'amount', 'created_at', 'id'], unique=False,
                    postgresql_where=NOT_DESTROYED, if_not_exists=True)
    if (op.get_bind().dialect.name == "postgresql"
            and not _is_partial('ix_evidence_issue_date_amount')):
        op.drop_index('ix_evidence_issue_date_amount', table_name='evidence')
        op.create_index('ix_evidence_issue_date_amount', 'evidence',
                        ['issue_date', 'amount', 'org_id', 'created_at', 'id'], unique=False,
                        postgresql_where=NOT_DESTROYED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_evidence_issue_date_amount', table_name='evidence')
        op.create_index('ix_evidence_issue_date_amount', 'evidence',
                        ['issue_date', 'amount', 'org_id', 'created_at', 'id'], unique=False)
    op.drop_index('ix_evidence_org_id_issue_date_amount', table_name='evidence')
    op.drop_index('ix_evidence_issuer_tax_id_fiscal_year_org_id', table_name='evidence')
    op.drop_index('ix_evidence_voucher_no_org_id', table_name='evidence')

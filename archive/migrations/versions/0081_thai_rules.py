"""Thai rules kept exactly (issue 20): the destruction committee's appointing order and
joint record, the National Archives' review period as data, document types aligned with
the evidence roles, legal-basis texts that cite their clause

Revision ID: 0081
Revises: 0070 (re-chained after merging main, which brought 0061 and 0070 on top of 0050)

Schema:

* ``disposition_lists.committee_order_date`` (the head of agency's appointing order has a
  date as well as a reference) and ``archives_review_basis`` (the rule the review period
  came from, as it was when the list was sent);
* ``disposition_committee.destruction_confirmed_at`` / ``destruction_note``: each member's
  part of the committee's joint record of the destruction;
* ``disposition_rules``: rules of the procedure as data with their basis (seeded on first
  use by ``retention.disposition.rule``, like the schedules).

Data, on databases that already hold records (a fresh database has nothing to move):

* ``payment_voucher`` was labelled ใบสำคัญรับเงิน, the payee's acknowledgement: records of
  that type become ``payment_acknowledgement`` — each with a history row keeping the old
  value, as a correction would — and so does the type's schedule mapping.
* The seeded schedules still as seeded (version 1, by ``system``) get the new legal-basis
  texts as version 2 (the old text stays in their version history); ``general-records``
  (the general 10-year rule) is added; contracts and acceptance (inspection) reports, still
  mapped as seeded, follow it, and their live records move to it with a
  ``retention_recompute`` job queued (a record's date only ever moves later).

Columns are added with plain ``ADD COLUMN`` on both databases (no SQLite table rebuild).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.db

revision = '0081'
down_revision = '0070'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
ACTOR = 'migration 0081'
RENAMED = {'payment_voucher': 'payment_acknowledgement'}
MOVED_TYPES = ('contract', 'inspection_report')
VALUE_FIELDS = ('title_th', 'title_en', 'trigger', 'keep_years', 'audited_keep_years',
                'action', 'legal_basis_th', 'legal_basis_en')

evidence = sa.table('evidence', sa.column('id', sa.Uuid), sa.column('doc_type', sa.String),
                    sa.column('version', sa.Integer), sa.column('schedule_id', sa.Integer),
                    sa.column('status', sa.String),
                    sa.column('updated_at', archive.db.UTCDateTime(timezone=True)))
history = sa.table('evidence_history', sa.column('evidence_id', sa.Uuid),
                   sa.column('version', sa.Integer), sa.column('values', JSON),
                   sa.column('changed', JSON), sa.column('changed_by', sa.String),
                   sa.column('changed_at', archive.db.UTCDateTime(timezone=True)),
                   sa.column('reason', sa.Text))
doc_types = sa.table('retention_doc_types', sa.column('doc_type', sa.String),
                     sa.column('schedule_id', sa.Integer), sa.column('updated_by', sa.String),
                     sa.column('updated_at', archive.db.UTCDateTime(timezone=True)))
schedules = sa.table('retention_schedules', sa.column('id', sa.Integer),
                     sa.column('code', sa.String), sa.column('version', sa.Integer),
                     *(sa.column(f) for f in VALUE_FIELDS),
                     sa.column('updated_by', sa.String),
                     sa.column('updated_at', archive.db.UTCDateTime(timezone=True)))
versions = sa.table('retention_schedule_versions', sa.column('schedule_id', sa.Integer),
                    sa.column('version', sa.Integer), sa.column('values', JSON),
                    sa.column('changed_by', sa.String),
                    sa.column('changed_at', archive.db.UTCDateTime(timezone=True)),
                    sa.column('reason', sa.Text))
jobs = sa.table('jobs', sa.column('kind', sa.String), sa.column('payload', JSON),
                sa.column('status', sa.String), sa.column('attempts', sa.Integer),
                sa.column('max_attempts', sa.Integer), sa.column('dedup_key', sa.String),
                sa.column('run_after', archive.db.UTCDateTime(timezone=True)),
                sa.column('created_at', archive.db.UTCDateTime(timezone=True)),
                sa.column('updated_at', archive.db.UTCDateTime(timezone=True)))


def upgrade() -> None:
    op.add_column('disposition_lists', sa.Column('committee_order_date', sa.Date(),
                                                 nullable=True))
    op.add_column('disposition_lists', sa.Column('archives_review_basis', sa.Text(),
                                                 nullable=True))
    op.add_column('disposition_committee', sa.Column(
        'destruction_confirmed_at', archive.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('disposition_committee', sa.Column('destruction_note', sa.Text(),
                                                     nullable=True))
    op.create_table(
        'disposition_rules',
        sa.Column('code', sa.String(length=50), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('basis_th', sa.Text(), nullable=False),
        sa.Column('basis_en', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('history', JSON, nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('updated_at', archive.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_disposition_rules')))
    _rename_doc_types()
    _reseed_schedules()


def _rename_doc_types() -> None:
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    for old, new in RENAMED.items():
        rows = bind.execute(sa.select(evidence.c.id, evidence.c.version)
                            .where(evidence.c.doc_type == old)).all()
        if rows:
            bind.execute(history.insert(), [{
                'evidence_id': r.id, 'version': r.version, 'values': {'doc_type': old},
                'changed': ['doc_type'], 'changed_by': ACTOR, 'changed_at': now,
                'reason': f'document type {old!r} renamed {new!r}: the Thai name '
                          'ใบสำคัญรับเงิน is the payee\'s acknowledgement'} for r in rows])
            bind.execute(evidence.update().where(evidence.c.doc_type == old).values(
                doc_type=new, version=evidence.c.version + 1, updated_at=now))
        taken = bind.scalar(sa.select(sa.func.count()).select_from(doc_types)
                            .where(doc_types.c.doc_type == new))
        if taken:
            bind.execute(doc_types.delete().where(doc_types.c.doc_type == old))
        else:
            bind.execute(doc_types.update().where(doc_types.c.doc_type == old).values(
                doc_type=new, updated_at=now))


def _reseed_schedules() -> None:
    from archive.retention.schedules.defaults import DEFAULT_SCHEDULES

    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    ids = dict(bind.execute(sa.select(schedules.c.code, schedules.c.id)).all())
    if 'voucher-evidence' not in ids:
        return      # not seeded yet: ensure_defaults seeds the current texts on first use
    reason = ('legal basis cites the clause it rests on; the archive\'s own policy labelled '
              'as policy (issue 20)')
    for seed in DEFAULT_SCHEDULES:
        values = {f: seed[f] for f in VALUE_FIELDS}
        if seed['code'] not in ids:
            new_id = bind.execute(schedules.insert().values(
                code=seed['code'], version=1, updated_by=ACTOR, updated_at=now, **values)
                .returning(schedules.c.id)).scalar_one()
            ids[seed['code']] = new_id
            bind.execute(versions.insert().values(
                schedule_id=new_id, version=1, values=values, changed_by=ACTOR,
                changed_at=now, reason=reason))
            continue
        untouched = bind.execute(sa.select(schedules.c.id).where(
            schedules.c.code == seed['code'], schedules.c.version == 1,
            schedules.c.updated_by == 'system')).scalar()
        if untouched is None:
            continue    # a records manager changed it: theirs stands
        # Texts only: periods and triggers as seeded stay as they were.
        texts = {f: seed[f] for f in ('title_th', 'title_en', 'legal_basis_th',
                                      'legal_basis_en')}
        bind.execute(schedules.update().where(schedules.c.id == untouched).values(
            version=2, updated_by=ACTOR, updated_at=now, **texts))
        current = bind.execute(sa.select(*(schedules.c[f] for f in VALUE_FIELDS)).where(
            schedules.c.id == untouched)).one()
        bind.execute(versions.insert().values(
            schedule_id=untouched, version=2, values=dict(current._mapping),
            changed_by=ACTOR, changed_at=now, reason=reason))
    general, voucher = ids['general-records'], ids['voucher-evidence']
    moved = bind.execute(doc_types.update().where(
        doc_types.c.doc_type.in_(MOVED_TYPES), doc_types.c.updated_by == 'system',
        doc_types.c.schedule_id == voucher).values(
        schedule_id=general, updated_by=ACTOR, updated_at=now)).rowcount
    if not moved:
        return
    types = list(bind.scalars(sa.select(doc_types.c.doc_type).where(
        doc_types.c.doc_type.in_(MOVED_TYPES), doc_types.c.updated_by == ACTOR)))
    records = bind.execute(evidence.update().where(
        evidence.c.doc_type.in_(types), evidence.c.schedule_id == voucher,
        evidence.c.status != 'destroyed').values(schedule_id=general)).rowcount
    if records:
        bind.execute(jobs.insert().values(
            kind='retention_recompute', payload={'schedule_id': general}, status='queued',
            attempts=0, max_attempts=8, run_after=now, created_at=now, updated_at=now,
            dedup_key=f'retention_recompute:migration-0081:{general}'))


def downgrade() -> None:
    bind = op.get_bind()
    for old, new in RENAMED.items():
        # Only the records this migration renamed go back (their history row says so).
        renamed = sa.select(history.c.evidence_id).where(
            history.c.changed_by == ACTOR)
        bind.execute(evidence.update().where(evidence.c.doc_type == new,
                                             evidence.c.id.in_(renamed))
                     .values(doc_type=old))
        bind.execute(doc_types.update().where(doc_types.c.doc_type == new)
                     .values(doc_type=old))
    op.drop_table('disposition_rules')
    op.drop_column('disposition_committee', 'destruction_note')
    op.drop_column('disposition_committee', 'destruction_confirmed_at')
    op.drop_column('disposition_lists', 'archives_review_basis')
    op.drop_column('disposition_lists', 'committee_order_date')


"""Migration 0081 moves existing data (issue 20, items 7 and 13) on both databases:
``payment_voucher`` records become ``payment_acknowledgement`` with their history kept,
seeded legal-basis texts still as seeded get the clause-citing texts, contracts follow the
general 10-year schedule; what a person changed stays as they left it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from archive.db import Base, make_engine, upgrade
from tests.conftest import StackBase

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OLD_BASIS = "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ: ข้อความเดิม"


@pytest.fixture
def old_engine(stack: StackBase, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the stack's kind, migrated to 0050 (before this change)."""
    if stack.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, "0050")
        yield engine
        engine.dispose()
        return
    assert stack.pg is not None
    name = stack.pg.create_database()
    engine = make_engine(stack.pg.url(name))
    upgrade(engine, "0050")
    try:
        yield engine
    finally:
        engine.dispose()
        stack.pg.drop_database(name)


def _t(name: str, conn: sa.Connection | None = None) -> sa.Table:
    """A table as the model has it now, or (with ``conn``) as the database has it: the
    rows written before the upgrade must not name columns later migrations add."""
    table = Base.metadata.tables[name]
    if conn is None:
        return table
    present = {c["name"] for c in sa.inspect(conn).get_columns(name)}
    return sa.Table(name, sa.MetaData(),
                    *[c._copy() for c in table.columns if c.name in present])


def _schedule(conn: sa.Connection, code: str, by: str) -> int:
    """A schedule row as the database numbers it (the migration inserts more after it)."""
    table = _t("retention_schedules", conn)
    return conn.execute(sa.insert(table).values(
        code=code, version=1, title_th=code, title_en=code, trigger="audit_closure",
        keep_years=10, audited_keep_years=5, action="review", legal_basis_th=OLD_BASIS,
        legal_basis_en="old", updated_by=by, updated_at=NOW)
        .returning(table.c.id)).scalar_one()


def _record(conn: sa.Connection, doc_type: str, schedule_id: int) -> uuid.UUID:
    id_ = uuid.uuid4()
    conn.execute(sa.insert(_t("evidence", conn)).values(
        id=id_, org_id=1, blob_id=1, doc_type=doc_type, fiscal_year=2566, currency="THB",
        original_filename=f"{doc_type}.pdf", uploaded_by="off1", status="inspected",
        on_hold=False, schedule_id=schedule_id, version=1, created_at=NOW, updated_at=NOW))
    return id_


def test_existing_records_and_seeded_schedules_are_moved(old_engine: Engine):
    with old_engine.begin() as conn:
        conn.execute(sa.insert(_t("organisations", conn)).values(
            id=1, code="sao-1", name="อบต.", type="sao", created_at=NOW))
        conn.execute(sa.insert(_t("blobs", conn)).values(
            id=1, sha256="a" * 64, size=1, media_type="application/pdf", store_key="k",
            retain_until=NOW, legal_hold=False, created_at=NOW))
        v = _schedule(conn, "voucher-evidence", "system")
        _schedule(conn, "correspondence", "rm-dla")              # edited by a person
        conn.execute(sa.insert(_t("retention_doc_types", conn)), [
            {"doc_type": d, "schedule_id": v, "updated_by": by, "updated_at": NOW}
            for d, by in (("payment_voucher", "system"), ("contract", "system"),
                          ("inspection_report", "rm-dla"), ("receipt", "system"))])
        voucher = _record(conn, "payment_voucher", v)
        contract = _record(conn, "contract", v)
        inspection = _record(conn, "inspection_report", v)
        receipt = _record(conn, "receipt", v)

    upgrade(old_engine)

    with old_engine.connect() as conn:
        ev = {r.id: r for r in conn.execute(sa.select(_t("evidence")))}
        assert ev[voucher].doc_type == "payment_acknowledgement" and ev[voucher].version == 2
        history = conn.execute(sa.select(_t("evidence_history"))).one()
        assert history.evidence_id == voucher and history.values == {
            "doc_type": "payment_voucher"} and history.version == 1
        schedules = {r.code: r for r in conn.execute(sa.select(_t("retention_schedules")))}
        assert schedules["voucher-evidence"].version == 2
        assert "ข้อ 57" in schedules["voucher-evidence"].legal_basis_th
        assert schedules["voucher-evidence"].keep_years == 10          # texts only
        assert schedules["correspondence"].legal_basis_th == OLD_BASIS  # a person's edit
        general = schedules["general-records"]
        mapping = dict(conn.execute(sa.select(_t("retention_doc_types").c.doc_type,
                                              _t("retention_doc_types").c.schedule_id)).all())
        assert "payment_voucher" not in mapping and mapping["payment_acknowledgement"] == v
        assert mapping["contract"] == general.id and mapping["inspection_report"] == v
        assert ev[contract].schedule_id == general.id
        assert ev[inspection].schedule_id == v and ev[receipt].schedule_id == v
        jobs = list(conn.execute(sa.select(_t("jobs").c.kind, _t("jobs").c.payload)))
        assert jobs == [("retention_recompute", {"schedule_id": general.id})]
        versions = list(conn.execute(sa.select(_t("retention_schedule_versions").c.version)
                                     .where(_t("retention_schedule_versions").c.schedule_id
                                            == v)))
        assert [v[0] for v in versions] == [2]

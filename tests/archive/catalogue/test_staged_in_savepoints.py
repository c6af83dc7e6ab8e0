"""What a unit of work staged for the store survives a savepoint rolled back after it.

A batch upload records each item in a savepoint, and the register import writes each row
in one: a refused item or row rolls its savepoint back. A rolled-back session forgets
what it staged; the objects of the items before it describe rows that still commit, and
without them ``archive rebuild --from-store`` would not know those records or vouchers.
(They are written when their own savepoint is released: SQLAlchemy's ``before_commit``
fires for a savepoint too.) A guard on both stacks for anyone who changes when staged
objects are written or forgotten."""

from __future__ import annotations

import sqlalchemy as sa

from archive.catalogue import objects
from archive.disbursements.models import Disbursement
from archive.evidence.models import Evidence
from tests.api.test_batch_upload import post_batch
from tests.archive.disbursements.test_importing import REFUSED_BETWEEN, ROWS, _run, register
from tests.conftest import Env
from tests.factories import make_pdf, upload, world


def _described(env: Env, prefix: str) -> set[str]:
    """The ids the store describes under ``prefix`` (``<prefix><id>/…``)."""
    return {key[len(prefix):].split("/", 1)[0] for key in
            (o.key for o in env.store.list_objects(prefix))}


def test_a_refused_batch_item_keeps_the_manifests_of_the_items_before_it(env: Env) -> None:
    """GIVEN bytes already archived WHEN a batch sends a new file, those bytes again
    (refused: 409 duplicate_upload, its savepoint rolled back) and another new file THEN
    both new records are committed and the store has a manifest for each."""
    tokens = world(env)
    old = make_pdf("kept-before")
    assert upload(env.client(tokens["off1"]), old).status_code == 201
    r = post_batch(env.client(tokens["off1"]), [
        ({"voucher_no": "ฎ 1/2568"}, "a.pdf", make_pdf("savepoint-a")),
        ({}, "old.pdf", old),
        ({"voucher_no": "ฎ 2/2568"}, "b.pdf", make_pdf("savepoint-b"))])
    assert r.status_code == 200, r.text
    statuses = [item["status"] for item in r.json()["items"]]
    assert statuses == [201, 409, 201], r.text
    with env.session() as s:
        records = {str(i) for i in s.scalars(sa.select(Evidence.id))}
    assert len(records) == 3
    assert records <= _described(env, objects.RECORDS)


def test_a_refused_register_row_keeps_the_vouchers_written_before_it(env: Env) -> None:
    """GIVEN a stored voucher WHEN a register import writes a new voucher, then a row the
    service refuses (its savepoint rolled back), then another new voucher THEN both new
    vouchers are committed and the store describes every voucher."""
    world(env)
    _run(env, register(*ROWS))
    report = _run(env, REFUSED_BETWEEN)
    assert [row.status for row in report.rows] == ["created", "error", "created"]
    with env.session() as s:
        vouchers = {str(i) for i in s.scalars(sa.select(Disbursement.id))}
    assert len(vouchers) == 5
    assert vouchers <= _described(env, objects.VOUCHERS)

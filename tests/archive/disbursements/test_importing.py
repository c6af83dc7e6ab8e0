"""The register import on both stacks: encodings, BE dates, bad rows, idempotency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from archive.accounts import service as accounts
from archive.audit.models import AuditEvent
from archive.disbursements import importing
from archive.disbursements.models import Disbursement, DisbursementHistory
from archive.errors import InvalidInput, NotFound, PermissionDenied
from tests.conftest import Env
from tests.factories import world

HEADER = ("ลำดับ,เลขที่ฎีกา,วันที่ฎีกา,ผู้รับเงิน,เลขประจำตัวผู้เสียภาษี,จำนวนเงิน,"
          "ภาษีหัก ณ ที่จ่าย,ประเภท,วิธีการจ่าย,วันที่จ่าย,รหัสงบประมาณ\r\n")
ROWS = [
    '1,1/2568,15/01/2568,หจก.ทดสอบวัสดุ,0105512345671,"9,469.50",,จัดซื้อจัดจ้าง,โอนเงิน,'
    "20/01/2568,00111\r\n",
    '2,2/2568,๑๖/๐๑/๒๕๖๘,นายสมชาย ใจดี,3100100123452,"1,200.00",,ค่าเดินทางไปราชการ,เงินสด,,\r\n',
    '3,3/2568,01/02/2568,การไฟฟ้าส่วนภูมิภาค,0994000165510,"12,000.00",120.00,'
    "ค่าสาธารณูปโภค,เช็ค,05/02/2568,00222\r\n",
]


# Without a withholding column, lowering 3/2568's gross amount (stored with 120.00
# withholding tax) to 100.00 is refused by the service, between two new vouchers.
REFUSED_BETWEEN = ("voucher_no,voucher_date,payee_name,gross_amount,kind,payment_method\n"
                   "9/2568,2025-03-01,ใหม่,500.00,other,cash\n"
                   "3/2568,2025-02-01,การไฟฟ้าส่วนภูมิภาค,100.00,utilities,cheque\n"
                   "10/2568,2025-03-02,อีกราย,700.00,other,cash\n")


def register(*rows: str) -> str:
    return HEADER + "".join(rows)


def _principal(env: Env, name: str):  # type: ignore[no-untyped-def]
    with env.session() as s:
        return accounts.authenticate(s, env.tokens[name])


def _run(env: Env, text: str | bytes, *, user: str = "off1", dry_run: bool = False,
         org: str = "sao-1", encoding: str = "utf-8") -> importing.ImportReport:
    data = text.encode(encoding) if isinstance(text, str) else text
    principal = _principal(env, user)
    with env.session() as s:
        return importing.import_register(s, principal, org_code=org, data=data,
                                         filename="register.csv", dry_run=dry_run)


def _vouchers(env: Env) -> dict[str, Disbursement]:
    with env.session() as s:
        rows = list(s.scalars(sa.select(Disbursement)))
        s.expunge_all()
    return {v.voucher_no: v for v in rows}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp874"])
def test_import_creates_vouchers_from_each_encoding(env: Env, encoding: str) -> None:
    world(env)
    report = _run(env, register(*ROWS), encoding=encoding)
    assert report.encoding == encoding
    assert report.counts == {"created": 3, "updated": 0, "unchanged": 0, "error": 0}
    assert [r.line for r in report.rows] == [2, 3, 4]
    vouchers = _vouchers(env)
    assert set(vouchers) == {"1/2568", "2/2568", "3/2568"}
    first = vouchers["1/2568"]
    assert first.voucher_date == dt.date(2025, 1, 15) and first.fiscal_year == 2568
    assert first.gross_amount == Decimal("9469.50") == first.net_amount
    assert first.kind == "procurement" and first.payment_method == "e_payment"
    assert first.payee_name == "หจก.ทดสอบวัสดุ" and first.budget_code == "00111"
    assert vouchers["2/2568"].voucher_date == dt.date(2025, 1, 16)
    third = vouchers["3/2568"]
    assert third.withholding_tax == Decimal("120.00") and third.net_amount == Decimal("11880.00")
    assert third.payment_method == "cheque" and third.payment_date == dt.date(2025, 2, 5)


def test_reimport_is_idempotent_and_updates_only_what_changed(env: Env) -> None:
    world(env)
    _run(env, register(*ROWS))
    again = _run(env, register(*ROWS), encoding="cp874")
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 3, "error": 0}
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Disbursement)) == 3
        assert s.scalar(sa.select(sa.func.count()).select_from(DisbursementHistory)) == 0
    changed = ROWS[0].replace('"9,469.50"', '"9,500.00"')
    third = _run(env, register(changed, *ROWS[1:]))
    assert third.counts == {"created": 0, "updated": 1, "unchanged": 2, "error": 0}
    assert third.rows[0].changed == ["gross_amount", "net_amount"]
    v = _vouchers(env)["1/2568"]
    assert v.gross_amount == Decimal("9500.00") and v.version == 2
    with env.session() as s:
        hist = s.scalars(sa.select(DisbursementHistory)).one()
        assert "line 2" in (hist.reason or "")


def test_columns_missing_from_the_file_are_left_alone(env: Env) -> None:
    world(env)
    _run(env, register(*ROWS))
    slim = ("voucher_no,voucher_date,payee_name,gross_amount,kind,payment_method\n"
            "1/2568,2025-01-15,หจก.ทดสอบวัสดุ,9469.50,procurement,e_payment\n")
    report = _run(env, slim)
    assert report.counts["unchanged"] == 1
    assert _vouchers(env)["1/2568"].budget_code == "00111"


def test_bad_rows_are_reported_by_line_and_change_nothing(env: Env) -> None:
    world(env)
    bad = [
        '4,4/2568,31/02/2568,ร้านหนึ่ง,0105512345671,100.00,,อื่น ๆ,เงินสด,,\r\n',  # no 31 Feb
        '5,5/2568,01/03/2568,ร้านสอง,12345,100.00,,อื่น ๆ,เงินสด,,\r\n',  # tax ID length
        '6,6/2568,01/03/2568,ร้านสาม,,"1,00",,อื่น ๆ,เงินสด,,\r\n',  # thousands separator
        '7,7/2568,01/03/2568,ร้านสี่,,100.00,200.00,อื่น ๆ,เงินสด,,\r\n',  # wht > gross
        '8,8/2568,01/03/2590,ร้านห้า,,100.00,,อื่น ๆ,เงินสด,,\r\n',  # far future
    ]
    report = _run(env, register(ROWS[0], *bad, ROWS[1]))
    by_line = {r.line: r for r in report.rows}
    assert report.counts == {"created": 2, "updated": 0, "unchanged": 0, "error": 5}
    assert by_line[2].status == by_line[8].status == "created"
    for line in range(3, 8):
        assert by_line[line].status == "error" and by_line[line].errors, line
    assert "วันที่ฎีกา" in by_line[3].errors[0]
    assert "13 digits" in by_line[4].errors[0]
    assert "group three" in by_line[5].errors[0]
    assert "withholding_tax" in " ".join(by_line[6].errors)
    assert "future" in " ".join(by_line[7].errors)
    assert set(_vouchers(env)) == {"1/2568", "2/2568"}
    with env.session() as s:
        event = s.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "disbursement.import")).one()
        assert event.details["counts"]["error"] == 5 and event.details["errors"] == [3, 4, 5, 6, 7]
        # every created voucher kept its own audit event despite the rolled-back rows between
        creates = s.scalars(sa.select(AuditEvent.target_id).where(
            AuditEvent.action == "disbursement.create")).all()
        assert len(creates) == 2


def test_a_refused_write_rolls_back_only_its_row(env: Env) -> None:
    """GIVEN voucher 3/2568 stored with 120.00 withholding tax WHEN a register without a
    withholding column lowers its gross amount to 100.00 (the service refuses: withholding
    above gross) between two good rows THEN only that row is an error, with the service's
    reason; the rows around it are written with their audit events."""
    world(env)
    _run(env, register(*ROWS))
    report = _run(env, REFUSED_BETWEEN)
    assert [r.status for r in report.rows] == ["created", "error", "created"]
    assert "withholding_tax is larger than gross_amount" in report.rows[1].errors[0]
    vouchers = _vouchers(env)
    assert vouchers["3/2568"].gross_amount == Decimal("12000.00")
    assert vouchers["3/2568"].version == 1
    with env.session() as s:
        created = set(s.scalars(sa.select(AuditEvent.target_id).where(
            AuditEvent.action == "disbursement.create")))
    assert {str(vouchers["9/2568"].id), str(vouchers["10/2568"].id)} <= created


def test_dry_run_reports_and_keeps_nothing(env: Env) -> None:
    world(env)
    report = _run(env, register(*ROWS), dry_run=True)
    assert report.counts == {"created": 3, "updated": 0, "unchanged": 0, "error": 0}
    assert all(r.id is None for r in report.rows)
    assert _vouchers(env) == {}
    _run(env, register(ROWS[0]))
    changed = ROWS[0].replace("หจก.ทดสอบวัสดุ", "หจก.ทดสอบวัสดุใหม่")
    report = _run(env, register(changed, ROWS[1]), dry_run=True)
    assert [r.status for r in report.rows] == ["updated", "created"]
    assert _vouchers(env)["1/2568"].payee_name == "หจก.ทดสอบวัสดุ"
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(["disbursement.create", "disbursement.update"]))) == 1


def test_file_level_errors_and_scope(env: Env) -> None:
    world(env)
    with pytest.raises(InvalidInput) as err:
        _run(env, "ผู้รับเงิน,จำนวนเงิน\nก,1\n")
    assert err.value.code == "invalid_register" and "เลขที่ฎีกา" in str(err.value.detail)
    with pytest.raises(InvalidInput):
        _run(env, b"voucher_no,\xdb\xfc\n")
    with pytest.raises(NotFound):
        _run(env, register(*ROWS), org="sao-2")       # off1 acts for sao-1 only
    with pytest.raises(PermissionDenied):
        _run(env, register(*ROWS), user="aud1")       # auditors change nothing
    assert _vouchers(env) == {}

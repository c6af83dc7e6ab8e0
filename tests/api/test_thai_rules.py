"""Thai rules kept exactly (issue 20 items 1, 2, 9–11; issue 16 items 8, 11, 16), on both
stacks: fiscal years against document dates, the lock horizon of new bytes, Thailand days
in the upload filter, Buddhist-Era dates and Thai digits wherever typed, one Thai
normalisation for indexing and querying, and the cross-checks against the file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from archive import clock
from archive.evidence.models import Blob, Evidence
from archive.storage import blob_key
from archive.thai import fiscal_year
from tests.archive.inspection.helpers import etda_invoice_xml
from tests.archive.retention.helpers import run_jobs
from tests.conftest import Env
from tests.factories import make_pdf, upload, world

ALL_JOBS = ("inspect", "extract_text", "retention_compute", "retention_sync_locks")


@pytest.fixture
def tokens(env: Env) -> dict[str, str]:
    return world(env)


def _search(env: Env, token: str, **params: str) -> list[str]:
    r = env.client(token).get("/api/v1/evidence", params=params)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def _store_lock(env: Env, sha: str) -> dt.datetime:
    info = env.store.stat(blob_key(sha))
    assert info is not None and info.retain_until is not None
    return info.retain_until


# -- item 1: the fiscal year against the document's date -------------------------------

@pytest.mark.parametrize("fields", [
    {"fiscal_year": "2557", "issue_date": "2018-04-26"},   # FY 2561 document
    {"fiscal_year": "2658", "issue_date": "2025-03-01"},   # a typo for 2568
    {"fiscal_year": str(fiscal_year(clock.today()) + 2)},  # after the next fiscal year
])
def test_implausible_fiscal_year_is_refused_with_a_clear_message(env: Env, tokens, fields):
    r = upload(env.client(tokens["off1"]), make_pdf("fy-typo"), **fields)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "implausible_fiscal_year"
    [problem] = body["detail"]
    assert problem["field"] == "fiscal_year"
    assert "confirm_fiscal_year" in problem["message"] and "ปีงบประมาณ" in problem["message"]
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == 0


def test_one_year_either_side_of_the_issue_date_is_accepted(env: Env, tokens):
    client = env.client(tokens["off1"])
    for n, fy in enumerate(("2567", "2568", "2569")):
        r = upload(client, make_pdf(f"fy-ok-{n}"), fiscal_year=fy, issue_date="2025-03-01")
        assert r.status_code == 201, r.text


def test_confirmed_fiscal_year_typo_can_be_corrected_before_it_is_permanent(env: Env, tokens):
    """GIVEN FY 2658 typed (and confirmed) for a document of 1 March 2025 (FY 2568)
    THEN the store lock runs only as far as the rule can justify at upload time (FY 2569,
    the year after the document's), not to 2120; the inspection warns of the mismatch;
    AND after the correction to 2568 the retention follows the corrected year."""
    client = env.client(tokens["off1"])
    r = upload(client, make_pdf("fy-2658"), fiscal_year="2658", issue_date="2025-03-01",
               confirm_fiscal_year="true")
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["fiscal_year"] == 2658
    lock = _store_lock(env, rec["sha256"])
    # audit_closure schedule: 5 years after the end of FY 2569 (30 Sep 2026) at the most
    assert lock <= clock.start_of_day(dt.date(2031, 10, 1)) + dt.timedelta(seconds=2)
    assert lock.year < 2040
    run_jobs(env, ALL_JOBS)
    inspection = client.get(f"/api/v1/evidence/{rec['id']}/inspection").json()
    assert "fiscal_year" in {w["field"] for w in inspection["warnings"]}
    with env.session() as s:
        before = s.get(Evidence, __import__("uuid").UUID(rec["id"]))
        assert before is not None and before.retain_until is not None
        assert before.retain_until.year >= 2120   # the record's own date follows the typo

    fixed = client.patch(f"/api/v1/evidence/{rec['id']}",
                         json={"fiscal_year": 2568, "reason": "typo"},
                         headers={"If-Match": f'"{rec["version"]}"'})
    assert fixed.status_code == 200, fixed.text
    run_jobs(env, ALL_JOBS)
    retention = env.client(tokens["rm1"]).get(f"/api/v1/retention/records/{rec['id']}")
    assert retention.status_code == 200, retention.text
    body = retention.json()
    assert body["fiscal_year"] == 2568
    assert body["retain_until"].startswith("2030-09-30T17:00")   # 1 Oct 2030 in Bangkok
    # the store keeps what it has (it cannot shorten), no more than the FY 2569 horizon
    assert _store_lock(env, rec["sha256"]) == lock


def test_fiscal_year_for_lock_is_bounded_by_what_upload_time_justifies():
    from archive.evidence.service import fiscal_year_for_lock

    today = dt.date(2025, 3, 15)
    assert fiscal_year_for_lock(2658, dt.date(2025, 3, 1), today) == 2569
    assert fiscal_year_for_lock(2658, None, today) == 2569
    assert fiscal_year_for_lock(2566, dt.date(2025, 3, 1), today) == 2566
    assert fiscal_year_for_lock(2568, dt.date(2025, 3, 1), today) == 2568


# -- issue 16 item 16: the lock horizon of old records ---------------------------------

def test_old_records_are_locked_to_their_earliest_destruction_not_ten_years(env: Env, tokens):
    """GIVEN a receipt of FY 2555 ingested today: its earliest lawful destruction has
    passed, so the bytes are locked for the minimum horizon only (not until 2036)."""
    r = upload(env.client(tokens["off1"]), make_pdf("fy-2555"), fiscal_year="2555",
               issue_date="2012-05-01")
    assert r.status_code == 201, r.text
    lock = _store_lock(env, r.json()["sha256"])
    horizon = dt.datetime.now(dt.UTC) + dt.timedelta(days=env.settings.lock_min_horizon_days)
    assert abs((lock - horizon).total_seconds()) < 120


def test_new_records_are_locked_to_their_earliest_lawful_destruction(env: Env, tokens):
    fy = fiscal_year(clock.today())
    r = upload(env.client(tokens["off1"]), make_pdf("fy-now"), fiscal_year=str(fy))
    assert r.status_code == 201, r.text
    # receipts: audit_closure, 5 years after the end of the fiscal year at the earliest
    expected = clock.start_of_day(dt.date(fy - 543 + 5, 10, 1))
    assert abs((_store_lock(env, r.json()["sha256"]) - expected).total_seconds()) < 2


def test_lock_sync_keeps_provisional_records_a_horizon_ahead(env: Env, tokens):
    """GIVEN an unaudited record whose lock comes close to its end (simulated by a short
    lock in the blob row and the store) THEN the daily sync extends it a horizon ahead."""
    from archive.queue.service import enqueue

    # FY 2563: 5 years after its end have passed, 10 years not yet: provisional
    r = upload(env.client(tokens["off1"]), make_pdf("fy-2563"), fiscal_year="2563",
               issue_date="2020-05-01")
    rec = r.json()
    run_jobs(env, ALL_JOBS)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    with env.session() as s:
        ev = s.get(Evidence, __import__("uuid").UUID(rec["id"]))
        assert ev is not None and "provisional" in (ev.retention_basis or "")
        s.execute(sa.update(Blob).where(Blob.id == ev.blob_id).values(retain_until=soon))
        enqueue(s, "retention_sync_locks", {})
    run_jobs(env, ALL_JOBS)
    with env.session() as s:
        blob = s.scalar(sa.select(Blob).where(Blob.sha256 == rec["sha256"]))
        assert blob is not None
        assert blob.retain_until > dt.datetime.now(dt.UTC) + dt.timedelta(days=300)


def test_forecast_shows_when_the_store_releases_the_bytes(env: Env, tokens):
    r = upload(env.client(tokens["off1"]), make_pdf("fy-2555-c"), fiscal_year="2555",
               issue_date="2012-05-01")
    assert r.status_code == 201
    run_jobs(env, ALL_JOBS)
    body = env.client(tokens["rm1"]).get("/api/v1/retention/forecast",
                                         params={"until": "2030-01-01"}).json()
    [group] = body["groups"]
    lock = _store_lock(env, r.json()["sha256"]).astimezone(clock.BANGKOK).date()
    assert group["store_releases_on"] == lock.isoformat()
    # the same forecast asked with a Buddhist-Era date, or Thai digits
    rm = env.client(tokens["rm1"])
    for until in ("2573-01-01", "๒๕๗๓-๐๑-๐๑"):
        same = rm.get("/api/v1/retention/forecast", params={"until": until}).json()
        assert same["until"] == "2030-01-01" and same["groups"] == body["groups"]
    bad = rm.get("/api/v1/retention/forecast", params={"until": "2030-02-30"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_date"


# -- issue 16 item 11: cross-checks and the defaulted fiscal year ----------------------

def test_tax_invoice_typed_as_receipt_warns_and_fills_vat(env: Env, tokens):
    client = env.client(tokens["off1"])
    r = upload(client, etda_invoice_xml(), filename="inv.xml", doc_type="receipt")
    assert r.status_code == 201, r.text
    rec = r.json()
    run_jobs(env, ALL_JOBS)
    inspection = client.get(f"/api/v1/evidence/{rec['id']}/inspection").json()
    [warning] = [w for w in inspection["warnings"] if w["field"] == "doc_type"]
    assert warning["typed"] == "receipt" and warning["found"] == "388"
    assert "vat_amount" in inspection["filled"]
    assert client.get(f"/api/v1/evidence/{rec['id']}").json()["vat_amount"] == "700.00"


def test_defaulted_fiscal_year_follows_the_issue_date_found_in_the_file(env: Env, tokens):
    """GIVEN an invoice of 15 Jan 2025 (FY 2568) uploaded with neither issue date nor
    fiscal year: the fiscal year defaulted from the upload day is re-derived."""
    client = env.client(tokens["off1"])
    r = upload(client, etda_invoice_xml(number="INV-DEFAULT"), filename="inv.xml",
               doc_type="tax_invoice")
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["fiscal_year"] == fiscal_year(clock.today())
    run_jobs(env, ALL_JOBS)
    after = client.get(f"/api/v1/evidence/{rec['id']}").json()
    assert after["issue_date"] == "2025-01-15"
    assert after["fiscal_year"] == 2568
    inspection = client.get(f"/api/v1/evidence/{rec['id']}/inspection").json()
    assert "fiscal_year" in inspection["filled"]


def test_typed_fiscal_year_of_another_year_than_the_file_warns(env: Env, tokens):
    client = env.client(tokens["off1"])
    r = upload(client, etda_invoice_xml(number="INV-FY"), filename="inv.xml",
               doc_type="tax_invoice", fiscal_year="2569")
    assert r.status_code == 201, r.text
    run_jobs(env, ALL_JOBS)
    inspection = client.get(f"/api/v1/evidence/{r.json()['id']}/inspection").json()
    [warning] = [w for w in inspection["warnings"] if w["field"] == "fiscal_year"]
    assert (warning["typed"], warning["found"]) == (2569, 2568)
    assert client.get(f"/api/v1/evidence/{r.json()['id']}").json()["fiscal_year"] == 2569


# -- item 2: upload dates are Thailand days --------------------------------------------

def test_upload_date_filter_counts_thailand_days(env: Env, tokens):
    """A record uploaded 3 Dec 2026 01:46 in Bangkok (2 Dec 18:46 UTC) is found under
    3 December, not 2 December."""
    r = upload(env.client(tokens["off1"]), make_pdf("night"))
    rec_id = r.json()["id"]
    with env.session() as s:
        s.execute(sa.update(Evidence).where(Evidence.id == __import__("uuid").UUID(rec_id))
                  .values(created_at=dt.datetime(2026, 12, 2, 18, 46, tzinfo=dt.UTC)))
    aud = tokens["aud1"]
    assert _search(env, aud, uploaded_from="2026-12-03", uploaded_to="2026-12-03") == [rec_id]
    assert _search(env, aud, uploaded_from="2026-12-02", uploaded_to="2026-12-02") == []
    assert _search(env, aud, uploaded_from="2569-12-03", uploaded_to="2569-12-03") == [rec_id]


# -- issue 16 item 8 and item 11: BE dates and Thai digits, one rule everywhere --------

def test_buddhist_era_dates_are_converted_in_uploads_and_searches(env: Env, tokens):
    client = env.client(tokens["off1"])
    r = upload(client, make_pdf("be-date"), issue_date="2568-03-01")
    assert r.status_code == 201, r.text
    assert r.json()["issue_date"] == "2025-03-01"
    assert r.json()["fiscal_year"] == 2568
    rec_id = r.json()["id"]
    aud = tokens["aud1"]
    assert _search(env, aud, issue_date_from="2568-01-01") == [rec_id]
    assert _search(env, aud, issue_date_from="๒๕๖๘-๐๑-๐๑", issue_date_to="1/3/2568") == [rec_id]
    assert _search(env, aud, issue_date_to="2567-12-31") == []
    fixed = client.patch(f"/api/v1/evidence/{rec_id}", json={"issue_date": "2568-03-02"},
                         headers={"If-Match": '"1"'})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["issue_date"] == "2025-03-02"


def test_thai_digits_are_accepted_wherever_a_number_is_typed(env: Env, tokens):
    client = env.client(tokens["off1"])
    r = upload(client, make_pdf("thai-digits"), issuer_tax_id="๐๑๐๕๕๑๒๓๔๕๖๗๑",
               issuer_branch="๐๐๐๐๐", fiscal_year="๒๕๖๘", issue_date="๒๕๖๘-๐๓-๐๑",
               amount="๑,๐๗๐.๐๐", vat_amount="๗๐")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["issuer_tax_id"], body["issuer_branch"], body["fiscal_year"]) == \
        ("0105512345671", "00000", 2568)
    assert (body["amount"], body["vat_amount"]) == ("1070.00", "70.00")
    aud = tokens["aud1"]
    assert _search(env, aud, issuer_tax_id="๐๑๐๕๕๑๒๓๔๕๖๗๑", fiscal_year="๒๕๖๘",
                   amount_min="๑,๐๐๐") == [body["id"]]


@pytest.mark.parametrize("amount,ok", [("1,070", True), ("1,234,567.50", True),
                                       ("1070", True), ("1,0,7,0", False), ("10,70", False),
                                       ("1,2345", False), (",100", False)])
def test_thousands_separators_only_in_their_places(env: Env, tokens, amount, ok):
    r = upload(env.client(tokens["off1"]), make_pdf(f"amount-{amount}"), amount=amount)
    assert (r.status_code == 201) is ok, r.text
    if not ok:
        assert r.json()["error"] == "invalid_metadata"
        search = env.client(tokens["aud1"]).get("/api/v1/evidence",
                                                params={"amount_min": amount})
        assert search.status_code == 422


# -- item 10: one Thai normalisation for indexing and querying -------------------------

VARIANTS = [
    ("จ\u0e4d\u0e32นวน", "จำนวน"),        # sara am as nikhahit + sara aa
    ("ท\u0e48\u0e35ดิน", "ที่ดิน"),         # tone mark typed before the upper vowel
    ("เลขที่ ๑๒๕๐๐", "12500"),            # Thai digits found by Arabic digits
    ("น\u0e4d\u0e49\u0e32ประปา", "น้ำประปา"),  # nikhahit before the tone mark
]


@pytest.mark.parametrize("written,query", VARIANTS)
def test_thai_variants_in_metadata_are_found(env: Env, tokens, written, query):
    r = upload(env.client(tokens["off1"]), make_pdf("variant"), description=written)
    assert r.status_code == 201, r.text
    assert _search(env, tokens["aud1"], q=query) == [r.json()["id"]]
    assert _search(env, tokens["aud1"], q=written) == [r.json()["id"]]


@pytest.mark.parametrize("written,query", VARIANTS)
def test_thai_variants_in_file_text_are_found(env: Env, tokens, written, query):
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Note><Text>ค่า {written} '
           f'เดือนมกราคม</Text></Note>\n').encode()
    r = upload(env.client(tokens["off1"]), xml, filename="note.xml", doc_type="other")
    assert r.status_code == 201, r.text
    run_jobs(env, ("extract_text",))
    assert _search(env, tokens["aud1"], q=query) == [r.json()["id"]]


# -- the new messages read in Thai on the pages ----------------------------------------

def test_new_messages_read_in_thai():
    import re

    from api.web import present
    from archive.inspection.crosscheck import cross_check
    from archive.messages import message
    from archive.validators import fiscal_year_problem, typed_date, typed_decimal
    from tests.archive.inspection.test_crosscheck import found

    messages = [w.message for w in cross_check(
        {"doc_type": "receipt", "vat_amount": "70.00"},
        found(document_type_code="388", tax_total=Decimal("700.00"))).warnings]
    assert len(messages) == 2
    # The services say a code with parameters (issue 16 item 12): the pages render the
    # Thai from the catalog, so what is checked here is the message object itself.
    messages.append(fiscal_year_problem(2658, dt.date(2025, 3, 1), dt.date(2025, 3, 2)))
    messages.append(fiscal_year_problem(2600, None, dt.date(2025, 3, 2)))
    messages.append(message("crosscheck.fiscal_year", "fiscal year {value} is not the fiscal "
                            "year of the issue date {date} ({date_year})", value=2569,
                            date="2025-01-15", date_year=2568))
    for bad, parse in (("1,0,7,0", typed_decimal), ("15-01-2025", typed_date),
                       ("2568-02-30", typed_date)):
        with pytest.raises(ValueError) as err:
            parse(bad)
        messages.append(err.value.args[0])
    for said in messages:
        thai = present.Formatter("th").message(said)
        assert thai != said and re.search("[\u0e00-\u0e7f]", thai), said
        # no English words left, but for the values quoted (in parentheses)
        bare = re.sub(r"\([^)]*\)|'[^']*'|confirm_fiscal_year=true", "", thai)
        assert not re.search("[a-z]{4,}", bare), thai


def test_survey_shows_when_the_store_releases_the_bytes(env: Env, tokens):
    """GIVEN a receipt of FY 2555 ingested today (eligible now, locked for the horizon)
    THEN the survey says when the store will release its bytes."""
    r = upload(env.client(tokens["off1"]), make_pdf("fy-2555-survey"), fiscal_year="2555",
               issue_date="2012-05-01")
    assert r.status_code == 201
    run_jobs(env, ALL_JOBS)
    survey = env.client(tokens["rm1"]).post("/api/v1/retention/survey",
                                            json={"dry_run": True})
    assert survey.status_code == 200, survey.text
    [entry] = survey.json()["lists"]
    lock = _store_lock(env, r.json()["sha256"]).astimezone(clock.BANGKOK).date()
    assert entry["store_releases_on"] == lock.isoformat()
    assert lock < dt.date.today() + dt.timedelta(days=400)    # not 2036


def test_csv_upload_time_is_thailand_time(env: Env, tokens):
    import csv
    import io

    r = upload(env.client(tokens["off1"]), make_pdf("csv-night"))
    with env.session() as s:
        s.execute(sa.update(Evidence).where(Evidence.id == __import__("uuid").UUID(r.json()["id"]))
                  .values(created_at=dt.datetime(2026, 12, 2, 18, 46, tzinfo=dt.UTC)))
    body = env.client(tokens["aud1"]).get("/api/v1/evidence.csv").content.decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(body)))
    assert row["uploaded_at"] == "2026-12-03T01:46:00+07:00"

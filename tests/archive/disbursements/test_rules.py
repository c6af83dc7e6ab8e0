"""The audit checks as a pure function: one planted case and a clean twin per finding code,
and properties that must hold for every input (hypothesis)."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.disbursements import rules
from archive.disbursements.models import KINDS, PAYMENT_METHODS, ROLES
from archive.disbursements.profiles import DEFAULT_PROFILE, Profile, check_profile, default_profile

PROFILE = default_profile()
SELLER = "0105538025143"      # passes the check digit
OTHER = "0994000165510"       # passes too
BAD = "0105538025144"         # fails it
ORG = 7


def voucher(**kw: object) -> rules.Voucher:
    base: dict[str, object] = dict(
        id=uuid.UUID(int=1), org_id=ORG, kind="procurement", voucher_date=dt.date(2025, 1, 10),
        payee_name="ร้านทดสอบ", payee_tax_id=SELLER, gross_amount=Decimal("10700.00"),
        payment_method="e_payment", payment_date=dt.date(2025, 1, 20),
        expenditure_category="ค่าวัสดุ")
    base.update(kw)
    return rules.Voucher(**base)  # type: ignore[arg-type]


def doc(role: str, n: int = 0, **kw: object) -> rules.Doc:
    return rules.Doc(evidence_id=uuid.UUID(int=1000 + n), role=role, **kw)  # type: ignore[arg-type]


def full_set(**receipt: object) -> list[rules.Doc]:
    """Every role a procurement paid by e-payment needs, clean."""
    return [doc("request_report", 1), doc("purchase_order", 2),
            doc("inspection_report", 3, issue_date=dt.date(2025, 1, 15)),
            doc("tax_invoice", 4, issuer_tax_id=SELLER, doc_number="INV-1",
                amount=Decimal("10700.00"), blob_id=44, **receipt),
            doc("e_payment_report", 5)]


def codes(v: rules.Voucher, docs: list[rules.Doc], **kw: object) -> tuple[str, ...]:
    return rules.evaluate(v, docs, PROFILE, **kw).codes  # type: ignore[arg-type]


def test_a_clean_voucher_has_no_finding():
    result = rules.evaluate(voucher(), full_set(), PROFILE)
    assert result.codes == ()
    assert result.completeness.complete


# -- one planted case and one clean twin per code ---------------------------------------

def test_missing_evidence_names_the_alternatives():
    docs = [d for d in full_set() if d.role != "tax_invoice"]
    result = rules.evaluate(voucher(), docs, PROFILE)
    assert result.codes == ("missing_evidence",)
    assert result.completeness.missing == (("receipt", "tax_invoice", "payment_acknowledgement"),)
    assert codes(voucher(), full_set()) == ()


def test_e_payment_report_is_required_only_for_e_payment():
    docs = [d for d in full_set() if d.role != "e_payment_report"]
    assert codes(voucher(), docs) == ("missing_evidence",)
    assert codes(voucher(payment_method="cheque"), docs) == ()


def test_amount_mismatch_and_its_twin():
    planted = full_set()
    planted[3] = doc("tax_invoice", 4, issuer_tax_id=SELLER, doc_number="INV-1",
                     amount=Decimal("10000.00"))
    finding = rules.evaluate(voucher(), planted, PROFILE).findings[0]
    assert finding.code == "amount_mismatch"
    assert finding.evidence_ids == (uuid.UUID(int=1004),)
    assert codes(voucher(), full_set()) == ()


def test_the_file_s_own_grand_total_counts_over_what_was_typed():
    typed_wrong = full_set(file_amount=Decimal("10700.00"))
    typed_wrong[3] = doc("tax_invoice", 4, issuer_tax_id=SELLER, doc_number="INV-1",
                         amount=Decimal("9000.00"), file_amount=Decimal("10700.00"))
    assert codes(voucher(), typed_wrong) == ()
    file_wrong = list(typed_wrong)
    file_wrong[3] = doc("tax_invoice", 4, issuer_tax_id=SELLER, doc_number="INV-1",
                        amount=Decimal("10700.00"), file_amount=Decimal("9000.00"))
    assert codes(voucher(), file_wrong) == ("amount_mismatch",)


def test_several_receipts_add_up():
    docs = [d for d in full_set() if d.role != "tax_invoice"]
    docs += [doc("receipt", 10, amount=Decimal("5000.00")),
             doc("receipt", 11, amount=Decimal("5700.00"))]
    assert codes(voucher(), docs) == ()
    docs[-1] = doc("receipt", 11, amount=Decimal("5600.00"))
    assert codes(voucher(), docs) == ("amount_mismatch",)


def test_payee_mismatch_and_its_twin():
    planted = full_set()
    planted[3] = doc("tax_invoice", 4, issuer_tax_id=OTHER, doc_number="INV-1",
                     amount=Decimal("10700.00"))
    assert codes(voucher(), planted) == ("payee_mismatch",)
    # the seller's ID with its branch appended is the same payee
    twin = full_set()
    twin[3] = doc("tax_invoice", 4, file_tax_id=SELLER + "00002", doc_number="INV-1",
                  amount=Decimal("10700.00"))
    assert codes(voucher(), twin) == ()


def test_travel_is_not_held_to_the_supplier_checks():
    """A travel voucher pays the traveller (allowances included): a hotel's receipt is
    neither the gross amount nor the payee — by the default profile, which says so."""
    hotel = [doc("travel_order", 1), doc("travel_report", 2), doc("e_payment_report", 3),
             doc("receipt", 4, issuer_tax_id=OTHER, amount=Decimal("1200.00"))]
    assert codes(voucher(kind="travel"), hotel) == ()
    assert set(codes(voucher(kind="other"), [doc("receipt", 4, issuer_tax_id=OTHER,
                                                 amount=Decimal("1200.00"))])) == {
        "amount_mismatch", "payee_mismatch"}


def test_duplicate_invoice_by_issuer_and_number_and_by_bytes():
    other_voucher = uuid.UUID(int=2)
    by_number = rules.LinkedElsewhere(other_voucher, 99, "receipt", blob_id=7,
                                      keys=frozenset({f"{SELLER}/INV11"}))
    result = rules.evaluate(voucher(), full_set(), PROFILE, elsewhere=[by_number])
    assert result.codes == ()            # another number of the same issuer
    # the same number written another way matches
    same = rules.LinkedElsewhere(other_voucher, 99, "receipt", blob_id=7,
                                 keys=frozenset({rules.doc_key(SELLER, " inv 1 ")}))
    finding = rules.evaluate(voucher(), full_set(), PROFILE, elsewhere=[same]).findings[0]
    assert finding.code == "duplicate_invoice"
    assert finding.related == ((other_voucher, 99),)
    assert finding.evidence_ids == (uuid.UUID(int=1004),)
    by_bytes = rules.LinkedElsewhere(other_voucher, 99, "invoice", blob_id=44)
    assert codes(voucher(), full_set(), elsewhere=[by_bytes]) == ("duplicate_invoice",)


def test_duplicate_twins_that_must_not_fire():
    # the same voucher's own link, a contract (instalments), another issuer's same number
    own = rules.LinkedElsewhere(voucher().id, ORG, "receipt", blob_id=44,
                                keys=frozenset({rules.doc_key(SELLER, "INV-1")}))
    contract = rules.LinkedElsewhere(uuid.UUID(int=3), ORG, "contract", blob_id=44)
    other_issuer = rules.LinkedElsewhere(uuid.UUID(int=4), ORG, "tax_invoice", blob_id=9,
                                         keys=frozenset({rules.doc_key(OTHER, "INV-1")}))
    assert codes(voucher(), full_set(), elsewhere=[own, contract, other_issuer]) == ()


def _peer(n: int, day: int, amount: str, **kw: object) -> rules.Peer:
    base: dict[str, object] = dict(
        id=uuid.UUID(int=100 + n), org_id=ORG, kind="procurement", payee_key=SELLER,
        expenditure_category="ค่าวัสดุ", voucher_date=dt.date(2025, 1, day),
        gross_amount=Decimal(amount))
    base.update(kw)
    return rules.Peer(**base)  # type: ignore[arg-type]


def test_split_purchase_and_its_twins():
    v = voucher(gross_amount=Decimal("60000.00"), voucher_date=dt.date(2025, 1, 10))
    docs = full_set()
    docs[3] = doc("tax_invoice", 4, issuer_tax_id=SELLER, amount=Decimal("60000.00"))
    planted = [_peer(1, 20, "50000.00")]
    finding = [f for f in rules.evaluate(v, docs, PROFILE, peers=planted).findings]
    assert [f.code for f in finding] == ["split_purchase"]
    assert finding[0].details["threshold"] == "100000.00"
    assert finding[0].related == ((uuid.UUID(int=101), ORG),)
    # together at most the threshold; outside the window; another payee; another category;
    # another organisation; one part above the threshold: none fires
    for twin in ([_peer(1, 20, "40000.00")],
                 [_peer(1, 28, "50000.00", voucher_date=dt.date(2025, 2, 28))],
                 [_peer(1, 20, "50000.00", payee_key=OTHER)],
                 [_peer(1, 20, "50000.00", expenditure_category="ค่าครุภัณฑ์")],
                 [_peer(1, 20, "50000.00", org_id=ORG + 1)],
                 [_peer(1, 20, "150000.00")]):
        assert codes(v, docs, peers=twin) == (), twin


def test_split_reports_the_highest_threshold_crossed():
    v = voucher(gross_amount=Decimal("200000.00"))
    found = rules.split_groups(v, PROFILE, [_peer(1, 12, "200000.00"),
                                            _peer(2, 14, "150000.00")])
    assert found is not None and found[0] == Decimal("500000.00") and len(found[1]) == 3


def test_paid_before_acceptance_and_its_twin():
    early = voucher(payment_date=dt.date(2025, 1, 12))
    assert codes(early, full_set()) == ("paid_before_acceptance",)
    assert codes(voucher(payment_date=dt.date(2025, 1, 15)), full_set()) == ()
    assert codes(voucher(payment_date=None), full_set()) == ()


def test_invalid_payee_tax_id_and_its_twin():
    assert "invalid_payee_tax_id" in codes(voucher(payee_tax_id=BAD), full_set())
    assert codes(voucher(payee_tax_id=SELLER), full_set()) == ()


def test_document_numbers_compare_without_case_spaces_and_separators():
    assert rules.doc_key(SELLER, "INV-2568/0001") == rules.doc_key(SELLER, "inv 2568 0001")
    assert rules.doc_key(SELLER + "00002", "A1") == rules.doc_key(SELLER, "a-1")
    assert rules.doc_key(SELLER, "A1") != rules.doc_key(SELLER, "A11")
    assert rules.doc_key(None, "A1") is None and rules.doc_key(SELLER, " - ") is None


def test_duplicate_message_counts_vouchers_outside_the_scope_without_naming_them():
    details = {"matches": [{"evidence_id": "x", "basis": ["document"],
                            "keys": [f"{SELLER}/INV-1"]}]}
    text = rules.duplicate_message(details, visible=0, hidden=1)
    assert "1 voucher outside your scope" in text and SELLER in text


# -- the profile is data ----------------------------------------------------------------

def test_the_default_profile_is_valid_and_carries_its_basis():
    assert check_profile(DEFAULT_PROFILE) == []
    assert "500,000" in DEFAULT_PROFILE["basis_th"]


@pytest.mark.parametrize("change, field", [
    (lambda p: p["requirements"]["travel"].append({"any_of": ["passport"]}),
     "requirements.travel[4]"),
    (lambda p: p["split"].update(thresholds=[100000.0]), "split.thresholds"),
    (lambda p: p["split"].update(window_days=0), "split.window_days"),
    (lambda p: p.pop("basis_en"), "basis_en"),
    (lambda p: p["requirements"].pop("payroll"), "requirements.payroll"),
])
def test_a_bad_profile_is_refused_with_the_field(change, field):
    profile = copy.deepcopy(DEFAULT_PROFILE)
    change(profile)
    assert field in [p["field"] for p in check_profile(profile)]


def test_a_changed_profile_changes_the_rules():
    data = copy.deepcopy(DEFAULT_PROFILE)
    data["split"]["thresholds"] = ["50000.00"]
    data["requirements"]["procurement"] = [{"any_of": ["request_report"]}]
    profile = Profile.from_data(data)
    v = voucher(gross_amount=Decimal("30000.00"))
    docs = [doc("request_report", 1)]
    assert rules.evaluate(v, docs, profile, peers=[_peer(1, 12, "30000.00")]).codes == (
        "split_purchase",)
    assert rules.evaluate(v, docs, PROFILE, peers=[_peer(1, 12, "30000.00")]).codes == (
        "missing_evidence",)


# -- properties -------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("900000"), places=2)
days = st.integers(min_value=1, max_value=120).map(lambda n: dt.date(2025, 1, 1)
                                                   + dt.timedelta(days=n))
tax_ids = st.sampled_from([SELLER, OTHER, BAD, None])


@st.composite
def docs_strategy(draw: st.DrawFn) -> list[rules.Doc]:
    n = draw(st.integers(min_value=0, max_value=8))
    out = []
    for i in range(n):
        out.append(rules.Doc(
            evidence_id=uuid.UUID(int=5000 + draw(st.integers(0, 5))),
            role=draw(st.sampled_from(ROLES)), blob_id=draw(st.sampled_from([None, 1, 2])),
            issuer_tax_id=draw(tax_ids), doc_number=draw(st.sampled_from([None, "A1", "B2"])),
            issue_date=draw(st.one_of(st.none(), days)),
            amount=draw(st.one_of(st.none(), amounts)),
            file_amount=draw(st.one_of(st.none(), amounts)),
            file_tax_id=draw(st.sampled_from([None, SELLER]))))
        del i
    return out


@st.composite
def voucher_strategy(draw: st.DrawFn) -> rules.Voucher:
    return voucher(kind=draw(st.sampled_from(KINDS)),
                   payment_method=draw(st.sampled_from(PAYMENT_METHODS)),
                   payee_tax_id=draw(tax_ids), gross_amount=draw(amounts),
                   voucher_date=draw(days), payment_date=draw(st.one_of(st.none(), days)))


elsewhere_strategy = st.lists(st.builds(
    rules.LinkedElsewhere, disbursement_id=st.integers(1, 6).map(lambda n: uuid.UUID(int=n)),
    org_id=st.integers(1, 3), role=st.sampled_from(ROLES),
    blob_id=st.sampled_from([None, 1, 2, 3]),
    keys=st.frozensets(st.sampled_from([f"{SELLER}/A1", f"{OTHER}/B2"]), max_size=2)),
    max_size=5)
peers_strategy = st.lists(st.builds(
    rules.Peer, id=st.integers(10, 20).map(lambda n: uuid.UUID(int=n)), org_id=st.just(ORG),
    kind=st.sampled_from(["procurement", "travel"]), payee_key=st.sampled_from([SELLER, OTHER]),
    expenditure_category=st.just("ค่าวัสดุ"), voucher_date=days, gross_amount=amounts),
    max_size=6, unique_by=lambda p: p.id)


@settings(max_examples=300, deadline=None)
@given(v=voucher_strategy(), docs=docs_strategy(), elsewhere=elsewhere_strategy,
       peers=peers_strategy, seed=st.randoms(use_true_random=False))
def test_the_order_of_links_and_neighbours_never_changes_the_findings(v, docs, elsewhere,
                                                                        peers, seed):
    first = rules.evaluate(v, docs, PROFILE, elsewhere=elsewhere, peers=peers)
    shuffled = [list(x) for x in (docs, elsewhere, peers)]
    for x in shuffled:
        seed.shuffle(x)
    again = rules.evaluate(v, shuffled[0], PROFILE, elsewhere=shuffled[1], peers=shuffled[2])
    assert first == again
    assert [f.message for f in first.findings] == [f.message for f in again.findings]


@settings(max_examples=300, deadline=None)
@given(v=voucher_strategy(), docs=docs_strategy())
def test_adding_a_missing_role_never_adds_missing_evidence(v, docs):
    before = rules.evaluate(v, docs, PROFILE)
    for group in before.completeness.missing:
        added = [*docs, rules.Doc(evidence_id=uuid.uuid4(), role=group[-1])]
        after = rules.evaluate(v, added, PROFILE)
        assert set(after.completeness.missing) < set(before.completeness.missing)
        assert ("missing_evidence" in after.codes) == bool(after.completeness.missing)


@settings(max_examples=300, deadline=None)
@given(v=voucher_strategy(), docs=docs_strategy(), role=st.sampled_from(ROLES))
def test_adding_any_file_never_adds_a_missing_role(v, docs, role):
    before = rules.evaluate(v, docs, PROFILE).completeness
    after = rules.evaluate(v, [*docs, rules.Doc(evidence_id=uuid.uuid4(), role=role)],
                           PROFILE).completeness
    assert set(after.missing) <= set(before.missing)
    assert after.required == before.required


@settings(max_examples=200, deadline=None)
@given(v=voucher_strategy(), docs=docs_strategy(), peers=peers_strategy)
def test_split_findings_are_symmetric(v, docs, peers):
    """Every voucher a split finding names finds the same split from its own side."""
    v = voucher(kind="procurement", payee_tax_id=SELLER, gross_amount=v.gross_amount,
                voucher_date=v.voucher_date)
    everyone = {p.id: p for p in peers}
    me = rules.Peer(v.id, v.org_id, v.kind, SELLER, v.expenditure_category, v.voucher_date,
                    v.gross_amount)
    everyone[me.id] = me
    found = rules.split_groups(v, PROFILE, peers)
    if found is None:
        return
    for member in found[1]:
        other = voucher(id=member.id, kind=member.kind, payee_tax_id=member.payee_key,
                        gross_amount=member.gross_amount, voucher_date=member.voucher_date)
        assert rules.split_groups(other, PROFILE, list(everyone.values())) is not None


@settings(max_examples=200, deadline=None)
@given(v=voucher_strategy(), docs=docs_strategy(), elsewhere=elsewhere_strategy)
def test_findings_only_name_the_voucher_s_own_files(v, docs, elsewhere):
    own = {d.evidence_id for d in docs}
    for f in rules.evaluate(v, docs, PROFILE, elsewhere=elsewhere).findings:
        assert set(f.evidence_ids) <= own
        assert all(r[0] != v.id for r in f.related)


@settings(max_examples=200, deadline=None)
@given(v=voucher_strategy(), docs=docs_strategy(), elsewhere=elsewhere_strategy,
       peers=peers_strategy)
def test_the_indexed_neighbourhood_gives_the_same_findings_as_every_candidate(
        v, docs, elsewhere, peers):
    """The recompute hands each voucher only its indexed neighbours (no quadratic batch)."""
    around = rules.Neighbourhood(elsewhere, peers)
    narrowed = rules.evaluate(v, docs, PROFILE, elsewhere=around.elsewhere_for(docs),
                              peers=around.peers_for(v))
    assert narrowed == rules.evaluate(v, docs, PROFILE, elsewhere=elsewhere, peers=peers)

"""The audit checks on a voucher: a pure function of the voucher, its evidence, its
neighbours (for double payments and split purchases) and the profile. No I/O.

:func:`evaluate` returns the voucher's completeness and its findings, one per code at most,
each with a stable code, a severity, a sentence an auditor can read, the voucher's own
evidence involved and the other vouchers involved (``related``: id and organisation). The
service persists them and shows each reader only the related vouchers in their scope.

Facts from a file's inspection count over what was typed (an e-Tax Invoice's own grand
total, seller tax ID, number and date): ``Doc.file_*``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from archive.disbursements.profiles import Profile
from archive.messages import Items, Message, message
from archive.thai import is_valid_tax_id

SEVERITY = {
    "missing_evidence": "error",
    "amount_mismatch": "error",
    "payee_mismatch": "error",
    "duplicate_invoice": "error",
    "split_purchase": "warning",
    "paid_before_acceptance": "error",
    "invalid_payee_tax_id": "warning",
}


@dataclass(frozen=True)
class Voucher:
    id: uuid.UUID
    org_id: int
    kind: str
    voucher_date: dt.date
    payee_name: str
    payee_tax_id: str | None
    gross_amount: Decimal
    payment_method: str
    payment_date: dt.date | None = None
    expenditure_category: str | None = None


@dataclass(frozen=True)
class Doc:
    """One of the voucher's linked files in one role, with what was typed and what the
    file itself says (its inspection)."""

    evidence_id: uuid.UUID
    role: str
    blob_id: int | None = None
    issuer_tax_id: str | None = None
    doc_number: str | None = None
    issue_date: dt.date | None = None
    amount: Decimal | None = None
    file_tax_id: str | None = None
    file_doc_number: str | None = None
    file_issue_date: dt.date | None = None
    file_amount: Decimal | None = None

    @property
    def seller_tax_id(self) -> str | None:
        return self.file_tax_id or self.issuer_tax_id

    @property
    def effective_amount(self) -> Decimal | None:
        return self.file_amount if self.file_amount is not None else self.amount

    @property
    def effective_date(self) -> dt.date | None:
        return self.file_issue_date or self.issue_date

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(k for k in (doc_key(self.issuer_tax_id, self.doc_number),
                                     doc_key(self.file_tax_id, self.file_doc_number)) if k)


@dataclass(frozen=True)
class LinkedElsewhere:
    """A document linked to another voucher (a candidate double payment)."""

    disbursement_id: uuid.UUID
    org_id: int
    role: str
    blob_id: int | None
    keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Peer:
    """Another voucher (a candidate part of a split purchase)."""

    id: uuid.UUID
    org_id: int
    kind: str
    payee_key: str | None
    expenditure_category: str | None
    voucher_date: dt.date
    gross_amount: Decimal


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    evidence_ids: tuple[uuid.UUID, ...] = ()
    related: tuple[tuple[uuid.UUID, int], ...] = ()
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Completeness:
    required: tuple[tuple[str, ...], ...]
    present: tuple[str, ...]
    missing: tuple[tuple[str, ...], ...]

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Evaluation:
    completeness: Completeness
    findings: tuple[Finding, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)


# -- keys --------------------------------------------------------------------------------

def normalise_number(number: str | None) -> str | None:
    """A document number as compared: NFKC, upper case, without spaces and separators
    (``inv 77``, ``INV-77`` and ``INV/77`` are one number): numbers are typed by hand, and a
    double payment hides best behind a different way of writing the same number."""
    if number is None:
        return None
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", number)).upper()
    return text or None


_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_./\\#:]+")


def tax_id_13(value: str | None) -> str | None:
    """The 13-digit ID of a tax ID that may carry a 5-digit branch or separators."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    return digits[:13] if len(digits) >= 13 else None


def doc_key(tax_id: str | None, number: str | None) -> str | None:
    """Issuer tax ID + document number: an invoice number is unique per issuer."""
    tax, num = tax_id_13(tax_id), normalise_number(number)
    if tax is None or num is None:
        return None
    return f"{tax}/{num}"[:130]


def payee_key(tax_id: str | None) -> str | None:
    return tax_id_13(tax_id)


# -- the evaluation ----------------------------------------------------------------------

class Neighbourhood:
    """The candidate neighbours of many vouchers at once, indexed so that each voucher
    is handed only its own (the same answer as passing everything, without the quadratic
    cost of a batch's vouchers each scanning all the batch's candidates)."""

    def __init__(self, elsewhere: Iterable[LinkedElsewhere], peers: Iterable[Peer]) -> None:
        self._by_key: dict[str, list[LinkedElsewhere]] = {}
        self._by_blob: dict[int, list[LinkedElsewhere]] = {}
        for other in elsewhere:
            for key in other.keys:
                self._by_key.setdefault(key, []).append(other)
            if other.blob_id is not None:
                self._by_blob.setdefault(other.blob_id, []).append(other)
        self._peers: dict[tuple[int, str | None], list[Peer]] = {}
        for peer in peers:
            self._peers.setdefault((peer.org_id, peer.payee_key), []).append(peer)

    def elsewhere_for(self, docs: Iterable[Doc]) -> list[LinkedElsewhere]:
        found: dict[int, LinkedElsewhere] = {}
        for d in docs:
            for key in d.keys:
                for other in self._by_key.get(key, ()):
                    found[id(other)] = other
            if d.blob_id is not None:
                for other in self._by_blob.get(d.blob_id, ()):
                    found[id(other)] = other
        return list(found.values())

    def peers_for(self, voucher: Voucher) -> list[Peer]:
        return self._peers.get((voucher.org_id, payee_key(voucher.payee_tax_id)), [])


def evaluate(voucher: Voucher, docs: Iterable[Doc], profile: Profile, *,
             elsewhere: Iterable[LinkedElsewhere] = (),
             peers: Iterable[Peer] = ()) -> Evaluation:
    """Completeness and findings of ``voucher`` (order of the inputs never matters)."""
    docs = sorted(set(docs), key=lambda d: (str(d.evidence_id), d.role))
    completeness = check_completeness(voucher, docs, profile)
    findings = [f for f in (
        _missing(completeness),
        _amount_mismatch(voucher, docs, profile),
        _payee_mismatch(voucher, docs, profile),
        _duplicate(voucher, docs, profile, elsewhere),
        _split(voucher, profile, peers),
        _paid_before_acceptance(voucher, docs, profile),
        _invalid_payee(voucher),
    ) if f is not None]
    return Evaluation(completeness, tuple(sorted(findings, key=lambda f: f.code)))


def requirements_for(voucher: Voucher, profile: Profile) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(r.any_of) for r in profile.requirements.get(voucher.kind, ())
                 if r.applies(voucher.payment_method))


def check_completeness(voucher: Voucher, docs: Sequence[Doc], profile: Profile) -> Completeness:
    required = requirements_for(voucher, profile)
    present = tuple(sorted({d.role for d in docs}))
    missing = tuple(group for group in required if not set(group) & set(present))
    return Completeness(required, present, missing)


def _ids(docs: Iterable[Doc]) -> tuple[uuid.UUID, ...]:
    return tuple(sorted({d.evidence_id for d in docs}, key=str))


def _missing(completeness: Completeness) -> Finding | None:
    if completeness.complete:
        return None
    groups = Items(message("finding.roles", "{roles: or }", roles=Items(role_name(r) for r in g))
                   for g in completeness.missing)
    return Finding("missing_evidence", SEVERITY["missing_evidence"],
                   message("finding.missing_evidence", "required evidence missing: {groups:; }",
                           groups=groups),
                   details={"missing": [list(g) for g in completeness.missing]})


def role_name(role: str) -> Message:
    """An evidence role in a finding (its code in English)."""
    return message(f"evidence_role.{role}", role)


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _amount_mismatch(voucher: Voucher, docs: Sequence[Doc], profile: Profile) -> Finding | None:
    if voucher.kind not in profile.amount_check_kinds:
        return None
    problems: list[dict[str, Any]] = []
    involved: list[Doc] = []
    for role in sorted(profile.payment_roles):
        with_amount = {d.evidence_id: d.effective_amount for d in docs
                       if d.role == role and d.effective_amount is not None}
        if not with_amount:
            continue
        total = sum(with_amount.values(), Decimal("0"))
        if total != voucher.gross_amount:
            problems.append({"role": role, "total": str(total), "files": len(with_amount)})
            involved += [d for d in docs if d.evidence_id in with_amount and d.role == role]
    if not problems:
        return None
    parts = Items(message("finding.role_total", "{role} {total}", role=role_name(p["role"]),
                          total=money(Decimal(p["total"]))) for p in problems)
    return Finding("amount_mismatch", SEVERITY["amount_mismatch"],
                   message("finding.amount_mismatch", "payment evidence does not add up to the "
                           "gross amount {gross}: {parts}", gross=money(voucher.gross_amount),
                           parts=parts),
                   evidence_ids=_ids(involved),
                   details={"gross_amount": str(voucher.gross_amount), "by_role": problems})


def _payee_mismatch(voucher: Voucher, docs: Sequence[Doc], profile: Profile) -> Finding | None:
    payee = tax_id_13(voucher.payee_tax_id)
    if payee is None or voucher.kind not in profile.payee_check_kinds:
        return None
    wrong = [d for d in docs if d.role in profile.payee_roles
             and tax_id_13(d.seller_tax_id) not in (None, payee)]
    if not wrong:
        return None
    sellers = sorted({tax_id_13(d.seller_tax_id) or "" for d in wrong})
    return Finding("payee_mismatch", SEVERITY["payee_mismatch"],
                   message("finding.payee_mismatch", "the seller on the receipt or tax invoice "
                           "({sellers}) is not the payee ({payee})", sellers=Items(sellers),
                           payee=payee),
                   evidence_ids=_ids(wrong), details={"payee_tax_id": payee, "sellers": sellers})


def _duplicate(voucher: Voucher, docs: Sequence[Doc], profile: Profile,
               elsewhere: Iterable[LinkedElsewhere]) -> Finding | None:
    mine = [d for d in docs if d.role in profile.duplicate_roles]
    if not mine:
        return None
    others = [o for o in elsewhere
              if o.disbursement_id != voucher.id and o.role in profile.duplicate_roles]
    matched_docs: dict[uuid.UUID, set[str]] = {}
    related: set[tuple[uuid.UUID, int]] = set()
    for doc in mine:
        for other in others:
            how = set()
            if doc.keys & other.keys:
                how.add("document")
            if doc.blob_id is not None and doc.blob_id == other.blob_id:
                how.add("bytes")
            if how:
                matched_docs.setdefault(doc.evidence_id, set()).update(how)
                related.add((other.disbursement_id, other.org_id))
    if not related:
        return None
    matches = []
    for evidence_id in sorted(matched_docs, key=str):
        doc = next(d for d in mine if d.evidence_id == evidence_id)
        matches.append({"evidence_id": str(evidence_id), "basis": sorted(matched_docs[evidence_id]),
                        "keys": sorted(doc.keys)})
    rel = tuple(sorted(related, key=lambda r: str(r[0])))
    details = {"matches": matches}
    return Finding("duplicate_invoice", SEVERITY["duplicate_invoice"],
                   duplicate_message(details, visible=len(rel), hidden=0),
                   evidence_ids=tuple(sorted(matched_docs, key=str)), related=rel,
                   details=details)


def duplicate_message(details: dict[str, Any], *, visible: int, hidden: int) -> Message:
    """The sentence of a double-payment finding for a reader who may see ``visible`` of
    the other vouchers and not ``hidden`` (those are counted, never identified)."""
    what = []
    for match in details.get("matches", []):
        keys = ", ".join(k.replace("/", " no. ") for k in match.get("keys", []))
        basis = Items(message("finding.same_document", "the same issuer and number")
                      if b == "document" else message("finding.same_file", "the same file")
                      for b in match.get("basis", []))
        what.append(message("finding.match", "{keys} ({basis: and })", basis=basis, keys=keys)
                    if keys else message("finding.match_file", "a file ({basis: and })",
                                         basis=basis))
    parts = []
    if visible:
        parts.append(message("finding.other_vouchers", "{n} other voucher{s}", n=visible,
                             s="s" if visible != 1 else ""))
    if hidden:
        parts.append(message("finding.hidden_vouchers", "{n} voucher{s} outside your scope",
                             n=hidden, s="s" if hidden != 1 else ""))
    if not parts:
        parts.append(message("finding.another_voucher", "another voucher"))
    return message("finding.duplicate_invoice", "possible double payment: {what:; } also paid "
                   "on {where: and }", what=Items(what), where=Items(parts))


def split_groups(voucher: Voucher, profile: Profile,
                 peers: Iterable[Peer]) -> tuple[Decimal, tuple[Peer, ...]] | None:
    """The highest threshold crossed and the window of vouchers crossing it, if any.

    Candidates: vouchers of the same organisation, kind (a split kind), payee and
    expenditure category. For a threshold T, a window is every candidate of at most T whose
    date lies in [s, s + window_days]; it signals a split when it holds at least two
    vouchers, this one among them, which together exceed T. Of several such windows the
    one with the largest total is reported (then the earliest). Every voucher of a
    signalled window is itself signalled by the same window, so findings are symmetric.
    """
    me_key = payee_key(voucher.payee_tax_id)
    if voucher.kind not in profile.split_kinds or me_key is None:
        return None
    me = Peer(voucher.id, voucher.org_id, voucher.kind, me_key, voucher.expenditure_category,
              voucher.voucher_date, voucher.gross_amount)
    group = {me.id: me}
    for p in peers:
        if (p.id != me.id and p.org_id == me.org_id and p.kind in profile.split_kinds
                and p.payee_key == me_key and p.expenditure_category == me.expenditure_category):
            group[p.id] = p
    if len(group) < 2:
        return None
    window = dt.timedelta(days=profile.split_window_days)
    for threshold in sorted(profile.split_thresholds, reverse=True):
        small = [p for p in group.values() if p.gross_amount <= threshold]
        if me.gross_amount > threshold or len(small) < 2:
            continue
        best: tuple[Decimal, dt.date, tuple[Peer, ...]] | None = None
        for start in sorted({p.voucher_date for p in small}):
            if not start <= me.voucher_date <= start + window:
                continue
            members = tuple(sorted((p for p in small if start <= p.voucher_date <= start + window),
                                   key=lambda p: (p.voucher_date, str(p.id))))
            total = sum((p.gross_amount for p in members), Decimal("0"))
            if len(members) >= 2 and total > threshold and (best is None or total > best[0]):
                best = (total, start, members)
        if best is not None:
            return threshold, best[2]
    return None


def _split(voucher: Voucher, profile: Profile, peers: Iterable[Peer]) -> Finding | None:
    found = split_groups(voucher, profile, peers)
    if found is None:
        return None
    threshold, members = found
    total = sum((p.gross_amount for p in members), Decimal("0"))
    first, last = members[0].voucher_date, members[-1].voucher_date
    related = tuple(sorted(((p.id, p.org_id) for p in members if p.id != voucher.id),
                           key=lambda r: str(r[0])))
    return Finding("split_purchase", SEVERITY["split_purchase"],
                   message("finding.split_purchase", "{n} {kind} vouchers to payee {payee} "
                           "between {first} and {last}, each at most {threshold} baht, "
                           "together {total} baht", n=len(members), kind=voucher.kind,
                           payee=payee_key(voucher.payee_tax_id), first=first.isoformat(),
                           last=last.isoformat(), threshold=money(threshold),
                           total=money(total)),
                   related=related,
                   details={"threshold": str(threshold), "total": str(total),
                            "vouchers": len(members), "from": first.isoformat(),
                            "to": last.isoformat(),
                            "window_days": profile.split_window_days})


def _paid_before_acceptance(voucher: Voucher, docs: Sequence[Doc],
                            profile: Profile) -> Finding | None:
    if voucher.payment_date is None:
        return None
    accepted = [d for d in docs if d.role in profile.acceptance_roles
                and d.effective_date is not None]
    if not accepted:
        return None
    first = min(d.effective_date for d in accepted if d.effective_date is not None)
    if voucher.payment_date >= first:
        return None
    return Finding("paid_before_acceptance", SEVERITY["paid_before_acceptance"],
                   message("finding.paid_before_acceptance", "paid on {paid}, before the "
                           "acceptance (inspection report) of {accepted}",
                           paid=voucher.payment_date.isoformat(), accepted=first.isoformat()),
                   evidence_ids=_ids(accepted),
                   details={"payment_date": voucher.payment_date.isoformat(),
                            "accepted_on": first.isoformat()})


def _invalid_payee(voucher: Voucher) -> Finding | None:
    tax = voucher.payee_tax_id
    if tax is None or is_valid_tax_id(tax):
        return None
    return Finding("invalid_payee_tax_id", SEVERITY["invalid_payee_tax_id"],
                   message("finding.invalid_payee_tax_id", "the payee's tax ID {tax} fails the "
                           "13-digit check digit", tax=tax),
                   details={"payee_tax_id": tax})

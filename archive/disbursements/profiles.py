"""The required-evidence profile: data the rules read, never constants in code.

A profile says, per kind of disbursement, which evidence roles a voucher needs (each
requirement a group of alternatives, some only for a payment method), which roles count as
payment evidence for the amount and payee checks, which roles a double payment is looked
for in, and the split-purchase thresholds and window. It carries its basis text (Thai and
English) and is versioned like the retention schedules: a records manager attached to a
top-level organisation changes it through the API or the CLI, every version is kept.

The default below is the one of ``DISBURSEMENT.md``. Its basis texts summarise the
Ministry of Interior regulations on LAO finance and the Public Procurement Act as that page
states them; a legal officer words them as the agency prefers (they are data).

:func:`check_profile` validates a profile as a whole; :class:`Profile` is the typed view
the pure rules take.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from archive.disbursements.models import KINDS, PAYMENT_METHODS, ROLES

DEFAULT_CODE = "default"

DEFAULT_PROFILE: dict[str, Any] = {
    "requirements": {
        "procurement": [
            {"any_of": ["request_report"]},
            {"any_of": ["purchase_order", "contract"]},
            {"any_of": ["inspection_report"]},
            {"any_of": ["receipt", "tax_invoice", "payment_acknowledgement"]},
            {"any_of": ["e_payment_report"], "if_payment_method": "e_payment"},
        ],
        "travel": [
            {"any_of": ["travel_order"]},
            {"any_of": ["travel_report"]},
            {"any_of": ["receipt", "payment_certificate"]},
            {"any_of": ["e_payment_report"], "if_payment_method": "e_payment"},
        ],
        "payroll": [
            {"any_of": ["payroll"]},
            {"any_of": ["e_payment_report"], "if_payment_method": "e_payment"},
        ],
        "utilities": [
            {"any_of": ["invoice", "receipt", "tax_invoice"]},
            {"any_of": ["e_payment_report"], "if_payment_method": "e_payment"},
        ],
        "other": [
            {"any_of": ["receipt", "payment_acknowledgement", "payment_certificate"]},
        ],
    },
    # The evidence of the payment itself: its amounts must add up to the gross amount —
    # for the kinds paid against one supplier's documents (a travel voucher's gross also
    # holds allowances no receipt shows; a payroll is paid against its list).
    "payment_roles": ["receipt", "tax_invoice", "payment_acknowledgement"],
    "amount_check_kinds": ["procurement", "utilities", "other"],
    # Whose seller must be the payee (documents that carry the seller's tax ID) — not for
    # travel, where the hotel's receipt supports a payment to the traveller.
    "payee_roles": ["receipt", "tax_invoice"],
    "payee_check_kinds": ["procurement", "utilities", "other"],
    # Where the same document (issuer tax ID + number, or the same bytes) on two vouchers
    # means a double payment. Contracts and transfer reports legitimately support several.
    "duplicate_roles": ["invoice", "tax_invoice", "receipt", "payment_acknowledgement"],
    "acceptance_roles": ["inspection_report"],
    "split": {
        "kinds": ["procurement"],
        "thresholds": ["100000.00", "500000.00"],
        "window_days": 30,
    },
    "basis_th": (
        "ระเบียบกระทรวงมหาดไทยว่าด้วยการรับเงิน การเบิกจ่ายเงิน การฝากเงิน การเก็บรักษาเงิน และ"
        "การตรวจเงินขององค์กรปกครองส่วนท้องถิ่น (หลักฐานการจ่าย: ใบเสร็จรับเงิน ใบสำคัญรับเงิน "
        "ใบรับรองการจ่ายเงิน รายงานการโอนเงิน) และพระราชบัญญัติการจัดซื้อจัดจ้างและการบริหาร"
        "พัสดุภาครัฐ พ.ศ. 2560 (ห้ามแบ่งซื้อแบ่งจ้างเพื่อให้วงเงินต่ำกว่าที่กำหนดหรือเปลี่ยนวิธี"
        "จัดซื้อจัดจ้าง หรือผู้มีอำนาจสั่งซื้อสั่งจ้าง; การตรวจรับพัสดุก่อนจ่ายเงิน) — ค่าเริ่มต้น"
        "ตาม DISBURSEMENT.md: วงเงิน 100,000 และ 500,000 บาท ภายใน 30 วัน"),
    "basis_en": (
        "Ministry of Interior regulation on receiving, disbursing, depositing, keeping and "
        "auditing the money of local administrative organisations (payment evidence: "
        "receipt, payee's acknowledgement, payment certificate, transfer report) and the "
        "Public Procurement and Supplies Administration Act B.E. 2560 (no splitting of a "
        "purchase to stay below a threshold or change the method or the approving "
        "authority; acceptance by the inspection committee before payment). Defaults of "
        "DISBURSEMENT.md: thresholds of 100,000 and 500,000 baht within 30 days; a group "
        "is flagged when every voucher in it is at most a threshold and together they "
        "exceed it."),
}


@dataclass(frozen=True)
class Requirement:
    any_of: tuple[str, ...]
    if_payment_method: str | None = None

    def applies(self, payment_method: str) -> bool:
        return self.if_payment_method is None or self.if_payment_method == payment_method


@dataclass(frozen=True)
class Profile:
    """The typed view of a profile's data that :mod:`archive.disbursements.rules` reads."""

    requirements: dict[str, tuple[Requirement, ...]]
    payment_roles: frozenset[str]
    amount_check_kinds: frozenset[str]
    payee_roles: frozenset[str]
    payee_check_kinds: frozenset[str]
    duplicate_roles: frozenset[str]
    acceptance_roles: frozenset[str]
    split_kinds: frozenset[str]
    split_thresholds: tuple[Decimal, ...]
    split_window_days: int
    version: int = 1

    @classmethod
    def from_data(cls, data: dict[str, Any], version: int = 1) -> Profile:
        # A version saved before a key existed reads that key from the defaults.
        data = {**{k: v for k, v in DEFAULT_PROFILE.items() if k not in data}, **data}
        problems = check_profile(data)
        if problems:
            raise ValueError("; ".join(p["message"] for p in problems))
        return cls(
            requirements={kind: tuple(Requirement(tuple(r["any_of"]), r.get("if_payment_method"))
                                      for r in reqs)
                          for kind, reqs in data["requirements"].items()},
            payment_roles=frozenset(data["payment_roles"]),
            amount_check_kinds=frozenset(data["amount_check_kinds"]),
            payee_roles=frozenset(data["payee_roles"]),
            payee_check_kinds=frozenset(data["payee_check_kinds"]),
            duplicate_roles=frozenset(data["duplicate_roles"]),
            acceptance_roles=frozenset(data["acceptance_roles"]),
            split_kinds=frozenset(data["split"]["kinds"]),
            split_thresholds=tuple(sorted(Decimal(str(t)) for t in data["split"]["thresholds"])),
            split_window_days=int(data["split"]["window_days"]),
            version=version)


def default_profile() -> Profile:
    return Profile.from_data(DEFAULT_PROFILE)


_KEYS = {"requirements", "payment_roles", "amount_check_kinds", "payee_roles",
         "payee_check_kinds", "duplicate_roles", "acceptance_roles", "split", "basis_th",
         "basis_en"}


def check_profile(data: Any) -> list[dict[str, str]]:
    """Every problem of a profile, as ``{"field", "message"}`` (empty: acceptable)."""
    problems: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    if not isinstance(data, dict):
        return [{"field": "profile", "message": "a profile is a JSON object"}]
    for key in sorted(set(data) - _KEYS):
        bad(key, "unknown field")
    for key in sorted(_KEYS - set(data)):
        bad(key, "missing")
    reqs = data.get("requirements")
    if isinstance(reqs, dict):
        for kind in sorted(set(reqs) - set(KINDS)):
            bad(f"requirements.{kind}", f"unknown kind; kinds are {', '.join(KINDS)}")
        for kind in KINDS:
            entries = reqs.get(kind)
            if not isinstance(entries, list):
                bad(f"requirements.{kind}", "a list of requirements is needed for every kind")
                continue
            for i, entry in enumerate(entries):
                where = f"requirements.{kind}[{i}]"
                if not isinstance(entry, dict) or set(entry) - {"any_of", "if_payment_method"}:
                    bad(where, "a requirement is {\"any_of\": [roles], \"if_payment_method\"?}")
                    continue
                roles = entry.get("any_of")
                if not isinstance(roles, list) or not roles:
                    bad(where, "any_of lists at least one role")
                else:
                    for role in roles:
                        if role not in ROLES:
                            bad(where, f"unknown role {role!r}")
                method = entry.get("if_payment_method")
                if method is not None and method not in PAYMENT_METHODS:
                    bad(where, f"unknown payment method {method!r}")
    elif "requirements" in data:
        bad("requirements", "an object: kind → list of requirements")
    for key in ("payment_roles", "payee_roles", "duplicate_roles", "acceptance_roles"):
        roles = data.get(key)
        if key not in data:
            continue
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            bad(key, f"a list of roles ({', '.join(ROLES)})")
    for key in ("amount_check_kinds", "payee_check_kinds"):
        kinds = data.get(key)
        if key in data and (not isinstance(kinds, list) or any(k not in KINDS for k in kinds)):
            bad(key, f"a list of kinds ({', '.join(KINDS)})")
    split = data.get("split")
    if isinstance(split, dict):
        if set(split) != {"kinds", "thresholds", "window_days"}:
            bad("split", "split has kinds, thresholds and window_days")
        kinds = split.get("kinds")
        if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
            bad("split.kinds", f"a list of kinds ({', '.join(KINDS)})")
        thresholds = split.get("thresholds")
        if not isinstance(thresholds, list) or not thresholds:
            bad("split.thresholds", "at least one threshold in baht")
        else:
            for t in thresholds:
                try:
                    if isinstance(t, float) or not Decimal(str(t)) > 0:
                        raise InvalidOperation
                except (InvalidOperation, ValueError):
                    bad("split.thresholds", f"{t!r} is not a positive amount (give a string)")
        window = split.get("window_days")
        if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 366:
            bad("split.window_days", "a whole number of days between 1 and 366")
    elif "split" in data:
        bad("split", "an object with kinds, thresholds and window_days")
    for key in ("basis_th", "basis_en"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            bad(key, "the basis is required text")
    return problems

"""Thai 13-digit tax / citizen identification numbers and ETDA's 18-digit TXID form."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS13 = re.compile(r"\d{13}")


def check_digit_ok(tax_id: str) -> bool:
    """True when the 13th digit is the check digit of the first twelve (DESIGN.md formula).

    ``check = (11 - sum(d[i] * (13 - i) for i in 0..11) mod 11) mod 10``
    """
    if not _DIGITS13.fullmatch(tax_id):
        return False
    digits = [int(c) for c in tax_id]
    total = sum(d * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == digits[12]


@dataclass(frozen=True)
class TaxRegistration:
    """A party's tax registration as written in an e-invoice."""

    raw: str
    scheme: str | None
    tax_id: str | None  # the 13-digit number when there is one
    branch: str | None  # 5 digits, "00000" = head office; None when not stated

    def to_dict(self) -> dict[str, object]:
        return {"raw": self.raw, "scheme": self.scheme, "tax_id": self.tax_id,
                "branch": self.branch}


def split_registration(raw: str, scheme: str | None) -> TaxRegistration:
    """Split an ETDA ``SpecifiedTaxRegistration/ID``.

    With ``schemeID="TXID"`` ETDA writes the 13-digit tax ID followed by the 5-digit
    branch number (18 digits); some senders write only the 13 digits. ``NIDN`` is a
    13-digit citizen ID without a branch. Anything else is kept as written.
    """
    value = raw.strip()
    compact = re.sub(r"[\s-]", "", value)
    if compact.isdigit() and len(compact) == 18:
        return TaxRegistration(value, scheme, compact[:13], compact[13:])
    if compact.isdigit() and len(compact) == 13:
        return TaxRegistration(value, scheme, compact, None)
    return TaxRegistration(value, scheme, None, None)

"""ETDA's tax registration form (13-digit tax ID + 5-digit branch). The check digit is
:func:`archive.thai.is_valid_tax_id`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.thai import ascii_digits


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
    compact = ascii_digits(re.sub(r"[\s-]", "", value))
    if compact.isdigit() and len(compact) == 18:
        return TaxRegistration(value, scheme, compact[:13], compact[13:])
    if compact.isdigit() and len(compact) == 13:
        return TaxRegistration(value, scheme, compact, None)
    return TaxRegistration(value, scheme, None, None)

"""The result of a PDF/A check: a JSON-friendly report with one entry per failed rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from archive.messages import Message, from_dict


@dataclass(frozen=True)
class Failure:
    """One failed requirement: where in ISO 19005, what is wrong, and where in the file.

    ``part`` is the ISO 19005 part (1-4), ``clause`` the clause (``6.1.2``), ``test`` the
    veraPDF test number for that clause, ``object`` the PDF object number of the culprit
    (or of the nearest indirect object holding it) and ``page`` the 1-based page number,
    when known.
    """

    part: int | None
    clause: str
    test: int | None
    message: str
    object: int | None = None
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if isinstance(self.message, Message):      # its code and parameters go along
            out["message"] = str(self.message)
            out["msg"] = self.message.as_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        return cls(part=data.get("part"), clause=data["clause"], test=data.get("test"),
                   message=from_dict(data.get("msg")) or data["message"],
                   object=data.get("object"), page=data.get("page"))


@dataclass
class PdfaReport:
    """Verdict for one file.

    ``claimed`` is the flavour the file's XMP metadata claims (``None`` without a valid
    claim), ``flavour`` the flavour it was checked against, ``compliant`` the verdict and
    ``error`` a reason when the file could not be checked at all (then ``compliant`` is
    false).
    """

    path: str | None = None
    claimed: str | None = None
    flavour: str | None = None
    compliant: bool = False
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "claimed": self.claimed,
            "flavour": self.flavour,
            "compliant": self.compliant,
            "failures": [f.to_dict() for f in self.failures],
            "error": None if self.error is None else str(self.error),
            **({"error_msg": self.error.as_dict()} if isinstance(self.error, Message) else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PdfaReport:
        return cls(path=data.get("path"), claimed=data.get("claimed"),
                   flavour=data.get("flavour"), compliant=bool(data.get("compliant")),
                   failures=[Failure.from_dict(f) for f in data.get("failures", [])],
                   error=from_dict(data.get("error_msg")) or data.get("error"))

    @property
    def failed_clauses(self) -> list[str]:
        """Distinct ``clause-test`` labels of the failures, in report order."""
        seen: dict[str, None] = {}
        for f in self.failures:
            seen.setdefault(f"{f.clause}-{f.test}" if f.test is not None else f.clause)
        return list(seen)

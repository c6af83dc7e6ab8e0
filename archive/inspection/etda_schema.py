"""ETDA ขมธอ. 3-2560 v2.0 schemas shipped with the project: XSD, Schematron, code lists.

Loaded lazily and cached per process: an inspection child that never sees an ETDA
document never pays for the 5 MB of schemas.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree, isoschematron

from archive.inspection.safexml import safe_parser

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "etda"
_STANDARD = SCHEMA_DIR / "ETDA" / "data" / "standard"
_CODELIST = SCHEMA_DIR / "ETDA" / "codelist" / "standard"

DOCUMENT_KINDS = ("TaxInvoice", "Receipt", "Invoice", "DebitCreditNote",
                  "AbbreviatedTaxInvoice", "CancellationNote")

XSD = "http://www.w3.org/2001/XMLSchema"
SVRL = "http://purl.oclc.org/dsdl/svrl"

# Thai names as ETDA's own Schematron messages spell them; English after DESIGN.md.
_TYPE_NAMES = {
    "388": ("ใบกำกับภาษี", "tax invoice"),
    "T01": ("ใบรับ (ใบเสร็จรับเงิน)", "receipt"),
    "T02": ("ใบแจ้งหนี้/ใบกำกับภาษี", "invoice / tax invoice"),
    "T03": ("ใบเสร็จรับเงิน/ใบกำกับภาษี", "receipt / tax invoice"),
    "T04": ("ใบส่งของ/ใบกำกับภาษี", "delivery note / tax invoice"),
    "T05": ("ใบกำกับภาษีอย่างย่อ", "abbreviated tax invoice"),
    "T06": ("ใบเสร็จรับเงิน/ใบกำกับภาษีอย่างย่อ", "receipt / abbreviated tax invoice"),
    "T07": ("ใบแจ้งยกเลิก", "cancellation note"),
    "80": ("ใบเพิ่มหนี้", "debit note"),
    "81": ("ใบลดหนี้", "credit note"),
    "380": ("ใบแจ้งหนี้", "invoice"),
}


def xsd_path(kind: str) -> Path:
    return _STANDARD / f"{kind}_CrossIndustryInvoice_2p0.xsd"


def schematron_path(kind: str) -> Path:
    return _STANDARD / f"{kind}_Schematron_2p0.sch"


@cache
def xml_schema(kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(xsd_path(kind)), safe_parser()))


@cache
def schematron(kind: str) -> isoschematron.Schematron:
    return isoschematron.Schematron(
        etree.parse(str(schematron_path(kind)), safe_parser()),
        error_finder=isoschematron.Schematron.ASSERTS_AND_REPORTS,
        store_report=True,
    )


@cache
def document_type_codes() -> dict[str, str | None]:
    """Code -> English name from ETDA's ThaiDocumentNameCode_Invoice code-list schema."""
    tree = etree.parse(str(_CODELIST / "ThaiDocumentNameCode_Invoice_1p0.xsd"), safe_parser())
    out: dict[str, str | None] = {}
    for enum in tree.iter(f"{{{XSD}}}enumeration"):
        name = enum.find(".//{*}Name")
        out[enum.get("value", "")] = name.text.strip() if name is not None and name.text else None
    return out


def document_type_name(code: str | None) -> str | None:
    """``"ใบกำกับภาษี (tax invoice)"`` for a code in the ETDA code list, else None."""
    if code is None or code not in document_type_codes():
        return None
    if code in _TYPE_NAMES:
        thai, english = _TYPE_NAMES[code]
        return f"{thai} ({english})"
    return document_type_codes()[code]


_NS_IN_MESSAGE = re.compile(r"\{[^}]*\}")


def xsd_errors(kind: str, tree: etree._ElementTree, limit: int = 50) -> list[dict[str, object]]:
    """Validate against the kind's XSD; each error with line, column and a short message."""
    schema = xml_schema(kind)
    if schema.validate(tree):
        return []
    return [{"line": e.line, "column": e.column, "message": _NS_IN_MESSAGE.sub("", e.message)}
            for e in list(schema.error_log)[:limit]]


_RULE_ID = re.compile(r"^\s*([A-Z]{3}-[A-Za-z]+-\d{3})\s*")


def schematron_errors(kind: str, tree: etree._ElementTree,
                      limit: int = 50) -> list[dict[str, object]]:
    """Run ETDA's Schematron; its rules are written as ``report`` (fires = error)."""
    sch = schematron(kind)
    if sch.validate(tree):
        return []
    report = sch.validation_report
    out: list[dict[str, object]] = []
    for node in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join(node.xpath("string(.)").split())
        match = _RULE_ID.match(text)
        out.append({"rule": match.group(1) if match else None,
                    "location": node.get("location"), "message": text})
        if len(out) >= limit:
            break
    return out

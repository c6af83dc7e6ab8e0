"""Compare what the uploader typed with what the file says. Pure functions, no I/O.

Disagreements become warnings for a person to resolve; a value the uploader left empty is
offered as a *fill* marked as coming from the file. Typed values are never changed here.

Typed metadata keys: ``issuer_tax_id``, ``doc_number``, ``issue_date``, ``amount`` (the
grand total), ``currency`` and optionally ``issuer_name``, ``issuer_branch``,
``vat_amount`` (the tax total) and ``doc_type`` (compared with the file's document type
code; never filled, the uploader always gives it).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from archive.inspection.report import CrossCheck, CrossCheckFill, CrossCheckWarning, InvoiceFields
from archive.inspection.textfields import TextFields
from archive.jsonable import jsonable
from archive.messages import Message, message

BE_OFFSET = 543


def cross_check(typed: Mapping[str, Any] | None, found: InvoiceFields | None) -> CrossCheck:
    """Warnings where ``typed`` and ``found`` disagree; fills where ``typed`` is empty."""
    result = CrossCheck()
    if found is None:
        return result
    typed = typed or {}
    seller = found.seller
    seller_reg = seller.registration if seller else None
    candidates: list[tuple[str, Any, str, Callable[[Any, Any], str | None]]] = [
        ("issuer_tax_id", seller_reg.tax_id if seller_reg else None,
         "invoice.fields.seller.tax_id", _compare_tax_id),
        ("doc_number", found.document_number, "invoice.fields.document_number",
         _compare_doc_number),
        ("issue_date", found.issue_date, "invoice.fields.issue_date", _compare_date),
        ("amount", found.grand_total, "invoice.fields.grand_total", _compare_amount),
        ("currency", found.currency, "invoice.fields.currency", _compare_currency),
        ("issuer_name", seller.name if seller else None, "invoice.fields.seller.name",
         _compare_name),
        ("issuer_branch", seller_reg.branch if seller_reg else None,
         "invoice.fields.seller.branch", _compare_branch),
        ("vat_amount", found.tax_total, "invoice.fields.tax_total", _compare_vat),
    ]
    doc_type = typed.get("doc_type")
    if doc_type and found.document_type_code:
        message = doc_type_mismatch(str(doc_type), found.document_type_code)
        if message:
            result.warnings.append(CrossCheckWarning(field="doc_type", typed=doc_type,
                                                     found=found.document_type_code,
                                                     message=message))
    for name, file_value, source, compare in candidates:
        typed_value = typed.get(name)
        if _empty(typed_value):
            if not _empty(file_value):
                result.fills.append(CrossCheckFill(field=name, value=jsonable(file_value),
                                                   source=source))
            continue
        if _empty(file_value):
            continue
        message = compare(typed_value, file_value)
        if message:
            result.warnings.append(CrossCheckWarning(field=name, typed=jsonable(typed_value),
                                                     found=jsonable(file_value),
                                                     message=message))
    return result


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value))


def _compare_tax_id(typed: Any, found: Any) -> str | None:
    typed_digits = _digits(typed)
    # An uploader may type the 13-digit ID with the 5-digit branch appended.
    if typed_digits[:13] == _digits(found)[:13] and len(typed_digits) in (13, 18):
        return None
    return message("crosscheck.tax_id", "tax ID typed differs from the issuer's tax ID in the "
                   "file")


def _norm_text(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split()).casefold()


def _compare_doc_number(typed: Any, found: Any) -> str | None:
    if _norm_text(typed) == _norm_text(found):
        return None
    if re.sub(r"[\s\-/_.]", "", _norm_text(typed)) == re.sub(r"[\s\-/_.]", "",
                                                             _norm_text(found)):
        return message("crosscheck.doc_number_spacing",
                       "document number differs only in spacing or punctuation")
    return message("crosscheck.doc_number", "document number typed differs from the file")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _compare_date(typed: Any, found: Any) -> str | None:
    typed_date = _as_date(typed)
    if typed_date is None:
        return message("crosscheck.date_invalid", "issue date typed ({typed}) is not a date",
                       typed=repr(typed))
    if typed_date == found:
        return None
    try:
        if typed_date.replace(year=typed_date.year - BE_OFFSET) == found:
            return message("crosscheck.date_be", "issue date typed is in the Buddhist Era; "
                           "the file's date is the same day in the Common Era")
    except ValueError:
        pass
    return message("crosscheck.date", "issue date typed differs from the file")


def _compare_amount(typed: Any, found: Any) -> str | None:
    try:
        typed_amount = Decimal(str(typed).replace(",", "").strip())
    except InvalidOperation:
        return message("crosscheck.amount_invalid", "amount typed ({typed}) is not a number",
                       typed=repr(typed))
    if typed_amount == Decimal(found):
        return None
    return message("crosscheck.amount", "amount typed differs from the grand total in the file "
                   "by {difference}", difference=str(typed_amount - Decimal(found)))


def _compare_currency(typed: Any, found: Any) -> str | None:
    if str(typed).strip().upper() == str(found).strip().upper():
        return None
    return message("crosscheck.currency", "currency typed differs from the file")


def _compare_name(typed: Any, found: Any) -> str | None:
    if _norm_text(typed) == _norm_text(found):
        return None
    return message("crosscheck.issuer_name",
                   "issuer name typed differs from the seller name in the file")


def _compare_branch(typed: Any, found: Any) -> str | None:
    typed_digits = _digits(typed)
    if typed_digits and typed_digits.zfill(5) == str(found):
        return None
    return message("crosscheck.branch",
                   "branch typed differs from the issuer's branch in the file")


# The archive's document types each e-Tax / e-Receipt type code (ETDA ขมธอ. 3-2560 code
# list ThaiDocumentNameCode_Invoice) may be filed as: a combined document is either.
DOC_TYPES_OF_CODE = {
    "388": ("tax_invoice",),
    "T01": ("receipt",),
    "T02": ("invoice", "tax_invoice"),
    "T03": ("receipt", "tax_invoice"),
    "T04": ("tax_invoice",),
    "T05": ("tax_invoice",),
    "T06": ("receipt", "tax_invoice"),
    "380": ("invoice",),
    "80": ("invoice", "other"),
    "81": ("invoice", "other"),
    "T07": ("other",),
}


def doc_type_mismatch(doc_type: str, code: str) -> str | None:
    """A warning when the typed document type is not one the file's type code allows."""
    allowed = DOC_TYPES_OF_CODE.get(code.strip())
    if allowed is None or doc_type in allowed:
        return None
    return message("crosscheck.doc_type", "document type typed ({typed}) does not match the "
                   "file's document type code {code} (expected {expected})", typed=doc_type,
                   code=code, expected=" or ".join(allowed))


def _compare_vat(typed: Any, found: Any) -> str | None:
    try:
        typed_amount = Decimal(str(typed).replace(",", "").strip())
    except InvalidOperation:
        return message("crosscheck.vat_invalid", "VAT typed ({typed}) is not a number",
                       typed=repr(typed))
    if typed_amount == Decimal(found):
        return None
    return message("crosscheck.vat", "VAT typed differs from the tax total in the file by "
                   "{difference}", difference=str(typed_amount - Decimal(found)))


# -- fields read from text (OCR of a scan, a PDF's text layer) ----------------------------

# Below this confidence a value read from text is neither compared nor suggested.
TEXT_MIN_CONFIDENCE = 0.6
_TEXT_SOURCES = {
    "ocr": message("crosscheck.source.ocr", "the scan's OCR text"),
    "text_layer": message("crosscheck.source.text_layer", "the PDF's text layer")}


def text_cross_check(typed: Mapping[str, Any] | None, found: TextFields, *,
                     source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(warnings, suggestions)`` for fields read from plain text.

    Unlike an e-invoice's fields, text read from a scan is never applied to the record:
    values for fields the uploader left empty come back as *suggestions* for a person to
    accept. A typed value the text contradicts is a warning, as for e-Tax XML. A typed tax
    ID is contradicted only when no valid tax ID in the text is that one (a receipt names
    the buyer's too)."""
    typed = typed or {}
    where = _TEXT_SOURCES.get(source, source)
    warnings: list[dict[str, Any]] = []
    suggestions: list[dict[str, Any]] = []
    compare: dict[str, Callable[[Any, Any], str | None]] = {
        "issuer_tax_id": _compare_tax_id, "doc_number": _compare_doc_number,
        "issue_date": _compare_date, "amount": _compare_amount}
    for name, item in found.best().items():
        if item.confidence < TEXT_MIN_CONFIDENCE:
            continue
        typed_value = typed.get(name)
        located = {"line": item.line, "excerpt": item.excerpt,
                   "confidence": round(item.confidence, 2)}
        if _empty(typed_value):
            suggestions.append({"field": name, "value": jsonable(item.value),
                                "source": source, **located})
            continue
        said: str | None
        if name == "issuer_tax_id":
            if any(_compare_tax_id(typed_value, f.value) is None for f in found.tax_ids):
                continue
            said = message("crosscheck.text_tax_id", "tax ID typed is not among the valid "
                           "tax IDs in {source}", source=where)
        elif name == "doc_number" and item.confidence < 0.8:
            continue  # a bare "No. 12" is too weak to contradict anyone
        else:
            problem = compare[name](typed_value, item.value)
            said = problem and message("crosscheck.from_text", "{problem} (read from "
                                       "{source})", problem=problem, source=where)
        if said:
            entry = {"field": name, "typed": jsonable(typed_value),
                     "found": jsonable(item.value), "message": said, "source": source,
                     **located}
            if isinstance(said, Message):
                entry["msg"] = said.as_dict()
            warnings.append(entry)
    return warnings, suggestions

"""Recognise, validate and read e-invoice XML: Thai e-Tax (ETDA) and UN/CEFACT CII.

Both families share the UN/CEFACT Cross Industry Invoice shape (ExchangedDocument,
SupplyChainTradeTransaction/ApplicableHeaderTrade{Agreement,Settlement}); they differ in
namespaces, date encoding and what a tax registration looks like. One extractor reads both.

Extraction is best effort and runs even on invalid documents: a person deciding what to
do with a broken invoice still wants to see what it claims. The verdict says whether to
believe it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from archive.inspection import etda_schema
from archive.inspection.report import (
    Finding,
    InvoiceFields,
    InvoiceReport,
    InvoiceValidation,
    Party,
    ReferencedDocument,
    ValidationStep,
)
from archive.inspection.taxid import TaxRegistration, split_registration
from archive.thai import is_valid_tax_id

ETDA_NS = re.compile(r"^urn:etda:uncefact:data:standard:(?P<kind>[A-Za-z]+)"
                     r"_CrossIndustryInvoice:2$")
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
CII_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
ZUGFERD1_NS = "urn:ferd:CrossIndustryDocument:invoice:1p0"
ETDA_GUIDELINE = "ER3-2560"
ETDA_VERSIONS = ("2.0", "2.1")
# The business rules (ETDA's Schematron, shipped for v2.0) apply to every version the
# archive validates and to files that declare none ("" = unversioned).
SCHEMATRON_VERSIONS = ("2.0", "2.1", "")
# Rules of the v2.0 Schematron that v2.1 documents need not meet, with the evidence for
# each. ETDA publishes no v2.1 Schematron; its own v2.1 sample is the only authority here.
RULES_NOT_IN_21 = {
    "TIV-AdditionalReferencedDocument-001":
        "ETDA's own v2.1 sample (Example_TaxInvoice_2p1_v1.xml) gives PurposeCode TIVC01 "
        "without a referenced document",
}

# UNTDID 1001 codes seen on CII invoices (EN 16931 restricts to a handful).
CII_TYPE_NAMES = {
    "380": "commercial invoice",
    "381": "credit note",
    "383": "debit note",
    "384": "corrected invoice",
    "386": "prepayment invoice",
    "389": "self-billed invoice",
    "261": "self-billed credit note",
    "326": "partial invoice",
    "751": "invoice information for accounting purposes",
}


def inspect_invoice_tree(tree: etree._ElementTree, source: str) -> InvoiceReport:
    """Inspect a parsed XML document (see :mod:`archive.inspection.safexml`)."""
    root = tree.getroot()
    qname = etree.QName(root)
    namespace = qname.namespace or ""
    match = ETDA_NS.match(namespace)
    if match:
        return _inspect_etda(tree, source, match.group("kind"))
    if namespace == CII_NS:
        return _inspect_cii(tree, source)
    if namespace == ZUGFERD1_NS:
        return InvoiceReport(
            kind="zugferd1", source=source, root=qname.localname,
            document_kind="CrossIndustryDocument",
            validation=InvoiceValidation(verdict="not_validated",
                                         reasons=["ZUGFeRD 1.0 is recognised but not read"]),
            findings=[Finding("zugferd1_not_read", "info",
                              "ZUGFeRD 1.0 XML: fields are not extracted")])
    return InvoiceReport(kind="unknown", source=source, root=qname.localname,
                         findings=[Finding("not_an_invoice", "info",
                                           f"XML root {{{namespace}}}{qname.localname} is no "
                                           "e-invoice format this archive reads")])


def malformed_report(source: str, message: str) -> InvoiceReport:
    """Report for bytes that were meant to be an invoice but are not well-formed XML."""
    return InvoiceReport(kind="unknown", source=source,
                         validation=InvoiceValidation(verdict="invalid", reasons=[message]))


# --------------------------------------------------------------------------- ETDA


def _inspect_etda(tree: etree._ElementTree, source: str, kind: str) -> InvoiceReport:
    root = tree.getroot()
    rsm = etree.QName(root).namespace or ""
    ram = f"urn:etda:uncefact:data:standard:{kind}_ReusableAggregateBusinessInformationEntity:2"
    reader = _Reader(root, rsm, ram)
    report = InvoiceReport(kind="etax", source=source, root=etree.QName(root).localname,
                           document_kind=kind)
    reasons: list[str] = []

    guideline = reader.first("rsm:ExchangedDocumentContext/"
                             "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    version = ""
    if guideline is not None:
        report.guideline = _text(guideline)
        raw_version = (guideline.get("schemeVersionID") or "").strip()
        version = raw_version[1:] if raw_version.lower().startswith("v") else raw_version
        report.standard_version = version or None
        if report.guideline != ETDA_GUIDELINE:
            report.findings.append(Finding(
                "guideline_id", "warning",
                f"guideline ID is {report.guideline!r}, expected {ETDA_GUIDELINE!r}"))
        if version and version not in ETDA_VERSIONS:
            reasons.append(f"unsupported ETDA schema version {raw_version!r} "
                           f"(this archive validates {', '.join(ETDA_VERSIONS)})")

    if kind not in etda_schema.DOCUMENT_KINDS:
        reasons.append(f"unknown ETDA document type {kind!r} in namespace {rsm}")
        report.validation = InvoiceValidation(verdict="invalid", reasons=reasons)
        report.fields = _read_fields(reader, etda=True, findings=report.findings)
        return report
    if report.root != f"{kind}_CrossIndustryInvoice":
        reasons.append(f"root element {report.root!r} is not {kind}_CrossIndustryInvoice")

    xsd_name = etda_schema.xsd_path(kind).name
    errors = etda_schema.xsd_errors(kind, tree)
    schema_step = ValidationStep(status="invalid" if errors else "valid", against=xsd_name,
                                 errors=errors)
    reasons.extend(f"XSD line {e['line']}: {e['message']}" for e in errors[:5])

    if errors:
        schematron_step = ValidationStep(status="not_checked",
                                         note="skipped: the document is not schema-valid")
    elif version in SCHEMATRON_VERSIONS:
        schematron_step = _schematron(kind, tree, version, report.findings)
        reasons.extend(f"Schematron {e['rule'] or ''}: {e['message']}".replace("  ", " ")
                       for e in schematron_step.errors[:5])
    else:
        schematron_step = ValidationStep(
            status="not_checked",
            note=f"no Schematron for ETDA version {version}; business rules not applied")

    report.validation = InvoiceValidation(verdict="invalid" if reasons else "valid",
                                          reasons=reasons, schema=schema_step,
                                          schematron=schematron_step)
    report.fields = _read_fields(reader, etda=True, findings=report.findings)
    report.fields.document_type_name = etda_schema.document_type_name(
        report.fields.document_type_code)
    _check_parties(report.fields, report.findings)
    _note_outside_data(tree, report.findings)
    return report


def _schematron(kind: str, tree: etree._ElementTree, version: str,
                findings: list[Finding]) -> ValidationStep:
    """ETDA's Schematron, reported per rule; for v2.1 without the rules it relaxed."""
    failed = etda_schema.schematron_errors(kind, tree)
    errors = []
    for error in failed:
        rule = str(error.get("rule") or "")
        if version == "2.1" and rule in RULES_NOT_IN_21:
            findings.append(Finding("schematron_rule_relaxed", "info",
                                    f"{rule} (v2.0) not applied to a v2.1 document: "
                                    f"{RULES_NOT_IN_21[rule]}"))
            continue
        errors.append(error)
    rules: dict[str, int] = {}
    for error in errors:
        rule = str(error.get("rule") or "(unnamed rule)")
        rules[rule] = rules.get(rule, 0) + 1
    note = None
    if version != "2.0":
        note = (f"ETDA Schematron v2.0 applied to a {'v' + version if version else 'unversioned'}"
                " document" + (" (rules relaxed in v2.1 left out)" if version == "2.1" else ""))
    return ValidationStep(status="invalid" if errors else "valid",
                          against=etda_schema.schematron_path(kind).name, errors=errors,
                          note=note, rules=[{"rule": r, "failed": n} for r, n in rules.items()])


def _check_parties(fields: InvoiceFields, findings: list[Finding]) -> None:
    for role, party in (("seller", fields.seller), ("buyer", fields.buyer)):
        reg = party.registration if party else None
        if reg is None:
            continue
        if reg.tax_id is None:
            if reg.scheme in ("TXID", "NIDN"):
                findings.append(Finding("tax_id_format", "warning",
                                        f"{role} tax ID {reg.raw!r} ({reg.scheme}) is not 13 "
                                        "digits (or 13 + 5-digit branch)", f"{role}.tax_id"))
            continue
        if set(reg.tax_id) == {"0"}:
            findings.append(Finding("tax_id_zero", "info",
                                    f"{role} tax ID is all zeros (not given)", f"{role}.tax_id"))
        elif not is_valid_tax_id(reg.tax_id):
            findings.append(Finding("tax_id_check_digit", "warning",
                                    f"{role} tax ID {reg.tax_id} fails the 13-digit check digit",
                                    f"{role}.tax_id"))


def _note_outside_data(tree: etree._ElementTree, findings: list[Finding]) -> None:
    root = tree.getroot()
    outside = [n for n in root.itersiblings(preceding=True)] + list(root.itersiblings())
    inside = root.xpath("//processing-instruction() | //comment()")
    extra = {id(n) for n in outside} | {id(n) for n in inside}
    if extra:
        findings.append(Finding("non_data_nodes", "info",
                                f"document carries {len(extra)} comment(s) or processing "
                                "instruction(s) (e.g. xml-model); they are ignored"))


# --------------------------------------------------------------------------- CII


def _inspect_cii(tree: etree._ElementTree, source: str) -> InvoiceReport:
    root = tree.getroot()
    reader = _Reader(root, CII_NS, CII_RAM)
    report = InvoiceReport(kind="cii", source=source, root=etree.QName(root).localname,
                           document_kind="CrossIndustryInvoice")
    guideline = reader.text("rsm:ExchangedDocumentContext/"
                            "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    report.guideline = guideline
    report.standard_version = "D16B"
    reasons: list[str] = []
    if report.root != "CrossIndustryInvoice":
        reasons.append(f"root element {report.root!r} is not CrossIndustryInvoice")
    report.validation = InvoiceValidation(
        verdict="invalid" if reasons else "not_validated", reasons=reasons,
        schema=ValidationStep(status="not_checked",
                              note="no CII / EN 16931 schema is shipped; fields were read "
                                   "without schema validation"))
    report.fields = _read_fields(reader, etda=False, findings=report.findings)
    code = report.fields.document_type_code
    report.fields.document_type_name = CII_TYPE_NAMES.get(code or "")
    return report


# --------------------------------------------------------------------------- shared


class _Reader:
    def __init__(self, root: etree._Element, rsm: str, ram: str) -> None:
        self.root = root
        self.ns = {"rsm": rsm, "ram": ram}

    def all(self, path: str, node: etree._Element | None = None) -> list[etree._Element]:
        return list((node if node is not None else self.root).findall(path, self.ns))

    def first(self, path: str, node: etree._Element | None = None) -> etree._Element | None:
        return (node if node is not None else self.root).find(path, self.ns)

    def text(self, path: str, node: etree._Element | None = None) -> str | None:
        found = self.first(path, node)
        return _text(found) if found is not None else None


def _text(node: etree._Element) -> str | None:
    value = "".join(node.itertext()).strip()
    return " ".join(value.split()) if value else None


_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"


def _read_fields(r: _Reader, *, etda: bool, findings: list[Finding]) -> InvoiceFields:
    f = InvoiceFields()
    f.document_number = r.text("rsm:ExchangedDocument/ram:ID")
    f.document_name = r.text("rsm:ExchangedDocument/ram:Name")
    f.document_type_code = r.text("rsm:ExchangedDocument/ram:TypeCode")
    issue = r.first("rsm:ExchangedDocument/ram:IssueDateTime")
    if issue is not None:
        f.issue_datetime_raw = _text(issue)
        f.issue_date = _parse_date(issue, findings, "issue_date")
        if f.issue_date is not None and not 1950 <= f.issue_date.year <= 2200:
            findings.append(Finding(
                "implausible_date", "warning",
                f"issue date {f.issue_date.isoformat()} is implausible (a Buddhist/Common "
                "Era mix-up? BE = CE + 543)", "issue_date"))
    f.seller = _party(r, r.first(f"{_AGREEMENT}/ram:SellerTradeParty"), etda)
    f.buyer = _party(r, r.first(f"{_AGREEMENT}/ram:BuyerTradeParty"), etda)
    f.currency = r.text(f"{_SETTLEMENT}/ram:InvoiceCurrencyCode")
    summation = r.first(f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    if summation is not None:
        f.line_total = _amount(r, summation, "LineTotalAmount", f.currency, findings)
        f.tax_total = _amount(r, summation, "TaxTotalAmount", f.currency, findings)
        f.grand_total = _amount(r, summation, "GrandTotalAmount", f.currency, findings)
        basis = _amount(r, summation, "TaxBasisTotalAmount", f.currency, findings)
        if None not in (basis, f.tax_total, f.grand_total) \
                and basis + f.tax_total != f.grand_total:  # type: ignore[operator]
            findings.append(Finding("totals_mismatch", "warning",
                                    f"tax basis {basis} + tax {f.tax_total} != grand total "
                                    f"{f.grand_total}", "grand_total"))
        _check_tax(r, f, basis, findings)
        _check_lines(r, f, findings)
    for relation, path in (("additional", f"{_AGREEMENT}/ram:AdditionalReferencedDocument"),
                           ("invoice", f"{_SETTLEMENT}/ram:InvoiceReferencedDocument")):
        for node in r.all(path):
            date_node = r.first("ram:IssueDateTime", node)
            if date_node is None:
                date_node = r.first("ram:FormattedIssueDateTime", node)
            ref_date = _parse_date(date_node, findings, "referenced_documents") \
                if date_node is not None else None
            f.referenced_documents.append(ReferencedDocument(
                id=r.text("ram:IssuerAssignedID", node),
                issue_date=ref_date.isoformat() if ref_date else None,
                type_code=r.text("ram:ReferenceTypeCode", node) or r.text("ram:TypeCode", node),
                relation=relation))
    return f


SATANG = Decimal("0.01")
_LINE_TOTAL = ("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/"
               "ram:SpecifiedLineTradeSettlement/"
               "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:NetLineTotalAmount")


def vat_agrees(basis: Decimal, rate: Decimal, vat: Decimal) -> bool:
    """VAT = basis × rate %, to the satang. ETDA's standard states amounts to two
    decimals without prescribing a rounding mode, and the Revenue Code leaves it to the
    issuer: any rounding of the exact product to the satang (half up, half even, down, up)
    is accepted — i.e. the stated VAT is within one satang of the exact product."""
    exact = basis * rate / Decimal(100)
    return abs(vat - exact) < SATANG


def _number(r: _Reader, path: str, node: etree._Element) -> Decimal | None:
    raw = r.text(path, node)
    try:
        value = Decimal(raw) if raw is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _check_tax(r: _Reader, f: InvoiceFields, basis: Decimal | None,
               findings: list[Finding]) -> None:
    """Each stated tax (ApplicableTradeTax) against its basis and rate, and the tax total
    against the tax basis total when the document has one rate."""
    rates = []
    for tax in r.all(f"{_SETTLEMENT}/ram:ApplicableTradeTax"):
        rate = _number(r, "ram:CalculatedRate", tax)
        tax_basis = _number(r, "ram:BasisAmount", tax)
        amount = _number(r, "ram:CalculatedAmount", tax)
        if rate is None:
            continue
        rates.append(rate)
        if tax_basis is not None and amount is not None \
                and not vat_agrees(tax_basis, rate, amount):
            findings.append(Finding(
                "vat_rate_mismatch", "warning",
                f"tax {amount} is not basis {tax_basis} × rate {rate}% "
                f"(= {(tax_basis * rate / 100).quantize(SATANG)})", "tax_total"))
    if len(set(rates)) == 1 and basis is not None and f.tax_total is not None \
            and not vat_agrees(basis, rates[0], f.tax_total):
        findings.append(Finding(
            "vat_total_mismatch", "warning",
            f"tax total {f.tax_total} is not tax basis total {basis} × rate {rates[0]}% "
            f"(= {(basis * rates[0] / 100).quantize(SATANG)})", "tax_total"))


def _check_lines(r: _Reader, f: InvoiceFields, findings: list[Finding]) -> None:
    """The line total stated in the summation against the sum of the lines' net totals.
    Not for debit and credit notes (80, 81), whose line total is the corrected value of
    the original document, not a sum of their own lines."""
    if f.document_type_code in ("80", "81"):
        return
    nodes = r.all(_LINE_TOTAL)
    if not nodes or f.line_total is None:
        return
    read = [_number(r, ".", n) for n in nodes]
    values = [v for v in read if v is not None]
    if len(values) != len(read):
        return
    total = sum(values, Decimal(0))
    if total != f.line_total:
        findings.append(Finding(
            "line_total_mismatch", "warning",
            f"line total {f.line_total} is not the sum of the {len(values)} line(s), {total}",
            "line_total"))


def _party(r: _Reader, node: etree._Element | None, etda: bool) -> Party | None:
    if node is None:
        return None
    regs = r.all("ram:SpecifiedTaxRegistration/ram:ID", node)
    registration: TaxRegistration | None = None
    if regs:
        if not etda:
            # CII: VAT number ("VA") first, then fiscal number ("FC"); not Thai IDs.
            regs.sort(key=lambda e: {"VA": 0, "FC": 1}.get(e.get("schemeID") or "", 2))
            raw = _text(regs[0]) or ""
            registration = TaxRegistration(raw, regs[0].get("schemeID"), raw or None, None)
        else:
            registration = split_registration(_text(regs[0]) or "", regs[0].get("schemeID"))
    return Party(name=r.text("ram:Name", node), registration=registration)


def _amount(r: _Reader, summation: etree._Element, name: str, currency: str | None,
            findings: list[Finding]) -> Decimal | None:
    nodes = r.all(f"ram:{name}", summation)
    if not nodes:
        return None
    # CII may state the tax total twice (invoice and tax currency): prefer the invoice's.
    node = next((n for n in nodes if currency and n.get("currencyID") == currency), nodes[0])
    raw = _text(node)
    try:
        value = Decimal(raw or "")
    except InvalidOperation:
        findings.append(Finding("amount_unreadable", "warning", f"{name} {raw!r} is not a "
                                "decimal number", name))
        return None
    return value if value.is_finite() else None


_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DATE_102 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _parse_date(node: etree._Element, findings: list[Finding], field: str) -> dt.date | None:
    """ETDA writes ISO date-times; CII a ``DateTimeString`` with ``format="102"``."""
    raw = _text(node) or ""
    match = _DATE_ISO.match(raw) or _DATE_102.match(raw)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    findings.append(Finding("date_unreadable", "warning", f"{field}: date {raw!r} is not "
                            "understood", field))
    return None

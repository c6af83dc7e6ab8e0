"""ZUGFeRD 2 / Factur-X: CII XML embedded in PDF/A-3, read through the whole pipeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from archive.inspection.report import InvoiceReport
from archive.inspection.sandboxed import pdf_embedded_job, xml_job
from tests.corpus import FULL, corpus_path


def invoices_of(pdf: Path) -> tuple[list[str], list[InvoiceReport]]:
    """Embedded file names and the invoice reports of their XML, run in-process."""
    listed = pdf_embedded_job(str(pdf))
    assert not listed.errors, listed.errors
    names, reports = [], []
    for item in listed.value:
        names.append(item.info.name)
        if item.data is not None:
            outcome = xml_job(item.data, None, f"embedded:{item.info.name}").value
            if outcome is not None and outcome.invoice is not None:
                reports.append(outcome.invoice)
    return names, reports


def corpus_pdfs(folder: str) -> list[Path]:
    return sorted(corpus_path("zugferd", "ZUGFeRDv2", folder).rglob("*.pdf"))


@pytest.mark.corpus
def test_every_correct_zugferd_invoice_yields_its_core_fields() -> None:
    pdfs = corpus_pdfs("correct")
    assert len(pdfs) >= (60 if FULL else 8)
    for pdf in pdfs:
        names, reports = invoices_of(pdf)
        cii = [r for r in reports if r.kind == "cii"]
        assert cii, (pdf.name, names)
        fields = cii[0].fields
        assert fields is not None, pdf.name
        assert fields.document_number, pdf.name
        assert (fields.document_type_code or "").isdigit(), pdf.name  # UNTDID 1001
        assert isinstance(fields.issue_date, dt.date), pdf.name
        assert fields.currency and len(fields.currency) == 3, pdf.name
        assert isinstance(fields.grand_total, Decimal), pdf.name
        assert fields.seller is not None and fields.seller.name, pdf.name
        assert cii[0].validation is not None
        assert cii[0].validation.verdict == "not_validated", pdf.name


@pytest.mark.corpus
def test_fail_folder_is_inspected_without_crashing() -> None:
    """The 'fail' files break ZUGFeRD rules we do not check (profiles, PDF/A); the one
    whose XML is not well-formed must be reported invalid with the parser's reason."""
    verdicts = {}
    for pdf in corpus_pdfs("fail"):
        _, reports = invoices_of(pdf)
        assert reports, pdf.name
        verdicts[pdf.name] = reports[0].validation.verdict if reports[0].validation else None
    assert verdicts["factur-x-invalid-xml-encoding-attribute.pdf"] == "invalid"
    assert sum(v == "not_validated" for v in verdicts.values()) >= len(verdicts) - 1


@pytest.mark.corpus
def test_known_fields_of_one_invoice() -> None:
    pdf = corpus_path("zugferd", "ZUGFeRDv2", "correct", "intarsys", "EN16931",
                      "zugferd_2p0_EN16931_Einfach.pdf")
    names, [report] = invoices_of(pdf)
    assert names == ["zugferd-invoice.xml"]
    f = report.fields
    assert f is not None and f.seller is not None and f.seller.registration is not None
    assert (f.document_number, f.issue_date, f.currency) == ("471102", dt.date(2018, 3, 5), "EUR")
    assert (f.line_total, f.tax_total, f.grand_total) == \
        (Decimal("473.00"), Decimal("56.87"), Decimal("529.87"))
    assert f.seller.registration.tax_id == "DE123456789"
    assert f.document_type_name == "commercial invoice"


@pytest.mark.corpus
def test_zugferd1_and_2_in_one_file_prefers_the_cii() -> None:
    pdf = corpus_path("zugferd", "ZUGFeRDv2", "fail", "MustangRE-20171118_506_ZUGFeRD1and2.pdf")
    _, reports = invoices_of(pdf)
    assert sorted(r.kind for r in reports) == ["cii", "zugferd1"]

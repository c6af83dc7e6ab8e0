"""PDF signatures: signed here with a throwaway key, then tampered; and pyHanko's corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.inspection.pdfsig import PdfSignaturesUnreadable, verify_pdf_signatures
from tests.archive.inspection.helpers import (
    Pki,
    append_update,
    build_pdfa3,
    etda_invoice_xml,
    flip_byte,
    make_pki,
    sign_pdf,
)
from tests.corpus import corpus_path


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki("PDF Signer")


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Path:
    folder = tmp_path_factory.mktemp("pdfsig")
    source = build_pdfa3(folder / "invoice.pdf", etda_invoice_xml())
    return sign_pdf(source, folder / "signed.pdf", pki)


def test_unsigned_pdf_has_no_signatures(tmp_path: Path) -> None:
    assert verify_pdf_signatures(build_pdfa3(tmp_path / "a.pdf", etda_invoice_xml())) == []


def test_signature_made_here_is_intact_and_covers_the_file(signed: Path) -> None:
    [sig] = verify_pdf_signatures(signed)
    assert (sig.kind, sig.field_name, sig.integrity) == ("pdf", "Signature1", "valid")
    assert sig.signer == "CN=PDF Signer,O=Inspection Tests,C=TH"
    assert sig.coverage == "entire_file"
    assert sig.later_changes == "none"
    assert sig.signing_time is not None
    assert sig.timestamp == {"present": False}
    assert (sig.trust, sig.trust_reason) == ("not_checked", "no trust roots configured")
    assert sig.details["subfilter"] == "/ETSI.CAdES.detached"


def test_trust_is_answered_only_against_configured_roots(signed: Path, pki: Pki) -> None:
    [trusted] = verify_pdf_signatures(signed, [pki.root_pem])
    assert trusted.trust == "trusted"
    [stranger] = verify_pdf_signatures(signed, [make_pki().root_pem])
    assert stranger.trust == "untrusted" and stranger.integrity == "valid"


def test_one_byte_flipped_inside_the_signed_range_fails_integrity(signed: Path,
                                                                  tmp_path: Path) -> None:
    data = signed.read_bytes()
    offset = data.index(b"10700.00</ram:GrandTotalAmount>")
    start = data.index(b"/ByteRange")
    assert offset < start  # inside the first signed range, far from the signature itself
    tampered = flip_byte(signed, tmp_path / "tampered.pdf", b"10700.00</ram:Grand",
                         b"10709.00</ram:Grand")
    [sig] = verify_pdf_signatures(tampered)
    assert sig.integrity == "failed"
    assert "digest mismatch" in (sig.reason or "")


def test_update_after_signing_narrows_coverage_to_a_revision(signed: Path,
                                                             tmp_path: Path) -> None:
    [sig] = verify_pdf_signatures(append_update(signed, tmp_path / "updated.pdf"))
    assert sig.integrity == "valid"
    assert sig.coverage == "entire_revision"
    assert sig.later_changes is not None and sig.later_changes != "none"
    if sig.later_changes_allowed is False:
        assert {f.code for f in sig.findings} == {"later_changes"}


def test_truncated_signed_file_is_unreadable_or_failed(signed: Path, tmp_path: Path) -> None:
    data = signed.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: data.index(b"/ByteRange") + 200])
    try:
        reports = verify_pdf_signatures(cut)
    except PdfSignaturesUnreadable as exc:
        assert "cannot be read" in str(exc)
    else:
        assert all(r.integrity != "valid" for r in reports)


def corpus_pdfs() -> list[Path]:
    return sorted(corpus_path("signed").rglob("*.pdf"))


@pytest.mark.corpus
def test_pyhanko_corpus_every_file_answers_cleanly() -> None:
    """Each PDF gives a list of signatures or a clean 'unreadable' refusal, never a crash."""
    signed_files = signatures = failed = unreadable = 0
    for pdf in corpus_pdfs():
        try:
            reports = verify_pdf_signatures(pdf)
        except PdfSignaturesUnreadable:
            unreadable += 1
            continue
        signed_files += bool(reports)
        signatures += len(reports)
        for report in reports:
            assert report.integrity in ("valid", "failed", "unknown")
            if report.integrity == "failed":
                failed += 1
                assert report.reason
            else:
                assert report.coverage in ("entire_file", "entire_revision", "partial",
                                           "unclear")
    assert signed_files >= 25 and signatures >= 45
    assert failed >= 1  # pdf-sig-with-econtent: a CMS blob that is not a detached signature
    assert unreadable >= 1


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["one-byterange.pdf", "signature-gap-too-big.pdf",
                                  "tail-uncovered.pdf", "weird-byterange.pdf"])
def test_coverage_anomalies_are_not_reported_as_whole_file(name: str) -> None:
    folder = next(corpus_path("signed").rglob("coverage-anomalies"))
    [sig] = verify_pdf_signatures(folder / name)
    assert sig.coverage in ("partial", "unclear")
    assert "coverage" in {f.code for f in sig.findings}


@pytest.mark.corpus
def test_signed_twice_with_timestamps() -> None:
    pdf = next(corpus_path("signed").rglob("minimal-signed-twice-both-created.pdf"))
    first, second = verify_pdf_signatures(pdf)
    assert (first.coverage, second.coverage) == ("entire_revision", "entire_file")
    assert first.timestamp and first.timestamp["present"] is True
    assert first.timestamp["integrity"] == "valid"


@pytest.mark.corpus
def test_broken_cms_blob_is_reported() -> None:
    pdf = next(corpus_path("signed").rglob("pdf-sig-with-econtent.pdf"))
    [sig] = verify_pdf_signatures(pdf)
    assert sig.integrity == "failed" and "CMS" in (sig.reason or "")


@pytest.mark.corpus
def test_hand_edited_verapdf_signatures_fail_without_warnings() -> None:
    """veraPDF's permission tests carry signatures over bytes edited afterwards, by a
    certificate with a negative serial number (which cryptography only warns about; pytest
    turns warnings into errors, so this also proves the signer name is read quietly)."""
    pdfs = [p for p in corpus_path("verapdf").rglob("*Permissions*/*.pdf")
            if b"/ByteRange" in p.read_bytes()]
    assert pdfs
    for pdf in pdfs:
        for sig in verify_pdf_signatures(pdf):
            assert sig.integrity == "failed" and "digest mismatch" in (sig.reason or "")
            assert sig.signer and "verapdf" in sig.signer

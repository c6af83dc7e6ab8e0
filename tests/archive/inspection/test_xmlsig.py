"""XML signatures: ETDA's signed samples, signatures made here, and tampering."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from signxml import XMLSigner, methods
from signxml.xades import XAdESSigner

from archive.inspection.report import SignatureReport
from archive.inspection.safexml import parse_untrusted
from archive.inspection.xmlsig import verify_xml_signatures
from tests.archive.inspection.helpers import Pki, etda_invoice_xml, make_pki
from tests.corpus import corpus_path

SIGNED_SAMPLES = ["signed-ETDA-invoice.xml", "signed-Example_TaxInvoice_2p1_v1.xml",
                  "verify-ETDA-invoice.xml"]


def verify(data: bytes, roots: list[bytes] | None = None) -> list[SignatureReport]:
    return verify_xml_signatures(parse_untrusted(data), "file", roots or [])


def signed_here(pki: Pki, *, xades: bool = True, prolog: str = "") -> bytes:
    root = etree.fromstring(etda_invoice_xml(prolog=prolog))
    cls = XAdESSigner if xades else XMLSigner
    signer = cls(method=methods.enveloped, signature_algorithm="ecdsa-sha256",
                 digest_algorithm="sha256",
                 c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    signed = signer.sign(root, key=pki.key_pem, cert=[pki.leaf_pem.decode()])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki("XML Signer")


@pytest.mark.corpus
@pytest.mark.parametrize("name", SIGNED_SAMPLES)
def test_etda_signed_samples_verify(name: str) -> None:
    [sig] = verify(corpus_path("etax", "etda-xades", name).read_bytes())
    assert (sig.kind, sig.integrity, sig.reason) == ("xades", "valid", None)
    assert sig.signer and "CN=" in sig.signer
    assert sig.signing_time and sig.signing_time_source == "xades:SigningTime"
    assert sig.details["xades_signing_certificate"] == "matches"
    assert sig.trust == "not_checked"


@pytest.mark.corpus
def test_the_processing_instruction_before_the_root_is_part_of_what_was_signed() -> None:
    """URI="" means the document: dropping the xml-model PI must break the digest."""
    data = corpus_path("etax", "etda-xades", "signed-Example_TaxInvoice_2p1_v1.xml").read_bytes()
    assert data.startswith(b"<?xml-model")
    [sig] = verify(re.sub(rb"^<\?xml-model[^>]*\?>", b"", data))
    assert sig.integrity == "failed" and "reference 0" in (sig.reason or "")


@pytest.mark.corpus
@pytest.mark.parametrize(("what", "old", "new", "reason"), [
    ("amount", b"10698.93</ram:GrandTotalAmount>", b"10698.94</ram:GrandTotalAmount>",
     "reference 0 (the document): digest mismatch"),
    ("signing time", b"<xades:SigningTime>2019", b"<xades:SigningTime>2018",
     "SignedProperties"),
    ("signed info", b"xmlenc#sha512\"></ds:DigestMethod>\n<ds:DigestValue>eB",
     b"xmlenc#sha512\"></ds:DigestMethod>\n<ds:DigestValue>eC", "digest mismatch"),
])
def test_tampered_etda_sample_is_reported_failed(what: str, old: bytes, new: bytes,
                                                 reason: str) -> None:
    data = corpus_path("etax", "etda-xades", "signed-ETDA-invoice.xml").read_bytes()
    assert old in data, what
    [sig] = verify(data.replace(old, new, 1))
    assert sig.integrity == "failed"
    assert reason in (sig.reason or ""), sig.reason


@pytest.mark.corpus
def test_changed_signature_value_fails() -> None:
    data = corpus_path("etax", "etda-xades", "signed-ETDA-invoice.xml").read_bytes()
    tampered = re.sub(rb"(<ds:SignatureValue[^>]*>\s*)i", rb"\1j", data, count=1)
    assert tampered != data
    [sig] = verify(tampered)
    assert sig.integrity == "failed"
    assert "signature value does not verify" in (sig.reason or "")


def test_unsigned_document_has_no_signatures() -> None:
    assert verify(etda_invoice_xml()) == []


@pytest.mark.parametrize("xades", [True, False])
def test_signature_made_by_another_implementation_verifies(pki: Pki, xades: bool) -> None:
    [sig] = verify(signed_here(pki, xades=xades))
    assert sig.integrity == "valid", sig.reason
    assert sig.kind == ("xades" if xades else "xmldsig")
    assert sig.signer == "CN=XML Signer,O=Inspection Tests,C=TH"
    assert sig.details["signature_method"] == "ecdsa-sha256"


def test_trust_only_against_configured_roots(pki: Pki) -> None:
    data = signed_here(pki)
    assert verify(data)[0].trust == "not_checked"
    assert verify(data, [pki.root_pem])[0].trust == "trusted"
    stranger = verify(data, [make_pki().root_pem])[0]
    assert stranger.trust == "untrusted" and stranger.trust_reason
    assert stranger.integrity == "valid"  # trust and integrity are separate answers


def test_swapped_certificate_is_caught(pki: Pki) -> None:
    """KeyInfo replaced by another certificate: the signed SigningCertificate disagrees."""
    data = signed_here(pki)
    other = make_pki().leaf_pem.decode()
    other_b64 = "".join(other.strip().splitlines()[1:-1]).encode()
    tampered = re.sub(rb"<ds:X509Certificate>[^<]*</ds:X509Certificate>",
                      b"<ds:X509Certificate>" + other_b64 + b"</ds:X509Certificate>", data)
    [sig] = verify(tampered)
    assert sig.integrity == "failed"
    assert "SigningCertificate" in (sig.reason or "")


def test_unsupported_transform_is_unknown_not_valid(pki: Pki) -> None:
    data = signed_here(pki, xades=False).replace(
        b"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        b"http://www.w3.org/TR/1999/REC-xpath-19991116", 1)
    [sig] = verify(data)
    assert sig.integrity == "unknown" and "not supported" in (sig.reason or "")

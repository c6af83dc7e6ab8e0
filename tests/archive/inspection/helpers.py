"""Small generated fixtures: an ETDA tax invoice, a PDF/A-3 carrying it, throwaway PKI.

Everything is built here from scratch (no corpus needed), so these tests run in a fresh
clone and can be read as a specification of the shapes the inspector understands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# 0105538025143 passes the 13-digit check; branch 00002.
SELLER_TXID = "010553802514300002"
BUYER_NIDN = "0994000165510"


def etda_invoice_xml(*, number: str = "INV-2568-0001", grand_total: str = "10700.00",
                     issue: str = "2025-01-15T10:30:00.000", type_code: str = "388",
                     prolog: str = "") -> bytes:
    """A minimal ETDA v2.0 TaxInvoice that passes the shipped XSD and Schematron."""
    names = {"388": "ใบกำกับภาษี", "T02": "ใบแจ้งหนี้/ใบกำกับภาษี"}
    text = f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<rsm:TaxInvoice_CrossIndustryInvoice
 xmlns:ram="urn:etda:uncefact:data:standard:TaxInvoice_ReusableAggregateBusinessInformationEntity:2"
 xmlns:rsm="urn:etda:uncefact:data:standard:TaxInvoice_CrossIndustryInvoice:2">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter>
      <ram:ID schemeAgencyID="ETDA" schemeVersionID="v2.0">ER3-2560</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>{number}</ram:ID>
    <ram:Name>{names.get(type_code, "ใบกำกับภาษี")}</ram:Name>
    <ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime>{issue}</ram:IssueDateTime>
    <ram:CreationDateTime>{issue}</ram:CreationDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty>
        <ram:Name>บริษัท ทดสอบ จำกัด</ram:Name>
        <ram:SpecifiedTaxRegistration>
          <ram:ID schemeID="TXID">{SELLER_TXID}</ram:ID>
        </ram:SpecifiedTaxRegistration>
        <ram:PostalTradeAddress>
          <ram:PostcodeCode>10310</ram:PostcodeCode>
          <ram:CityName>1017</ram:CityName>
          <ram:CitySubDivisionName>101701</ram:CitySubDivisionName>
          <ram:CountryID schemeID="3166-1 alpha-2">TH</ram:CountryID>
          <ram:CountrySubDivisionID>10</ram:CountrySubDivisionID>
          <ram:BuildingNumber>1/1</ram:BuildingNumber>
        </ram:PostalTradeAddress>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty>
        <ram:Name>องค์การบริหารส่วนตำบลทดสอบ</ram:Name>
        <ram:SpecifiedTaxRegistration>
          <ram:ID schemeID="NIDN">{BUYER_NIDN}</ram:ID>
        </ram:SpecifiedTaxRegistration>
      </ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode listID="ISO 4217 3A">THB</ram:InvoiceCurrencyCode>
      <ram:ApplicableTradeTax>
        <ram:TypeCode>VAT</ram:TypeCode>
        <ram:CalculatedRate>7</ram:CalculatedRate>
        <ram:BasisAmount>10000.00</ram:BasisAmount>
        <ram:CalculatedAmount>700.00</ram:CalculatedAmount>
      </ram:ApplicableTradeTax>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>10000.00</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>10000.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount>700.00</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>{grand_total}</ram:GrandTotalAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument>
        <ram:LineID>1</ram:LineID>
      </ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct>
        <ram:Name>วัสดุสำนักงาน</ram:Name>
      </ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:GrossPriceProductTradePrice>
          <ram:ChargeAmount>10000.00</ram:ChargeAmount>
        </ram:GrossPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery>
        <ram:BilledQuantity unitCode="EA">1</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:SpecifiedTradeSettlementLineMonetarySummation>
          <ram:NetLineTotalAmount>10000.00</ram:NetLineTotalAmount>
          <ram:NetIncludingTaxesLineTotalAmount>10700.00</ram:NetIncludingTaxesLineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
  </rsm:SupplyChainTradeTransaction>
</rsm:TaxInvoice_CrossIndustryInvoice>
"""
    return text.encode("utf-8")


_XMP_PDFA3 = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def build_pdfa3(path: Path, xml: bytes, *, name: str = "ETDA-invoice.xml",
                relationship: str = "Alternative", checksum: bool = True,
                text: str = "Tax invoice INV-2568-0001") -> Path:
    """A one-page PDF declaring PDF/A-3B with ``xml`` embedded as an associated file.

    Streams are left uncompressed so tests can find and change bytes in place.
    """
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    page.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 760 Td ({text}) Tj ET".encode())
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    stream = pdf.make_stream(xml)
    stream.Type = pikepdf.Name.EmbeddedFile
    stream.Subtype = pikepdf.Name("/text/xml")
    params = pikepdf.Dictionary(Size=len(xml), ModDate=pikepdf.String("D:20250115103000+07'00'"))
    if checksum:
        params.CheckSum = pikepdf.String(hashlib.md5(xml, usedforsecurity=False).digest())
    stream.Params = params
    spec = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=pikepdf.String(name), UF=pikepdf.String(name),
        Desc=pikepdf.String("e-Tax Invoice XML"), AFRelationship=pikepdf.Name("/" + relationship),
        EF=pikepdf.Dictionary(F=stream, UF=stream)))
    pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String(name), spec])))
    pdf.Root.AF = pikepdf.Array([spec])
    pdf.Root.Metadata = pdf.make_stream(_XMP_PDFA3.encode("utf-8"))
    pdf.Root.Metadata.Type = pikepdf.Name.Metadata
    pdf.Root.Metadata.Subtype = pikepdf.Name.XML
    pdf.save(path, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return path


def flip_byte(path: Path, out: Path, needle: bytes, replacement: bytes) -> Path:
    """Copy ``path`` with the first ``needle`` replaced by a same-length ``replacement``."""
    assert len(needle) == len(replacement)
    data = path.read_bytes()
    assert data.count(needle) >= 1, needle
    out.write_bytes(data.replace(needle, replacement, 1))
    return out


# ------------------------------------------------------------------------ throwaway PKI


@dataclass
class Pki:
    root_cert: x509.Certificate
    leaf_cert: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey

    @property
    def root_pem(self) -> bytes:
        return self.root_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def leaf_pem(self) -> bytes:
        return self.leaf_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.leaf_key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Inspection Tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(common_name: str = "Test Signer") -> Pki:
    """A root CA and a signing certificate under it, valid around now."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_cert = (
        x509.CertificateBuilder().subject_name(_name("Test Root CA"))
        .issuer_name(_name("Test Root CA")).public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()),
                       critical=False)
        .sign(root_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder().subject_name(_name(common_name))
        .issuer_name(root_cert.subject).public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256()))
    return Pki(root_cert, leaf_cert, leaf_key)


def sign_pdf(source: Path, out: Path, pki: Pki, field_name: str = "Signature1") -> Path:
    """Sign ``source`` with pyHanko as an incremental update (PAdES baseline B)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(pki.leaf_cert.public_bytes(
            serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(pki.leaf_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(
            pki.root_cert.public_bytes(serialization.Encoding.DER))]))
    with open(source, "rb") as handle:
        writer = IncrementalPdfFileWriter(handle, strict=False)
        meta = signers.PdfSignatureMetadata(field_name=field_name,
                                            subfilter=SigSeedSubFilter.PADES)
        output = signers.sign_pdf(writer, meta, signer=signer)
        out.write_bytes(output.getvalue())
    return out


def append_update(source: Path, out: Path) -> Path:
    """Append an incremental update (a catalog change) after the last revision."""
    from pyhanko.pdf_utils.generic import NameObject, pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(source, "rb") as handle:
        writer = IncrementalPdfFileWriter(handle, strict=False)
        writer.root[NameObject("/Lang")] = pdf_string("th-TH")
        writer.update_root()
        with open(out, "wb") as target:
            writer.write(target)
    return out

"""XML signatures: enveloped XML-DSig with XAdES-BES properties, as ETDA's signed e-Tax XML.

Written against the W3C XML-DSig 1.x processing rules rather than a general library,
because the generic verifiers we tried digest only the root element for ``URI=""``, while
the rules say the *document* (so an ``<?xml-model?>`` instruction before the root, which
ETDA samples carry, is part of what was signed). What is supported is what e-invoices use:

* references ``URI=""`` (the whole document) and ``URI="#id"`` (one element);
* transforms: enveloped-signature, Canonical XML 1.0/1.1 and Exclusive C14N (with and
  without comments); anything else (XPath, XSLT) makes integrity ``unknown``;
* RSA PKCS#1 v1.5 and ECDSA with SHA-1/224/256/384/512 (SHA-1 is reported as weak).

Integrity here means: every reference digest matches, and the signature value over
SignedInfo verifies with the certificate embedded in KeyInfo. It says nothing about who
that certificate belongs to; trust against configured roots is a separate answer.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import warnings
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from lxml import etree

from archive.inspection.report import Finding, SignatureReport
from archive.inspection.trust import TrustAnswer, check_trust, subject_of

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = ("http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#")

_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
_SIGNATURES = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224": ("rsa", "sha224"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ecdsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224": ("ecdsa", "sha224"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ecdsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ecdsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ecdsa", "sha512"),
}
MAX_SIGNATURES = 20
_DER = Encoding.DER


class _Unsupported(Exception):
    """The signature uses something this verifier does not implement."""


class _Broken(Exception):
    """The signature is malformed or does not verify."""


def find_signatures(tree: etree._ElementTree) -> list[etree._Element]:
    return list(tree.getroot().xpath("//ds:Signature", namespaces={"ds": DS})[:MAX_SIGNATURES])


def verify_xml_signatures(tree: etree._ElementTree, source: str,
                          trust_roots: Sequence[bytes] = ()) -> list[SignatureReport]:
    """One report per ds:Signature in the document; never raises for a bad signature."""
    return [_verify_one(tree, sig, source, trust_roots) for sig in find_signatures(tree)]


def _verify_one(tree: etree._ElementTree, sig: etree._Element, source: str,
                trust_roots: Sequence[bytes]) -> SignatureReport:
    qualifying = _first(sig, "ds:Object/xades:QualifyingProperties")
    report = SignatureReport(kind="xades" if qualifying is not None else "xmldsig",
                             source=source, field_name=sig.get("Id"))
    certs: list[x509.Certificate] = []
    cert: x509.Certificate | None = None
    try:
        certs = _certificates(sig)
        if not certs:
            raise _Unsupported("no X509Certificate in KeyInfo; cannot verify without the "
                               "signer's certificate")
        cert = _signing_cert(certs, qualifying)
        report.signer = subject_of(cert.public_bytes(_DER))
        report.signer_certificate_sha256 = hashlib.sha256(
            cert.public_bytes(_DER)).hexdigest()
        _read_signing_time(qualifying, report)
        _check_signing_certificate(qualifying, cert, report)
        signed_info = _first(sig, "ds:SignedInfo")
        if signed_info is None:
            raise _Broken("ds:SignedInfo is missing")
        refs = _check_references(tree, sig, signed_info, report)
        _check_signature_value(sig, signed_info, cert, report)
        report.details["references"] = refs
        if qualifying is not None and not any(r.get("signed_properties") for r in refs):
            report.details["xades_signed_properties_referenced"] = False
            raise _Broken("the XAdES SignedProperties are not covered by any reference")
        report.integrity = "valid"
        if report.details.get("weak_algorithms"):
            report.findings.append(Finding("weak_algorithm", "warning",
                                           "signature uses SHA-1, no longer considered safe"))
    except _Broken as exc:
        report.integrity = "failed"
        report.reason = str(exc)
    except _Unsupported as exc:
        report.integrity = "unknown"
        report.reason = str(exc)
    except (ValueError, TypeError, binascii.Error, etree.Error) as exc:
        report.integrity = "failed"
        report.reason = f"malformed signature: {exc}"
    if certs:
        answer = _trust(cert or certs[0], certs, report, trust_roots)
        report.trust, report.trust_reason = answer.status, answer.reason
    return report


def _ns() -> dict[str, str]:
    return {"ds": DS, "xades": XADES[0], "xades141": XADES[1]}


def _first(node: etree._Element | None, path: str) -> etree._Element | None:
    if node is None:
        return None
    found = node.find(path, _ns())
    if found is None and "xades:" in path:
        found = node.find(path.replace("xades:", "xades141:"), _ns())
    return found


def _b64(node: etree._Element | None, what: str) -> bytes:
    if node is None or not (node.text or "").strip():
        raise _Broken(f"{what} is missing")
    try:
        return base64.b64decode("".join(node.text.split()), validate=True)
    except binascii.Error as exc:
        raise _Broken(f"{what} is not valid base64") from exc


def _certificates(sig: etree._Element) -> list[x509.Certificate]:
    out = []
    for node in sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _ns()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                out.append(x509.load_der_x509_certificate(_b64(node, "X509Certificate")))
        except ValueError as exc:
            raise _Broken(f"embedded certificate cannot be read: {exc}") from exc
    return out


def _cert_digest_refs(qualifying: etree._Element | None) -> list[etree._Element]:
    if qualifying is None:
        return []
    out: list[etree._Element] = []
    for ns in XADES:
        for tag in ("SigningCertificate", "SigningCertificateV2"):
            out.extend(qualifying.iterfind(f".//{{{ns}}}{tag}/{{{ns}}}Cert"))
    return out


def _signing_cert(certs: list[x509.Certificate],
                  qualifying: etree._Element | None) -> x509.Certificate:
    """The KeyInfo certificate that the signed XAdES SigningCertificate points at."""
    for cert_ref in _cert_digest_refs(qualifying):
        method = cert_ref.find(f".//{{{DS}}}DigestMethod")
        value = cert_ref.find(f".//{{{DS}}}DigestValue")
        algo = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        if algo is None or value is None:
            continue
        want = _b64(value, "CertDigest")
        for cert in certs:
            if hashlib.new(algo, cert.public_bytes(_DER)).digest() == want:
                return cert
    return certs[0]


def _check_signing_certificate(qualifying: etree._Element | None, cert: x509.Certificate,
                               report: SignatureReport) -> None:
    refs = _cert_digest_refs(qualifying)
    if not refs:
        if qualifying is not None:
            report.details["xades_signing_certificate"] = "absent"
        return
    for cert_ref in refs:
        method = cert_ref.find(f".//{{{DS}}}DigestMethod")
        algo = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        if algo is None:
            raise _Unsupported("unsupported digest method in xades:SigningCertificate")
        want = _b64(cert_ref.find(f".//{{{DS}}}DigestValue"), "CertDigest")
        if hashlib.new(algo, cert.public_bytes(_DER)).digest() == want:
            report.details["xades_signing_certificate"] = "matches"
            return
    raise _Broken("the certificate in KeyInfo is not the one named in the signed "
                  "xades:SigningCertificate")


def _read_signing_time(qualifying: etree._Element | None, report: SignatureReport) -> None:
    if qualifying is None:
        return
    node = None
    for ns in XADES:
        node = qualifying.find(f".//{{{ns}}}SignedSignatureProperties/{{{ns}}}SigningTime")
        if node is not None:
            break
    if node is None or not (node.text or "").strip():
        return
    raw = node.text.strip()
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        report.signing_time = when.isoformat()
    except ValueError:
        report.signing_time = raw
        report.details["signing_time_unparsed"] = True
    report.signing_time_source = "xades:SigningTime"


# ----------------------------------------------------------------- references


def _check_references(tree: etree._ElementTree, sig: etree._Element,
                      signed_info: etree._Element,
                      report: SignatureReport) -> list[dict[str, object]]:
    refs = signed_info.findall("ds:Reference", _ns())
    if not refs:
        raise _Broken("SignedInfo has no Reference")
    results: list[dict[str, object]] = []
    for index, ref in enumerate(refs):
        uri = ref.get("URI")
        method = ref.find("ds:DigestMethod", _ns())
        algo = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        if algo is None:
            raise _Unsupported(f"reference {index}: unsupported digest method")
        if algo == "sha1":
            report.details["weak_algorithms"] = True
        octets = _dereference(tree, sig, ref, uri)
        ok = hashlib.new(algo, octets).digest() == _b64(ref.find("ds:DigestValue", _ns()),
                                                        "DigestValue")
        results.append({"uri": uri, "digest": algo, "ok": ok,
                        "signed_properties": (ref.get("Type") or "").endswith(
                            "#SignedProperties")})
        if not ok:
            if uri == "":
                what = "the document"
            elif results[-1]["signed_properties"]:
                what = "the XAdES SignedProperties: signing time and certificate"
            else:
                what = f"element {uri}"
            raise _Broken(f"reference {index} ({what}): digest mismatch, the signed content "
                          "was changed after signing")
    return results


def _dereference(tree: etree._ElementTree, sig: etree._Element, ref: etree._Element,
                 uri: str | None) -> bytes:
    transforms = [t.get("Algorithm", "") for t in
                  ref.findall("ds:Transforms/ds:Transform", _ns())]
    exc_prefixes = [node.get("PrefixList", "").split() for node in
                    ref.findall("ds:Transforms/ds:Transform/*", _ns())
                    if etree.QName(node).localname == "InclusiveNamespaces"]
    if uri is None:
        raise _Unsupported("reference without URI (detached content) is not supported")
    doc = copy.deepcopy(tree)
    sig_copy = _follow(doc.getroot(), _index_path(sig))
    target: etree._ElementTree | etree._Element
    if uri == "":
        target = doc  # the document node, processing instructions included
    elif uri.startswith("#") and "(" not in uri:
        ident = uri[1:]
        matches = tree.getroot().xpath("//*[@Id=$v or @ID=$v or @id=$v]", v=ident)
        if len(matches) != 1:
            raise _Broken(f"reference {uri}: {len(matches)} elements carry this Id")
        target = _follow(doc.getroot(), _index_path(matches[0]))
    else:
        raise _Unsupported(f"reference URI {uri!r} is not supported")

    # Same-document URIs ("" and "#id") select node-sets without comments, so a
    # "#WithComments" canonicalization cannot bring them back (XML-DSig 4.4.3.3).
    exclusive = False
    for algorithm in transforms:
        if algorithm == _ENVELOPED:
            _remove_keep_tail(sig_copy)
        elif algorithm in _C14N:
            exclusive = _C14N[algorithm][0]
        else:
            raise _Unsupported(f"transform {algorithm} is not supported")
    prefixes = exc_prefixes[0] if exc_prefixes and exclusive else None
    return bytes(etree.tostring(target, method="c14n", exclusive=exclusive, with_comments=False,
                          inclusive_ns_prefixes=prefixes))


def _index_path(node: etree._Element) -> list[int]:
    path = []
    parent = node.getparent()
    while parent is not None:
        path.append(parent.index(node))
        node, parent = parent, parent.getparent()
    return path[::-1]


def _follow(root: etree._Element, path: list[int]) -> etree._Element:
    node = root
    for index in path:
        node = node[index]
    return node


def _remove_keep_tail(node: etree._Element) -> None:
    """Remove ``node`` (the enveloped signature) but keep the text that follows it."""
    parent = node.getparent()
    if parent is None:
        raise _Broken("enveloped signature is the document element")
    tail = node.tail
    previous = node.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)


# ----------------------------------------------------------------- signature value


def _check_signature_value(sig: etree._Element, signed_info: etree._Element,
                           cert: x509.Certificate, report: SignatureReport) -> None:
    c14n = signed_info.find("ds:CanonicalizationMethod", _ns())
    c14n_algo = c14n.get("Algorithm", "") if c14n is not None else ""
    if c14n_algo not in _C14N:
        raise _Unsupported(f"SignedInfo canonicalization {c14n_algo!r} is not supported")
    exclusive, comments = _C14N[c14n_algo]
    octets = etree.tostring(signed_info, method="c14n", exclusive=exclusive,
                            with_comments=comments)
    method = signed_info.find("ds:SignatureMethod", _ns())
    algo = _SIGNATURES.get(method.get("Algorithm", "") if method is not None else "")
    if algo is None:
        raise _Unsupported("unsupported signature method "
                           f"{method.get('Algorithm') if method is not None else None!r}")
    family, digest = algo
    report.details["signature_method"] = f"{family}-{digest}"
    if digest == "sha1":
        report.details["weak_algorithms"] = True
    value = _b64(sig.find("ds:SignatureValue", _ns()), "SignatureValue")
    key = cert.public_key()
    hash_algo = _HASHES[digest]()
    try:
        if family == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, octets, padding.PKCS1v15(), hash_algo)
        elif family == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            der = encode_dss_signature(int.from_bytes(value[:half], "big"),
                                       int.from_bytes(value[half:], "big"))
            key.verify(der, octets, ec.ECDSA(hash_algo))
        else:
            raise _Broken(f"signature method {family} does not fit the certificate's key")
    except InvalidSignature:
        raise _Broken("signature value does not verify with the embedded certificate "
                      "(SignedInfo or the signature value was changed)") from None


def _trust(signer: x509.Certificate, certs: list[x509.Certificate], report: SignatureReport,
           trust_roots: Sequence[bytes]) -> TrustAnswer:
    moment = None
    if report.signing_time and not report.details.get("signing_time_unparsed"):
        moment = dt.datetime.fromisoformat(report.signing_time)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    others = [c for c in certs if c is not signer]
    return check_trust(signer.public_bytes(_DER), [c.public_bytes(_DER) for c in others],
                       trust_roots, moment)

"""Trust in a signer's certificate, decided only against roots the operator configured.

Nothing is fetched: no AIA chasing for missing intermediates, no CRL or OCSP download
(``allow_fetching=False``, revocation soft-fail). With no roots configured the answer is
``not_checked``, never "untrusted": the archive has simply not been told whom to trust.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.utils import CryptographyDeprecationWarning
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError

TRUSTED = "trusted"
UNTRUSTED = "untrusted"
NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class TrustAnswer:
    status: str
    reason: str | None


def subject_of(cert_der: bytes) -> str:
    """RFC 4514 subject of a DER certificate, tolerating what strict parsers reject.

    cryptography warns about (and will one day refuse) certificates that break RFC 5280,
    e.g. with a negative serial number; real signed PDFs carry such certificates, and we
    still want to say who signed. asn1crypto's reading is the fallback.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return crypto_x509.load_der_x509_certificate(cert_der).subject.rfc4514_string()
    except ValueError:
        return str(asn1_x509.Certificate.load(cert_der).subject.human_friendly)


def load_certificates(blobs: Sequence[bytes]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or several per blob) or DER blobs."""
    out = []
    for blob in blobs:
        if pem.detect(blob):
            for _, _, der in pem.unarmor(blob, multiple=True):
                out.append(asn1_x509.Certificate.load(der))
        else:
            out.append(asn1_x509.Certificate.load(blob))
    return out


def validation_context(trust_roots: Sequence[bytes], moment: dt.datetime | None = None,
                       other_certs: Sequence[bytes] = ()) -> ValidationContext:
    return ValidationContext(
        trust_roots=load_certificates(trust_roots),
        other_certs=load_certificates(other_certs),
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=moment,
    )


def quiet_pyhanko_logs() -> None:
    """pyHanko logs a traceback for every path it cannot build; that is our normal case."""
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def check_trust(cert_der: bytes, intermediates_der: Sequence[bytes],
                trust_roots: Sequence[bytes], moment: dt.datetime | None) -> TrustAnswer:
    """Does ``cert_der`` chain to one of ``trust_roots`` (at ``moment``, default now)?"""
    if not trust_roots:
        return TrustAnswer(NOT_CHECKED, "no trust roots configured")
    quiet_pyhanko_logs()
    try:
        context = validation_context(trust_roots, moment, intermediates_der)
        validator = CertificateValidator(asn1_x509.Certificate.load(cert_der),
                                         validation_context=context)
        asyncio.run(validator.async_validate_usage(set()))  # type: ignore[no-untyped-call]
    except PathBuildingError as exc:
        return TrustAnswer(UNTRUSTED, f"no path to a configured trust root: {exc}")
    except (PathValidationError, ValidationError) as exc:
        return TrustAnswer(UNTRUSTED, str(exc))
    except ValueError as exc:
        return TrustAnswer(UNTRUSTED, f"certificate cannot be evaluated: {exc}")
    return TrustAnswer(TRUSTED, None)

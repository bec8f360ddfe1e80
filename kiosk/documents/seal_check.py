"""Checking the office's seal on a PDF (pyHanko's validator), facts only; the service words them.

Trust comes from the roots the caller passes (the office CA's certificate, or the sandbox CA):
a signature by any other certificate is intact but not trusted. Nothing is fetched from the
network (the kiosk may be offline); revocation is checked when the certificate carries the
information and the answer is at hand, and its absence does not fail the check.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext

from kiosk.documents import outside_loop


@dataclass(frozen=True)
class SealCheck:
    """What the validator found about the document's last signature."""

    readable: bool  # a PDF pyHanko could read
    signed: bool = False  # it holds at least one signature
    intact: bool = False  # the signed bytes hash to what was signed, the signature checks
    trusted: bool = False  # the signer's certificate chains to one of the trust roots
    whole_file: bool = False  # the signature covers every byte of the file
    common_name: str = ""
    organization: str = ""
    signed_at: datetime | None = None  # the signer's time, or the timestamp's when there is one
    timestamped: bool = False  # a timestamp token from a TSA (PAdES B-T)

    @property
    def valid(self) -> bool:
        return self.readable and self.signed and self.intact and self.trusted and self.whole_file


def load_roots(pem_blobs: list[bytes]) -> list[x509.Certificate]:
    """Certificates from PEM (one or more per blob) or DER bytes."""
    roots = []
    for blob in pem_blobs:
        if pem.detect(blob):
            roots.extend(x509.Certificate.load(der) for _, _, der in pem.unarmor(blob, True))
        else:
            roots.append(x509.Certificate.load(blob))
    return roots


def check(pdf: bytes, roots: list[x509.Certificate]) -> SealCheck:
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError):
        return SealCheck(readable=False)
    if not signatures:
        return SealCheck(readable=True)
    signature = signatures[-1]
    context = ValidationContext(trust_roots=roots, allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = outside_loop.call(
            lambda: validate_pdf_signature(signature, signer_validation_context=context))
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError):
        return SealCheck(readable=True, signed=True)
    subject = status.signing_cert.subject.native if status.signing_cert is not None else {}
    timestamp = status.timestamp_validity
    signed_at = (timestamp.timestamp if timestamp is not None and timestamp.intact
                 else status.signer_reported_dt)
    return SealCheck(
        readable=True, signed=True, intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        common_name=subject.get("common_name", ""), organization=subject.get("organization_name", ""),
        signed_at=signed_at, timestamped=timestamp is not None)

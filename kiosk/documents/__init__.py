"""PDF documents of a SmartCA registration: e-contract, acceptance record, receipt.

Pure Python on ReportLab and pyHanko (no Flask): callers pass plain dataclasses from `content`
and get PDF bytes back. Import everything from here; the office's seal (`seal`, `seal_check`,
`sandbox_cert`) is imported from its modules by the service that loads the certificate.
"""

from __future__ import annotations

import hashlib

from kiosk.documents.acceptance import ACCEPTANCE_TITLE, acceptance_sections, render_acceptance
from kiosk.documents.content import (
    CustomerInfo,
    DocumentContext,
    OfficeInfo,
    PackageInfo,
    ReceiptContext,
    Section,
    Signature,
    amount_in_words,
    format_date_vn,
    format_datetime_vn,
    format_duration,
    format_vnd,
    format_vnd_words,
)
from kiosk.documents.contract import CONTRACT_TITLE, contract_sections, render_contract
from kiosk.documents.fonts import register_fonts
from kiosk.documents.layout import SANDBOX_LABEL
from kiosk.documents.qr_drawing import qr_png
from kiosk.documents.receipt import RECEIPT_TITLE, render_receipt
from kiosk.documents.signing import sign_pdf


def sha256_hex(pdf_bytes: bytes) -> str:
    """Fingerprint stored next to a signed PDF (and shown to staff) to detect tampering."""
    return hashlib.sha256(pdf_bytes).hexdigest()


__all__ = [
    "ACCEPTANCE_TITLE",
    "CONTRACT_TITLE",
    "RECEIPT_TITLE",
    "SANDBOX_LABEL",
    "CustomerInfo",
    "DocumentContext",
    "OfficeInfo",
    "PackageInfo",
    "ReceiptContext",
    "Section",
    "Signature",
    "acceptance_sections",
    "amount_in_words",
    "contract_sections",
    "format_date_vn",
    "format_datetime_vn",
    "format_duration",
    "format_vnd",
    "format_vnd_words",
    "qr_png",
    "register_fonts",
    "render_acceptance",
    "render_contract",
    "render_receipt",
    "sha256_hex",
    "sign_pdf",
]

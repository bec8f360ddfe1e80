"""Glue between database rows and the pure document renderers in kiosk.documents; printing.

Nothing here commits (services flush, the request commits once: services/unit_of_work). Rendering
and printing happen before this module adds a row, or with the rows not yet flushed, so neither
holds SQLite's write lock."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from flask import current_app
from sqlalchemy import select

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document, Registration
from kiosk.documents import (
    CustomerInfo,
    DocumentContext,
    OfficeInfo,
    PackageInfo,
    ReceiptContext,
    Signature,
    render_acceptance,
    render_contract,
    render_receipt,
    sign_pdf,
)
from kiosk.domain.identity import IdType, national_format
from kiosk.domain.local_time import local_time
from kiosk.providers import ProviderError
from kiosk.services import document_seal, kiosk_devices, registrations, settings


def office_info(reg: Registration) -> OfficeInfo:
    """The contact of the registration's own office (the default office when it has none)."""
    office = settings.office_for(reg)
    if office is None:
        return OfficeInfo()
    return OfficeInfo(
        name=office.name, address=office.address, phone=office.phone, hotline=office.hotline,
        email=office.email, website=office.website, app_store_url=office.app_store_url,
        play_store_url=office.play_store_url,
    )


def package_info(reg: Registration) -> PackageInfo:
    snap = reg.package_snapshot or {}
    return PackageInfo(name=snap.get("name", ""), duration_months=snap.get("duration_months", 0),
                       price_vnd=snap.get("price_vnd", 0),
                       price_is_sample=bool(snap.get("price_is_sample", False)))


def customer_info(reg: Registration) -> CustomerInfo:
    data = reg.data
    return CustomerInfo(
        full_name=data.get("full_name", ""),
        id_type_label=IdType(data.get("id_type", "cccd")).label,
        id_number=data.get("id_number", ""),
        date_of_birth=date.fromisoformat(data["date_of_birth"]),
        gender=data.get("gender", ""),
        # Today's address (step 3); a registration from before it existed has the card's only.
        address=data.get("current_address") or data.get("address", ""),
        card_address=data.get("address") if data.get("current_address") else None,
        phone_display=national_format(data["phone"]),
        email=data.get("email"),
        issue_date=date.fromisoformat(data["issue_date"]) if data.get("issue_date") else None,
    )


def document_context(reg: Registration) -> DocumentContext:
    return DocumentContext(
        registration_number=reg.number, created_at=local_time(reg.created_at),
        customer=customer_info(reg), package=package_info(reg), office=office_info(reg),
        sandbox=reg.sandbox,
    )


RENDERERS = {"contract": render_contract, "acceptance": render_acceptance}


# The text the customer reads before signing is kept as a document of its own kind until it
# is signed: rendered once per registration (not once per app server that serves it), and what
# is signed is exactly what was shown, even if the office's details or the wording changed in
# between (what you see is what you sign).
TEXT_KIND = {"contract": "contract_text", "acceptance": "acceptance_text"}

# Rendering a PDF takes 10–40 ms of CPU. The reads below never autoflush, so rows the caller
# has added but not yet flushed (a signature, the finished status) are not written before the
# rendering: no write lock is taken while ReportLab works (SQLite has a single one). Callers
# render first and then write and commit; see docs/performance.md.

def _text(reg: Registration, kind: str) -> tuple[bytes, list[Document]]:
    """The stored text to sign and every row holding it (two parallel first fetches may each
    have stored one: same bytes), or a fresh rendering and no rows."""
    with db.session.no_autoflush:
        rows = list(db.session.scalars(
            select(Document).where(Document.registration_id == reg.id,
                                   Document.kind == TEXT_KIND[kind]).order_by(Document.id)))
        if rows:
            return rows[-1].content, rows
        return RENDERERS[kind](document_context(reg), None), []


def text_to_sign(reg: Registration, kind: str) -> bytes:
    """The unsigned document the screen shows; rendered, then stored the first time (the
    request that fetched it commits the row)."""
    pdf, rows = _text(reg, kind)
    if not rows:
        store_document(reg, TEXT_KIND[kind], pdf)
    return pdf


def signed_copy(reg: Registration, kind: str, signature_png: bytes,
                signed_at: datetime, picture=None) -> tuple[bytes, str]:
    """The text to sign followed by the update that draws the signature and carries the
    office's seal (PAdES, ~25 ms, no second layout: docs/signing.md), and the SHA-256 of that
    text. ``picture``: the drawing already decoded (the
    signature check's), so it is not decoded twice. The text's rows go with the signing (marked,
    not flushed: no write before the backend call), since the signed file begins with exactly
    its bytes."""
    text, rows = _text(reg, kind)
    signed = sign_pdf(text, Signature(png_bytes=signature_png, signed_at=local_time(signed_at),
                                      picture=picture),
                      seal=document_seal.seal())
    for row in rows:
        db.session.delete(row)
    return signed, hashlib.sha256(text).hexdigest()


def render_receipt_for(reg: Registration, finished_at: datetime | None = None) -> bytes:
    """The receipt PDF; ``finished_at`` lets a caller render it before it writes the finish."""
    data = reg.data
    with db.session.no_autoflush:
        office = office_info(reg)
    return render_receipt(ReceiptContext(
        registration_number=reg.number, completed_at=local_time(finished_at or reg.finished_at),
        customer_name=data.get("full_name", ""), id_number=data.get("id_number", ""),
        package=package_info(reg), office=office, sandbox=reg.sandbox,
    ))


def store_document(reg: Registration, kind: str, pdf: bytes, signed_at: datetime | None = None) -> Document:
    doc = Document(registration_id=reg.id, kind=kind, content=pdf,
                   sha256=hashlib.sha256(pdf).hexdigest(), signed_at=signed_at)
    db.session.add(doc)
    return doc


def latest_document(reg: Registration, kind: str) -> Document | None:
    return db.session.scalar(
        select(Document).where(Document.registration_id == reg.id, Document.kind == kind)
        .order_by(Document.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class PrintOutcome:
    """What sending a receipt to the printer came to: ``error`` is the message for the screen
    (None: sent); ``mode`` the printer's kind ("browser", "cups", "file"), None when it failed."""

    error: str | None
    mode: str | None = None


def last_print(reg: Registration) -> PrintOutcome:
    """How this registration's receipt last went out, for the done screen: the error of the
    latest print, and the kind of printer it went to as audited then (a console change since
    does not reopen or close the screen), else this kiosk's printer now."""
    last = db.session.execute(
        select(AuditEvent.event, AuditEvent.details).where(
            AuditEvent.registration_id == reg.id,
            AuditEvent.event.in_(("receipt_printed", "receipt_print_failed")))
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    error = providers.PRINTER_MESSAGE if last and last.event == "receipt_print_failed" else None
    audited = ((last.details or {}).get("mode") if last else None)
    return PrintOutcome(error, audited or printer_mode(reg.kiosk_id))


def send_receipt(reg: Registration, pdf: bytes, call_clerk: bool = True) -> PrintOutcome:
    """Send the receipt to the configured printer and audit the result. The audit row is added,
    not flushed, and nothing pending is flushed while the printer works: no write lock is held
    during a print (a CUPS job may take seconds). A failed print calls the clerk by itself
    (``call_clerk``), unless a clerk is the one printing (the console's reprint)."""
    with db.session.no_autoflush:
        try:
            # The kiosk's own printer when the console sets one.
            result = (settings.printer_for(reg.kiosk_id) or providers.printer()).print_pdf(
                pdf, f"phieu-{reg.number}")
        except ProviderError as err:
            current_app.logger.warning("printing %s failed: %s", reg.number, err.detail)
            audit.record("receipt_print_failed", reg, actor="system", detail=err.detail)
            kiosk_devices.note_print(reg.kiosk_id, ok=False)
            if call_clerk:
                registrations.call_clerk(reg, "printer_error")
            return PrintOutcome(err.message)
    audit.record("receipt_printed", reg, actor="system", mode=result.mode)
    kiosk_devices.note_print(reg.kiosk_id, ok=True)
    return PrintOutcome(None, result.mode)


def print_receipt(reg: Registration, pdf: bytes) -> str | None:
    """:func:`send_receipt`, answering only the error message for the screen (None: sent)."""
    return send_receipt(reg, pdf).error


def receipt(reg: Registration) -> Document | None:
    """The receipt of a finished registration (the latest, after a clerk's reprint), or None."""
    return latest_document(reg, "receipt") if reg.finished else None


def print_again(reg: Registration) -> PrintOutcome | None:
    """The customer's «In lại phiếu» on the done screen: the stored receipt, sent again. None
    when there is no receipt to print (the registration is not finished)."""
    doc = receipt(reg)
    return None if doc is None else send_receipt(reg, doc.content)


def printer_mode(kiosk_code: str | None) -> str:
    """How this kiosk prints: "browser", "cups" or "file" (its console setting, else the app's)."""
    return (settings.printer_for(kiosk_code or "") or providers.printer()).mode


def browser_print_failed(reg: Registration, what: str) -> None:
    """The kiosk's browser could not print the receipt (``what``: a short code from print.js,
    for the logs): audited as a failed print, and the clerk is called (once)."""
    audit.record("receipt_print_failed", reg, actor="system", mode="browser",
                 detail=(what or "browser")[:40])
    kiosk_devices.note_print(reg.kiosk_id, ok=False)
    registrations.call_clerk(reg, "printer_error")


SCREEN_REPRINT = "kiosk_screen"


def take_screen_reprint(reg: Registration) -> bool:
    """A clerk's reprint waits for this kiosk's screen (browser printing): True once, when the
    latest «In lại phiếu» sent to the screen is newer than the last one the screen took."""
    rows = db.session.execute(
        select(AuditEvent.id, AuditEvent.event, AuditEvent.details).where(
            AuditEvent.registration_id == reg.id,
            AuditEvent.event.in_(("receipt_reprinted", "receipt_sent_to_screen")))
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    if rows is None or rows.event != "receipt_reprinted" or \
            (rows.details or {}).get("to") != SCREEN_REPRINT:
        return False
    audit.record("receipt_sent_to_screen", reg, actor="system")
    return True


def store_qr_svg(store: str) -> bytes | None:
    """SVG QR code of an app-store link from the office settings ("app-store" / "ch-play")."""
    office = settings.office()
    urls = {"app-store": office.app_store_url, "ch-play": office.play_store_url} if office else {}
    if store not in urls:
        return None
    return _qr_svg(urls[store])


@lru_cache(maxsize=16)
def _qr_svg(url: str) -> bytes:
    # Once per process and link: every done screen shows the same two codes.
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2)
    return buffer.getvalue()

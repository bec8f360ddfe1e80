"""The PDFs a registration produces, read back; printing; nothing secret anywhere."""
from __future__ import annotations

import hashlib
import io
import unicodedata
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document

from .kiosk_driver import CUSTOMER, PASSWORD, PIN


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def test_receipt_has_login_name_and_office_but_no_secrets(kiosk):
    kiosk.walk_to(10)
    response = kiosk.get(f"/r/{kiosk.token}/receipt.pdf")
    assert response.mimetype == "application/pdf"
    text = _text(response.data)
    assert CUSTOMER["id_number"] in text
    assert "Nguyễn Văn An" in text
    assert "18001260" in text and "hotrodichvu.tha@vnpt.vn" in text
    assert "MÔI TRƯỜNG THỬ NGHIỆM" in text
    assert PASSWORD not in text and PIN not in text
    width = float(PdfReader(io.BytesIO(response.data)).pages[0].mediabox.width)
    assert abs(width - 226.77) < 1  # 80 mm


def test_signed_contract_is_stored_with_its_sha256(app, kiosk):
    kiosk.walk_to(8)
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.kind == "contract"))
        assert hashlib.sha256(doc.content).hexdigest() == doc.sha256
        assert doc.signed_at is not None
        reader = PdfReader(io.BytesIO(doc.content))
        assert sum(len(p.images) for p in reader.pages) >= 1  # the signature image
    text = _text(kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data)
    assert "HỢP ĐỒNG" in text and "Nguyễn Văn An" in text


def test_acceptance_record_is_signed_and_readable(app, kiosk):
    kiosk.walk_to(10)
    # A finished registration's documents are no longer served to the kiosk browser:
    # read the stored, signed record.
    from kiosk.services import paperwork

    with app.app_context():
        pdf = paperwork.latest_document(kiosk.row(), "acceptance").content
    assert kiosk.get(f"/r/{kiosk.token}/document/acceptance.pdf").status_code == 404
    text = _text(pdf)
    assert "NGHIỆM THU" in text and CUSTOMER["id_number"] in text
    assert PASSWORD not in text and PIN not in text


def test_file_printer_writes_the_receipt_and_print_again_works(app, kiosk):
    kiosk.walk_to(10)
    prints = list((Path(app.instance_path) / "prints").glob("*.pdf"))
    assert len(prints) == 1
    html = kiosk.post(f"/r/{kiosk.token}/print").get_data(as_text=True)
    assert "in lại" in html.lower()
    prints = list((Path(app.instance_path) / "prints").glob("*.pdf"))
    assert len(prints) == 2


def test_receipt_is_not_available_before_finishing(kiosk):
    kiosk.walk_to(9)
    assert kiosk.get(f"/r/{kiosk.token}/receipt.pdf").status_code == 404


def test_audit_log_never_holds_secrets(app, kiosk):
    kiosk.walk_to(10)
    with app.app_context():
        sms_code = kiosk.last_sms_code()
        dump = repr([(e.event, e.details) for e in db.session.scalars(select(AuditEvent))])
    for secret in (PASSWORD, PIN, sms_code, "Staff@2026"):
        assert secret not in dump


def test_audit_record_rejects_secret_keys(app):
    import pytest

    from kiosk.core import audit

    with app.app_context(), pytest.raises(ValueError):
        audit.record("x", password="Hoa@1234")


def test_failed_print_is_shown_on_the_done_screen(app, kiosk, jammed_printer):
    kiosk.walk_to(10)
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert "Không in được phiếu" in html
    assert "Phiếu đã được gửi tới máy in" not in html


def test_text_to_sign_is_rendered_once_and_kept(app, kiosk, monkeypatch):
    """The PDF the viewer draws is rendered on the first fetch and kept with the registration:
    later fetches (by any app server) and the signing use those bytes, not a new rendering."""
    from kiosk.services import paperwork

    kiosk.walk_to(7)
    calls = []
    real = paperwork.RENDERERS["contract"]
    monkeypatch.setitem(paperwork.RENDERERS, "contract",
                        lambda context, signature: calls.append(signature) or real(context, signature))
    assert kiosk.get(kiosk.url(7)).status_code == 200
    assert calls == []  # the step's screen does not render the PDF
    first = kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data
    assert kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data == first
    assert calls == [None]
    with app.app_context():
        kept = db.session.scalar(select(Document).where(Document.kind == "contract_text"))
        assert kept.content == first and kept.signed_at is None
    kiosk.sign(7)
    assert calls == [None]  # signed from the kept text


def test_what_is_signed_is_what_was_shown(app, kiosk):
    """The office's name changes while the customer reads: the signed contract is the text
    the screen showed (its first bytes, the old name), the audit records that text's SHA-256,
    and the kept text goes once signed (the signed file holds it)."""
    from kiosk.core.models import Office

    kiosk.walk_to(7)
    shown = kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data
    with app.app_context():
        office = db.session.scalar(select(Office))
        office.name = "VNPT Thanh Hóa — Quầy Sầm Sơn"
        db.session.commit()
    kiosk.sign(7)
    with app.app_context():
        signed = db.session.scalar(select(Document).where(Document.kind == "contract"))
        assert signed.content.startswith(shown) and len(signed.content) > len(shown)
        assert "Quầy Sầm Sơn" not in _text(signed.content)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "document_signed"))
        assert event.details["text_sha256"] == hashlib.sha256(shown).hexdigest()
        assert event.details["sha256"] == signed.sha256
        assert db.session.scalar(select(Document).where(Document.kind == "contract_text")) is None
    # the next document this customer reads is made from the new details
    kiosk.walk_to(9)
    assert "Quầy Sầm Sơn" in _text(kiosk.get(f"/r/{kiosk.token}/document/acceptance.pdf").data)


def test_two_first_fetches_at_once_leave_nothing_behind_once_signed(app, kiosk):
    """Two fetches racing before the text was stored each keep a copy (the same bytes):
    signing uses the text and removes every copy."""
    from kiosk.services import paperwork

    kiosk.walk_to(7)
    shown = kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data
    with app.app_context():
        paperwork.store_document(kiosk.row(), "contract_text", shown)  # the other fetch's copy
        db.session.commit()
    kiosk.sign(7)
    with app.app_context():
        kinds = sorted(db.session.scalars(select(Document.kind)))
        signed = db.session.scalar(select(Document).where(Document.kind == "contract"))
    assert kinds == ["contract"] and signed.content.startswith(shown)


def test_signing_without_opening_the_document_still_signs_its_text(app, kiosk):
    """A kiosk whose browser never fetched the PDF (the large-text view only) signs the text
    rendered then; nothing is left behind as an unsigned copy."""
    kiosk.walk_to(7)
    kiosk.sign(7)
    with app.app_context():
        kinds = sorted(db.session.scalars(select(Document.kind)))
        assert kinds == ["contract"]


def test_receipt_picture_on_the_done_screen_loads_only_when_opened(browser_printing, kiosk):
    """The printed receipt is the customer's copy: its on-screen viewer sits in a closed
    «Xem phiếu trên màn hình» and is lazy, so the browser fetches and draws it only for a
    customer who opens it."""
    import re

    # browser printing: the done screen shows the receipt (kiosk printers close it)
    kiosk.walk_to(10)
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    tag = re.search(r'<div class="doc-viewer" data-doc-viewer data-doc-src="/r/[^"]+/receipt\.pdf"[^>]*>', html)
    assert tag is not None and "data-doc-lazy" in tag.group(0)
    assert re.search(r"<details class=\"receipt-view\">", html)  # closed

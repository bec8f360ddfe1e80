""""Quét CCCD" at step 1: consent first, the card's QR fills steps 1 and 3, corrections audited."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kiosk.core.models import AuditEvent

from .faces_data import face_data_dir
from .kiosk_driver import data_url, jpeg_bytes
from .test_wizard_ekyc import card_frame

SCAN = "/r/{token}/step/1/scan"


# Every test here asserts what the real vision reads off a card or a face: the real engine.
pytestmark = pytest.mark.real_vision


@pytest.fixture(autouse=True)
def _needs_faces():
    face_data_dir()  # the synthetic card carries a real portrait


def _scan(kiosk, image: bytes):
    return kiosk.post(SCAN.format(token=kiosk.token), {"image_data": data_url("image/jpeg", image)})


def _consent(kiosk):
    return kiosk.post(SCAN.format(token=kiosk.token) + "/consent", {"consent": "y"})


def test_scan_asks_for_consent_before_the_camera(kiosk):
    kiosk.start()
    html = kiosk.get(SCAN.format(token=kiosk.token), htmx=True).get_data(as_text=True)
    assert "Trước khi quét thẻ" in html and "data-camera-form" not in html
    html = _scan(kiosk, card_frame("megawati_sukarnoputri/4.jpg")).get_data(as_text=True)
    assert "Trước khi quét thẻ" in html
    assert not kiosk.registration().evidence  # nothing kept without consent


def test_consent_box_must_be_ticked(kiosk):
    kiosk.start()
    html = kiosk.post(SCAN.format(token=kiosk.token) + "/consent", {}).get_data(as_text=True)
    assert "Cần có sự đồng ý" in html
    assert kiosk.registration().consent_at is None


def test_scanned_card_fills_step_1_and_step_3(kiosk):
    kiosk.start()
    page = _consent(kiosk).get_data(as_text=True)
    assert "data-guidance-url" in page
    # step 1's frames always look for the QR code: the scan is where it is read first
    assert "qr=" not in re.search(r'data-guidance-url="([^"]+)"', page).group(1)
    html = _scan(kiosk, card_frame("megawati_sukarnoputri/4.jpg")).get_data(as_text=True)
    assert 'value="038085012345"' in html and "Đã đọc thẻ CCCD" in html
    reg = kiosk.registration()
    assert reg.data["scanned"]["full_name"] == "Nguyễn Văn An"
    assert [(e.kind, e.source) for e in reg.evidence] == [("card_front", "scan")]
    kiosk.account()
    kiosk.package()
    step3 = kiosk.get(kiosk.url(3)).get_data(as_text=True)
    assert 'value="Nguyễn Văn An"' in step3 and 'value="05/09/1985"' in step3
    assert "điền từ mã QR" in step3


def test_corrections_to_scanned_data_are_audited_by_field_name(app, kiosk):
    kiosk.start()
    _consent(kiosk)
    _scan(kiosk, card_frame("megawati_sukarnoputri/4.jpg"))
    kiosk.account()
    kiosk.package()
    kiosk.personal(address="Số 14 Lê Lai, Phường Điện Biên, TP Thanh Hóa")
    with app.app_context():
        from kiosk.core.extensions import db

        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "scan_corrected"))
    assert event.details == {"step": 3, "fields": ["address"]}
    assert "Lê Lai" not in repr(event.details)


def test_frame_without_a_card_says_what_to_do(kiosk):
    kiosk.start()
    _consent(kiosk)
    html = _scan(kiosk, jpeg_bytes()).get_data(as_text=True)
    assert "Chưa thấy thẻ" in html
    assert not kiosk.registration().evidence


def test_guidance_endpoint_reports_what_to_fix(kiosk):
    import io

    kiosk.start()
    response = kiosk.post(f"/r/{kiosk.token}/guidance",
                          {"frame": (io.BytesIO(jpeg_bytes()), "f.jpg")},
                          content_type="multipart/form-data")
    advice = response.get_json()
    assert advice["ok"] is False and "no_card" in advice["issues"]
    assert advice["messages"] and all(isinstance(m, str) for m in advice["messages"])
    response = kiosk.post(f"/r/{kiosk.token}/guidance",
                          {"frame": (io.BytesIO(card_frame("megawati_sukarnoputri/4.jpg")), "f.jpg")},
                          content_type="multipart/form-data")
    assert response.get_json()["ok"] is True


def test_a_vision_failure_during_the_scan_asks_to_retry_or_type(kiosk, monkeypatch):
    import kiosk.vision.read_card as read_card_module

    def broken(image, today=None, **options):
        raise RuntimeError("detector exploded")

    # each photo's side is read by read_side (the engine keeps its reads per photo)
    monkeypatch.setattr(read_card_module, "read_side", broken)
    kiosk.start()
    _consent(kiosk)
    response = _scan(kiosk, card_frame("megawati_sukarnoputri/4.jpg"))
    assert response.status_code == 200
    assert "Nhập tay" in response.get_data(as_text=True)
    assert not kiosk.registration().evidence


def _preview(kiosk, image: bytes):
    import io

    return kiosk.post(f"/r/{kiosk.token}/guidance", {"frame": (io.BytesIO(image), "f.jpg")},
                      content_type="multipart/form-data").get_json()


def _blank_card_photo() -> bytes:
    """A photo the camera took a moment later, the card gone out of view."""
    return jpeg_bytes()


def test_a_qr_code_read_on_a_preview_frame_fills_step_1_when_the_photo_misses_it(kiosk):
    from kiosk.services import preview_qr

    kiosk.start()
    _consent(kiosk)
    advice = _preview(kiosk, card_frame("megawati_sukarnoputri/4.jpg"))
    assert advice["qr_read"] is True
    reg = kiosk.registration()
    assert preview_qr.recent_qr(reg)  # kept, encrypted with the personal data
    html = _scan(kiosk, _blank_card_photo()).get_data(as_text=True)
    assert "Chưa thấy thẻ" not in html
    scanned = kiosk.registration().data["scan"]
    assert scanned["number"] and len(scanned["number"]) == 12


def test_a_preview_qr_code_older_than_its_window_is_not_used(kiosk, monkeypatch):
    from datetime import timedelta

    from kiosk.core import models
    from kiosk.services import preview_qr

    kiosk.start()
    _consent(kiosk)
    assert _preview(kiosk, card_frame("megawati_sukarnoputri/4.jpg"))["qr_read"] is True
    later = models.utcnow() + timedelta(seconds=preview_qr.PREVIEW_QR_SECONDS + 1)
    monkeypatch.setattr(preview_qr, "utcnow", lambda: later)
    assert preview_qr.recent_qr(kiosk.registration()) is None
    html = _scan(kiosk, _blank_card_photo()).get_data(as_text=True)
    assert "Chưa thấy thẻ" in html


def test_a_preview_frame_before_consent_keeps_nothing(kiosk):
    from kiosk.services import preview_qr

    kiosk.start()  # no consent to the scan yet
    advice = _preview(kiosk, card_frame("megawati_sukarnoputri/4.jpg"))
    assert advice["ok"] is True and advice["qr_read"] is False
    assert preview_qr.recent_qr(kiosk.registration()) is None


def test_a_preview_frame_without_the_card_keeps_nothing(kiosk):
    from kiosk.services import preview_qr

    kiosk.start()
    advice = _preview(kiosk, jpeg_bytes())
    assert advice["qr_read"] is False
    assert preview_qr.recent_qr(kiosk.registration()) is None


def _front_without_its_qr_code() -> bytes:
    """The test customer's card front, flat, its QR code scratched out: only the print tells."""
    import cv2

    from kiosk.vision.card_outline import QR_BOX

    from .test_wizard_ekyc import customer_card, jpeg

    card = customer_card("megawati_sukarnoputri/4.jpg")
    x0, y0, x1, y1 = QR_BOX
    cv2.rectangle(card, (x0 - 6, y0 - 6), (x1 + 6, y1 + 6), (214, 222, 226), -1)
    return jpeg(card)


def test_a_number_read_off_the_print_is_shown_for_the_customer_to_check(app, kiosk):
    from kiosk.vision.printed_number import available

    if not available():
        pytest.skip("Tesseract (tesserocr + tesseract-ocr-eng) is not installed")
    from .test_wizard_cards import back

    kiosk.start()
    _consent(kiosk)
    html = _scan(kiosk, _front_without_its_qr_code()).get_data(as_text=True)
    assert "mã QR ở mặt sau" in html  # a 2024 card would have its QR code there: asked first
    html = _scan(kiosk, back("cccd_barcode_2016")).get_data(as_text=True)  # no code there
    assert "đọc số thẻ từ chữ in trên thẻ" in html  # never taken silently
    assert 'value="038085012345"' in html  # prefilled, in the field the customer can correct
    with app.app_context():
        from kiosk.core.extensions import db

        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "card_scanned")
                                  .order_by(AuditEvent.id.desc()))
    assert event.details["sources"]["id_number"] == "ocr"
    assert "038085012345" not in repr(event.details)  # the audit names sources, not values

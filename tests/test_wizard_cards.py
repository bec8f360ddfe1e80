"""Every card a customer carries, through the test client, with the real vision: the 2021 chip
CCCD, the 2024 căn cước (QR on the back), the 2016 barcode CCCD, the passport; either side
first; the MRZ cross-check; expiry; the CMND refused."""
from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from kiosk.core.models import AuditEvent

from .faces_data import face_data_dir, load
from .kiosk_driver import data_url
from .test_wizard_ekyc import _pass_liveness

SCAN = "/r/{token}/step/1/scan"
PORTRAIT, LIVE = "megawati_sukarnoputri/4.jpg", "megawati_sukarnoputri/5.jpg"


# Every test here asserts what the real vision reads off a card or a face: the real engine.
pytestmark = pytest.mark.real_vision


@pytest.fixture(autouse=True)
def _needs_faces():
    face_data_dir()


def holder(**overrides) -> dict:
    """The test customer (kiosk_driver.CUSTOMER) as printed on a card that is valid today."""
    fields = {
        "id_number": "038085012345", "old_id_number": "171234567", "full_name": "Nguyễn Văn An",
        "date_of_birth": date(1985, 9, 5), "gender": "Nam", "nationality": "Việt Nam",
        "place_of_origin": "Xã Quảng Tâm, Quảng Xương, Thanh Hóa",
        "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
        "issue_date": date(2024, 9, 10), "expiry_date": date(2045, 9, 5),
        "passport_number": "C1234567", "passport_expiry": date(2034, 9, 9),
    }
    fields.update(overrides)
    return fields


def jpeg(image) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return buf.tobytes()


def scene(card, seed) -> bytes:
    from tests.support.synthetic import place_in_scene

    frame, _ = place_in_scene(card, (1280, 720), np.random.default_rng(seed), rotation_deg=3.0,
                              perspective=(4.0, 3.0), blur=0.5, noise=1.5, light=0.1,
                              brightness=0.95, occluder=False, jpeg_quality=92)
    return jpeg(frame)


def front(kind, seed=1, **overrides) -> bytes:
    from tests.support.synthetic import render_front

    return scene(render_front(holder(**overrides), load(PORTRAIT), seed, kind), seed + 100)


def back(kind, seed=2, **overrides) -> bytes:
    from tests.support.synthetic import render_back

    return scene(render_back(holder(**overrides), seed, kind), seed + 200)


def passport_page(seed=3, **overrides) -> bytes:
    from tests.support.synthetic import render_passport_page

    return scene(render_passport_page(holder(**overrides), load(PORTRAIT), seed), seed + 300)


def passport_page_thumb_over_zone(seed=3) -> bytes:
    """The data page with a thumb over the middle of its zone (its check digits cannot agree)."""
    from tests.support.synthetic import render_passport_page

    page = render_passport_page(holder(), load(PORTRAIT), seed)
    h, w = page.shape[:2]
    cv2.ellipse(page, (int(w * 0.45), int(h * 0.97)), (int(w * 0.05), int(h * 0.09)), 0, 0, 360,
                (110, 150, 200), -1)
    return scene(page, seed + 300)


def _scan(kiosk, image: bytes) -> str:
    kiosk.post(SCAN.format(token=kiosk.token) + "/consent", {"consent": "y"})
    return kiosk.post(SCAN.format(token=kiosk.token),
                      {"image_data": data_url("image/jpeg", image)}).get_data(as_text=True)


def _events(kiosk, name):
    from kiosk.core.extensions import db

    with kiosk.client.application.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id))]


# ---- step 1: scan ------------------------------------------------------------------------------

def test_2024_card_back_first_fills_the_form_then_asks_for_the_front(kiosk):
    kiosk.start()
    html = _scan(kiosk, back("can_cuoc_2024"))
    assert 'value="038085012345"' in html and "Đã đọc thẻ CCCD" in html
    assert "Quét tiếp mặt trước" in html
    reg = kiosk.registration()
    assert reg.data["scanned"]["full_name"] == "Nguyễn Văn An"
    assert reg.data["scan"]["card_kind"] == "can_cuoc_2024"
    assert reg.data["scan"]["mrz"]["document_number"] == "038085012345"
    assert [e.kind for e in reg.evidence] == ["card_back"]
    # the front next: the camera screen says which side is wanted, the portrait side is kept
    camera = kiosk.get(SCAN.format(token=kiosk.token), htmx=True).get_data(as_text=True)
    assert "mặt trước" in camera
    html = kiosk.post(SCAN.format(token=kiosk.token),
                      {"image_data": data_url("image/jpeg", front("can_cuoc_2024"))}
                      ).get_data(as_text=True)
    assert "(cả hai mặt)" in html and "Quét tiếp" not in html
    assert kiosk.registration().data["scan"]["number_source"] == "qr"  # the front's print never wins
    assert sorted(e.kind for e in kiosk.registration().evidence) == ["card_back", "card_front"]


def test_2024_card_front_first_asks_for_the_back_with_the_qr(kiosk):
    kiosk.start()
    html = _scan(kiosk, front("can_cuoc_2024"))
    assert "mã QR ở mặt sau" in html and "data-camera-form" in html
    assert [e.kind for e in kiosk.registration().evidence] == ["card_front"]
    assert _events(kiosk, "card_scanned")[-1]["side"] == "front"


def test_2021_card_back_gives_the_zone_then_the_front_the_qr(kiosk):
    kiosk.start()
    html = _scan(kiosk, back("cccd_chip_2021"))
    assert "mặt trước" in html and "data-camera-form" in html
    event = _events(kiosk, "card_scanned")[-1]
    assert event["side"] == "back" and event["mrz_valid"] is True
    assert event["card_kind"] == "cccd_chip_2021"


def test_passport_page_fills_the_passport_number(kiosk):
    kiosk.start()
    html = _scan(kiosk, passport_page())
    assert "Đã đọc trang thông tin hộ chiếu" in html and 'value="C1234567"' in html
    assert 'value="passport" checked' in html or "value=\"passport\"" in html
    assert kiosk.registration().data["scan"]["id_type"] == "passport"


def test_passport_page_with_an_unread_zone_asks_to_bring_it_closer(kiosk):
    kiosk.start()
    html = _scan(kiosk, passport_page_thumb_over_zone())
    assert "chưa đọc được dải mã" in html and "lại gần hơn" in html
    assert "không có mã QR" not in html  # not the message for a card without a QR code
    assert 'value="C1234567"' not in html  # an unverified zone never fills the number
    event = _events(kiosk, "card_scanned")[-1]
    assert event["side"] == "data_page" and event["mrz_valid"] is False


def _without_print(image: bytes) -> bytes:
    """The photo with the card's print made unreadable (a smeared, worn card)."""
    frame = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    return jpeg(cv2.GaussianBlur(frame, (0, 0), 3.0))


def test_2016_barcode_card_both_sides_without_legible_print_says_to_type(kiosk):
    kiosk.start()
    _scan(kiosk, _without_print(front("cccd_barcode_2016", issue_date=date(2018, 3, 1),
                                      expiry_date=date(2025, 9, 5))))
    html = kiosk.post(SCAN.format(token=kiosk.token),
                      {"image_data": data_url("image/jpeg", back("cccd_barcode_2016"))}
                      ).get_data(as_text=True)
    assert "không có mã QR" in html and "Nhập tay" in html
    assert kiosk.registration().data["scan"]["card_kind"] == "cccd_barcode_2016"


def test_2016_barcode_card_offers_its_printed_number_once_the_back_is_seen(kiosk):
    from kiosk.vision.printed_number import available

    if not available():
        pytest.skip("Tesseract (tesserocr + tesseract-ocr-eng) is not installed")
    kiosk.start()
    html = _scan(kiosk, front("cccd_barcode_2016"))
    # the front's print is read but the back (where a 2024 card has its QR code) comes first
    assert "mã QR ở mặt sau" in html
    html = kiosk.post(SCAN.format(token=kiosk.token),
                      {"image_data": data_url("image/jpeg", back("cccd_barcode_2016"))}
                      ).get_data(as_text=True)
    scan = kiosk.registration().data["scan"]
    assert "đọc số thẻ từ chữ in trên thẻ" in html  # offered for the customer to check
    assert scan["number_source"] == "ocr" and scan["card_kind"] == "cccd_barcode_2016"


def test_expired_card_is_refused_with_when_and_what_to_do(kiosk):
    kiosk.start()
    expired = dict(issue_date=date(2021, 4, 20), expiry_date=date(2025, 9, 5))
    html = _scan(kiosk, back("can_cuoc_2024", **expired))
    assert "đã hết hạn từ ngày 05/09/2025" in html and "cấp đổi" in html
    assert _events(kiosk, "card_expired")[-1]["expiry_date"] == "2025-09-05"
    # typing the same number does not get past it
    html = kiosk.account().get_data(as_text=True)
    assert "đã hết hạn" in html and "Bước 1" in html


def test_card_expiring_within_30_days_is_accepted_with_a_notice(kiosk, monkeypatch):
    from kiosk.services import card_scan

    kiosk.start()
    real = card_scan.scan_expiry

    def on_the_eve(scan):  # today = 20 days before the printed expiry
        from kiosk.domain.identity import expiry_verdict

        verdict = real(scan)
        return expiry_verdict(verdict.expiry_date, date(2045, 8, 16), scan.get("card_kind"))

    monkeypatch.setattr(card_scan, "scan_expiry", on_the_eve)
    html = _scan(kiosk, back("can_cuoc_2024"))
    assert "Lưu ý:" in html and "05/09/2045" in html and "sau 20 ngày nữa" in html
    assert 'value="038085012345"' in html


def test_zone_and_qr_disagreeing_is_named_and_audited(kiosk):
    from tests.support import synthetic

    kiosk.start()
    fields = holder()
    card = synthetic.render_back(fields, 2, "can_cuoc_2024")
    other = synthetic.render_back(holder(id_number="038085099999"), 2, "can_cuoc_2024")
    card[380:] = other[380:]  # the zone of another card under this card's QR code
    html = _scan(kiosk, scene(card, 9))
    assert "không khớp nhau" in html and "số định danh" in html
    assert _events(kiosk, "card_mismatch")[-1]["fields"] == ["id_number"]


def test_cmnd_is_refused_with_the_reason_and_what_to_bring(kiosk):
    kiosk.start()
    html = kiosk.account(id_type="cmnd", id_number="171234567").get_data(as_text=True)
    assert "đã hết giá trị sử dụng từ 01/01/2025" in html and "hộ chiếu" in html
    assert "Bước 1" in html and kiosk.registration().data.get("id_number") is None
    step1 = kiosk.get(kiosk.url(1)).get_data(as_text=True)
    assert 'value="cmnd"' not in step1  # not offered any more


# ---- step 6: card photos -----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "order"), [("can_cuoc_2024", "back_first"),
                                             ("cccd_chip_2021", "front_first")])
def test_step6_either_side_first_continues_automatically(kiosk, monkeypatch, kind, order):
    kiosk.walk_to(6)
    shots = [("card_front", front(kind)), ("card_back", back(kind))]
    if order == "back_first":
        # shown the back when the front was asked: kept as the back
        html = kiosk.capture("card_front", shots[1][1]).get_data(as_text=True)
        assert "đã lưu đúng mặt" in html
        kiosk.capture("card_back", shots[0][1])
    else:
        for name, data in shots:
            kiosk.capture(name, data)
    assert {e.kind for e in kiosk.registration().evidence} >= {"card_front", "card_back"}
    html = _pass_liveness(kiosk, monkeypatch, LIVE)
    assert "Khuôn mặt khớp" in html
    reg = kiosk.registration()
    assert reg.kyc_decision == "match", _events(kiosk, "face_match")[-1]
    checked = _events(kiosk, "card_checked")[-1]
    assert checked["card_kind"] == kind and checked["mrz_valid"] is True


def test_step6_passport_page_vouches_through_its_zone(kiosk, monkeypatch):
    kiosk.start()
    kiosk.account(id_type="passport", id_number="C1234567")
    kiosk.package()
    kiosk.personal()
    kiosk.provision()
    kiosk.activate()
    kiosk.password()
    assert kiosk.registration().furthest_step == 6
    kiosk.capture("card_front", passport_page())
    kiosk.capture("card_back", passport_page(seed=5))
    _pass_liveness(kiosk, monkeypatch, LIVE)
    event = _events(kiosk, "face_match")[-1]
    assert "card_qr_unread" not in event["problems"] and "card_number_differs" not in event["problems"]


def test_step6_expired_card_is_told_and_goes_to_the_clerk(kiosk, monkeypatch):
    kiosk.walk_to(6)
    expired = dict(issue_date=date(2021, 4, 20), expiry_date=date(2025, 9, 5))
    kiosk.capture("card_front", front("can_cuoc_2024", **expired))
    html = kiosk.capture("card_back", back("can_cuoc_2024", **expired)).get_data(as_text=True)
    assert "đã hết hạn từ ngày 05/09/2025" in html
    _pass_liveness(kiosk, monkeypatch, LIVE)
    assert kiosk.registration().kyc_decision == "review"
    assert "document_expired" in _events(kiosk, "face_match")[-1]["problems"]


def test_step6_zone_of_another_person_is_named(kiosk, monkeypatch):
    from tests.support import synthetic

    kiosk.walk_to(6)
    kiosk.capture("card_front", front("cccd_chip_2021"))
    card = synthetic.render_back(holder(id_number="038085099999", gender="Nữ"), 2, "cccd_chip_2021")
    html = kiosk.capture("card_back", scene(card, 11)).get_data(as_text=True)
    assert "vùng mã MRZ" in html
    _pass_liveness(kiosk, monkeypatch, LIVE)
    problems = _events(kiosk, "face_match")[-1]["problems"]
    assert "mrz_number_differs" in problems and "mrz_qr_differ" in problems
    assert kiosk.registration().kyc_decision == "review"

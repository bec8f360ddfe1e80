"""No dead ends: every blocked state says what happened in plain words and offers
«Gọi nhân viên» (and a retry where one makes sense); step 6 says which outcome it was; the
documents are shown inside the kiosk; the wording fixes."""
from __future__ import annotations

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from kiosk.core.extensions import db
from kiosk.core.models import ServicePackage

from .kiosk_driver import jpeg_bytes


def _help_reasons(html: str) -> list[str]:
    return re.findall(r'data-help-reason="([a-z_]+)"', html)


@pytest.fixture
def scripted(fake_ekyc):
    """The app's eKYC fake: the face matches, the liveness challenge is not done in time."""
    return fake_ekyc.script(decision="match", liveness="failed")


def _to_step6_with_cards(kiosk):
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    kiosk.capture("card_back")


def _record_liveness(kiosk):
    files = [(io.BytesIO(jpeg_bytes(seed=i)), f"f{i}.jpg") for i in range(3)]
    return kiosk.post(f"/r/{kiosk.token}/step/6/liveness", {"frames": files, "timestamps": "0,125,250"},
                      content_type="multipart/form-data").get_data(as_text=True)


# ---- OTP ------------------------------------------------------------------------------------

def test_locked_activation_code_offers_the_clerk_not_a_dead_end(app, kiosk):
    kiosk.walk_to(5)
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        html = kiosk.activate("000000").get_data(as_text=True)
    assert "tạm khóa" in html and "Gọi nhân viên" in html
    assert "otp_locked" in _help_reasons(html)
    assert 'name="code"' not in html  # nothing left to type into
    waiting = kiosk.post(f"/r/{kiosk.token}/help", {"reason": "otp_locked"}).get_data(as_text=True)
    assert "Đang chờ nhân viên" in waiting
    # A reload while waiting shows the waiting panel again, not the button.
    again = kiosk.get(kiosk.url(5)).get_data(as_text=True)
    assert 'id="waiting-for-clerk"' in again


def test_every_step_screen_has_a_way_to_call_the_clerk(kiosk):
    kiosk.walk_to(4)
    for n in (1, 2, 3, 4):
        assert "customer_asked" in _help_reasons(kiosk.get(kiosk.url(n)).get_data(as_text=True))


# ---- step 6: each outcome its own words and next action ----------------------------------

def test_first_liveness_failure_asks_to_retry_the_second_offers_the_clerk(kiosk, scripted):
    _to_step6_with_cards(kiosk)
    first = _record_liveness(kiosk)
    assert 'data-error="face"' in first and "Bấm «Bắt đầu» để thử lại" in first
    assert "liveness_failed" not in _help_reasons(first)
    second = _record_liveness(kiosk)
    assert 'data-error="liveness_failed"' in second and "sau 2 lần" in second
    assert "liveness_failed" in _help_reasons(second)
    assert "data-liveness-start" in second  # trying once more is still allowed


def test_a_passed_liveness_resets_the_failure_count(kiosk, scripted):
    scripted.decision = "no_match"  # the face is asked for again after the passed recording
    _to_step6_with_cards(kiosk)
    _record_liveness(kiosk)
    scripted.liveness = "passed"
    _record_liveness(kiosk)
    scripted.liveness = "failed"
    html = _record_liveness(kiosk)
    assert 'data-error="face"' in html and "liveness_failed" not in _help_reasons(html)


def test_a_match_without_liveness_says_why_a_clerk_must_look(kiosk, scripted):
    _to_step6_with_cards(kiosk)
    html = kiosk.capture("face").get_data(as_text=True)  # a plain photo, no challenge
    assert 'data-result="plain_photo"' in html and "Khuôn mặt giống ảnh trên giấy tờ" in html
    assert "chưa chắc chắn" not in html
    assert "liveness_not_done" in _help_reasons(html)  # the clerk is told the true reason


def test_grey_zone_is_not_called_no_face(kiosk, scripted):
    scripted.decision = "review"
    scripted.liveness = "passed"
    _to_step6_with_cards(kiosk)
    html = _record_liveness(kiosk)
    assert 'data-result="review"' in html and "chưa chắc chắn" in html
    assert "Không thấy rõ" not in html


def test_no_face_offers_a_retake_and_the_clerk(kiosk, scripted):
    scripted.decision = "no_face"
    scripted.liveness = "passed"
    _to_step6_with_cards(kiosk)
    html = _record_liveness(kiosk)
    assert 'data-result="no_face"' in html and "Chụp lại khuôn mặt" in html
    assert "no_face" in _help_reasons(html)


def test_different_person_retries_then_reaches_the_clerk(app, kiosk, scripted):
    scripted.decision = "no_match"
    scripted.liveness = "passed"
    _to_step6_with_cards(kiosk)
    tries = app.config["FACE_MAX_ATTEMPTS"]
    for attempt in range(1, tries):
        html = _record_liveness(kiosk)
        assert 'data-result="no_match"' in html and f"lần {attempt}/{tries}" in html
        assert "no_match" not in _help_reasons(html)
    html = _record_liveness(kiosk)
    assert 'data-result="no_match_final"' in html and f"sau {tries} lần" in html
    assert "no_match" in _help_reasons(html)


def test_wrong_side_error_kind_is_shown_by_the_camera(kiosk):
    """The cards helper recognises the side; the screen can say it (view(error_kind=...))."""
    from kiosk.web.wizard.steps import verification

    kiosk.walk_to(6)
    kiosk.capture("card_front")
    app = kiosk.client.application
    with app.test_request_context(), app.app_context():
        reg = kiosk.row()
        html = verification.view(reg, False, error_kind="wrong_side", retake="card_back").get_data(as_text=True)
    assert 'data-error="wrong_side"' in html and "mặt trước" in html and "mặt sau giấy tờ" in html


def test_camera_failure_has_a_hidden_clerk_button_for_camera_js(kiosk):
    kiosk.walk_to(6)
    html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    block = re.search(r'data-camera-failed hidden>(.*?)</div>', html, re.S).group(1)
    assert 'data-help-reason="camera_unavailable"' in block


# ---- printer ------------------------------------------------------------------------------

def test_printer_error_offers_print_again_and_the_clerk(app, kiosk, jammed_printer):
    kiosk.walk_to(10)
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert "Chưa in được phiếu" in html and "In lại phiếu" in html
    assert "printer_error" in _help_reasons(html)
    assert kiosk.post(f"/r/{kiosk.token}/help", {"reason": "printer_error"}).status_code == 200
    assert kiosk.registration().help_reason == "printer_error"


def test_a_finished_registration_may_call_the_clerk_only_about_the_printer(kiosk):
    kiosk.walk_to(10)
    assert kiosk.post(f"/r/{kiosk.token}/help", {"reason": "customer_asked"}).status_code == 409


# ---- documents ------------------------------------------------------------------------------

def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def test_contract_is_shown_in_the_kiosk_without_a_new_tab(kiosk):
    """The in-kiosk viewer names the PDF its script draws (tests/browser draws it)."""
    kiosk.walk_to(7)
    html = kiosk.get(kiosk.url(7)).get_data(as_text=True)
    assert 'target="_blank"' not in html
    src = re.search(r'data-doc-src="(/r/[^"]+/document/contract\.pdf)"', html).group(1)
    assert re.search(r'<canvas class="doc-page" role="img"[^>]*data-doc-page="1"', html)
    pdf = kiosk.get(src)
    assert pdf.mimetype == "application/pdf" and pdf.headers["Cache-Control"] == "no-store"
    assert "Hợp đồng" in _pdf_text(pdf.data) or "HỢP ĐỒNG" in _pdf_text(pdf.data)
    # the pages are the browser's to draw: the server no longer makes page images
    assert kiosk.get(src.replace("contract.pdf", "contract/page-1.png")).status_code == 404


def test_documents_not_reached_are_not_served(kiosk):
    kiosk.walk_to(7)
    assert kiosk.get(f"/r/{kiosk.token}/document/acceptance.pdf").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/document/other.pdf").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/receipt.pdf").status_code == 404


def test_done_screen_shows_the_receipt_in_place_and_where_to_pay(browser_printing, kiosk):
    # the receipt is printed from this screen
    kiosk.walk_to(10)
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert 'target="_blank"' not in html
    assert "Thanh toán tại quầy" in html
    src = re.search(r'data-doc-src="(/r/[^"]+/receipt\.pdf)"', html).group(1)
    assert kiosk.get(src).mimetype == "application/pdf"


def test_with_a_kiosk_printer_the_done_screen_is_the_last_look_at_the_registration(kiosk):
    # the receipt came out of the printer: no copy on screen, and nothing opens afterwards
    kiosk.walk_to(10)
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert "Thanh toán tại quầy" in html
    assert "data-doc-viewer" not in html
    assert kiosk.get(f"/r/{kiosk.token}/receipt.pdf").status_code == 404


def test_acceptance_record_says_only_what_has_happened(kiosk):
    kiosk.walk_to(10)
    reg = kiosk.registration()
    text = _pdf_text(next(d.content for d in reg.documents if d.kind == "acceptance"))
    flat = " ".join(text.split())
    assert "đã đăng nhập được" not in flat and "hoạt động bình thường" not in flat
    assert "đã tự tạo mật khẩu" in flat


def test_sample_price_is_never_printed_as_the_price(kiosk):
    """The seeded catalogue is a sample: neither contract nor receipt states its amount."""
    kiosk.walk_to(10)
    reg = kiosk.registration()
    assert reg.package_snapshot["price_is_sample"] is True
    amount = f"{reg.package_snapshot['price_vnd']:,}".replace(",", ".")
    for doc in reg.documents:
        flat = " ".join(_pdf_text(doc.content).split())
        assert amount not in flat, doc.kind
        assert "tại quầy" in flat, doc.kind


def test_real_price_is_printed_with_the_payment_place(app, kiosk):
    with app.app_context():
        for p in db.session.query(ServicePackage):
            p.is_sample = False
        db.session.commit()
    kiosk.walk_to(10)
    reg = kiosk.registration()
    amount = f"{reg.package_snapshot['price_vnd']:,}".replace(",", ".")
    receipt = next(d for d in reg.documents if d.kind == "receipt")
    flat = " ".join(_pdf_text(receipt.content).split())
    assert amount in flat and "tại quầy" in flat


# ---- wording --------------------------------------------------------------------------------

def test_password_error_keeps_upper_case_rule_upper_case(kiosk):
    kiosk.walk_to(5)
    kiosk.activate()
    html = kiosk.password("hoa", "hoa").get_data(as_text=True)
    assert "(A–Z)" in html and "(a–z)" in html  # the upper-case rule reads A–Z, lower-case a–z
    assert "in hoa (a–z)" not in html


def test_price_never_wraps_inside_the_amount(kiosk):
    kiosk.walk_to(2)
    html = kiosk.get(kiosk.url(2)).get_data(as_text=True)
    assert re.search(r'<span class="nowrap">[\d.]+ đồng</span>', html)
    assert "sample-tag" in html


def test_a_late_password_check_after_step_5_is_quietly_ignored(kiosk):
    """The debounced check of the last keystroke can arrive after «Lưu mật khẩu» moved on."""
    kiosk.walk_to(6)
    response = kiosk.post(f"/r/{kiosk.token}/step/5/password-check", {"password": "Hoa@1234"})
    assert response.status_code == 204 and response.data == b""

"""Each refusal of the steps: clear Vietnamese message, what was typed kept, no 500."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent

from .kiosk_driver import CUSTOMER, data_url, jpeg_bytes, signature_png


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# ---- step 1 ----------------------------------------------------------------------------------

def test_cccd_with_wrong_length_is_refused_and_input_kept(kiosk):
    kiosk.start()
    html = _html(kiosk.account(id_number="03808501234"))
    assert "12 chữ số" in html
    assert 'value="03808501234"' in html
    assert 'value="0912 345 678"' in html


def test_invalid_phone_is_refused(kiosk):
    kiosk.start()
    html = _html(kiosk.account(phone="0123"))
    assert "has-error" in html and "field-error" in html
    assert 'value="0123"' in html


def test_landline_is_refused_as_mobile(kiosk):
    kiosk.start()
    html = _html(kiosk.account(phone="0237 3858000"))
    assert "di động" in html


def test_missing_consent_is_refused(kiosk):
    kiosk.start()
    response = kiosk.post_step(1, {"id_type": "cccd", "id_number": CUSTOMER["id_number"],
                                   "phone": CUSTOMER["phone"]})
    assert "đồng ý" in _html(response)
    assert kiosk.registration().furthest_step == 1


def test_passport_number_is_accepted(kiosk):
    kiosk.start()
    kiosk.account(id_type="passport", id_number="c1234567")
    reg = kiosk.registration()
    assert reg.furthest_step == 2 and reg.data["id_number"] == "C1234567"


# ---- step 2 ----------------------------------------------------------------------------------

def test_package_prices_are_formatted_the_vietnamese_way(kiosk):
    kiosk.walk_to(2)
    html = _html(kiosk.get(kiosk.url(2)))
    assert "250.000 đồng" in html and "₫" not in html
    assert "giá mẫu" in html


def test_no_package_chosen_is_refused(kiosk):
    kiosk.walk_to(2)
    assert "chọn một gói" in _html(kiosk.post_step(2, {}))


def test_unknown_package_is_refused(kiosk):
    kiosk.walk_to(2)
    assert "chọn một gói" in _html(kiosk.post_step(2, {"package": "9999"}))


# ---- step 3 ----------------------------------------------------------------------------------

def test_name_with_digits_is_refused_and_other_fields_kept(kiosk):
    kiosk.walk_to(3)
    html = _html(kiosk.personal(full_name="Nguyen 123"))
    assert "has-error" in html
    assert 'value="05/09/1985"' in html
    assert CUSTOMER["address"] in html


def test_impossible_date_is_refused(kiosk):
    kiosk.walk_to(3)
    html = _html(kiosk.personal(date_of_birth="31/02/1985"))
    assert "31/02/1985" in html and "field-error" in html
    assert kiosk.registration().furthest_step == 3


def test_birth_year_disagreeing_with_cccd_is_explained(app, kiosk):
    kiosk.walk_to(3)
    html = _html(kiosk.personal(date_of_birth="05/09/1958"))
    assert "1958" in html and "1985" in html
    with app.app_context():
        assert "personal_details_refused" in [e.event for e in db.session.scalars(select(AuditEvent))]


def test_gender_disagreeing_with_cccd_is_explained(kiosk):
    kiosk.walk_to(3)
    html = _html(kiosk.personal(gender="Nữ"))
    assert "Giới tính" in html and "Nam" in html


def test_under_18_is_refused_clearly(kiosk):
    dob = date.today() - timedelta(days=17 * 365)
    number = f"0383{dob.year % 100:02d}012345"  # digit 4 = 3: female born 2000s
    kiosk.start()
    kiosk.account(id_number=number)
    kiosk.package()
    html = _html(kiosk.personal(date_of_birth=dob.strftime("%d/%m/%Y"), gender="Nữ"))
    assert "18 tuổi" in html
    assert kiosk.registration().furthest_step == 3


# ---- step 4 ----------------------------------------------------------------------------------

def test_provisioning_revalidates_earlier_data(app, kiosk):
    kiosk.walk_to(4)
    with app.app_context():
        reg = kiosk.row()
        reg.update_personal(gender="Nữ")  # e.g. data edited behind the wizard's back
        db.session.commit()
    html = _html(kiosk.provision())
    assert "Sửa ở bước 3" in html
    assert kiosk.registration().subscriber_ref is None


# ---- step 5 ----------------------------------------------------------------------------------

def test_wrong_activation_code_counts_down_attempts(kiosk):
    kiosk.walk_to(5)
    wrong = "000000" if kiosk.last_sms_code() != "000000" else "111111"
    html = _html(kiosk.activate(wrong))
    assert "còn 4 lần" in html


def test_five_wrong_codes_lock_the_step_even_for_the_right_code(app, kiosk):
    kiosk.walk_to(5)
    right = kiosk.last_sms_code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        kiosk.activate(wrong)
    html = _html(kiosk.activate(right))
    assert "bị khóa" in html
    assert kiosk.registration().otp_verified_at is None


def test_expired_activation_code_is_refused(app, kiosk):
    kiosk.walk_to(5)
    code = kiosk.last_sms_code()
    from kiosk.core.models import SandboxSubscriber, utcnow

    with app.app_context():
        sub = db.session.scalar(select(SandboxSubscriber))
        sub.activation_expires_at = utcnow() - timedelta(seconds=1)  # five minutes have passed
        db.session.commit()
    html = _html(kiosk.activate(code))
    assert "hết hạn" in html
    assert kiosk.registration().otp_verified_at is None


def test_resend_is_refused_during_cooldown(kiosk):
    kiosk.walk_to(5)
    html = _html(kiosk.post(f"/r/{kiosk.token}/step/5/resend"))
    assert "Vui lòng chờ" in html
    assert kiosk.registration().otp_sends == 1


def test_resend_after_cooldown_sends_a_new_code_at_most_three_times(app, kiosk):
    kiosk.walk_to(5)
    for expected in (2, 3, 4, 4):
        with app.app_context():
            reg = kiosk.row()
            reg.otp_sent_at = reg.otp_sent_at - timedelta(seconds=61)
            db.session.commit()
        kiosk.post(f"/r/{kiosk.token}/step/5/resend")
        assert kiosk.registration().otp_sends == expected


def test_resend_widget_polls_during_cooldown(kiosk):
    kiosk.walk_to(5)
    html = _html(kiosk.get(f"/r/{kiosk.token}/step/5/resend-button", htmx=True))
    assert 'hx-trigger="every 5s"' in html and "giây" in html


def test_weak_password_is_refused_with_the_rules_it_breaks(kiosk):
    kiosk.walk_to(5)
    kiosk.activate()
    html = _html(kiosk.password("hoa12345"))
    assert "chữ in hoa" in html.lower() or "chữ hoa" in html.lower()
    assert kiosk.registration().password_set_at is None


def test_password_containing_the_id_number_is_refused(kiosk):
    kiosk.walk_to(5)
    kiosk.activate()
    _html(kiosk.password("Aa@" + CUSTOMER["id_number"]))
    assert kiosk.registration().password_set_at is None


def test_password_confirmation_mismatch_is_refused(kiosk):
    kiosk.walk_to(5)
    kiosk.activate()
    html = _html(kiosk.password("Hoa@1234", confirm="Hoa@1235"))
    assert "không giống nhau" in html


def test_password_checklist_updates_live(kiosk):
    kiosk.walk_to(5)
    kiosk.activate()
    html = _html(kiosk.post(f"/r/{kiosk.token}/step/5/password-check", {"password": "abc"}))
    assert 'class="ok"' in html and 'class="bad"' in html


# ---- step 6 ----------------------------------------------------------------------------------

def test_capture_that_is_not_an_image_is_refused(kiosk):
    kiosk.walk_to(6)
    from .kiosk_driver import data_url

    html = _html(kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
                            {"image_data": data_url("image/jpeg", b"not a jpeg")}))
    assert "không phải ảnh" in html


def test_truncated_jpeg_upload_is_refused(kiosk):
    kiosk.walk_to(6)
    import io

    data = jpeg_bytes()[:-2000]
    html = _html(kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
                            {"image_file": (io.BytesIO(data), "scan.jpg")},
                            content_type="multipart/form-data"))
    assert "thiếu dữ liệu" in html or "bị hỏng" in html


def test_uploaded_scan_is_accepted_as_evidence(kiosk):
    kiosk.walk_to(6)
    import io

    html = _html(kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_back",
                            {"image_file": (io.BytesIO(jpeg_bytes()), "scan.jpg")},
                            content_type="multipart/form-data"))
    assert "Đã chụp" in html


def test_staff_confirmation_needs_all_three_photos(kiosk):
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    html = _html(kiosk.staff_confirm())
    assert "chụp đủ" in html
    assert kiosk.registration().furthest_step == 6


def test_wrong_staff_password_is_refused_and_audited(app, kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()
    html = _html(kiosk.staff_confirm(password="wrong"))
    assert "không đúng" in html
    with app.app_context():
        events = [e.event for e in db.session.scalars(select(AuditEvent))]
        assert "staff_confirmation_refused" in events


def test_staff_confirmation_is_audited_with_the_staff_name(app, kiosk):
    kiosk.walk_to(7)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "kyc_confirmed"))
        assert event.actor == "staff:nv.hoa"
        assert set(event.details["evidence"]) == {"card_front", "card_back", "face"}


def test_staff_reject_ends_the_tries_at_the_kiosk(kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()
    html = _html(kiosk.staff_confirm(verdict="reject"))
    assert "không thể tiếp tục tại máy" in html and "gặp nhân viên" in html
    assert kiosk.registration().furthest_step == 6


def test_staff_account_locks_after_repeated_failures(app, kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()
    for _ in range(5):
        kiosk.staff_confirm(password="wrong")
    _html(kiosk.staff_confirm())  # right password, but locked now
    assert kiosk.registration().furthest_step == 6


# ---- steps 7–9 -------------------------------------------------------------------------------

def test_contract_text_is_shown_on_screen(kiosk):
    kiosk.walk_to(7)
    html = _html(kiosk.get(kiosk.url(7)))
    assert "HỢP ĐỒNG" in html and CUSTOMER["full_name"] in html


def test_empty_signature_is_refused(kiosk):
    kiosk.walk_to(7)
    html = _html(kiosk.sign(7, png=b""))
    assert "chưa ký" in html
    html = _html(kiosk.sign(7, png=signature_png(ink=False)))
    assert "chưa ký" in html.lower()
    assert kiosk.registration().furthest_step == 7


def test_weak_pins_are_refused(kiosk):
    kiosk.walk_to(8)
    for weak in ("111111", "123456", "654321", "050985", "012345"[:0] + CUSTOMER["id_number"][-6:]):
        html = _html(kiosk.pin(weak))
        assert "field-error" in html, weak
    assert kiosk.registration().pin_set_at is None


def test_pin_confirmation_mismatch_is_refused(kiosk):
    kiosk.walk_to(8)
    assert "không giống nhau" in _html(kiosk.pin("908172", confirm="908173"))


def test_pin_must_be_six_digits(kiosk):
    kiosk.walk_to(8)
    _html(kiosk.pin("90817"))
    assert kiosk.registration().pin_set_at is None


def test_any_photo_can_be_retaken(kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()
    html = _html(kiosk.get(f"/r/{kiosk.token}/step/6/retake/card_front", htmx=True))
    assert "Chụp lại: Mặt trước giấy tờ" in html
    assert f"/r/{kiosk.token}/step/6/capture/card_front" in html
    # the retake form says it is a retake (a side already stored is otherwise not stored again)
    assert 'name="retake" value="card_front"' in html
    kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
               {"image_data": data_url("image/jpeg", jpeg_bytes(seed=99)), "retake": "card_front"})
    fronts = [e for e in kiosk.registration().evidence if e.kind == "card_front"]
    assert len(fronts) == 2


def test_no_face_offers_both_a_retake_and_the_clerk(kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()  # noise pictures: no face anywhere
    html = _html(kiosk.get(kiosk.url(6)))
    assert f"/r/{kiosk.token}/step/6/retake/face" in html and "Nhân viên xác nhận" in html
    html = _html(kiosk.get(f"/r/{kiosk.token}/step/6/retake/face", htmx=True))
    assert "data-liveness-form" in html


def test_otp_attempts_cannot_exceed_the_limit_even_when_reserved_in_parallel(app, kiosk):
    from kiosk.services.claims import reserve_otp_attempt

    kiosk.walk_to(5)
    with app.test_request_context():
        reg = kiosk.row()
        taken = [reserve_otp_attempt(reg, app.config["OTP_MAX_ATTEMPTS"]) for _ in range(8)]
    assert taken == [1, 2, 3, 4, 5, None, None, None]
    assert kiosk.registration().otp_failed_attempts == 5


def test_unknown_staff_username_is_not_written_to_the_audit_log(app, kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()
    kiosk.staff_confirm(username="Staff@2026", password="x")  # password typed in the wrong box
    with app.app_context():
        dump = repr([e.details for e in db.session.scalars(select(AuditEvent))])
    assert "Staff@2026" not in dump

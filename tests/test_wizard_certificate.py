"""Step 9 begins with the certificate's information (Decree 23/2025/NĐ-CP: the certificate is
published only after the subscriber confirms it): every field on its own line, «Thông tin này
đúng» before the signature pad, «Sai thông tin» back to the owning step or to a clerk."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document
from kiosk.domain import certificate
from kiosk.services import certificate_confirmation, signing

from .kiosk_driver import CUSTOMER, data_url, signature_png


def _events(app, name):
    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == name))]


def test_step_9_lists_every_field_of_the_certificate_with_its_validity(app, kiosk):
    kiosk.walk_to(9)
    html = kiosk.get(kiosk.url(9)).get_data(as_text=True)
    for f in certificate.FIELDS:
        assert f"<dt id=\"cert-{f.key}\">{f.label}</dt>" in html
    reg = kiosk.registration()
    # Step 3 settled today's address from the card's (a ward merged whole: converted alone); the
    # certificate carries today's, not the card's pre-2025 text.
    assert reg.data["current_address"] != CUSTOMER["address"]
    for value in (CUSTOMER["full_name"], CUSTOMER["id_number"], reg.data["current_address"],
                  "tỉnh Thanh Hóa", CUSTOMER["email"], "0912 345 678"):
        assert value in html
    start, end = certificate.validity(certificate_confirmation.vietnam_today(),
                                      reg.package_snapshot["duration_months"])
    assert reg.package_snapshot["name"] in html
    assert (f"{reg.package_snapshot['duration_months']} tháng, từ {start:%d/%m/%Y} "
            f"đến {end:%d/%m/%Y}") in html
    assert "Thông tin này đúng" in html and "Sai thông tin" in html
    assert "signature-canvas-acceptance" not in html  # the pad comes after the confirmation


def test_the_current_address_is_the_one_on_the_certificate_when_declared(app, kiosk):
    kiosk.walk_to(9)
    with app.app_context():
        kiosk.row().update_personal(current_address="Số 5 Trần Phú, Phường Hạc Thành, Tỉnh Thanh Hóa")
        db.session.commit()
    html = kiosk.get(kiosk.url(9)).get_data(as_text=True)
    assert "Số 5 Trần Phú, Phường Hạc Thành, Tỉnh Thanh Hóa" in html
    assert ">Tỉnh Thanh Hóa<" in html


def test_the_validity_runs_from_today_for_the_packages_months(app, kiosk):
    kiosk.walk_to(9)
    with app.app_context():
        shown = certificate_confirmation.summary(kiosk.row(), today=date(2026, 1, 31))
    assert (shown.valid_from, shown.valid_until) == (date(2026, 1, 31), date(2027, 1, 31))
    assert dict((line.key, line.value) for line in shown.lines)["validity"] == \
        "12 tháng, từ 31/01/2026 đến 31/01/2027"


def test_confirming_opens_the_pad_and_keeps_what_was_confirmed(app, kiosk):
    kiosk.walk_to(9)
    html = kiosk.confirm_certificate().get_data(as_text=True)
    assert "signature-canvas-acceptance" in html
    kiosk.confirm_certificate()  # a double tap records nothing more
    assert len(_events(app, "certificate_confirmed")) == 1
    confirmed = kiosk.registration().data["certificate_confirmed"]
    assert confirmed["fields"]["full_name"] == CUSTOMER["full_name"]
    assert confirmed["valid_from"] and confirmed["valid_until"]
    # After the confirmation, step 9 opens on the acceptance record.
    assert "signature-canvas-acceptance" in kiosk.get(kiosk.url(9)).get_data(as_text=True)
    response = kiosk.post_step(9, {"signature": data_url("image/png", signature_png())})
    assert response.headers["HX-Redirect"] == f"/r/{kiosk.token}/done"


def test_a_signature_before_the_confirmation_is_refused(app, kiosk):
    kiosk.walk_to(9)
    response = kiosk.post_step(9, {"signature": data_url("image/png", signature_png())})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "chưa xác nhận thông tin chứng thư số" in html and "Thông tin này đúng" in html
    with app.app_context():
        reg = kiosk.row()
        # The service refuses as well, whoever calls it.
        outcome = signing.sign(reg, "acceptance", data_url("image/png", signature_png()))
        assert outcome == signing.Invalid(certificate_confirmation.NOT_CONFIRMED)
        assert db.session.scalar(select(Document.id).where(
            Document.registration_id == reg.id, Document.kind == "acceptance")) is None
    assert not kiosk.registration().finished


def test_wrong_package_at_step_9_calls_a_clerk_and_says_so(app, kiosk):
    """Step 9 comes after step 4: the package is the backend's now, so a clerk is called."""
    kiosk.walk_to(9)
    response = kiosk.post_step(9, {"certificate": "wrong", "field": "package"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Push-Url" not in response.headers
    assert "Gói dịch vụ" in html and "nhân viên tại quầy đã được gọi" in html
    reg = kiosk.registration()
    assert reg.help_reason == "certificate_data_wrong" and reg.help_requested_at is not None
    assert reg.current_step == 9 and not reg.data.get("certificate_confirmed")
    assert _events(app, "certificate_field_wrong")[-1]["outcome"] == "clerk_called"
    assert _events(app, "help_requested")[-1]["reason"] == "certificate_data_wrong"


def test_every_field_offers_a_way_to_say_it_is_wrong(app, kiosk):
    kiosk.walk_to(9)
    html = kiosk.get(kiosk.url(9)).get_data(as_text=True)
    for key in certificate.FIELD_KEYS:
        assert f'data-field="{key}"' in html
    assert html.count("Gọi nhân viên giúp sửa") == len(certificate.FIELDS)


def test_an_unknown_field_is_asked_again_not_a_500(app, kiosk):
    kiosk.walk_to(9)
    response = kiosk.post_step(9, {"certificate": "wrong", "field": "password"})
    assert response.status_code == 200
    assert "Vui lòng chọn thông tin bị sai." in response.get_data(as_text=True)
    assert kiosk.registration().help_requested_at is None


def test_a_field_still_open_goes_back_to_its_step(app, kiosk):
    """Before step 4 (furthest step 3) the package and the phone are still the customer's."""
    kiosk.walk_to(3)
    with app.app_context():
        reg = kiosk.row()
        assert certificate_confirmation.report_wrong(reg, "package") == \
            certificate_confirmation.GoBack(2)
        assert certificate_confirmation.report_wrong(reg, "phone") == \
            certificate_confirmation.GoBack(1)
        assert reg.help_requested_at is None
        db.session.commit()

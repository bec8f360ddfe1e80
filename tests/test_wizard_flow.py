"""A whole registration through the nine steps, and the server-enforced order of steps."""
from __future__ import annotations

import re

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document
from tests.app_factory import kiosk_client

from .kiosk_driver import CUSTOMER, PASSWORD, PIN


def test_welcome_page_is_vietnamese_with_start_button(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in html
    assert "Bắt đầu đăng ký" in html
    assert "MÔI TRƯỜNG THỬ NGHIỆM" in html  # sandbox providers are the default


def test_whole_registration_reaches_done_with_receipt(app, kiosk):
    kiosk.start()
    assert kiosk.account().status_code == 200
    assert kiosk.package().status_code == 200
    assert kiosk.personal().status_code == 200
    response = kiosk.provision()
    assert "091* *** 678" in response.get_data(as_text=True)  # says where the code went
    assert "Tạo mật khẩu" in kiosk.activate().get_data(as_text=True)
    kiosk.password()
    kiosk.capture_all()
    kiosk.staff_confirm()
    kiosk.sign(7)
    kiosk.pin()
    response = kiosk.sign(9)
    assert response.headers["HX-Redirect"] == f"/r/{kiosk.token}/done"

    with app.app_context():
        reg = kiosk.registration()
        assert reg.finished and reg.finished_at is not None
        kinds = sorted(d.kind for d in db.session.scalars(
            select(Document).where(Document.registration_id == reg.id)))
        assert kinds == ["acceptance", "contract", "receipt"]
        # Only when the password and PIN were set is kept: the backend owns them.
        assert reg.password_set_at is not None and reg.pin_set_at is not None
        assert not hasattr(reg, "password_hash") and not hasattr(reg, "pin_hash")
        assert reg.kyc_decision == "staff_confirmed"

    done = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert CUSTOMER["id_number"] in done
    assert PASSWORD not in done and PIN not in done
    # The receipt came out of the kiosk printer ("file" here): the registration is closed to
    # this browser, the done screen says so and a reload opens nothing.
    assert "Hồ sơ đã đóng trên máy này" in done
    assert kiosk.get(f"/r/{kiosk.token}/done").status_code == 404


def test_each_step_url_gives_full_page_or_partial(kiosk):
    kiosk.start()
    full = kiosk.get(kiosk.url(1))
    partial = kiosk.get(kiosk.url(1), htmx=True)
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in partial.get_data(as_text=True)
    assert "Đăng ký tài khoản" in partial.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]
    assert full.headers["Cache-Control"] == "no-store"


def test_history_restore_request_gets_full_page(kiosk):
    kiosk.start()
    response = kiosk.client.get(kiosk.url(1), headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_accepted_step_pushes_next_step_url(kiosk):
    kiosk.start()
    response = kiosk.account()
    assert response.headers["HX-Push-Url"] == kiosk.url(2)
    assert "Chọn gói dịch vụ" in response.get_data(as_text=True)


def test_step_not_reached_redirects_to_current_step(kiosk):
    kiosk.start()
    kiosk.account()
    response = kiosk.get(kiosk.url(5))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(kiosk.url(2))


def test_posting_a_step_not_reached_changes_nothing(app, kiosk):
    kiosk.start()
    response = kiosk.post_step(3, {"full_name": "Nguyễn Văn An"})
    assert response.headers["HX-Redirect"].endswith(kiosk.url(1))
    with app.app_context():
        reg = kiosk.registration()
        assert reg.furthest_step == 1 and "full_name" not in reg.data
        events = [e.event for e in db.session.scalars(select(AuditEvent))]
        assert "step_order_refused" in events


def test_going_back_before_provisioning_allows_changes(app, kiosk):
    kiosk.walk_to(3)
    response = kiosk.account(phone="0987 654 321")
    assert response.status_code == 200
    with app.app_context():
        assert kiosk.registration().data["phone"] == "+84987654321"


def test_after_provisioning_earlier_steps_are_read_only(app, kiosk):
    kiosk.walk_to(5)
    page = kiosk.get(kiosk.url(1)).get_data(as_text=True)
    assert "không sửa được nữa" in page
    response = kiosk.account(phone="0987 654 321")
    assert response.headers["HX-Redirect"].endswith(kiosk.url(5))
    with app.app_context():
        assert kiosk.registration().data["phone"] == "+84912345678"


def test_finished_registration_cannot_be_reentered(app, kiosk):
    kiosk.walk_to(10)
    response = kiosk.get(kiosk.url(3))
    assert response.headers["Location"].endswith(f"/r/{kiosk.token}/done")
    response = kiosk.personal(full_name="Trần Văn Bình")
    assert response.headers["HX-Redirect"].endswith(f"/r/{kiosk.token}/done")
    with app.app_context():
        assert kiosk.registration().data["full_name"] == CUSTOMER["full_name"]


def test_reload_returns_to_the_same_step(kiosk):
    kiosk.walk_to(3)
    welcome = kiosk.get("/").get_data(as_text=True)
    assert "Tiếp tục hồ sơ này" in welcome
    assert re.search(rf'href="/r/{kiosk.token}/step/3"', welcome)


def test_registration_is_bound_to_the_kiosk_browser(app, kiosk):
    kiosk.start()
    other = kiosk_client(app)  # the same kiosk, another browser session
    assert other.get(kiosk.url(1)).status_code == 404


def test_post_without_csrf_token_is_refused(app, kiosk):
    kiosk.start()
    response = kiosk.client.post(kiosk.url(1), data={
        "id_type": "cccd", "id_number": CUSTOMER["id_number"], "phone": CUSTOMER["phone"],
        "consent": "y"})
    assert response.status_code == 400
    with app.app_context():
        assert kiosk.registration().furthest_step == 1


def test_start_without_csrf_token_is_refused(client):
    assert client.post("/start").status_code == 400


def test_idle_timeout_releases_the_screen_but_keeps_the_registration(app, kiosk):
    kiosk.walk_to(3)
    assert kiosk.post("/idle").status_code == 204
    assert kiosk.get(kiosk.url(3)).status_code == 404  # the screen no longer holds it
    assert "Tiếp tục hồ sơ này" not in kiosk.get("/").get_data(as_text=True)
    with app.app_context():
        from kiosk.core.models import Registration

        reg = db.session.scalar(select(Registration))
        assert reg.status == "in_progress" and reg.furthest_step == 3
        assert "idle_timeout" in [e.event for e in db.session.scalars(select(AuditEvent))]


def test_non_ascii_token_is_not_found_not_a_crash(kiosk):
    kiosk.start()
    assert kiosk.get("/r/%C3%A9/step/1").status_code == 404


def test_going_back_then_forward_lands_on_the_next_step(kiosk):
    kiosk.walk_to(4)
    response = kiosk.account()
    assert response.headers["HX-Push-Url"] == kiosk.url(2)
    assert "Bước 2/9" in response.get_data(as_text=True)


def test_welcome_does_not_offer_a_registration_left_long_ago(app, kiosk):
    from datetime import timedelta

    kiosk.walk_to(3)
    with app.app_context():
        reg = kiosk.row()
        reg.updated_at = reg.updated_at - timedelta(minutes=30)
        db.session.commit()
    assert "Tiếp tục hồ sơ này" not in kiosk.get("/").get_data(as_text=True)
    assert kiosk.get(kiosk.url(3)).status_code == 404

"""«Gọi nhân viên»: a registration joins the clerks' queue and the kiosk waits for it."""
from __future__ import annotations

from kiosk.core.extensions import db
from kiosk.services import registrations
from tests.app_factory import kiosk_client


def test_asking_for_help_puts_the_registration_in_the_queue_and_shows_the_waiting_panel(kiosk):
    kiosk.start()
    token = kiosk.registration().token
    html = kiosk.post(f"/r/{token}/help", {"reason": "otp_locked"}).get_data(as_text=True)
    assert "Đang chờ nhân viên hỗ trợ" in html
    reg = kiosk.registration()
    assert reg.help_requested_at is not None and reg.help_reason == "otp_locked"


def test_unknown_reason_is_recorded_as_the_customer_asking(kiosk):
    kiosk.start()
    token = kiosk.registration().token
    kiosk.post(f"/r/{token}/help", {"reason": "<script>"})
    assert kiosk.registration().help_reason == "customer_asked"


def test_waiting_kiosk_moves_on_once_a_clerk_has_handled_the_request(app, kiosk):
    kiosk.start()
    token = kiosk.registration().token
    kiosk.post(f"/r/{token}/help", {})
    still = kiosk.client.get(f"/r/{token}/help", headers=kiosk.headers())
    assert "Đang chờ nhân viên" in still.get_data(as_text=True)
    with app.app_context():
        reg = registrations.by_token(token)
        registrations.help_handled(reg, actor="staff:nv.hoa", outcome="resolved")
        db.session.commit()  # the console's request would commit here (services/unit_of_work)
        assert db.session.get(type(reg), reg.id).help_requested_at is None
    moved = kiosk.client.get(f"/r/{token}/help", headers=kiosk.headers())
    assert moved.headers["HX-Redirect"].endswith(f"/r/{token}/step/1")


def test_another_browser_cannot_put_a_registration_in_the_queue(app, kiosk):
    kiosk.start()
    token = kiosk.registration().token
    stranger = kiosk_client(app)  # the same kiosk, another browser session
    assert stranger.post(f"/r/{token}/help", headers={"X-CSRFToken": kiosk.csrf()}).status_code in (400, 404)


def test_welcome_screen_links_to_the_clerks_handoff_page(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/handoff"' in html and "tiếp tục hồ sơ bằng mã" in html
    assert client.get("/handoff").status_code == 200

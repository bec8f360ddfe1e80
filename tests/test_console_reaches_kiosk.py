"""The console's actions reach the kiosk: a step page polls GET /r/<token>/status; a cancel
sends the screen to the welcome page, which says why; going home after idle never offers the
previous customer's registration."""
from __future__ import annotations

from tests.app_factory import kiosk_client

from .staff_console import Clerk


def _status(kiosk):
    return kiosk.client.get(f"/r/{kiosk.token}/status", headers=kiosk.headers())


def test_every_step_page_carries_the_status_poll(app, kiosk):
    kiosk.walk_to(3)
    html = kiosk.get(kiosk.url(3)).get_data(as_text=True)
    assert f'hx-get="/r/{kiosk.token}/status"' in html
    assert f'hx-trigger="every {app.config["KIOSK_STATUS_POLL_SECONDS"]}s"' in html
    assert _status(kiosk).status_code == 204


def test_a_cancel_in_the_console_sends_the_kiosk_home_at_its_next_poll(app, kiosk):
    kiosk.walk_to(6)
    number = kiosk.registration().number
    Clerk(app).post(f"/staff/r/{number}/cancel", {"reason": "customer_left"})
    answer = _status(kiosk)
    assert answer.status_code == 200 and answer.headers["HX-Redirect"] == "/?left=cancelled"
    welcome = kiosk.client.get("/?left=cancelled").get_data(as_text=True)
    assert "Hồ sơ đã được nhân viên hủy." in welcome
    assert "Tiếp tục hồ sơ này" not in welcome
    # the session forgot the registration: the next tap finds nothing, a poll still goes home
    assert _status(kiosk).headers["HX-Redirect"] == "/"


def test_the_poll_does_not_keep_a_screen_alive(app, kiosk, monkeypatch):
    """A poll is not a customer: it must not refresh the screen's last-seen time."""
    import time as real_time

    from kiosk.web.wizard.state import GRACE_SECONDS

    kiosk.walk_to(2)
    start, timeout = real_time.time(), app.config["IDLE_TIMEOUT_SECONDS"]
    now = [start + timeout]
    monkeypatch.setattr("kiosk.web.wizard.state.time.time", lambda: now[0])
    assert _status(kiosk).status_code == 204  # still within the grace period
    now[0] = start + timeout + GRACE_SECONDS + 5  # had that poll counted, this would be 204
    assert _status(kiosk).headers["HX-Redirect"] == "/"
    assert kiosk.get(kiosk.url(2)).status_code == 404


def test_a_stranger_polling_a_token_is_sent_home_and_learns_nothing(app, kiosk):
    kiosk.walk_to(2)
    stranger = kiosk_client(app)  # the same kiosk, another browser session
    answer = stranger.get(f"/r/{kiosk.token}/status", headers={"HX-Request": "true"})
    assert answer.headers["HX-Redirect"] == "/" and answer.get_data() == b""
    assert _status(kiosk).status_code == 204  # the kiosk's own session is untouched


def test_welcome_after_idle_never_offers_the_previous_customers_registration(app, kiosk):
    """idle.js gives up waiting for POST /idle and goes to /?left=idle with the old cookie: the
    welcome page releases the session itself."""
    kiosk.walk_to(3)
    assert "Tiếp tục hồ sơ này" in kiosk.client.get("/").get_data(as_text=True)
    html = kiosk.client.get("/?left=idle").get_data(as_text=True)
    assert "Tiếp tục hồ sơ này" not in html
    assert "Tiếp tục hồ sơ này" not in kiosk.client.get("/").get_data(as_text=True)
    assert kiosk.get(kiosk.url(3)).status_code == 404
    assert kiosk.registration().status == "in_progress"  # kept for the clerks

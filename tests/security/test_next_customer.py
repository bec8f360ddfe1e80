"""Issue 9, items 5 and 7: the next customer at the counter sees nothing of the previous one."""
from __future__ import annotations

import re
import time

from kiosk.web.wizard.state import SEEN_KEY
from tests.kiosk_driver import CUSTOMER


def _leave(kiosk, seconds):
    """The customer walked away ``seconds`` ago: no request since, the row untouched."""
    with kiosk.client.session_transaction() as sess:
        sess[SEEN_KEY] = int(time.time()) - seconds
    from datetime import timedelta

    from sqlalchemy import update

    from kiosk.core.extensions import db
    from kiosk.core.models import Registration, utcnow
    with kiosk.client.application.app_context():
        # through the ORM (SQLite and PostgreSQL alike), bypassing onupdate's "now"
        db.session.execute(update(Registration).values(
            updated_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def test_stale_resume_link_shows_nothing_of_the_previous_customer(app, kiosk):
    kiosk.walk_to(7)
    welcome = kiosk.get("/").get_data(as_text=True)
    link = re.search(r'href="(/r/[^"]+/step/\d+)"', welcome).group(1)  # «Tiếp tục hồ sơ này»
    _leave(kiosk, app.config["IDLE_TIMEOUT_SECONDS"] + 120)
    page = kiosk.get(link)
    assert page.status_code == 404
    body = page.get_data(as_text=True)
    for secret in (CUSTOMER["id_number"], CUSTOMER["full_name"], "0912", "evidence"):
        assert secret not in body
    # and the session is released: nothing else of that registration opens either
    assert kiosk.get(f"/r/{kiosk.token}/step/1").status_code == 404
    assert "Tiếp tục hồ sơ này" not in kiosk.get("/").get_data(as_text=True)


def test_every_registration_url_rechecks_the_screen(app, kiosk):
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    evidence = re.search(r"/r/[^/]+/evidence/(\d+)", kiosk.get(kiosk.url(6)).get_data(as_text=True))
    _leave(kiosk, app.config["IDLE_TIMEOUT_SECONDS"] + 120)
    assert kiosk.get(f"/r/{kiosk.token}/evidence/{evidence.group(1)}").status_code == 404


def test_a_customer_still_reading_is_not_cut_off(app, kiosk):
    kiosk.walk_to(7)
    _leave(kiosk, app.config["IDLE_TIMEOUT_SECONDS"] - 10)
    assert kiosk.post(f"/r/{kiosk.token}/alive").status_code == 204  # idle.js: still touching
    assert kiosk.get(kiosk.url(7)).status_code == 200


def test_welcome_screen_with_resume_link_has_the_idle_timer(kiosk):
    kiosk.walk_to(3)
    welcome = kiosk.get("/").get_data(as_text=True)
    assert "Tiếp tục hồ sơ này" in welcome
    assert 'data-idle-timeout="' in welcome and 'data-idle-url="/idle"' in welcome


def test_finished_registration_closes_once_the_receipt_is_printed(kiosk):
    kiosk.walk_to(10)
    assert kiosk.get(f"/r/{kiosk.token}/done").status_code == 200  # shown once
    for path in ("done", "receipt.pdf", "step/6", "document/contract.pdf"):
        assert kiosk.get(f"/r/{kiosk.token}/{path}").status_code == 404, path
    assert kiosk.post(f"/r/{kiosk.token}/print").status_code == 404


def test_finished_registration_photos_and_contracts_are_never_served_again(browser_printing,
                                                                          kiosk):
    # the browser prints: open until the done screen times out
    kiosk.walk_to(10)
    assert kiosk.get(f"/r/{kiosk.token}/done").status_code == 200
    assert kiosk.get(f"/r/{kiosk.token}/receipt.pdf").status_code == 200
    assert kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/evidence/1").status_code == 404


def test_done_screen_timeout_closes_the_registration(browser_printing, kiosk):
    app = browser_printing
    kiosk.walk_to(10)
    from datetime import timedelta

    from kiosk.core.extensions import db
    with app.app_context():
        row = kiosk.row()
        row.finished_at = row.finished_at - timedelta(seconds=app.config["DONE_RETURN_SECONDS"] + 60)
        db.session.commit()
    assert kiosk.get(f"/r/{kiosk.token}/done").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/receipt.pdf").status_code == 404


def test_kiosk_cookie_expires_with_the_browser_session(client, kiosk):
    response = kiosk.start()
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" not in cookie and "Max-Age" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

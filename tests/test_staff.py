"""The staff console: sign-in with lockout, registrations list, sandbox SMS outbox."""
from __future__ import annotations

import re

from .kiosk_driver import STAFF


def _csrf(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def login(client, username=STAFF[0], password=STAFF[1]):
    token = _csrf(client, "/staff/login")
    return client.post("/staff/login", data={"csrf_token": token, "username": username,
                                             "password": password})


def test_console_requires_sign_in(client):
    response = client.get("/staff/outbox")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")


def test_wrong_password_is_refused(client):
    html = login(client, password="wrong").get_data(as_text=True)
    assert "không đúng" in html
    assert client.get("/staff/").status_code == 302


def test_staff_account_locks_after_five_failures(client):
    for _ in range(5):
        login(client, password="wrong")
    response = login(client)
    assert "không đúng" in response.get_data(as_text=True)  # locked, even with the right one


def test_signed_in_staff_sees_registrations_and_the_sandbox_outbox(app, kiosk):
    kiosk.walk_to(5)
    staff = app.test_client()
    assert login(staff).status_code == 302
    index = staff.get("/staff/").get_data(as_text=True)
    assert kiosk.registration().number in index
    outbox = staff.get("/staff/outbox").get_data(as_text=True)
    assert kiosk.last_sms_code() in outbox and "0912 345 678" in outbox


def test_outbox_partial_for_polling(app, kiosk):
    kiosk.walk_to(5)
    staff = app.test_client()
    login(staff)
    html = staff.get("/staff/outbox", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and 'hx-trigger="every 10s"' in html

"""Only enrolled kiosks start registrations, continue one with a clerk's code and print.

An unknown browser gets «Máy này chưa được ghép với quầy» for everything; a clerk enrolls a
kiosk PC with a one-time code from the console; revoking (or stopping) the kiosk sends its
browser back to that screen; the kiosk reports its camera and screen, at most every ~20 s.
"""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Kiosk, Office, Registration, StaffUser, utcnow
from kiosk.services import kiosk_devices
from tests.app_factory import (
    KIOSK_COOKIE,
    KIOSK_DEVICE_TOKEN,
    data_key_rotated,
    enroll_test_kiosk,
    kiosk_client,
)

from .staff_console import ADMIN, Clerk, add_admin

ENROLL_URL = "/kiosk/enroll"
NOT_ENROLLED = "Máy này chưa được ghép với quầy"


def _csrf(client, path="/kiosk/enroll") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _kiosk(app, code="quay-01") -> Kiosk:
    with app.app_context():
        return db.session.scalar(select(Kiosk).where(Kiosk.code == code))


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _admin(app) -> Clerk:
    add_admin(app)
    return Clerk(app, *ADMIN, addr="10.0.0.2")


def _issue_code(app, code="quay-01") -> str:
    with app.app_context():
        one_time = kiosk_devices.new_enrollment_code(kiosk_devices.by_code(code), actor="test")
        db.session.commit()
    return one_time


def _enroll(client, code, addr="10.9.0.1"):
    return client.post(ENROLL_URL, data={"csrf_token": _csrf(client), "code": code},
                       environ_base={"REMOTE_ADDR": addr})


# ---- an unknown browser ------------------------------------------------------------------------

def test_an_unknown_browser_gets_the_enrollment_screen(stranger):
    response = stranger.get("/")
    assert response.status_code == 303 and response.headers["Location"] == ENROLL_URL
    page = stranger.get(ENROLL_URL).get_data(as_text=True)
    assert NOT_ENROLLED in page and 'name="code"' in page


def test_an_unknown_browser_cannot_start_a_registration(app, stranger):
    response = stranger.post("/start", data={"csrf_token": _csrf(stranger)})
    assert response.status_code == 303 and response.headers["Location"] == ENROLL_URL
    assert _count(app, Registration) == 0


def test_an_unknown_browser_is_sent_to_enrollment_by_htmx_too(app, kiosk, stranger):
    kiosk.walk_to(2)
    answer = stranger.get(f"/r/{kiosk.token}/status", headers={"HX-Request": "true"})
    assert answer.headers["HX-Redirect"] == ENROLL_URL


def test_an_unknown_browser_cannot_take_a_registration_with_a_resume_code(app, kiosk, stranger):
    kiosk.walk_to(3)
    clerk = Clerk(app)
    html = clerk.post(f"/staff/r/{kiosk.registration().number}/resume").get_data(as_text=True)
    code = re.search(r"\b([A-Z2-9]{8})\b", html).group(1)
    response = stranger.post("/handoff", data={"csrf_token": _csrf(stranger), "code": code})
    assert response.headers["Location"] == ENROLL_URL
    assert kiosk.registration().resume_code_digest is not None  # the code is still unused


def test_an_unknown_browser_cannot_print(app, kiosk, stranger):
    kiosk.walk_to(10)
    printed = _count(app, AuditEvent, AuditEvent.event == "receipt_printed")
    response = stranger.post(f"/r/{kiosk.token}/print", data={"csrf_token": _csrf(stranger)},
                             headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == ENROLL_URL
    assert _count(app, AuditEvent, AuditEvent.event == "receipt_printed") == printed


# ---- enrolling ------------------------------------------------------------------------------------

def test_a_clerk_enrolls_a_kiosk_pc_with_a_one_time_code(app, stranger):
    admin = _admin(app)
    kiosk_id = _kiosk(app).id
    html = admin.post(f"/staff/kiosks/{kiosk_id}/enroll-code").get_data(as_text=True)
    code = re.search(r'data-enroll-code>.*?<strong class="mono">(\w{4}) (\w{4})</strong>', html)
    assert code and "/kiosk/enroll?code=" in html
    assert "Tạo mã ghép máy" in html
    response = _enroll(stranger, code.group(1) + "-" + code.group(2).lower())  # typed loosely
    assert response.status_code == 303 and response.headers["Location"] == "/"
    welcome = stranger.get("/")
    assert welcome.status_code == 200 and "Bắt đầu đăng ký" in welcome.get_data(as_text=True)
    # the code is shown once: the page never shows it again
    assert code.group(1) not in admin.html("/staff/kiosks")
    row = _kiosk(app)
    token = stranger.get_cookie(KIOSK_COOKIE).value
    assert row.enrolled_at is not None and row.enrollment_code_digest is None
    assert row.device_token_digest and token not in row.device_token_digest
    assert len(token) >= 40
    # the earlier browser of this kiosk (the test token) is replaced by the new one
    assert kiosk_client(app).get("/").headers.get("Location") == ENROLL_URL


def test_the_device_cookie_is_httponly_strict_long_lived(app, stranger):
    response = _enroll(stranger, _issue_code(app))
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith(KIOSK_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Max-Age=34560000" in cookie and "Secure" not in cookie


def test_the_device_cookie_is_secure_over_https(tmp_path):
    from tests.app_factory import make_app

    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = _enroll(client, _issue_code(app))
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith(KIOSK_COOKIE + "="))
    assert "Secure" in cookie


def test_a_wrong_code_is_refused_in_place_with_what_was_typed(app, stranger):
    response = _enroll(stranger, "ABCD-EFGH")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Mã ghép máy không đúng" in html
    assert 'value="ABCD-EFGH"' in html and stranger.get_cookie(KIOSK_COOKIE) is None


def test_an_expired_code_is_refused(app, stranger):
    code = _issue_code(app)
    with app.app_context():
        db.session.execute(update(Kiosk).where(Kiosk.code == "quay-01")
                           .values(enrollment_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert "Mã ghép máy không đúng" in _enroll(stranger, code).get_data(as_text=True)
    assert stranger.get_cookie(KIOSK_COOKIE) is None


def test_a_code_is_used_once(app, stranger):
    code = _issue_code(app)
    assert _enroll(stranger, code).status_code == 303
    second = app.test_client()
    assert "Mã ghép máy không đúng" in _enroll(second, code).get_data(as_text=True)


def test_wrong_codes_are_throttled_per_source(app, stranger):
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"]):
        _enroll(stranger, "WRONGCOD", addr="10.9.9.9")
    code = _issue_code(app)
    refused = _enroll(stranger, code, addr="10.9.9.9").get_data(as_text=True)
    assert "quá nhiều lần" in refused and stranger.get_cookie(KIOSK_COOKIE) is None
    assert _enroll(app.test_client(), code, addr="10.9.9.10").status_code == 303


def test_two_parallel_redemptions_of_one_code_enroll_one_browser(app):
    import requests

    from tests.security.live_server import serving

    code = _issue_code(app)
    results = []
    with serving(app) as base:
        sessions = [requests.Session() for _ in range(2)]
        tokens = []
        for s in sessions:
            html = s.get(base + ENROLL_URL).text
            tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', html).group(1))
        barrier = threading.Barrier(2)

        def redeem(s, csrf):
            barrier.wait()
            r = s.post(base + ENROLL_URL, data={"csrf_token": csrf, "code": code},
                       allow_redirects=False, timeout=60)
            results.append((r.status_code, KIOSK_COOKIE in s.cookies))

        threads = [threading.Thread(target=redeem, args=(s, t)) for s, t in zip(sessions, tokens, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sorted(results) == [(200, False), (303, True)]
    assert _count(app, AuditEvent, AuditEvent.event == "kiosk_enrolled") == 1


def test_a_kiosk_without_office_cannot_be_enrolled(app):
    admin = _admin(app)
    with app.app_context():
        db.session.execute(update(Kiosk).where(Kiosk.code == "quay-01").values(office_id=None))
        db.session.commit()
    html = admin.post(f"/staff/kiosks/{_kiosk(app).id}/enroll-code").get_data(as_text=True)
    assert "Chọn đơn vị cho quầy trước khi ghép máy" in html and "data-enroll-code" not in html


def test_a_kiosk_cannot_be_saved_without_an_active_office(app):
    admin = _admin(app)
    form = {"name": "Quầy 01", "printer": "", "office_id": ""}
    html = admin.post(f"/staff/kiosks/{_kiosk(app).id}", form).get_data(as_text=True)
    assert "Chọn đơn vị của quầy" in html
    with app.app_context():
        db.session.execute(update(Office).values(active=False))
        db.session.commit()
        office_id = db.session.scalar(select(Office.id))
    html = admin.post(f"/staff/kiosks/{_kiosk(app).id}",
                      {**form, "office_id": str(office_id)}).get_data(as_text=True)
    assert "đã ngừng hoạt động" in html
    assert _kiosk(app).office_id == office_id  # unchanged


def test_a_kiosk_left_without_an_office_is_no_kiosk(app, client):
    """Its customers' calls would reach no clerk: it is sent to enrollment until it has one."""
    with app.app_context():
        db.session.execute(update(Kiosk).where(Kiosk.code == "quay-01").values(office_id=None))
        db.session.commit()
    assert client.get("/").headers["Location"] == ENROLL_URL


# ---- revoking, stopping ---------------------------------------------------------------------------

def test_a_revoked_kiosk_is_refused_on_its_next_request(app, kiosk):
    kiosk.walk_to(2)
    admin = _admin(app)
    html = admin.post(f"/staff/kiosks/{_kiosk(app).id}/revoke").get_data(as_text=True)
    assert "Đã thu hồi" in html
    assert kiosk.client.get(kiosk.url(2)).headers["Location"] == ENROLL_URL
    row = _kiosk(app)
    assert row.device_token_digest is None and row.revoked_at is not None
    assert _count(app, AuditEvent, AuditEvent.event == "kiosk_revoked") == 1


def test_a_stopped_kiosk_is_refused(app, client):
    admin = _admin(app)
    admin.post(f"/staff/kiosks/{_kiosk(app).id}", {"name": "Quầy 01", "printer": "",
                                                   "active": "0"})
    assert client.get("/").headers["Location"] == ENROLL_URL


def test_a_clerk_manages_only_their_own_offices_kiosks(app):
    with app.app_context():
        other = Office(code="sam-son", name="VNPT Sầm Sơn", address="x", phone="1", hotline="1",
                       email="a@b.vn", website="https://vnpt.vn", app_store_url="https://a.vn",
                       play_store_url="https://b.vn")
        db.session.add(other)
        db.session.flush()
        db.session.add(Kiosk(code="quay-ss", name="Sầm Sơn 1", office_id=other.id, printer=""))
        db.session.commit()
        from kiosk.core.models import StaffUser

        db.session.execute(update(StaffUser).values(office_id=db.session.scalar(
            select(Office.id).where(Office.code == "thanh-hoa"))))
        db.session.commit()
    clerk = Clerk(app)
    html = clerk.html("/staff/kiosks")
    assert 'data-kiosk="quay-01"' in html and "quay-ss" not in html
    assert clerk.post(f"/staff/kiosks/{_kiosk(app, 'quay-ss').id}/enroll-code").status_code == 403
    assert clerk.post(f"/staff/kiosks/{_kiosk(app).id}/enroll-code").status_code == 200
    assert clerk.post("/staff/kiosks", {"code": "quay-x", "name": "X"}).status_code == 403


# ---- registrations carry the kiosk ------------------------------------------------------------

def test_a_registration_carries_the_enrolled_kiosks_code_and_office(app):
    from tests.kiosk_driver import KioskDriver

    with app.app_context():
        other = Office(code="sam-son", name="VNPT Sầm Sơn", address="x", phone="1", hotline="1",
                       email="a@b.vn", website="https://vnpt.vn", app_store_url="https://a.vn",
                       play_store_url="https://b.vn")
        db.session.add(other)
        db.session.flush()
        db.session.add(Kiosk(code="quay-ss", name="Sầm Sơn 1", office_id=other.id, printer=""))
        db.session.flush()
        enroll_test_kiosk("quay-ss", "token-of-the-sam-son-kiosk-0123456789")
        db.session.commit()
        office_id = other.id
    client = app.test_client()
    client.set_cookie(KIOSK_COOKIE, "token-of-the-sam-son-kiosk-0123456789")
    driver = KioskDriver(client)
    driver.start()
    reg = driver.registration()
    assert reg.kiosk_id == "quay-ss" and reg.office_id == office_id


# ---- the kiosk reports its state --------------------------------------------------------------

def _report(client, **fields):
    html = client.get("/").get_data(as_text=True)
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    return client.post("/kiosk/state", data=fields, headers={"X-CSRFToken": csrf})


def test_the_kiosk_page_carries_the_state_report(client):
    html = client.get("/").get_data(as_text=True)
    assert 'data-kiosk-state="/kiosk/state"' in html and "kiosk-state.js" in html


def test_a_state_report_is_stored_cut_down_and_throttled(app, client):
    response = _report(client, camera="allowed", screen_width="1080", screen_height="1920",
                       user_agent="Chromium " + "x" * 500, evil="<script>", reader="present")
    assert response.status_code == 204
    row = _kiosk(app)
    assert row.last_seen_at is not None
    state = row.device_state
    assert state["camera"] == "allowed" and state["screen"] == "1080×1920"
    assert len(state["user_agent"]) == 200 and "evil" not in state
    assert state["reader"] == "off"  # the server says what the reader is, not the browser
    _report(client, camera="none")
    assert _kiosk(app).device_state["camera"] == "allowed"  # within 20 s: not written
    with app.app_context():
        db.session.execute(update(Kiosk).where(Kiosk.code == "quay-01")
                           .values(last_seen_at=utcnow() - timedelta(seconds=25)))
        db.session.commit()
    _report(client, camera="nonsense")
    assert "camera" in _kiosk(app).device_state  # an unknown value keeps the last known one
    _report(client)


def test_a_state_report_read_before_a_print_keeps_the_prints_outcome(app):
    """The kiosk's state report and a receipt's print are different requests: a report that
    read the kiosk's row before the print and writes after it loses nothing of the print."""
    with app.app_context():
        reporting = db.session.scalar(select(Kiosk).where(Kiosk.code == "quay-01"))
        assert reporting.device_state is None and reporting.print_state is None
        with app.app_context():  # the print, in another request (its own session)
            kiosk_devices.note_print("quay-01", ok=True)
            db.session.commit()
        assert kiosk_devices.report_state(reporting, {"camera": "allowed"})
        db.session.commit()
    with app.app_context():
        add_admin(app)
        admin = db.session.scalar(select(StaffUser).where(StaffUser.username == ADMIN[0]))
        row = next(r for r in kiosk_devices.rows_for(admin, {}) if r.kiosk.code == "quay-01")
        assert row.camera == "Đã cho phép" and "In được" in row.printer
    with app.app_context():  # and the other way round: a print after a report keeps the camera
        printing = db.session.scalar(select(Kiosk).where(Kiosk.code == "quay-01"))
        printing.print_state  # noqa: B018  (loaded now, as the print's request would)
        with app.app_context():
            db.session.execute(update(Kiosk).where(Kiosk.code == "quay-01")
                               .values(last_seen_at=utcnow() - timedelta(seconds=25)))
            db.session.commit()
            reporting = db.session.scalar(select(Kiosk).where(Kiosk.code == "quay-01"))
            assert kiosk_devices.report_state(reporting, {"camera": "denied"})
            db.session.commit()
        kiosk_devices.note_print("quay-01", ok=False)
        db.session.commit()
    state, printed = _kiosk(app).device_state, _kiosk(app).print_state
    assert state["camera"] == "denied" and printed["print"] == "error"


def test_the_console_lists_each_kiosks_state(app, client, kiosk):
    _report(client, camera="allowed", screen_width="1366", screen_height="768")
    kiosk.walk_to(10)  # prints the receipt (file printer)
    html = _admin(app).html("/staff/kiosks")
    row = re.search(r'<tr id="kiosk-\d+" data-kiosk="quay-01".*?</tr>', html, re.S).group(0)
    assert "VNPT Thanh Hóa" in row and "Đã ghép" in row and 'data-enrolled="yes"' in row
    assert "Vừa xong" in row and "Đã cho phép" in row and "Không dùng" in row
    assert "In được" in row and "1366×768" in row and "Thu hồi" in row


@pytest.mark.parametrize("minutes, stale", [(1, False), (5, True)])
def test_a_silent_kiosk_is_red_while_the_office_is_open(minutes, stale):
    from datetime import UTC, datetime

    from kiosk.domain import kiosk_health

    open_now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # Monday 10:00 in Vietnam
    night = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # Monday 22:00
    seen = open_now - timedelta(minutes=minutes)
    assert kiosk_health.stale(seen, open_now) is stale
    assert kiosk_health.stale(night - timedelta(minutes=minutes), night) is False
    assert kiosk_health.ago(seen, open_now) == f"{minutes} phút trước"


# ---- the CLI and key rotation ---------------------------------------------------------------------

def test_cli_adds_a_kiosk_and_prints_a_one_time_link(app, runner):
    added = runner.invoke(args=["kiosks", "add", "quay-02", "--name", "Quầy 02",
                                "--office", "thanh-hoa"])
    assert added.exit_code == 0, added.output
    printed = runner.invoke(args=["kiosks", "enroll-code", "quay-02",
                                  "--url", "http://10.1.2.3:8000"])
    assert printed.exit_code == 0, printed.output
    code = re.search(r"http://10\.1\.2\.3:8000/kiosk/enroll\?code=([A-Z2-9]{8})",
                     printed.output).group(1)
    assert _enroll(app.test_client(), code).status_code == 303
    assert runner.invoke(args=["kiosks", "enroll-code", "quay-01", "--unless-enrolled"]
                         ).output.startswith("Quầy quay-01 đã được ghép")
    assert runner.invoke(args=["kiosks", "add", "quay-02", "--name", "X"]).exit_code != 0


def test_an_enrolled_kiosk_survives_a_data_key_rotation(app, client):
    with data_key_rotated(app):
        assert client.get("/").status_code == 200
        with app.app_context():
            assert kiosk_devices.by_device_token(KIOSK_DEVICE_TOKEN) is not None

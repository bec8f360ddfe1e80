"""Console accounts: sign-in, server-side session end (logout, password change, disable),
idle timeout and shift lifetime, constant-work answers, and a lockout customers cannot abuse."""
from __future__ import annotations

import pytest

from kiosk.core.extensions import db
from kiosk.core.models import StaffUser
from kiosk.domain import credentials
from kiosk.web.staff import auth

from .kiosk_driver import STAFF
from .staff_console import ADMIN, Clerk, add_admin, csrf_of, login


def test_console_requires_sign_in(client):
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_polling_without_a_session_redirects_htmx_to_the_login_page(client):
    response = client.get("/staff/board/live", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "/staff/login" in response.headers["HX-Redirect"]


def test_right_credentials_open_the_console(app):
    clerk = Clerk(app)
    html = clerk.html("/staff/")
    assert "Hồ sơ hôm nay" in html and "Nguyễn Thị Hoa" in html


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = login(client, password="Wrong@2026").get_data(as_text=True)
    unknown = login(client, username="khong.co", password="Wrong@2026").get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong
    strip = lambda html: html.replace(csrf_of(html), "")  # noqa: E731
    assert strip(wrong).replace('value="nv.hoa"', "") == strip(unknown).replace('value="khong.co"', "")
    assert client.get("/staff/").status_code == 302


def test_unknown_username_costs_the_same_argon2_verify_as_a_known_one(app, monkeypatch):
    calls = []
    real = credentials.verify_secret

    def counting(secret_hash, secret):
        calls.append(secret_hash)
        return real(secret_hash, secret)

    monkeypatch.setattr("kiosk.services.staff_auth.verify_secret", counting)
    from kiosk.services.staff_auth import check

    with app.test_request_context():
        check("nv.hoa", "Wrong@2026", "console:a")
        check("khong.co", "Wrong@2026", "console:b")
        check("", "", "console:c")
    assert len(calls) == 3 and all(h.startswith("$argon2id$") for h in calls)


def test_logout_ends_the_session_even_for_a_replayed_cookie(app):
    clerk = Clerk(app)
    stolen = clerk.client.get_cookie("session").value
    assert clerk.post("/staff/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/staff/outbox")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_logout_ends_the_clerks_other_sessions_too(app):
    desk, tablet = Clerk(app), Clerk(app, addr="10.0.0.9")
    desk.post("/staff/logout")
    assert tablet.get("/staff/").status_code == 302


def test_password_change_ends_every_other_session_and_keeps_this_one(app):
    desk, tablet = Clerk(app), Clerk(app, addr="10.0.0.9")
    html = desk.post("/staff/password", {"current": STAFF[1], "password": "Moi@20261",
                                         "confirm": "Moi@20261"}).get_data(as_text=True)
    assert "Đã đổi mật khẩu" in html
    assert tablet.get("/staff/").status_code == 302
    assert desk.get("/staff/").status_code == 200
    assert login(app.test_client(), password="Moi@20261").status_code == 302


def test_password_change_refuses_a_wrong_current_password_and_a_weak_one(app):
    desk = Clerk(app)
    wrong = desk.post("/staff/password", {"current": "x", "password": "Moi@20261", "confirm": "Moi@20261"})
    assert "Mật khẩu hiện tại không đúng" in wrong.get_data(as_text=True)
    weak = desk.post("/staff/password", {"current": STAFF[1], "password": "abc", "confirm": "abc"})
    assert "Mật khẩu chưa đạt" in weak.get_data(as_text=True)
    assert desk.get("/staff/").status_code == 200  # nothing changed, still signed in


def test_idle_timeout_ends_the_session(app, monkeypatch):
    clerk = Clerk(app)
    now = auth.time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + app.config["STAFF_IDLE_TIMEOUT_SECONDS"] - 30)
    assert clerk.get("/staff/").status_code == 200  # activity: the idle clock restarts
    monkeypatch.setattr(auth.time, "time", lambda: now + 2 * app.config["STAFF_IDLE_TIMEOUT_SECONDS"] - 60)
    assert clerk.get("/staff/").status_code == 200
    monkeypatch.setattr(auth.time, "time", lambda: now + 3 * app.config["STAFF_IDLE_TIMEOUT_SECONDS"])
    response = clerk.get("/staff/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    assert "Phiên làm việc đã hết hạn" in clerk.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("poll", ["/staff/board/live", "/staff/queue/badge", "/staff/queue",
                                  "/staff/outbox"])
def test_the_board_polling_by_itself_does_not_keep_the_session_alive(app, monkeypatch, poll):
    clerk = Clerk(app)
    now = auth.time.time()
    idle = app.config["STAFF_IDLE_TIMEOUT_SECONDS"]
    for minutes in (5, 10, 14):
        monkeypatch.setattr(auth.time, "time", lambda m=minutes: now + m * 60)
        assert clerk.get(poll, headers={"HX-Request": "true"}).status_code == 200
    monkeypatch.setattr(auth.time, "time", lambda: now + idle + 10)
    response = clerk.get(poll, headers={"HX-Request": "true"})
    assert "/staff/login" in response.headers.get("HX-Redirect", "")


def test_absolute_lifetime_ends_even_an_active_session(app, monkeypatch):
    clerk = Clerk(app)
    now = auth.time.time()
    step = app.config["STAFF_IDLE_TIMEOUT_SECONDS"] - 60
    t = now
    while t - now < app.config["STAFF_SESSION_MAX_SECONDS"]:
        t += step
        monkeypatch.setattr(auth.time, "time", lambda t=t: t)
        last = clerk.get("/staff/")
    assert last.status_code == 302


def test_disabling_an_account_ends_its_sessions(app):
    add_admin(app)
    clerk, admin = Clerk(app), Clerk(app, *ADMIN, addr="10.0.0.2")
    with app.app_context():
        clerk_id = db.session.query(StaffUser).filter_by(username=STAFF[0]).one().id
    admin.post(f"/staff/accounts/{clerk_id}/active", {"active": "0"})
    assert clerk.get("/staff/").status_code == 302
    assert login(app.test_client()).status_code == 200  # refused: the form again


def test_five_wrong_passwords_lock_that_source_only(app):
    attacker = app.test_client()
    for _ in range(5):
        login(attacker, password="Wrong@2026", addr="10.9.9.9")
    locked = login(attacker, addr="10.9.9.9")
    assert locked.status_code == 200 and "quá nhiều lần" in locked.get_data(as_text=True)
    # The clerk at their own desk is not locked out by someone else's guesses.
    assert login(app.test_client(), addr="10.0.0.5").status_code == 302


def test_a_customer_at_the_kiosk_cannot_lock_a_clerk_out(app, kiosk):
    """The attack from the issue: force the step-6 clerk form and type five wrong passwords under
    the clerk's name. The kiosk's form locks; the clerk's console sign-in does not."""
    kiosk.walk_to(6)
    kiosk.capture_all()
    for _ in range(6):
        html = kiosk.staff_confirm(password="Wrong@2026").get_data(as_text=True)
    assert "quá nhiều lần" in html
    # Even the right password is refused at this kiosk now (throttled per kiosk/source) …
    assert "quá nhiều lần" in kiosk.staff_confirm().get_data(as_text=True)
    assert kiosk.registration().furthest_step == 6
    # … but the clerk signs into the console and can decide there.
    assert login(app.test_client()).status_code == 302


def test_a_lock_expires(app, monkeypatch):
    attacker = app.test_client()
    for _ in range(5):
        login(attacker, password="Wrong@2026", addr="10.9.9.9")
    from datetime import timedelta

    from kiosk.core import models

    later = models.utcnow() + timedelta(seconds=app.config["STAFF_LOCK_SECONDS"] + 1)
    monkeypatch.setattr("kiosk.services.staff_auth.utcnow", lambda: later)
    assert login(attacker, addr="10.9.9.9").status_code == 302


@pytest.mark.parametrize("path", ["/staff/settings", "/staff/accounts"])
def test_a_clerk_is_refused_admin_pages_and_an_admin_is_not(app, path):
    add_admin(app)
    assert Clerk(app).get(path).status_code == 403
    assert Clerk(app, *ADMIN, addr="10.0.0.2").get(path).status_code == 200


def test_admin_creates_a_clerk_who_can_sign_in_and_resets_their_password(app):
    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    html = admin.post("/staff/accounts", {"username": "nv.minh", "full_name": "Trần Văn Minh",
                                          "role": "clerk", "password": "Minh@2026",
                                          "confirm": "Minh@2026", "office": "1"}
                      ).get_data(as_text=True)
    assert "Đã tạo tài khoản" in html and "nv.minh" in html
    minh = Clerk(app, "nv.minh", "Minh@2026", addr="10.0.0.7")
    with app.app_context():
        minh_id = db.session.query(StaffUser).filter_by(username="nv.minh").one().id
    html = admin.post(f"/staff/accounts/{minh_id}/password",
                      {"password": "Reset@2026", "confirm": "Reset@2026"}).get_data(as_text=True)
    assert "Đã đặt mật khẩu mới" in html
    assert minh.get("/staff/").status_code == 302
    assert login(app.test_client(), "nv.minh", "Reset@2026").status_code == 302


def test_admin_account_form_errors_are_shown_in_place(app):
    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    for data, message in (
        ({"username": "A B", "full_name": "X", "role": "clerk", "password": "Minh@2026", "confirm": "Minh@2026"}, "Tên đăng nhập:"),
        ({"username": "nv.hoa", "full_name": "X", "role": "clerk", "password": "Minh@2026", "confirm": "Minh@2026"}, "đã có"),
        ({"username": "nv.x", "full_name": "X", "role": "root", "password": "Minh@2026", "confirm": "Minh@2026"}, "Vai trò"),
        ({"username": "nv.x", "full_name": "X", "role": "clerk", "password": "Minh@2026", "confirm": "Khac@2026", "office": "1"}, "không giống"),
    ):
        response = admin.post("/staff/accounts", data)
        assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_an_admin_cannot_lock_themselves_out(app):
    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    with app.app_context():
        admin_id = db.session.query(StaffUser).filter_by(username=ADMIN[0]).one().id
    html = admin.post(f"/staff/accounts/{admin_id}/active", {"active": "0"}).get_data(as_text=True)
    assert "Không thể tự khóa" in html and admin.get("/staff/").status_code == 200


def test_a_role_change_applies_from_the_next_sign_in(app):
    add_admin(app)
    clerk, admin = Clerk(app), Clerk(app, *ADMIN, addr="10.0.0.2")
    with app.app_context():
        clerk_id = db.session.query(StaffUser).filter_by(username=STAFF[0]).one().id
        admin_id = db.session.query(StaffUser).filter_by(username=ADMIN[0]).one().id
    assert "Đã đổi vai trò" in admin.post(f"/staff/accounts/{clerk_id}/role",
                                          {"role": "admin"}).get_data(as_text=True)
    assert clerk.get("/staff/").status_code == 302  # old session ended
    assert Clerk(app).get("/staff/settings").status_code == 200  # signed in again: admin now
    html = admin.post(f"/staff/accounts/{admin_id}/role", {"role": "clerk"}).get_data(as_text=True)
    assert "Không thể tự bỏ quyền quản trị" in html


def _stored_hash(app) -> str:
    from sqlalchemy import select

    with app.app_context():
        return db.session.scalar(select(StaffUser.password_hash).where(StaffUser.username == STAFF[0]))


def test_sign_in_upgrades_a_hash_made_under_other_parameters(app):
    """Raising the argon2 parameters reaches each clerk at their next sign-in; a wrong
    password changes nothing."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    old = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1).hash(STAFF[1])
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.username == STAFF[0])
                           .values(password_hash=old))
        db.session.commit()
    login(app.test_client(), password="Wrong@2026")
    assert _stored_hash(app) == old
    Clerk(app)
    new = _stored_hash(app)
    assert new != old and not credentials.needs_rehash(new)
    assert credentials.verify_secret(new, STAFF[1])

"""Third attack pass, items 3, 4 and 5: the sign-in throttle under parallel requests, and the
throttle behind a reverse proxy.

30 wrong passwords sent at once used to get 9–16 checked against a limit of 5 (each request
read the count, checked, then wrote), and the first failures from a new source raced to create
the throttle row (a UNIQUE violation: a 500). Runs on SQLite in tmp_path, and on PostgreSQL when
KIOSK_TEST_DATABASE_URL names one (the ``app`` fixture).
"""
from __future__ import annotations

import logging
import re
import threading

import requests

from kiosk.services import staff_auth
from tests.app_factory import KIOSK_COOKIE, KIOSK_DEVICE_TOKEN, make_app
from tests.kiosk_driver import STAFF
from tests.security.live_server import bare_500, burst, serving
from tests.staff_console import login

PARALLEL = 30


def _real_checks(app, monkeypatch) -> list[str]:
    """Record every argon2 verify made against the clerk's real hash (not the dummy)."""
    from kiosk.core.extensions import db
    from kiosk.core.models import StaffUser

    with app.app_context():
        real_hash = db.session.query(StaffUser).filter_by(username=STAFF[0]).one().password_hash
    calls: list[str] = []
    lock = threading.Lock()
    verify = staff_auth.verify_secret

    def counting(secret_hash, secret):
        if secret_hash == real_hash:
            with lock:
                calls.append(secret)
        return verify(secret_hash, secret)

    monkeypatch.setattr("kiosk.services.staff_auth.verify_secret", counting)
    return calls


def _login_page(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    html = session.get(base + "/staff/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return session, token


def test_30_parallel_wrong_passwords_get_at_most_the_limit_checked_and_no_500(app, monkeypatch):
    checks = _real_checks(app, monkeypatch)
    limit = app.config["STAFF_MAX_FAILED_LOGINS"]
    with serving(app) as base:
        session, token = _login_page(base)
        results = burst(base + "/staff/login", session.cookies.get("session"), token, PARALLEL,
                        {"csrf_token": token, "username": STAFF[0], "password": "Wrong@2026"})
        # and the right password from the same source is refused now: the source is locked
        right = session.post(base + "/staff/login", timeout=30, allow_redirects=False,
                             data={"csrf_token": token, "username": STAFF[0], "password": STAFF[1]})
    assert len(results) == PARALLEL
    assert all(status == 200 and not bare_500(text) for status, text in results), \
        sorted({status for status, _ in results})
    assert len(checks) <= limit, f"{len(checks)} passwords checked against a limit of {limit}"
    refused = sum(staff_auth.REFUSED_MESSAGE in text for _, text in results)
    locked = sum("quá nhiều lần" in text for _, text in results)
    assert refused <= limit and refused + locked == PARALLEL
    assert right.status_code == 200 and "quá nhiều lần" in right.text


def test_the_first_failures_of_a_new_source_do_not_race_to_a_500(tmp_path):
    """Item 5: 20 requests that are all the first failure of their source, five sources in a row
    (a trusted proxy names the source, so each round is a new one)."""
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    statuses: list[int] = []
    lock = threading.Lock()
    with serving(app) as base:
        session, token = _login_page(base)
        cookie = session.cookies.get("session")
        for round_ in range(5):
            barrier = threading.Barrier(20)

            def fire(barrier=barrier, round_=round_):
                s = requests.Session()
                s.cookies.set("session", cookie)
                barrier.wait()
                r = s.post(base + "/staff/login", timeout=60,
                           headers={"X-Forwarded-For": f"10.9.{round_}.1"},
                           data={"csrf_token": token, "username": "khong.co", "password": "x"})
                with lock:
                    statuses.append(r.status_code)

            threads = [threading.Thread(target=fire) for _ in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
    with app.app_context():
        from kiosk.core.extensions import db

        db.engine.dispose()
    assert statuses == [200] * 100, sorted(set(statuses))


def test_a_right_password_gives_its_try_back(app):
    client = app.test_client()
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"] - 1):
        login(client, password="Wrong@2026", addr="10.3.3.3")
    assert login(client, addr="10.3.3.3").status_code == 302
    other = app.test_client()
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"] - 1):
        assert "không đúng" in login(other, password="Wrong@2026", addr="10.3.3.3").get_data(as_text=True)


def test_30_parallel_wrong_resume_codes_get_at_most_the_limit_looked_up(app, monkeypatch):
    from kiosk.services import counter_actions

    looked: list[str] = []
    real = counter_actions.redeem_resume_code

    def counting(raw, kiosk):
        looked.append(raw)
        return real(raw, kiosk)

    monkeypatch.setattr(counter_actions, "redeem_resume_code", counting)
    with serving(app) as base:
        session = requests.Session()
        session.cookies.set(KIOSK_COOKIE, KIOSK_DEVICE_TOKEN)  # the enrolled test kiosk
        html = session.get(base + "/handoff", timeout=30).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        results = burst(base + "/handoff", session.cookies.get("session"), token, PARALLEL,
                        {"csrf_token": token, "code": "ABCD2345"})
    assert all(status == 200 and not bare_500(text) for status, text in results)
    assert len(looked) <= app.config["STAFF_MAX_FAILED_LOGINS"]


# ---- 4. Behind nginx ------------------------------------------------------------------------


def test_two_clerks_behind_one_trusted_proxy_are_throttled_separately(tmp_path):
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    proxy = "127.0.0.1"  # every request reaches the app from nginx on the same machine

    def attempt(client, forwarded, password):
        env = {"REMOTE_ADDR": proxy}
        headers = {"X-Forwarded-For": forwarded}
        html = client.get("/staff/login", environ_base=env, headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        return client.post("/staff/login", environ_base=env, headers=headers, data={
            "csrf_token": token, "username": STAFF[0], "password": password})

    careless = app.test_client()
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"] + 1):
        html = attempt(careless, "10.20.0.7", "Wrong@2026").get_data(as_text=True)
    assert "quá nhiều lần" in html
    # the clerk at the next counter, through the same nginx, is not locked out with them
    assert attempt(app.test_client(), "10.20.0.8", STAFF[1]).status_code == 302


def test_forwarded_requests_without_trusted_proxies_are_warned_about_once(app, caplog):
    caplog.set_level(logging.WARNING, logger="kiosk.web.staff.auth")
    client = app.test_client()
    client.get("/staff/login")  # no proxy header: nothing to say
    assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    for _ in range(3):
        client.get("/staff/login", headers={"X-Forwarded-For": "10.20.0.7"})
        client.get("/", headers={"X-Forwarded-For": "10.20.0.8"})
    warnings = [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_no_warning_when_the_proxy_is_trusted(tmp_path, caplog):
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    caplog.set_level(logging.WARNING, logger="kiosk.web.staff.auth")
    app.test_client().get("/staff/login", headers={"X-Forwarded-For": "10.20.0.7"})
    assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]


def test_the_nginx_recipe_sets_trusted_proxies():
    from pathlib import Path

    deploy = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert re.search(r"KIOSK_TRUSTED_PROXIES=1", deploy)

"""Log lines: JSON with the request id, one per request, nothing secret (kiosk/core/logs.py,
kiosk/web/request_log.py)."""
from __future__ import annotations

import json
import re

import pytest

from kiosk.core.extensions import db
from kiosk.core.models import SmsMessage
from tests.app_factory import STAFF, make_app
from tests.kiosk_driver import CUSTOMER, PASSWORD, PIN
from tests.staff_console import Clerk

HEX32 = re.compile(r"[0-9a-f]{32}")


def json_lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def access_lines(err: str) -> list[dict]:
    return [line for line in json_lines(err) if line["logger"] == "kiosk.access"]


# ---- the request id ----------------------------------------------------------------------------
@pytest.mark.parametrize("incoming", ["0f3a9c2e7b1d4e5fa0b1c2d3e4f5a6b7", "lb-1733470000.123_x",
                                      "A" * 64])
def test_a_valid_incoming_request_id_comes_back(client, incoming):
    assert client.get("/healthz", headers={"X-Request-ID": incoming}).headers["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["short", "A" * 65, "abc def ghi", "abcdefgh\tX-Evil:1", "abcdefgh;rm",
                                      "<script>alert(1)</script>", "-leading-dash", "x" * 1000])
def test_an_invalid_request_id_is_replaced(client, incoming):
    got = client.get("/healthz", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
    assert HEX32.fullmatch(got)


def test_a_new_request_id_per_request_without_one(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert HEX32.fullmatch(first) and HEX32.fullmatch(second) and first != second


# ---- the lines ---------------------------------------------------------------------------------
def test_one_json_line_per_request_with_the_route_not_the_path(kiosk, capfd):
    kiosk.walk_to(2)
    capfd.readouterr()
    response = kiosk.client.get(f"/r/{kiosk.token}/step/2?code=ABC123",
                                headers={"X-Request-ID": "req-step2-0001"})
    assert response.status_code == 200
    lines = access_lines(capfd.readouterr().err)
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-step2-0001"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"].startswith("/r/<") and kiosk.token not in json.dumps(line)
    assert line["endpoint"].startswith("wizard.")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    # the request's own CPU, which never exceeds its wall time (plus rounding)
    assert isinstance(line["cpu_ms"], float) and 0 <= line["cpu_ms"] <= line["duration_ms"] + 0.2
    assert line["remote_addr"] == "127.0.0.1"
    assert "ABC123" not in json.dumps(line)


def test_app_log_records_carry_the_request_id(kiosk, capfd):
    capfd.readouterr()
    # no CSRF token: the app logs a warning during the request
    response = kiosk.client.post("/start", data={}, headers={"X-Request-ID": "req-csrf-00001"})
    assert response.status_code == 400
    lines = json_lines(capfd.readouterr().err)
    warning = [line for line in lines if line["level"] == "warning" and "CSRF" in line["msg"]]
    assert warning and warning[0]["request_id"] == "req-csrf-00001"
    assert warning[0]["logger"] == "kiosk"


def test_remote_addr_behind_a_trusted_proxy(tmp_path, capfd):
    app = make_app(tmp_path, fake_vision=True, TRUSTED_PROXIES=1)
    capfd.readouterr()
    app.test_client().get("/healthz", headers={"X-Forwarded-For": "10.1.2.3"})
    assert access_lines(capfd.readouterr().err)[0]["remote_addr"] == "10.1.2.3"


def test_text_format_for_the_developer(tmp_path, capfd):
    app = make_app(tmp_path, fake_vision=True, LOG_FORMAT="text")
    capfd.readouterr()
    app.test_client().get("/healthz", headers={"X-Request-ID": "req-text-00001"})
    err = capfd.readouterr().err
    assert "[req-text-00001] GET ops.healthz 200" in err
    assert not json_lines(err)


def test_an_unknown_log_format_stops_the_start(tmp_path):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        make_app(tmp_path, LOG_FORMAT="xml")


def test_no_secret_reaches_the_log(app, kiosk, capfd):
    """A whole registration and a clerk's sign-in: nothing typed in secret, no token, no code,
    no ID number shows in any log line. (The registration number may: it names the case for
    the clerk and the support desk, the way it is printed on the receipt.)"""
    capfd.readouterr()
    kiosk.client.get("/?resume=RSM-77Q4KX")  # a code in a query string is never logged
    kiosk.walk_to(10)
    clerk = Clerk(app)
    clerk.get("/staff/")
    with app.app_context():
        sms_codes = {code for message in db.session.scalars(db.select(SmsMessage))
                     for code in re.findall(r"\b\d{6}\b", message.body["text"])}
    err = capfd.readouterr().err
    assert access_lines(err), "the walk was logged"
    secrets = {
        "customer password": PASSWORD, "signing PIN": PIN, "clerk password": STAFF[1],
        "registration token": kiosk.token, "ID number": CUSTOMER["id_number"],
        "phone": CUSTOMER["phone"].replace(" ", ""), "phone as typed": CUSTOMER["phone"],
        "full name": CUSTOMER["full_name"], "e-mail": CUSTOMER["email"],
        "resume code": "RSM-77Q4KX", "CSRF token": kiosk.csrf(),
    }
    for i, code in enumerate(sorted(sms_codes)):
        secrets[f"activation code {i}"] = code
    assert sms_codes, "the walk sent an activation code"
    leaked = {what for what, secret in secrets.items() if secret and secret in err}
    assert not leaked, leaked


def test_an_unhandled_error_is_logged_by_its_route_not_its_path(app, caplog):
    """A registration's token is in its URLs: the error line names the route pattern."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 and log, as in production

    @app.route("/r/<token>/explode")
    def explode(token):
        raise RuntimeError("boom")

    secret_token = "TOKEN-that-must-not-be-logged-123"
    with caplog.at_level("ERROR"):
        response = app.test_client().get(f"/r/{secret_token}/explode")
    assert response.status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert "Exception on /r/<token>/explode [GET]" in lines
    assert not any(secret_token in line for line in lines)

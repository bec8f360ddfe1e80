"""SmartCA registration backend: the sandbox, the HTTP adapter and the provider settings."""
from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from kiosk import providers
from kiosk.core.crypto import DataCipher
from kiosk.core.extensions import db
from kiosk.core.models import Registration, SandboxSubscriber, SmsMessage
from kiosk.providers import ProviderConfigError, ProviderError, VerifyResult
from kiosk.providers.base import BUSY_MESSAGE
from kiosk.providers.printing import BrowserPrinter, CupsPrinter, FilePrinter
from kiosk.providers.smartca_http import HttpRegistrationBackend
from kiosk.providers.smartca_sandbox import SandboxRegistrationBackend, random_code
from kiosk.providers.sms import HttpSms, SandboxSms, latest_sandbox_message
from tests.fake_services import FakeService, unused_port

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SHA = "ab" * 32
SUBSCRIBER = {
    "username": "038095001234",
    "id_type": "cccd",
    "full_name": "Nguyễn Thị Hoa",
    "phone_e164": "+84912345678",
    "email": None,
    "date_of_birth": date(1995, 4, 2),
    "package_code": "SMARTCA-1Y",
    "registration_number": "TH-0001",
}


def _make_app(tmp_path, **config) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'test.sqlite'}",
        **config,
    )
    db.init_app(app)
    app.extensions["kiosk_cipher"] = DataCipher(os.urandom(32))
    return app


@pytest.fixture
def app(tmp_path):
    app = _make_app(tmp_path)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def codes():
    """Predictable activation codes: 111111, 222222, …"""
    return iter(f"{d}" * 6 for d in range(1, 10))


@pytest.fixture
def sandbox(app, clock, codes):
    cipher = app.extensions["kiosk_cipher"]
    return SandboxRegistrationBackend(
        db.session, SandboxSms(db.session), digest=cipher.lookup_digest, clock=clock,
        code_ttl_seconds=300, code_generator=lambda: next(codes),
    )


@pytest.fixture
def registration(app):
    reg = Registration(number="TH-0001")
    db.session.add(reg)
    db.session.commit()
    return reg


def _activated(sandbox) -> str:
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    sandbox.send_activation(ref, "+84912345678")
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.OK
    return ref


# -- sandbox backend ------------------------------------------------------------------------

def test_random_code_is_six_digits():
    codes = {random_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_sandbox_create_is_idempotent_and_keeps_no_id_number(app, sandbox):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    assert sandbox.sandbox is True
    assert sandbox.create_subscriber(**SUBSCRIBER) == ref
    db.session.commit()
    rows = db.session.query(SandboxSubscriber).all()
    assert len(rows) == 1
    assert rows[0].username_digest == app.extensions["kiosk_cipher"].lookup_digest("038095001234")
    assert "038095001234" not in rows[0].username_digest
    assert rows[0].package_code == "SMARTCA-1Y"


def test_sandbox_create_refuses_another_username_for_the_same_registration(sandbox):
    sandbox.create_subscriber(**SUBSCRIBER)
    with pytest.raises(ProviderError) as err:
        sandbox.create_subscriber(**{**SUBSCRIBER, "username": "038095009999"})
    assert err.value.code == "conflict"
    assert err.value.message == BUSY_MESSAGE


def test_sandbox_sends_the_code_to_the_outbox(app, sandbox, registration):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    sandbox.send_activation(ref, "+84912345678")
    db.session.commit()

    msg = latest_sandbox_message(db.session, registration.id)
    assert msg is not None
    assert msg.provider == "sandbox" and msg.status == "sandbox"
    assert msg.to_number == {"e164": "+84912345678"}
    assert msg.body["text"] == (
        "VNPT SmartCA: Ma kich hoat cua Quy khach la 111111. Ma co hieu luc 5 phut. "
        "Khong cung cap ma nay cho bat ky ai."
    )
    assert msg.body["text"].isascii()

    sub = db.session.query(SandboxSubscriber).one()
    # A keyed digest (no argon2: see smartca_sandbox._hash_code), never the code itself.
    assert sub.activation_hash.startswith("hmac-sha256$")
    assert "111111" not in sub.activation_hash
    assert sub.activation_expires_at == T0 + timedelta(seconds=300)
    # The stored SMS is encrypted: the code is not readable in the database file.
    raw = db.session.execute(text("SELECT body FROM sms_message")).scalar_one()
    assert b"111111" not in bytes(raw)


def test_sandbox_verify_ok_is_single_use(sandbox):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.NO_CODE
    sandbox.send_activation(ref, "+84912345678")
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.OK
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.NO_CODE
    sub = db.session.query(SandboxSubscriber).one()
    assert sub.activated_at == T0 and sub.activation_hash is None


def test_sandbox_verify_wrong_then_right(sandbox):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    sandbox.send_activation(ref, "+84912345678")
    assert sandbox.verify_activation(ref, "123456") is VerifyResult.WRONG
    assert sandbox.verify_activation(ref, "11111") is VerifyResult.WRONG
    assert sandbox.verify_activation(ref, "") is VerifyResult.WRONG
    assert sandbox.verify_activation(ref, " 111111 ") is VerifyResult.OK


def test_sandbox_code_expires(sandbox, clock):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    sandbox.send_activation(ref, "+84912345678")
    clock.advance(299)
    assert sandbox.verify_activation(ref, "000000") is VerifyResult.WRONG
    clock.advance(1)
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.EXPIRED


def test_sandbox_new_code_replaces_old(sandbox, clock, registration):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    sandbox.send_activation(ref, "+84912345678")
    clock.advance(200)
    sandbox.send_activation(ref, "+84912345678")
    assert "222222" in latest_sandbox_message(db.session, registration.id).body["text"]
    assert db.session.query(SmsMessage).count() == 2
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.WRONG
    clock.advance(250)  # the new code has its own five minutes
    assert sandbox.verify_activation(ref, "222222") is VerifyResult.OK


def test_sandbox_full_flow(sandbox, clock):
    ref = _activated(sandbox)
    sandbox.set_password(ref, "Hoa@1234")
    sandbox.submit_kyc(ref, "match", {"card_front": SHA, "card_back": SHA, "face": SHA})
    sandbox.register_document(ref, "contract", SHA, T0)
    clock.advance(60)
    sandbox.set_pin(ref, "258013")
    sandbox.register_document(ref, "acceptance", "cd" * 32, T0)
    sandbox.complete(ref)
    sandbox.complete(ref)  # idempotent
    db.session.commit()

    sub = db.session.query(SandboxSubscriber).one()
    assert sub.kyc_status == "match"
    assert sub.pin_set_at == T0 + timedelta(seconds=60)
    assert sub.completed_at == T0 + timedelta(seconds=60)
    assert sub.documents["kyc_evidence"]["face"] == SHA
    assert sub.documents["contract"] == {"sha256": SHA, "signed_at": T0.isoformat()}
    assert set(sub.documents) == {"kyc_evidence", "contract", "acceptance"}
    # Neither the password nor the PIN is stored anywhere in the sandbox row.
    values = " ".join(str(getattr(sub, c.key)) for c in SandboxSubscriber.__table__.columns)
    assert "Hoa@1234" not in values and "258013" not in values


def test_sandbox_refuses_steps_out_of_order(sandbox):
    ref = sandbox.create_subscriber(**SUBSCRIBER)
    with pytest.raises(ProviderError, match="before activation"):
        sandbox.set_password(ref, "Hoa@1234")
    sandbox.send_activation(ref, "+84912345678")
    sandbox.verify_activation(ref, "111111")
    with pytest.raises(ProviderError) as err:
        sandbox.complete(ref)
    assert err.value.code == "incomplete"
    with pytest.raises(ProviderError):
        sandbox.send_activation(ref, "+84912345678")  # already activated


def test_sandbox_refuses_bad_values_without_echoing_secrets(sandbox):
    ref = _activated(sandbox)
    with pytest.raises(ProviderError) as err:
        sandbox.set_pin(ref, "12345a")
    assert "12345a" not in err.value.detail
    with pytest.raises(ProviderError):
        sandbox.set_password(ref, "short")
    with pytest.raises(ProviderError):
        sandbox.register_document(ref, "contract", "not-a-digest", T0)
    with pytest.raises(ProviderError):
        sandbox.submit_kyc(ref, "match", {"face": "XYZ"})


def test_sandbox_unknown_subscriber(sandbox):
    with pytest.raises(ProviderError) as err:
        sandbox.send_activation("SBX-nope", "+84912345678")
    assert err.value.code == "unknown_subscriber"
    assert err.value.message == BUSY_MESSAGE


# -- HTTP adapter against a real local server ----------------------------------------------

@pytest.fixture
def svc():
    with FakeService() as service:
        yield service


def _http(svc, **kw):
    kw.setdefault("backoff", 0)
    return HttpRegistrationBackend(svc.url + "/api/", "tok-123", **kw)


def test_http_create_subscriber(svc):
    svc.reply("POST", "/api/subscribers", 201, {"subscriber_ref": "VNPT-42"})
    backend = _http(svc)
    assert backend.sandbox is False
    assert backend.create_subscriber(**SUBSCRIBER) == "VNPT-42"

    (req,) = svc.requests
    assert req.headers["Authorization"] == "Bearer tok-123"
    assert req.headers["Idempotency-Key"] == "TH-0001:create"
    assert req.headers["Content-Type"] == "application/json"
    assert req.json == {
        "registration_number": "TH-0001",
        "username": "038095001234",
        "id_type": "cccd",
        "full_name": "Nguyễn Thị Hoa",
        "phone": "+84912345678",
        "email": None,
        "date_of_birth": "1995-04-02",
        "package_code": "SMARTCA-1Y",
    }


CURRENT_ADDRESS = "Thôn 3, xã Hoằng Lộc, tỉnh Thanh Hóa"


def test_http_create_subscriber_sends_todays_address(svc):
    svc.reply("POST", "/api/subscribers", 201, {"subscriber_ref": "VNPT-42"})
    assert _http(svc).create_subscriber(**SUBSCRIBER, address=CURRENT_ADDRESS) == "VNPT-42"
    (req,) = svc.requests
    assert req.json["address"] == CURRENT_ADDRESS
    assert req.json["full_name"] == "Nguyễn Thị Hoa"


def test_sandbox_accepts_an_address_and_refuses_an_empty_one(sandbox):
    assert sandbox.create_subscriber(**SUBSCRIBER, address=CURRENT_ADDRESS)
    with pytest.raises(ProviderError) as err:
        sandbox.create_subscriber(**{**SUBSCRIBER, "registration_number": "TH-0002"}, address=" ")
    assert err.value.code == "bad_request"


def test_http_retries_5xx_with_the_same_idempotency_key(svc):
    svc.reply("POST", "/api/subscribers", 503)
    svc.reply("POST", "/api/subscribers", 500)
    svc.reply("POST", "/api/subscribers", 201, {"subscriber_ref": "VNPT-42"})
    assert _http(svc).create_subscriber(**SUBSCRIBER) == "VNPT-42"
    keys = [r.headers["Idempotency-Key"] for r in svc.requests]
    assert keys == ["TH-0001:create"] * 3


def test_http_gives_up_after_two_retries(svc):
    svc.reply("POST", "/api/subscribers/VNPT-42/complete", 502)
    with pytest.raises(ProviderError) as err:
        _http(svc).complete("VNPT-42")
    assert len(svc.requests) == 3
    assert err.value.code == "http_502"
    assert err.value.message == BUSY_MESSAGE


def test_http_does_not_retry_4xx(svc):
    svc.reply("POST", "/api/subscribers", 409, {"error": "username_taken", "echo": "038095001234"})
    with pytest.raises(ProviderError) as err:
        _http(svc).create_subscriber(**SUBSCRIBER)
    assert len(svc.requests) == 1
    assert err.value.code == "username_taken"
    assert "409" in err.value.detail and "038095001234" not in err.value.detail


def test_http_verify_results_and_no_retry(svc):
    path = "/api/subscribers/VNPT-42/activation/verify"
    backend = _http(svc)
    for wire, result in (("ok", VerifyResult.OK), ("wrong", VerifyResult.WRONG),
                         ("expired", VerifyResult.EXPIRED), ("no_code", VerifyResult.NO_CODE)):
        svc.reply("POST", path, 200, {"result": wire})
        assert backend.verify_activation("VNPT-42", "654321") is result
        svc._replies.clear()
    assert all(r.json == {"code": "654321"} for r in svc.requests)
    assert all("Idempotency-Key" not in r.headers for r in svc.requests)

    svc.requests.clear()
    svc.reply("POST", path, 500)
    with pytest.raises(ProviderError):
        backend.verify_activation("VNPT-42", "654321")
    assert len(svc.requests) == 1  # a lost answer must not count as two attempts

    svc._replies.clear()
    svc.reply("POST", path, 200, {"result": "maybe"})
    with pytest.raises(ProviderError, match="unexpected result"):
        backend.verify_activation("VNPT-42", "654321")


def test_http_remaining_calls_wire_format(svc):
    base = "/api/subscribers/VNPT-42"
    for method, suffix in (("POST", "/activation"), ("PUT", "/password"), ("POST", "/kyc"),
                           ("POST", "/documents"), ("PUT", "/pin"), ("POST", "/complete")):
        svc.reply(method, base + suffix, 204)
    backend = _http(svc)
    backend.send_activation("VNPT-42", "+84912345678")
    backend.send_activation("VNPT-42", "+84912345678")
    backend.set_password("VNPT-42", "Hoa@1234")
    backend.submit_kyc("VNPT-42", "match", {"face": SHA})
    backend.register_document("VNPT-42", "contract", SHA, T0)
    backend.set_pin("VNPT-42", "258013")
    backend.complete("VNPT-42")

    reqs = {(r.method, r.path): r for r in svc.requests}
    assert reqs[("PUT", base + "/password")].json == {"password": "Hoa@1234"}
    assert reqs[("PUT", base + "/pin")].json == {"pin": "258013"}
    assert reqs[("POST", base + "/kyc")].json == {"decision": "match",
                                                  "evidence_sha256": {"face": SHA}}
    assert reqs[("POST", base + "/documents")].json == {
        "kind": "contract", "sha256": SHA, "signed_at": "2025-03-01T08:00:00+00:00"}
    assert reqs[("POST", base + "/activation")].json == {"phone": "+84912345678"}
    assert reqs[("POST", base + "/complete")].headers["Idempotency-Key"] == "VNPT-42:complete"
    assert all(r.headers["Authorization"] == "Bearer tok-123" for r in svc.requests)
    # A resend is a new operation: a different key, so the server sends a new code.
    sends = svc.calls("POST", base + "/activation")
    assert len({r.headers["Idempotency-Key"] for r in sends}) == 2
    for r in svc.requests:
        key = r.headers["Idempotency-Key"]
        assert key.startswith("VNPT-42:")
        assert "Hoa@1234" not in key and "258013" not in key


def test_http_never_logs_or_reports_secrets(svc, caplog):
    caplog.set_level(logging.DEBUG)
    svc.reply("PUT", "/api/subscribers/VNPT-42/password", 500)
    svc.reply("PUT", "/api/subscribers/VNPT-42/pin", 422, {"error": "weak pin 111111"})
    backend = _http(svc)
    with pytest.raises(ProviderError) as err1:
        backend.set_password("VNPT-42", "Hoa@1234")
    with pytest.raises(ProviderError) as err2:
        backend.set_pin("VNPT-42", "111111")
    assert len(svc.calls("PUT", "/api/subscribers/VNPT-42/password")) == 3
    kiosk_logs = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("kiosk"))
    for secret in ("Hoa@1234", "111111"):
        assert secret not in kiosk_logs
        assert secret not in err1.value.detail and secret not in err2.value.detail
    assert err2.value.code == "http_422"  # a server code that echoes the PIN is dropped


def test_http_quotes_the_subscriber_ref(svc):
    svc.reply("POST", "/api/subscribers/A/B C/complete", 204)
    _http(svc).complete("A/B C")
    assert svc.requests[0].raw_uri == "/api/subscribers/A%2FB%20C/complete"


def test_http_timeout(svc):
    svc.reply("POST", "/api/subscribers/VNPT-42/complete", 204, delay=1.0)
    with pytest.raises(ProviderError) as err:
        _http(svc, timeout=0.2).complete("VNPT-42")
    assert err.value.code == "timeout"
    assert err.value.message == BUSY_MESSAGE
    assert len(svc.requests) == 1  # the customer is waiting: no retry after a read timeout


def test_http_connection_refused():
    backend = HttpRegistrationBackend(f"http://127.0.0.1:{unused_port()}", "tok", 2, backoff=0)
    with pytest.raises(ProviderError) as err:
        backend.create_subscriber(**SUBSCRIBER)
    assert err.value.code == "unreachable"
    assert "tok" not in err.value.detail


def test_http_bad_answers(svc):
    svc.reply("POST", "/api/subscribers", 201, {"ref": "x"})
    with pytest.raises(ProviderError, match="subscriber_ref"):
        _http(svc).create_subscriber(**SUBSCRIBER)


def test_http_requires_https_except_to_localhost():
    with pytest.raises(ProviderConfigError, match="SMARTCA_BACKEND_URL"):
        HttpRegistrationBackend("http://smartca.example.vn/api", "tok")
    assert HttpRegistrationBackend("https://smartca.example.vn/api/", "t").base_url == (
        "https://smartca.example.vn/api")


# -- provider settings (init_app) -------------------------------------------------------------

def test_init_app_defaults_to_sandboxes(tmp_path):
    app = _make_app(tmp_path)
    providers.init_app(app)
    with app.app_context():
        db.create_all()
        assert providers.is_sandbox() and providers.sms_is_sandbox()
        backend = providers.registration_backend()
        assert isinstance(backend, SandboxRegistrationBackend)
        assert backend is providers.registration_backend()  # one per request
        assert isinstance(backend.sms, SandboxSms)
        assert isinstance(providers.printer(), BrowserPrinter)
        assert backend.code_ttl_seconds == 300
        db.session.add(Registration(number="TH-0009"))
        ref = backend.create_subscriber(**{**SUBSCRIBER, "registration_number": "TH-0009"})
        backend.send_activation(ref, "+84912345678")
        db.session.commit()
        reg_id = db.session.query(Registration.id).scalar()
        assert providers.latest_sandbox_message(db.session, reg_id).status == "sandbox"
    with app.app_context():
        assert providers.registration_backend() is not backend


def test_init_app_http_and_printers(tmp_path):
    app = _make_app(
        tmp_path, SMARTCA_BACKEND="http", SMARTCA_BACKEND_URL="https://ra.example.vn/v1",
        SMARTCA_BACKEND_TOKEN="t", SMS_PROVIDER="http",
        SMS_GATEWAY_URL="https://sms.example.vn/send", SMS_GATEWAY_TOKEN="s",
        PRINTER="file",
    )
    providers.init_app(app)
    with app.app_context():
        assert not providers.is_sandbox() and not providers.sms_is_sandbox()
        assert isinstance(providers.registration_backend(), HttpRegistrationBackend)
        sms = providers.sms_gateway()
        assert isinstance(sms, HttpSms) and sms.sender == "VNPT"
        printer = providers.printer()
        assert isinstance(printer, FilePrinter)
        assert printer.directory == tmp_path / "instance" / "prints"

    app = _make_app(tmp_path, PRINTER="cups", PRINTER_QUEUE="Receipt_80mm")
    providers.init_app(app)
    with app.app_context():
        assert providers.printer().queue == "Receipt_80mm"
        assert isinstance(providers.printer(), CupsPrinter)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"SMARTCA_BACKEND": "vnpt"}, "SMARTCA_BACKEND"),
        ({"SMARTCA_BACKEND": "http", "SMARTCA_BACKEND_TOKEN": "t"}, "SMARTCA_BACKEND_URL"),
        ({"SMARTCA_BACKEND": "http", "SMARTCA_BACKEND_URL": "https://x.vn"},
         "SMARTCA_BACKEND_TOKEN"),
        ({"SMARTCA_BACKEND": "http", "SMARTCA_BACKEND_URL": "http://x.vn",
          "SMARTCA_BACKEND_TOKEN": "t"}, "SMARTCA_BACKEND_URL"),
        ({"SMS_PROVIDER": "http", "SMS_GATEWAY_TOKEN": "t"}, "SMS_GATEWAY_URL"),
        ({"SMS_PROVIDER": "http", "SMS_GATEWAY_URL": "https://x.vn"}, "SMS_GATEWAY_TOKEN"),
        ({"PRINTER": "laser"}, "PRINTER"),
        ({"PRINTER": "cups"}, "PRINTER_QUEUE"),
        ({"PRINTER": "cups", "PRINTER_QUEUE": "a queue; rm"}, "PRINTER_QUEUE"),
    ],
)
def test_init_app_names_the_bad_setting(tmp_path, config, named):
    app = _make_app(tmp_path, **config)
    with pytest.raises(ProviderConfigError, match=named):
        providers.init_app(app)


def test_printer_accessor_is_not_shadowed_by_the_printer_module():
    import importlib

    import kiosk.providers.printing  # noqa: F401

    module = importlib.import_module("kiosk.providers.printing")
    assert callable(providers.printer) and providers.printer is not module
    assert module.FilePrinter is FilePrinter


def test_sandbox_code_sent_before_the_upgrade_still_verifies(sandbox):
    # Codes used to be stored as argon2id; one sent just before an upgrade stays valid.
    from kiosk.domain.credentials import hash_secret

    ref = sandbox.create_subscriber(**SUBSCRIBER)
    sandbox.send_activation(ref, "+84912345678")
    sub = db.session.query(SandboxSubscriber).one()
    sub.activation_hash = hash_secret("222222")
    assert sandbox.verify_activation(ref, "111111") is VerifyResult.WRONG
    assert sandbox.verify_activation(ref, "222222") is VerifyResult.OK

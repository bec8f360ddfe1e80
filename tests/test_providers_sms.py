"""SMS gateway: the sandbox outbox and the HTTP adapter against a real local server."""
from __future__ import annotations

import os

import pytest
from flask import Flask
from sqlalchemy import text

from kiosk.core.crypto import DataCipher
from kiosk.core.extensions import db
from kiosk.core.models import Registration, SmsMessage
from kiosk.providers import ProviderError
from kiosk.providers.base import SMS_MESSAGE
from kiosk.providers.sms import HttpSms, SandboxSms, latest_sandbox_message
from tests.fake_services import FakeService, unused_port

TEXT = "VNPT SmartCA: Ma kich hoat cua Quy khach la 123456."


@pytest.fixture
def app(tmp_path):
    app = Flask(__name__)
    app.config.update(TESTING=True,
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'test.sqlite'}")
    db.init_app(app)
    app.extensions["kiosk_cipher"] = DataCipher(os.urandom(32))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


@pytest.fixture
def reg_id(app):
    reg = Registration(number="TH-0001")
    db.session.add(reg)
    db.session.commit()
    return reg.id


@pytest.fixture
def svc():
    with FakeService() as service:
        yield service


def test_sandbox_sms_goes_to_the_encrypted_outbox(app, reg_id):
    msg = SandboxSms(db.session).send("+84912345678", TEXT, registration_id=reg_id)
    assert msg.id is not None  # flushed …
    db.session.rollback()  # … but not committed: the caller owns the unit of work
    assert db.session.query(SmsMessage).count() == 0

    SandboxSms(db.session).send("+84912345678", TEXT, registration_id=reg_id)
    db.session.commit()
    stored = db.session.query(SmsMessage).one()
    assert (stored.provider, stored.status) == ("sandbox", "sandbox")
    assert stored.to_number == {"e164": "+84912345678"}
    assert stored.body == {"text": TEXT}
    number, body = db.session.execute(text("SELECT to_number, body FROM sms_message")).one()
    assert b"84912345678" not in bytes(number) and b"123456" not in bytes(body)


def test_latest_sandbox_message(app, reg_id):
    assert latest_sandbox_message(db.session, reg_id) is None
    gateway = SandboxSms(db.session)
    gateway.send("+84912345678", "first", registration_id=reg_id)
    gateway.send("+84912345678", "second", registration_id=reg_id)
    gateway.send("+84912345678", "someone else")
    db.session.commit()
    assert latest_sandbox_message(db.session, reg_id).body["text"] == "second"


def test_http_sms_sent(app, svc, reg_id):
    svc.reply("POST", "/send", 200, {"id": "MSG-77"})
    gateway = HttpSms(svc.url + "/send", "sms-token", "VNPT", db.session)
    msg = gateway.send("+84912345678", TEXT, registration_id=reg_id)
    db.session.commit()
    gateway.close()

    (req,) = svc.requests
    assert req.json == {"to": "+84912345678", "text": TEXT, "sender": "VNPT"}
    assert req.headers["Authorization"] == "Bearer sms-token"
    assert (msg.provider, msg.status, msg.provider_ref) == ("http", "sent", "MSG-77")
    assert msg.registration_id == reg_id
    # Not a sandbox message: the kiosk must not show it on screen.
    assert latest_sandbox_message(db.session, reg_id) is None


def test_http_sms_failure_is_recorded_and_raised(app, svc):
    svc.reply("POST", "/send", 500, {"error": "upstream"})
    gateway = HttpSms(svc.url + "/send", "sms-token", "VNPT", db.session)
    with pytest.raises(ProviderError) as err:
        gateway.send("+84912345678", TEXT)
    assert err.value.message == SMS_MESSAGE
    assert err.value.code == "http_500"
    assert "123456" not in err.value.detail
    assert len(svc.requests) == 1  # no blind retry of a POST that may have been delivered
    failed = db.session.query(SmsMessage).one()
    assert (failed.status, failed.provider_ref) == ("failed", None)


def test_http_sms_timeout(app, svc):
    svc.reply("POST", "/send", 200, {"id": "late"}, delay=1.0)
    gateway = HttpSms(svc.url + "/send", "t", "VNPT", db.session, timeout=0.2)
    with pytest.raises(ProviderError) as err:
        gateway.send("+84912345678", TEXT)
    assert err.value.code == "timeout"


def test_http_sms_connection_refused(app):
    gateway = HttpSms(f"http://127.0.0.1:{unused_port()}/send", "t", "VNPT", db.session)
    with pytest.raises(ProviderError) as err:
        gateway.send("+84912345678", TEXT)
    assert err.value.code == "unreachable"
    assert db.session.query(SmsMessage).one().status == "failed"


def test_http_sms_tolerates_answers_without_id(app, svc):
    svc.reply("POST", "/send", 202)
    msg = HttpSms(svc.url + "/send", "t", "VNPT", db.session).send("+84912345678", TEXT)
    assert (msg.status, msg.provider_ref) == ("sent", None)

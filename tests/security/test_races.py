"""Issue 9, item 2: counters and one-time actions hold under parallel requests.

Each test walks a registration with the test client, then fires the same submit N times at
once at a real threaded server on 127.0.0.1 (tests/security/live_server.py), sharing the kiosk
browser's cookie, and counts what happened in the database and at the providers.
"""
from __future__ import annotations

from sqlalchemy import func, select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document, Evidence, SandboxSubscriber, SmsMessage
from kiosk.providers.smartca_sandbox import SandboxRegistrationBackend
from tests.kiosk_driver import data_url, signature_png
from tests.security.live_server import bare_500, burst, serving


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(app, reg_id, event):
    return _count(app, AuditEvent, AuditEvent.registration_id == reg_id, AuditEvent.event == event)


def _fire(app, kiosk, path, count, data=None, rounds=1):
    cookie = kiosk.client.get_cookie("session").value
    with serving(app) as base:
        return burst(base + path, cookie, kiosk.csrf(), count, data, rounds)


def test_otp_resend_limit_holds_under_20_parallel_requests(app, kiosk):
    app.config["OTP_RESEND_COOLDOWN_SECONDS"] = 0  # worst case: only the counter stands
    kiosk.walk_to(5)
    reg = kiosk.registration()
    results = _fire(app, kiosk, f"/r/{kiosk.token}/step/5/resend", 20,
                    {"csrf_token": kiosk.csrf()}, rounds=3)
    assert len(results) == 60 and all(status == 200 for status, _ in results)
    sent = _count(app, SmsMessage, SmsMessage.registration_id == reg.id)
    assert sent == 1 + app.config["OTP_MAX_RESENDS"]  # step 4's SMS and 3 resends, not 13
    assert kiosk.registration().otp_sends == sent


def test_otp_resend_cooldown_holds_under_parallel_requests(app, kiosk):
    app.config["OTP_RESEND_COOLDOWN_SECONDS"] = 60
    kiosk.walk_to(5)
    with app.app_context():
        row = kiosk.row()
        row.otp_sent_at = row.otp_sent_at.replace(year=2000)  # the cooldown has passed once
        db.session.commit()
    reg = kiosk.registration()
    _fire(app, kiosk, f"/r/{kiosk.token}/step/5/resend", 20, {"csrf_token": kiosk.csrf()})
    assert _count(app, SmsMessage, SmsMessage.registration_id == reg.id) == 2


def test_otp_attempt_limit_holds_under_20_parallel_guesses(app, kiosk):
    kiosk.walk_to(5)
    reg = kiosk.registration()
    right = kiosk.last_sms_code()
    wrong = "000000" if right != "000000" else "111111"
    results = _fire(app, kiosk, kiosk.url(5), 20, {"csrf_token": kiosk.csrf(), "code": wrong})
    assert [s for s, _ in results] == [200] * 20
    assert not any(bare_500(text) for _, text in results)
    limit = app.config["OTP_MAX_ATTEMPTS"]
    assert kiosk.registration().otp_failed_attempts == limit  # 5 guesses checked, not 20
    assert _events(app, reg.id, "activation_code_wrong") == limit
    assert _events(app, reg.id, "activation_locked") == 1
    kiosk.activate(right)  # locked: even the right code no longer opens the step
    assert kiosk.registration().otp_verified_at is None


def test_parallel_step_4_creates_one_subscriber_and_no_500(app, kiosk):
    kiosk.walk_to(4)
    reg = kiosk.registration()
    results = _fire(app, kiosk, kiosk.url(4), 4, {"csrf_token": kiosk.csrf()})
    assert [s for s, _ in results] == [200] * 4
    assert not any(bare_500(text) for _, text in results)
    assert _count(app, SandboxSubscriber) == 1
    assert _count(app, SmsMessage, SmsMessage.registration_id == reg.id) == 1
    assert _events(app, reg.id, "service_initialised") == 1
    assert kiosk.registration().furthest_step == 5


def test_parallel_step_7_signs_one_contract(app, kiosk):
    kiosk.walk_to(7)
    reg = kiosk.registration()
    sig = data_url("image/png", signature_png())
    results = _fire(app, kiosk, kiosk.url(7), 4, {"csrf_token": kiosk.csrf(), "signature": sig})
    assert all(s == 200 for s, _ in results)
    assert _count(app, Document, Document.registration_id == reg.id, Document.kind == "contract") == 1
    assert _count(app, Evidence, Evidence.registration_id == reg.id,
                  Evidence.kind == "signature_contract") == 1
    assert _events(app, reg.id, "document_signed") == 1


def test_parallel_step_8_sends_one_pin(app, kiosk, monkeypatch):
    kiosk.walk_to(8)
    reg = kiosk.registration()
    sent = []
    original = SandboxRegistrationBackend.set_pin

    def spy(self, ref, pin):
        sent.append(pin)
        return original(self, ref, pin)

    monkeypatch.setattr(SandboxRegistrationBackend, "set_pin", spy)
    pins = ["908172", "573920", "640218", "381957"]
    payloads = [{"csrf_token": kiosk.csrf(), "pin": p, "pin_confirm": p} for p in pins]
    results = _fire(app, kiosk, kiosk.url(8), 4, payloads)
    assert all(s == 200 for s, _ in results)
    assert len(sent) == 1
    assert _events(app, reg.id, "pin_created") == 1


def test_parallel_step_9_makes_one_acceptance_one_receipt_one_print_job(app, kiosk, tmp_path):
    kiosk.walk_to(9)
    kiosk.confirm_certificate()
    reg = kiosk.registration()
    sig = data_url("image/png", signature_png())
    results = _fire(app, kiosk, kiosk.url(9), 4, {"csrf_token": kiosk.csrf(), "signature": sig})
    assert all(s == 200 for s, _ in results)
    for kind in ("acceptance", "receipt"):
        assert _count(app, Document, Document.registration_id == reg.id, Document.kind == kind) == 1
    assert _events(app, reg.id, "receipt_printed") == 1
    prints = list((tmp_path / "instance" / "prints").glob("*.pdf"))
    assert len(prints) == 1
    assert kiosk.registration().finished


def _claim_row(app, kiosk, action, age_seconds):
    from datetime import timedelta

    from kiosk.core.models import ActionClaim, utcnow
    with app.app_context():
        db.session.add(ActionClaim(registration_id=kiosk.row().id, action=action,
                                   claimed_at=utcnow() - timedelta(seconds=age_seconds)))
        db.session.commit()


def test_a_request_in_flight_makes_a_second_submit_wait_not_repeat(app, kiosk):
    kiosk.walk_to(4)
    _claim_row(app, kiosk, "provision", age_seconds=1)  # another request is provisioning now
    response = kiosk.provision()
    assert "đang được xử lý" in response.get_data(as_text=True)
    assert _count(app, SandboxSubscriber) == 0


def test_a_claim_left_by_a_killed_request_is_taken_over(app, kiosk):
    from kiosk.services.claims import STALE_AFTER_SECONDS

    kiosk.walk_to(4)
    _claim_row(app, kiosk, "provision", age_seconds=STALE_AFTER_SECONDS + 5)  # kill -9 mid-step
    kiosk.provision()
    assert kiosk.registration().furthest_step == 5
    assert _count(app, SandboxSubscriber) == 1


def test_a_provider_failure_releases_the_claim(app, kiosk, monkeypatch):
    from kiosk.providers import ProviderError

    kiosk.walk_to(8)
    original = SandboxRegistrationBackend.set_pin
    monkeypatch.setattr(SandboxRegistrationBackend, "set_pin", lambda *a: (_ for _ in ()).throw(
        ProviderError("backend down", "Hệ thống SmartCA đang bận.", "down")))
    assert "Hệ thống SmartCA đang bận" in kiosk.pin().get_data(as_text=True)
    monkeypatch.setattr(SandboxRegistrationBackend, "set_pin", original)
    kiosk.pin()
    assert kiosk.registration().furthest_step == 9

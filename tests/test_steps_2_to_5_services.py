"""Steps 2–5 one floor down: the services the step views call, called directly (no HTTP).

The kiosk driver walks the wizard up to the step; then each test calls the service in a request
context like the view would and commits like the request would (services only flush)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kiosk.core.extensions import db
from kiosk.core.models import (
    ActionClaim,
    AuditEvent,
    SandboxSubscriber,
    ServicePackage,
    SmsMessage,
    utcnow,
)
from kiosk.domain.registration_rules import NO_CONSENT
from kiosk.providers import ProviderError
from kiosk.providers.smartca_sandbox import SandboxRegistrationBackend
from kiosk.services import activation, claims, customer_details, provisioning
from tests.kiosk_driver import PASSWORD

DOWN = ProviderError("backend down", "Hệ thống SmartCA đang bận. Vui lòng thử lại.", "down")


def _down(*_args, **_kwargs):
    raise DOWN


@contextmanager
def request_for(app, kiosk):
    """The registration as a step view sees it; what the service wrote is committed on exit,
    as the request's after_request hook does."""
    with app.test_request_context():
        yield kiosk.row()
        db.session.commit()


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(app, kiosk, name: str) -> int:
    reg_id = kiosk.registration().id
    return _count(app, AuditEvent, AuditEvent.registration_id == reg_id, AuditEvent.event == name)


def _wrong(kiosk) -> str:
    return "000000" if kiosk.last_sms_code() != "000000" else "111111"


# ---- step 2 and 3 ---------------------------------------------------------------------------

def test_choosing_a_package_keeps_what_was_offered(app, kiosk):
    kiosk.walk_to(2)
    with request_for(app, kiosk) as reg:
        package = customer_details.active_packages()[0]
        outcome = customer_details.choose_package(reg, package.id)
        code = package.code
    assert outcome == customer_details.Accepted(3)
    row = kiosk.registration()
    assert row.package_snapshot["code"] == code and row.furthest_step == 3


def test_a_package_withdrawn_meanwhile_is_refused(app, kiosk):
    kiosk.walk_to(2)
    with request_for(app, kiosk) as reg:
        package = customer_details.active_packages()[0]
        package.active = False
        outcome = customer_details.choose_package(reg, package.id)
        missing = customer_details.choose_package(reg, 10_000)
    assert outcome == missing == customer_details.PackageRefused(customer_details.PACKAGE_GONE)
    assert kiosk.registration().package_snapshot is None
    assert kiosk.registration().furthest_step == 2
    assert _count(app, ServicePackage, ServicePackage.active.is_(False)) == 1


def _personal(**changes) -> dict:
    values = {"full_name": "Nguyễn Văn An", "date_of_birth": date(1985, 9, 5), "gender": "Nam",
              "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
              "issue_date": date(2023, 10, 2),
              "email": None}
    return values | changes


def test_personal_details_that_agree_with_the_card_are_kept(app, kiosk):
    kiosk.walk_to(3)
    with request_for(app, kiosk) as reg:
        outcome = customer_details.declare_personal(reg, _personal())
    assert outcome == customer_details.Accepted(4)
    row = kiosk.registration()
    assert row.data["date_of_birth"] == "1985-09-05" and row.furthest_step == 4


def test_personal_details_disagreeing_with_the_cccd_are_refused_by_field(app, kiosk):
    kiosk.walk_to(3)
    with request_for(app, kiosk) as reg:
        outcome = customer_details.declare_personal(reg, _personal(gender="Nữ"))
    assert isinstance(outcome, customer_details.PersonalRefused)
    assert list(outcome.problems) == ["gender"]
    assert kiosk.registration().furthest_step == 3
    assert _events(app, kiosk, "personal_details_refused") == 1


# ---- step 4 ---------------------------------------------------------------------------------

def test_provision_creates_one_subscriber_and_sends_one_sms(app, kiosk):
    kiosk.walk_to(4)
    with request_for(app, kiosk) as reg:
        outcome = provisioning.provision(reg)
    assert outcome == provisioning.Provisioned(5)
    row = kiosk.registration()
    assert row.subscriber_ref and row.otp_sends == 1 and row.provisioned_at is not None
    assert _count(app, SandboxSubscriber) == 1
    assert _count(app, SmsMessage, SmsMessage.registration_id == row.id) == 1
    assert _count(app, ActionClaim, ActionClaim.done_at.is_not(None)) == 1


def test_provision_refuses_what_no_longer_holds_and_creates_nothing(app, kiosk):
    kiosk.walk_to(4)
    with request_for(app, kiosk) as reg:
        reg.consent_at = None  # e.g. withdrawn behind the wizard's back
        outcome = provisioning.provision(reg)
    assert outcome == provisioning.Refused(((1, NO_CONSENT),))
    assert kiosk.registration().subscriber_ref is None
    assert _count(app, ActionClaim) == 0 and _count(app, SandboxSubscriber) == 0
    assert _events(app, kiosk, "provisioning_refused") == 1


def test_a_provider_error_gives_back_the_claim_and_the_step_can_be_retried(app, kiosk, monkeypatch):
    kiosk.walk_to(4)
    monkeypatch.setattr(SandboxRegistrationBackend, "send_activation", _down)
    with request_for(app, kiosk) as reg:
        outcome = provisioning.provision(reg)
    assert outcome == provisioning.ProviderFailed(DOWN.message)
    assert _count(app, ActionClaim) == 0  # free again
    assert _count(app, SandboxSubscriber) == 0  # what the failed call flushed is rolled back
    assert kiosk.registration().subscriber_ref is None
    assert _events(app, kiosk, "provisioning_failed") == 1
    monkeypatch.undo()
    with request_for(app, kiosk) as reg:
        assert provisioning.provision(reg) == provisioning.Provisioned(5)


def test_a_claim_held_by_another_request_makes_this_one_wait(app, kiosk):
    kiosk.walk_to(4)
    with request_for(app, kiosk) as reg:
        db.session.add(ActionClaim(registration_id=reg.id, action=claims.PROVISION,
                                   claimed_at=utcnow()))
    with request_for(app, kiosk) as reg:
        outcome = provisioning.provision(reg)
    assert outcome == provisioning.Busy()
    assert _count(app, SandboxSubscriber) == 0 and _count(app, SmsMessage) == 0


# ---- step 5: the code -----------------------------------------------------------------------

def test_the_right_code_is_verified_and_its_try_given_back(app, kiosk):
    kiosk.walk_to(5)
    code = kiosk.last_sms_code()
    with request_for(app, kiosk) as reg:
        outcome = activation.check_code(reg, code)
    assert outcome == activation.CodeVerified()
    row = kiosk.registration()
    assert row.otp_verified_at is not None and row.otp_failed_attempts == 0


def test_a_wrong_code_counts_and_says_how_many_tries_are_left(app, kiosk):
    kiosk.walk_to(5)
    with request_for(app, kiosk) as reg:
        outcome = activation.check_code(reg, _wrong(kiosk))
    assert outcome == activation.CodeRefused("Mã kích hoạt chưa đúng. Quý khách còn 4 lần thử.")
    assert kiosk.registration().otp_failed_attempts == 1
    assert _events(app, kiosk, "activation_code_wrong") == 1


def test_the_step_locks_after_the_limit_even_for_the_right_code(app, kiosk):
    kiosk.walk_to(5)
    wrong, right = _wrong(kiosk), kiosk.last_sms_code()
    with request_for(app, kiosk) as reg:
        outcomes = [activation.check_code(reg, wrong) for _ in range(5)]
        after = activation.check_code(reg, right)
        state = activation.otp_state(reg)
    assert outcomes[-1] == after == activation.CodeRefused(None)
    assert [o.error is not None for o in outcomes] == [True] * 4 + [False]
    assert state.locked and state.attempts_left == 0
    row = kiosk.registration()
    assert row.otp_verified_at is None and row.otp_failed_attempts == 5
    assert _events(app, kiosk, "activation_locked") == 1


def test_a_provider_error_while_checking_gives_back_the_try(app, kiosk, monkeypatch):
    kiosk.walk_to(5)
    monkeypatch.setattr(SandboxRegistrationBackend, "verify_activation", _down)
    with request_for(app, kiosk) as reg:
        outcome = activation.check_code(reg, "123456")
    assert outcome == activation.ProviderFailed(DOWN.message)
    assert kiosk.registration().otp_failed_attempts == 0


def test_an_expired_code_is_not_a_guess(app, kiosk):
    kiosk.walk_to(5)
    code = kiosk.last_sms_code()
    with request_for(app, kiosk):
        sub = db.session.scalar(select(SandboxSubscriber))
        sub.activation_expires_at = utcnow() - timedelta(seconds=1)
    with request_for(app, kiosk) as reg:
        outcome = activation.check_code(reg, code)
    assert isinstance(outcome, activation.CodeRefused) and "hết hạn" in outcome.error
    assert kiosk.registration().otp_failed_attempts == 0


# ---- step 5: «Gửi lại mã» -------------------------------------------------------------------

def _cooldown_passed(app, kiosk):
    with request_for(app, kiosk) as reg:
        reg.otp_sent_at = utcnow() - timedelta(seconds=app.config["OTP_RESEND_COOLDOWN_SECONDS"])


def test_resend_waits_for_the_cooldown_then_sends_a_new_code(app, kiosk):
    kiosk.walk_to(5)
    first = kiosk.last_sms_code()
    with request_for(app, kiosk) as reg:
        early = activation.resend(reg)
    assert isinstance(early, activation.NotResent) and "giây rồi gửi lại mã" in early.notice
    _cooldown_passed(app, kiosk)
    with request_for(app, kiosk) as reg:
        assert activation.resend(reg) == activation.Resent()
    row = kiosk.registration()
    assert row.otp_sends == 2
    assert _count(app, SmsMessage, SmsMessage.registration_id == row.id) == 2
    if first != kiosk.last_sms_code():  # only the latest SMS is valid (one in a million: same)
        with request_for(app, kiosk) as reg:
            assert isinstance(activation.check_code(reg, first), activation.CodeRefused)


def test_resend_stops_after_the_limit(app, kiosk):
    app.config["OTP_RESEND_COOLDOWN_SECONDS"] = 0
    kiosk.walk_to(5)
    with request_for(app, kiosk) as reg:
        outcomes = [activation.resend(reg) for _ in range(app.config["OTP_MAX_RESENDS"] + 1)]
    assert outcomes[:-1] == [activation.Resent()] * app.config["OTP_MAX_RESENDS"]
    assert isinstance(outcomes[-1], activation.NotResent) and "tối đa 3 lần" in outcomes[-1].notice
    assert kiosk.registration().otp_sends == 1 + app.config["OTP_MAX_RESENDS"]


def test_a_resend_the_provider_could_not_send_does_not_count(app, kiosk, monkeypatch):
    kiosk.walk_to(5)
    _cooldown_passed(app, kiosk)
    monkeypatch.setattr(SandboxRegistrationBackend, "send_activation", _down)
    with request_for(app, kiosk) as reg:
        outcome = activation.resend(reg)
    assert outcome == activation.ProviderFailed(DOWN.message)
    assert kiosk.registration().otp_sends == 1


def test_nothing_is_resent_once_locked(app, kiosk):
    kiosk.walk_to(5)
    _cooldown_passed(app, kiosk)
    with request_for(app, kiosk) as reg:
        reg.otp_failed_attempts = app.config["OTP_MAX_ATTEMPTS"]
    with request_for(app, kiosk) as reg:
        assert activation.resend(reg) == activation.NotResent(None)
    assert kiosk.registration().otp_sends == 1


# ---- step 5: the password -------------------------------------------------------------------

def test_no_password_before_the_code(app, kiosk):
    kiosk.walk_to(5)
    with request_for(app, kiosk) as reg:
        outcome = activation.set_password(reg, PASSWORD, PASSWORD)
    assert outcome == activation.PasswordRefused(password_error=activation.CODE_FIRST)
    assert kiosk.registration().password_set_at is None


@pytest.mark.parametrize("password, confirm, field", [
    ("abc", "abc", "password_error"),
    (PASSWORD, PASSWORD + "x", "confirm_error"),
])
def test_a_weak_or_mistyped_password_is_refused(app, kiosk, password, confirm, field):
    kiosk.walk_to(5)
    kiosk.activate()
    with request_for(app, kiosk) as reg:
        outcome = activation.set_password(reg, password, confirm)
    assert isinstance(outcome, activation.PasswordRefused) and getattr(outcome, field)
    assert kiosk.registration().password_set_at is None


def test_the_password_goes_to_the_backend_and_the_customer_goes_on(app, kiosk, monkeypatch):
    kiosk.walk_to(5)
    kiosk.activate()
    monkeypatch.setattr(SandboxRegistrationBackend, "set_password", _down)
    with request_for(app, kiosk) as reg:
        assert activation.set_password(reg, PASSWORD, PASSWORD) == \
            activation.ProviderFailed(DOWN.message)
    assert kiosk.registration().password_set_at is None
    monkeypatch.undo()
    with request_for(app, kiosk) as reg:
        assert activation.set_password(reg, PASSWORD, PASSWORD) == activation.PasswordSet(6)
    row = kiosk.registration()
    assert row.password_set_at is not None and row.furthest_step == 6


def test_the_screen_shows_the_masked_phone_and_the_sandbox_sms(app, kiosk):
    kiosk.walk_to(5)
    code = kiosk.last_sms_code()
    with request_for(app, kiosk) as reg:
        shown = activation.screen(reg)
        app.config["SANDBOX_SHOW_SMS"] = False
        hidden = activation.screen(reg)
    assert not shown.verified and code in shown.sandbox_sms
    assert shown.masked_phone.endswith("678") and "345" not in shown.masked_phone
    assert hidden.sandbox_sms is None
    assert ("length", "Ít nhất 8 ký tự", False) in shown.checklist
    with request_for(app, kiosk) as reg:
        met = {rule for rule, _label, ok in activation.checklist_for(reg, PASSWORD) if ok}
    assert met == {rule for rule, _label, _ok in shown.checklist}

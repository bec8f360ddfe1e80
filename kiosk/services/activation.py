"""Step 5: the activation code from the SMS, its resend, then the customer's password.

The limits (docs/security.md): a code has ``OTP_MAX_ATTEMPTS`` tries, then the step locks until
a clerk unlocks it; ``OTP_MAX_RESENDS`` resends, ``OTP_RESEND_COOLDOWN_SECONDS`` apart. The
counters that must hold under parallel requests are taken in services/claims.py (committed
before the provider is asked); everything else here only changes rows in the request's session,
which commits once it has answered (services/unit_of_work.py). The password is handed to the
backend and never stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from kiosk import providers
from kiosk.core import audit
from kiosk.core.models import Registration, utcnow
from kiosk.domain.credentials import password_checklist, password_problems
from kiosk.domain.identity import mask_phone
from kiosk.providers import ProviderError, VerifyResult
from kiosk.services import claims, registrations, sandbox

STEP = 5

CODE_ACCEPTED = "Mã kích hoạt đúng. Bây giờ quý khách tạo mật khẩu."
RESENT = "Đã gửi lại mã kích hoạt mới. Mã cũ không còn dùng được."
PASSWORDS_DIFFER = "Hai lần nhập mật khẩu không giống nhau. Vui lòng nhập lại."
CODE_FIRST = "Vui lòng nhập mã kích hoạt trước khi tạo mật khẩu."


def _wait_message(seconds: int) -> str:
    return f"Vui lòng chờ {seconds} giây rồi gửi lại mã."


def _no_more_resends() -> str:
    return (f"Đã gửi lại mã tối đa {current_app.config['OTP_MAX_RESENDS']} lần. "
            "Vui lòng nhờ nhân viên hỗ trợ.")


# ---- what the screen shows ----------------------------------------------------------------

@dataclass(frozen=True)
class OtpState:
    locked: bool
    attempts_left: int
    resends_left: int
    resend_in: int  # seconds until "Gửi lại mã" is allowed (0 = now)
    expires_at: datetime | None


def otp_state(reg: Registration, now: datetime | None = None) -> OtpState:
    cfg = current_app.config
    now = now or utcnow()
    attempts_left = max(0, cfg["OTP_MAX_ATTEMPTS"] - reg.otp_failed_attempts)
    # otp_sends counts step 4's SMS too: the resends are the ones after it.
    resends_left = max(0, cfg["OTP_MAX_RESENDS"] - (reg.otp_sends - 1))
    resend_in = 0
    expires_at = None
    if reg.otp_sent_at is not None:
        ready_at = reg.otp_sent_at + timedelta(seconds=cfg["OTP_RESEND_COOLDOWN_SECONDS"])
        resend_in = max(0, int((ready_at - now).total_seconds() + 0.999))  # round up
        expires_at = reg.otp_sent_at + timedelta(seconds=cfg["OTP_TTL_SECONDS"])
    return OtpState(attempts_left == 0, attempts_left, resends_left, resend_in, expires_at)


def checklist_for(reg: Registration, password: str) -> list:
    """The live password checklist: (code, label, met) for each rule."""
    data = reg.data
    return password_checklist(password, data.get("id_number"), data.get("phone"))


def sandbox_sms(reg: Registration) -> str | None:
    """The SMS nobody receives in the sandbox, to show under «MÔI TRƯỜNG THỬ NGHIỆM»."""
    if not (sandbox.backend_is_sandbox() and current_app.config["SANDBOX_SHOW_SMS"]):
        return None
    return sandbox.latest_sms_text(reg)


@dataclass(frozen=True)
class Screen:
    verified: bool
    otp: OtpState
    masked_phone: str
    sandbox_sms: str | None
    checklist: list


def screen(reg: Registration) -> Screen:
    """Everything step 5 shows besides its forms."""
    phone = reg.data.get("phone")
    verified = reg.otp_verified_at is not None
    return Screen(verified=verified, otp=otp_state(reg),
                  masked_phone=mask_phone(phone) if phone else "",
                  sandbox_sms=None if verified else sandbox_sms(reg),
                  checklist=checklist_for(reg, ""))


# ---- the activation code ------------------------------------------------------------------

@dataclass(frozen=True)
class CodeVerified:
    notice: str = CODE_ACCEPTED


@dataclass(frozen=True)
class CodeRefused:
    """Wrong or expired code (``error`` goes under the field), or no try left (``error`` None:
    the screen shows the lock)."""

    error: str | None


@dataclass(frozen=True)
class ProviderFailed:
    message: str


def _locked(reg: Registration) -> CodeRefused:
    """No try left: the customer cannot go on alone, so the clerk is called at once (once: the
    call is idempotent) and the screen shows the lock with the waiting panel."""
    registrations.call_clerk(reg, "otp_locked")
    return CodeRefused(None)


def check_code(reg: Registration, code: str) -> CodeVerified | CodeRefused | ProviderFailed:
    """Check the six digits of the SMS. A try is taken before asking the backend and given back
    when the answer was not a wrong guess: parallel guesses cannot exceed the limit."""
    if reg.otp_verified_at is not None:
        return CodeVerified()
    limit = current_app.config["OTP_MAX_ATTEMPTS"]
    if otp_state(reg).locked:
        return _locked(reg)
    used = claims.reserve_otp_attempt(reg, limit)
    if used is None:  # a parallel guess took the last try
        return _locked(reg)
    try:
        result = providers.registration_backend().verify_activation(reg.subscriber_ref, code)
    except ProviderError as err:
        claims.give_back_otp_attempt(reg)
        return ProviderFailed(err.message)
    if result is VerifyResult.OK:
        claims.give_back_otp_attempt(reg)
        reg.otp_verified_at = utcnow()
        audit.record("activation_code_verified", reg)
        return CodeVerified()
    if result is VerifyResult.EXPIRED:
        claims.give_back_otp_attempt(reg)  # an expired code is not a guess
        audit.record("activation_code_expired", reg)
        minutes = current_app.config["OTP_TTL_SECONDS"] // 60
        return CodeRefused(f"Mã kích hoạt đã hết hạn (hiệu lực {minutes} phút). "
                           "Vui lòng bấm «Gửi lại mã».")
    # WRONG, or NO_CODE (nothing to match: still a guess, so it counts).
    audit.record("activation_code_wrong", reg, attempts=used)
    left = max(0, limit - used)
    if not left:
        audit.record("activation_locked", reg)
        return _locked(reg)
    return CodeRefused(f"Mã kích hoạt chưa đúng. Quý khách còn {left} lần thử.")


# ---- «Gửi lại mã» -------------------------------------------------------------------------

@dataclass(frozen=True)
class Resent:
    notice: str = RESENT


@dataclass(frozen=True)
class NotResent:
    """Nothing sent: why (None when the screen already says it: locked, or code verified)."""

    notice: str | None


def resend(reg: Registration) -> Resent | NotResent | ProviderFailed:
    state = otp_state(reg)
    if state.locked or reg.otp_verified_at is not None:
        return NotResent(None)
    if state.resends_left == 0:
        return NotResent(_no_more_resends())
    if state.resend_in > 0:
        return NotResent(_wait_message(state.resend_in))
    cfg = current_app.config
    # The checks above are for the message; this conditional UPDATE is what holds under
    # parallel requests (it counts the SMS before it is sent).
    if not claims.take_resend(reg, cfg["OTP_MAX_RESENDS"], cfg["OTP_RESEND_COOLDOWN_SECONDS"]):
        state = otp_state(reg)
        return NotResent(_wait_message(state.resend_in) if state.resends_left
                         else _no_more_resends())
    try:
        providers.registration_backend().send_activation(reg.subscriber_ref, reg.data["phone"])
    except ProviderError as err:
        claims.give_back_resend(reg)
        return ProviderFailed(err.message)
    audit.record("activation_code_resent", reg, sends=reg.otp_sends)
    return Resent()


# ---- the password -------------------------------------------------------------------------

@dataclass(frozen=True)
class PasswordSet:
    next_step: int


@dataclass(frozen=True)
class PasswordRefused:
    """Messages for the password field and for its confirmation (either may be None)."""

    password_error: str | None = None
    confirm_error: str | None = None


def set_password(reg: Registration, password: str, confirm: str
                 ) -> PasswordSet | PasswordRefused | ProviderFailed:
    if reg.otp_verified_at is None:
        return PasswordRefused(password_error=CODE_FIRST)
    data = reg.data
    problems = password_problems(password, data.get("id_number"), data.get("phone"))
    if problems:
        # Lower-case only each rule's first letter: "(A–Z)" must stay upper case.
        return PasswordRefused(password_error="Mật khẩu chưa đạt: " + "; ".join(
            p[:1].lower() + p[1:] for p in problems) + ".")
    if password != confirm:
        return PasswordRefused(confirm_error=PASSWORDS_DIFFER)
    try:
        providers.registration_backend().set_password(reg.subscriber_ref, password)
    except ProviderError as err:
        return ProviderFailed(err.message)
    reg.password_set_at = utcnow()  # the password itself is forgotten: the backend owns it
    audit.record("password_created", reg)
    return PasswordSet(registrations.complete_step(reg, STEP))

"""Steps 4–5: initialise the service with the backend, activation code, password."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import update

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, utcnow
from kiosk.domain.credentials import password_checklist, password_problems
from kiosk.domain.identity import (
    IdentityError,
    IdType,
    mask_phone,
    normalize_id_number,
    normalize_mobile,
)
from kiosk.domain.registration_rules import personal_problems
from kiosk.providers import ProviderError, VerifyResult
from kiosk.services import claims, registrations
from kiosk.web.wizard.forms import OtpForm, PasswordForm, ProvisionForm
from kiosk.web.wizard.once import BUSY, busy
from kiosk.web.wizard.render import GoTo, render_step

# ---- Step 4: Khởi tạo dịch vụ --------------------------------------------------------------

def revalidate(reg: Registration) -> list[tuple[int, str]]:
    """Re-check steps 1–3 from the stored data before anything is created at the backend."""
    data, problems = reg.data, []
    try:
        normalize_id_number(IdType(data.get("id_type")), data.get("id_number", ""))
        normalize_mobile(data.get("phone", ""))
    except (IdentityError, ValueError) as err:
        problems.append((1, getattr(err, "message", "Thông tin giấy tờ chưa hợp lệ.")))
    if reg.consent_at is None:
        problems.append((1, "Chưa có sự đồng ý xử lý dữ liệu cá nhân."))
    if not reg.package_snapshot:
        problems.append((2, "Chưa chọn gói dịch vụ."))
    if not data.get("full_name"):
        problems.append((3, "Chưa khai báo thông tin cá nhân."))
    else:
        values = {
            "date_of_birth": date.fromisoformat(data["date_of_birth"]),
            "issue_date": date.fromisoformat(data["issue_date"]),
            "gender": data["gender"],
        }
        found = personal_problems(data["id_type"], data["id_number"], values, utcnow().date(),
                                  current_app.config["MIN_CUSTOMER_AGE"])
        problems.extend((3, m) for messages in found.values() for m in messages)
    return problems


def view_provision(reg: Registration, readonly: bool, problems=(), provider_error=None):
    return render_step(reg, 4, form=ProvisionForm(), readonly=readonly, problems=problems,
                       provider_error=provider_error)


def submit_provision(reg: Registration):
    if not ProvisionForm().validate():
        return view_provision(reg, False)
    problems = revalidate(reg)
    if problems:
        audit.record("provisioning_refused", reg, steps=sorted({s for s, _ in problems}))
        db.session.commit()
        return view_provision(reg, False, problems=problems)
    # One subscriber, one SMS: parallel submits stop here (services/claims.py).
    if not claims.claim(reg, claims.PROVISION):
        return busy(reg, claims.PROVISION, 4,
                    lambda r: view_provision(r, False, provider_error=BUSY))
    data = reg.data
    backend = providers.registration_backend()
    try:
        reg.subscriber_ref = backend.create_subscriber(
            username=data["id_number"], id_type=data["id_type"], full_name=data["full_name"],
            phone_e164=data["phone"], email=data.get("email"),
            date_of_birth=date.fromisoformat(data["date_of_birth"]),
            package_code=reg.package_snapshot["code"], registration_number=reg.number,
        )
        backend.send_activation(reg.subscriber_ref, data["phone"])
    except ProviderError as err:
        claims.release(reg, claims.PROVISION)
        current_app.logger.warning("provisioning failed for %s: %s", reg.number, err.detail)
        audit.record("provisioning_failed", reg, detail=err.detail)
        db.session.commit()
        return view_provision(reg, False, provider_error=err.message)
    now = utcnow()
    reg.provisioned_at = reg.otp_sent_at = now
    reg.otp_sends = 1
    audit.record("service_initialised", reg, subscriber_ref=reg.subscriber_ref)
    claims.mark_done(reg, claims.PROVISION)
    nxt = registrations.complete_step(reg, 4)
    db.session.commit()
    return GoTo(nxt)


# ---- Step 5: mã kích hoạt + mật khẩu -------------------------------------------------------

@dataclass
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
    resends_left = max(0, cfg["OTP_MAX_RESENDS"] - (reg.otp_sends - 1))
    resend_in = 0
    if reg.otp_sent_at is not None:
        ready_at = reg.otp_sent_at + timedelta(seconds=cfg["OTP_RESEND_COOLDOWN_SECONDS"])
        resend_in = max(0, int((ready_at - now).total_seconds() + 0.999))
    expires_at = None
    if reg.otp_sent_at is not None:
        expires_at = reg.otp_sent_at + timedelta(seconds=cfg["OTP_TTL_SECONDS"])
    return OtpState(attempts_left == 0, attempts_left, resends_left, resend_in, expires_at)


def _sandbox_sms(reg: Registration) -> str | None:
    if not (providers.is_sandbox() and current_app.config["SANDBOX_SHOW_SMS"]):
        return None
    message = providers.latest_sandbox_message(db.session, reg.id)
    return message.body.get("text") if message is not None else None


def view_activation(reg: Registration, readonly: bool, otp_form=None, password_form=None,
                    notice=None):
    data = reg.data
    verified = reg.otp_verified_at is not None
    return render_step(
        reg, 5, readonly=readonly, verified=verified,
        otp_form=otp_form or OtpForm(formdata=None),
        password_form=password_form or PasswordForm(formdata=None),
        otp=otp_state(reg), masked_phone=mask_phone(data["phone"]) if data.get("phone") else "",
        sandbox_sms=None if verified else _sandbox_sms(reg),
        checklist=password_checklist("", data.get("id_number"), data.get("phone")),
        notice=notice,
    )


def submit_activation(reg: Registration):
    if reg.otp_verified_at is None:
        return _submit_code(reg)
    return _submit_password(reg)


def _reserve_attempt(reg: Registration) -> bool:
    """Take one of the allowed tries atomically in SQL, before checking the code, so that
    parallel guesses cannot slip past the limit (a read-modify-write in Python would)."""
    taken = db.session.execute(
        update(Registration)
        .where(Registration.id == reg.id,
               Registration.otp_failed_attempts < current_app.config["OTP_MAX_ATTEMPTS"])
        .values(otp_failed_attempts=Registration.otp_failed_attempts + 1)
    ).rowcount
    db.session.commit()  # expires reg: the next read sees the stored count
    return taken == 1


def _submit_code(reg: Registration):
    form = OtpForm()
    if otp_state(reg).locked or not form.validate():
        return view_activation(reg, False, otp_form=form)
    if not _reserve_attempt(reg):
        return view_activation(reg, False, otp_form=form)
    try:
        result = providers.registration_backend().verify_activation(
            reg.subscriber_ref, form.clean["code"])
    except ProviderError as err:
        _give_back_attempt(reg)
        return view_activation(reg, False, otp_form=form, notice=err.message)
    if result is VerifyResult.OK:
        _give_back_attempt(reg)
        reg.otp_verified_at = utcnow()
        audit.record("activation_code_verified", reg)
        db.session.commit()
        return view_activation(reg, False, notice="Mã kích hoạt đúng. Bây giờ quý khách tạo mật khẩu.")
    if result is VerifyResult.EXPIRED:
        _give_back_attempt(reg)  # an expired code is not a guess
        minutes = current_app.config["OTP_TTL_SECONDS"] // 60
        form.code.errors = [f"Mã kích hoạt đã hết hạn (hiệu lực {minutes} phút). Vui lòng bấm «Gửi lại mã»."]
        audit.record("activation_code_expired", reg)
    else:
        left = otp_state(reg).attempts_left
        audit.record("activation_code_wrong", reg, attempts=reg.otp_failed_attempts)
        if left:
            form.code.errors = [f"Mã kích hoạt chưa đúng. Quý khách còn {left} lần thử."]
        else:
            audit.record("activation_locked", reg)
    db.session.commit()
    return view_activation(reg, False, otp_form=form)


def _give_back_attempt(reg: Registration) -> None:
    db.session.execute(
        update(Registration).where(Registration.id == reg.id)
        .values(otp_failed_attempts=Registration.otp_failed_attempts - 1))
    db.session.commit()


def resend_code(reg: Registration):
    state = otp_state(reg)
    if state.locked or reg.otp_verified_at is not None:
        return view_activation(reg, False)
    if state.resends_left == 0:
        return view_activation(reg, False, notice=(
            f"Đã gửi lại mã tối đa {current_app.config['OTP_MAX_RESENDS']} lần. Vui lòng nhờ nhân viên hỗ trợ."))
    if state.resend_in > 0:
        return view_activation(reg, False, notice=f"Vui lòng chờ {state.resend_in} giây rồi gửi lại mã.")
    cfg = current_app.config
    # The check above is for the message; this conditional UPDATE is what holds under parallel
    # requests (it counts the SMS before it is sent).
    if not claims.take_resend(reg, cfg["OTP_MAX_RESENDS"], cfg["OTP_RESEND_COOLDOWN_SECONDS"]):
        state = otp_state(reg)
        return view_activation(reg, False, notice=(
            f"Vui lòng chờ {state.resend_in} giây rồi gửi lại mã." if state.resends_left
            else f"Đã gửi lại mã tối đa {cfg['OTP_MAX_RESENDS']} lần. Vui lòng nhờ nhân viên hỗ trợ."))
    try:
        providers.registration_backend().send_activation(reg.subscriber_ref, reg.data["phone"])
    except ProviderError as err:
        claims.give_back_resend(reg)
        return view_activation(reg, False, notice=err.message)
    audit.record("activation_code_resent", reg, sends=reg.otp_sends)
    db.session.commit()
    return view_activation(reg, False, notice="Đã gửi lại mã kích hoạt mới. Mã cũ không còn dùng được.")


def _submit_password(reg: Registration):
    form = PasswordForm()
    if not form.validate():
        return view_activation(reg, False, password_form=form)
    data = reg.data
    password = form.password.data or ""
    problems = password_problems(password, data.get("id_number"), data.get("phone"))
    if problems:
        # Lower-case only each rule's first letter: "(A–Z)" must stay upper case.
        form.password.errors = ["Mật khẩu chưa đạt: " + "; ".join(p[:1].lower() + p[1:] for p in problems) + "."]
    elif password != (form.password_confirm.data or ""):
        form.password_confirm.errors = ["Hai lần nhập mật khẩu không giống nhau. Vui lòng nhập lại."]
    if form.password.errors or form.password_confirm.errors:
        return view_activation(reg, False, password_form=form)
    try:
        providers.registration_backend().set_password(reg.subscriber_ref, password)
    except ProviderError as err:
        return view_activation(reg, False, password_form=form, notice=err.message)
    reg.password_set_at = utcnow()  # the password itself is forgotten: the backend owns it
    audit.record("password_created", reg)
    nxt = registrations.complete_step(reg, 5)
    db.session.commit()
    return GoTo(nxt)


def checklist_for(reg: Registration, password: str):
    data = reg.data
    return password_checklist(password, data.get("id_number"), data.get("phone"))

"""Steps 4–5: initialise the service with the backend, activation code, password.

Each submit parses its form, calls one service (services/provisioning, services/activation)
and renders the outcome; the request commits afterwards (services/unit_of_work)."""
from __future__ import annotations

from kiosk.core.models import Registration
from kiosk.services import activation, claims, provisioning
from kiosk.web.wizard.forms import OtpForm, PasswordForm, ProvisionForm
from kiosk.web.wizard.lost_race import BUSY, answer_lost_race
from kiosk.web.wizard.render import GoTo, render_step

# ---- Step 4: Khởi tạo dịch vụ --------------------------------------------------------------


def view_provision(reg: Registration, readonly: bool, problems=(), provider_error=None):
    return render_step(reg, 4, form=ProvisionForm(), readonly=readonly, problems=problems,
                       provider_error=provider_error)


def submit_provision(reg: Registration):
    if not ProvisionForm().validate():
        return view_provision(reg, False)
    outcome = provisioning.provision(reg)
    if isinstance(outcome, provisioning.Provisioned):
        return GoTo(outcome.next_step)
    if isinstance(outcome, provisioning.Refused):
        return view_provision(reg, False, problems=outcome.problems)
    if isinstance(outcome, provisioning.Busy):
        return answer_lost_race(reg, claims.PROVISION, 4,
                    lambda r: view_provision(r, False, provider_error=BUSY))
    return view_provision(reg, False, provider_error=outcome.message)


# ---- Step 5: mã kích hoạt + mật khẩu -------------------------------------------------------

# The routes' polling widget and live checklist read these (routes.py).
otp_state = activation.otp_state
checklist_for = activation.checklist_for


def view_activation(reg: Registration, readonly: bool, otp_form=None, password_form=None,
                    notice=None):
    shown = activation.screen(reg)
    return render_step(
        reg, 5, readonly=readonly, verified=shown.verified,
        otp_form=otp_form or OtpForm(formdata=None),
        password_form=password_form or PasswordForm(formdata=None),
        otp=shown.otp, masked_phone=shown.masked_phone, sandbox_sms=shown.sandbox_sms,
        checklist=shown.checklist, notice=notice,
    )


def submit_activation(reg: Registration):
    if reg.otp_verified_at is None:
        return _submit_code(reg)
    return _submit_password(reg)


def _submit_code(reg: Registration):
    form = OtpForm()
    if not form.validate():
        return view_activation(reg, False, otp_form=form)
    outcome = activation.check_code(reg, form.clean["code"])
    if isinstance(outcome, activation.CodeVerified):
        return view_activation(reg, False, notice=outcome.notice)
    if isinstance(outcome, activation.ProviderFailed):
        return view_activation(reg, False, otp_form=form, notice=outcome.message)
    if outcome.error:
        form.code.errors = [outcome.error]
    return view_activation(reg, False, otp_form=form)


def resend_code(reg: Registration):
    outcome = activation.resend(reg)
    notice = outcome.message if isinstance(outcome, activation.ProviderFailed) else outcome.notice
    return view_activation(reg, False, notice=notice)


def _submit_password(reg: Registration):
    form = PasswordForm()
    if not form.validate():
        return view_activation(reg, False, password_form=form)
    outcome = activation.set_password(reg, form.password.data or "",
                                      form.password_confirm.data or "")
    if isinstance(outcome, activation.PasswordSet):
        return GoTo(outcome.next_step)
    if isinstance(outcome, activation.ProviderFailed):
        return view_activation(reg, False, password_form=form, notice=outcome.message)
    if outcome.password_error:
        form.password.errors = [outcome.password_error]
    if outcome.confirm_error:
        form.password_confirm.errors = [outcome.confirm_error]
    return view_activation(reg, False, password_form=form)

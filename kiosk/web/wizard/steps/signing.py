"""Steps 7–9: sign the e-contract, create the signing PIN, sign the acceptance record.

Each submit parses its form, calls one function of services/signing.py and renders the outcome;
what signing stores, and in which order, is the service's business."""
from __future__ import annotations

from flask import request

from kiosk.core.models import Registration
from kiosk.documents import (
    ACCEPTANCE_TITLE,
    CONTRACT_TITLE,
    acceptance_sections,
    contract_sections,
)
from kiosk.services import certificate_confirmation, paperwork, signing
from kiosk.web.wizard.forms import PinForm, SignatureForm
from kiosk.web.wizard.lost_race import BUSY, answer_lost_race
from kiosk.web.wizard.render import GoTo, render_step

SECTIONS = {"contract": contract_sections, "acceptance": acceptance_sections}
TITLES = {"contract": CONTRACT_TITLE, "acceptance": ACCEPTANCE_TITLE}


def _view_document(reg: Registration, kind: str, readonly: bool, form=None, error=None):
    # The PDF itself is not made here: the kiosk's browser fetches it (document_pdf) and draws
    # its pages, so it is rendered once, by whichever app server the fetch reaches.
    return render_step(reg, signing.STEP_OF[kind], readonly=readonly, kind=kind,
                       sections=SECTIONS[kind](paperwork.document_context(reg)),
                       document_title=TITLES[kind],
                       form=form or SignatureForm(formdata=None), signature_error=error,
                       signed=signing.signed_document(reg, kind))


def _submit_document(reg: Registration, kind: str):
    form = SignatureForm()
    if not form.validate():
        return _view_document(reg, kind, False, form)
    outcome = signing.sign(reg, kind, form.signature.data or "")
    if isinstance(outcome, signing.Signed):
        return GoTo(outcome.next_step)
    if isinstance(outcome, signing.Busy):
        return answer_lost_race(reg, outcome.action, outcome.step,
                    lambda r: _view_document(r, kind, False, error=BUSY))
    # Invalid or ProviderFailed: the same step, its message under the pad.
    return _view_document(reg, kind, False, form, error=outcome.message)


# ---- Step 7 ---------------------------------------------------------------------------------

def view_contract(reg: Registration, readonly: bool, form=None, error=None):
    return _view_document(reg, "contract", readonly, form, error)


def submit_contract(reg: Registration):
    return _submit_document(reg, "contract")


# ---- Step 8 ---------------------------------------------------------------------------------

def view_pin(reg: Registration, readonly: bool, form=None):
    return render_step(reg, 8, readonly=readonly, form=form or PinForm(formdata=None))


def submit_pin(reg: Registration):
    form = PinForm()
    if not form.validate():
        return view_pin(reg, False, form)
    outcome = signing.set_pin(reg, form.pin.data or "", form.pin_confirm.data or "")
    if isinstance(outcome, signing.PinSet):
        return GoTo(outcome.next_step)
    if isinstance(outcome, signing.Busy):
        def _busy_view(r):
            busy_form = PinForm(formdata=None)
            busy_form.pin.errors = [BUSY]
            return view_pin(r, False, busy_form)
        return answer_lost_race(reg, outcome.action, outcome.step, _busy_view)
    if isinstance(outcome, signing.PinRefused):
        form.pin.errors = list(outcome.pin)
        form.pin_confirm.errors = list(outcome.confirm)
    else:  # ProviderFailed
        form.pin.errors = [outcome.message]
    return view_pin(reg, False, form)


# ---- Step 9 (signing it finishes the registration) -----------------------------------------
# The customer first confirms the certificate's information («Thông tin này đúng»), then signs
# the acceptance record; «Sai thông tin» beside a field goes back to its step or calls a clerk.

CHOOSE_FIELD = "Vui lòng chọn thông tin bị sai."


def _view_certificate(reg: Registration, clerk_called: str | None = None,
                      error: str | None = None):
    return render_step(reg, 9, screen="confirm",
                       certificate=certificate_confirmation.summary(reg),
                       clerk_called=clerk_called, certificate_error=error)


def view_acceptance(reg: Registration, readonly: bool, form=None, error=None):
    if not readonly and not certificate_confirmation.is_confirmed(reg):
        return _view_certificate(reg, error=error)
    return _view_document(reg, "acceptance", readonly, form, error)


def submit_acceptance(reg: Registration):
    choice = request.form.get("certificate")
    if choice == "confirm":
        certificate_confirmation.confirm(reg)
        return _view_document(reg, "acceptance", False)
    if choice == "wrong":
        try:
            outcome = certificate_confirmation.report_wrong(reg, request.form.get("field", ""))
        except KeyError:
            return _view_certificate(reg, error=CHOOSE_FIELD)
        if isinstance(outcome, certificate_confirmation.GoBack):
            return GoTo(outcome.step)
        return _view_certificate(reg, clerk_called=outcome.label)
    if not certificate_confirmation.is_confirmed(reg):
        # A signature posted before the confirmation (an old screen, a second tab): the service
        # refuses it too; show the customer the information to confirm.
        return _view_certificate(reg, error=certificate_confirmation.NOT_CONFIRMED)
    return _submit_document(reg, "acceptance")

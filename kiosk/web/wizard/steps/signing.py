"""Steps 7–9: sign the e-contract, create the signing PIN, sign the acceptance record; finish."""
from __future__ import annotations

import hashlib

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Evidence, Registration, utcnow
from kiosk.documents import (
    ACCEPTANCE_TITLE,
    CONTRACT_TITLE,
    acceptance_sections,
    contract_sections,
)
from kiosk.domain.credentials import pin_problems
from kiosk.providers import ProviderError
from kiosk.services import claims, paperwork, registrations
from kiosk.vision.images import ImageError, bytes_from_data_url, check_signature
from kiosk.web.wizard.forms import PinForm, SignatureForm
from kiosk.web.wizard.once import BUSY, busy
from kiosk.web.wizard.render import GoTo, render_step

SECTIONS = {"contract": contract_sections, "acceptance": acceptance_sections}
STEP_OF = {"contract": 7, "acceptance": 9}
TITLES = {"contract": CONTRACT_TITLE, "acceptance": ACCEPTANCE_TITLE}
CLAIMS = {"contract": claims.SIGN_CONTRACT, "acceptance": claims.SIGN_ACCEPTANCE}


def document_bytes(reg: Registration, kind: str) -> bytes:
    """The PDF the customer sees: the signed copy if there is one, else the text to sign."""
    doc = paperwork.latest_document(reg, kind)
    return doc.content if doc is not None else paperwork.text_to_sign(reg, kind)


def _view_document(reg: Registration, kind: str, readonly: bool, form=None, error=None):
    # The PDF itself is not made here: the kiosk's browser fetches it (document_pdf) and draws
    # its pages, so it is rendered once, by whichever app server the fetch reaches.
    signed = paperwork.latest_document(reg, kind)
    return render_step(reg, STEP_OF[kind], readonly=readonly, kind=kind,
                       sections=SECTIONS[kind](paperwork.document_context(reg)),
                       document_title=TITLES[kind],
                       form=form or SignatureForm(formdata=None), signature_error=error,
                       signed=signed)


def _sign(reg: Registration, kind: str):
    """Validate the drawn signature, render the signed PDF, store it with its SHA-256.

    Only the request holding the claim goes past the checks: parallel submits make one signed
    document (and at step 9 one receipt and one print job). On a provider error the claim is
    released and nothing is kept."""
    form = SignatureForm()
    if not form.validate():
        return None, _view_document(reg, kind, False, form)
    try:
        png = bytes_from_data_url(form.signature.data or "")
        picture = check_signature(png)
    except ImageError as err:
        message = err.message if form.signature.data else "Quý khách chưa ký. Vui lòng ký tên vào khung."
        return None, _view_document(reg, kind, False, form, error=message)
    if not claims.claim(reg, CLAIMS[kind]):
        return None, busy(reg, CLAIMS[kind], STEP_OF[kind],
                          lambda r: _view_document(r, kind, False, error=BUSY))
    signed_at = utcnow()
    db.session.add(Evidence(registration_id=reg.id, kind=f"signature_{kind}", mime_type="image/png",
                            content=png, sha256=hashlib.sha256(png).hexdigest(), source="pad"))
    pdf, text_sha256 = paperwork.signed_copy(reg, kind, png, signed_at, picture)
    doc = paperwork.store_document(reg, kind, pdf, signed_at)
    try:
        providers.registration_backend().register_document(reg.subscriber_ref, kind, doc.sha256, signed_at)
    except ProviderError as err:
        claims.release(reg, CLAIMS[kind])
        return None, _view_document(reg, kind, False, form, error=err.message)
    audit.record("document_signed", reg, kind=kind, sha256=doc.sha256, text_sha256=text_sha256)
    claims.mark_done(reg, CLAIMS[kind])
    return doc, None


# ---- Step 7 ---------------------------------------------------------------------------------

def view_contract(reg: Registration, readonly: bool, form=None, error=None):
    return _view_document(reg, "contract", readonly, form, error)


def submit_contract(reg: Registration):
    doc, response = _sign(reg, "contract")
    if doc is None:
        return response
    nxt = registrations.complete_step(reg, 7)
    db.session.commit()
    return GoTo(nxt)


# ---- Step 8 ---------------------------------------------------------------------------------

def view_pin(reg: Registration, readonly: bool, form=None):
    return render_step(reg, 8, readonly=readonly, form=form or PinForm(formdata=None))


def submit_pin(reg: Registration):
    from datetime import date

    form = PinForm()
    if not form.validate():
        return view_pin(reg, False, form)
    data = reg.data
    pin = (form.pin.data or "").strip()
    dob = date.fromisoformat(data["date_of_birth"]) if data.get("date_of_birth") else None
    problems = pin_problems(pin, dob, data.get("id_number"))
    if problems:
        form.pin.errors = problems
    elif pin != (form.pin_confirm.data or "").strip():
        form.pin_confirm.errors = ["Hai lần nhập mã PIN không giống nhau. Vui lòng nhập lại."]
    if form.pin.errors or form.pin_confirm.errors:
        audit.record("pin_refused", reg)
        db.session.commit()
        return view_pin(reg, False, form)
    # One PIN reaches the backend, whatever the number of parallel submits.
    if not claims.claim(reg, claims.SET_PIN):
        def _busy_view(r):
            busy_form = PinForm(formdata=None)
            busy_form.pin.errors = [BUSY]
            return view_pin(r, False, busy_form)
        return busy(reg, claims.SET_PIN, 8, _busy_view)
    try:
        providers.registration_backend().set_pin(reg.subscriber_ref, pin)
    except ProviderError as err:
        claims.release(reg, claims.SET_PIN)
        form.pin.errors = [err.message]
        return view_pin(reg, False, form)
    reg.pin_set_at = utcnow()  # the PIN itself is forgotten: the backend owns it
    claims.mark_done(reg, claims.SET_PIN)
    audit.record("pin_created", reg)
    nxt = registrations.complete_step(reg, 8)
    db.session.commit()
    return GoTo(nxt)


# ---- Step 9 and finish ----------------------------------------------------------------------

def view_acceptance(reg: Registration, readonly: bool, form=None, error=None):
    return _view_document(reg, "acceptance", readonly, form, error)


def submit_acceptance(reg: Registration):
    doc, response = _sign(reg, "acceptance")
    if doc is None:
        return response
    try:
        providers.registration_backend().complete(reg.subscriber_ref)
    except ProviderError as err:
        claims.release(reg, claims.SIGN_ACCEPTANCE)
        return view_acceptance(reg, False, error=err.message)
    nxt = registrations.complete_step(reg, 9)
    reg.status = "finished"
    reg.finished_at = utcnow()
    receipt = paperwork.store_document(reg, "receipt", paperwork.render_receipt_for(reg))
    audit.record("registration_finished", reg, receipt_sha256=receipt.sha256)
    db.session.commit()
    paperwork.print_receipt(reg, receipt.content)
    return GoTo(nxt)

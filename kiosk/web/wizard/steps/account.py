"""Step 1 «Đăng ký tài khoản»: ID document and phone typed, or read from the card ("Quét thẻ"),
and consent to personal-data processing.

The step parses the request, calls one service and renders what it answers: the card read and
what it keeps live in :mod:`kiosk.services.card_scan`. Consent comes before anything is read.
The CMND (9 digits) is no longer accepted (kiosk.domain.identity.documents).
"""
from __future__ import annotations

from flask import current_app, request

from kiosk.core.models import Registration
from kiosk.domain.identity import IdType, national_format
from kiosk.services import card_scan, registrations
from kiosk.vision.images import ImageError, bytes_from_data_url
from kiosk.web.wizard.forms import AccountForm, CaptureForm
from kiosk.web.wizard.render import GoTo, render_step


def view(reg: Registration, readonly: bool, form: AccountForm | None = None,
         scanned: dict | None = None, notice: str | None = None):
    if form is None:
        data = reg.data
        form = AccountForm(data={
            "id_type": data.get("id_type", IdType.CCCD.value),
            "id_number": data.get("id_number", ""),
            "phone": national_format(data["phone"]) if data.get("phone") else "",
            "consent": reg.consent_at is not None,
        })
    scan_state = reg.data.get("scan") or {}
    return render_step(reg, 1, form=form, readonly=readonly, screen=None,
                       scanned=scanned or reg.data.get("scanned"), scan=scan_state,
                       side_needed=card_scan.side_needed(scan_state), scan_notice=notice)


def submit(reg: Registration):
    form = AccountForm()
    if not form.validate():
        return view(reg, False, form)
    id_number = form.clean["id_number"]
    expired = card_scan.expired_number(reg, id_number)
    if expired:
        form.id_number.errors = [expired]
        return view(reg, False, form)
    return GoTo(card_scan.save_account(reg, form.id_type.data, id_number, form.clean["phone"]))


# ---- «Quét CCCD»: consent first, then the camera -------------------------------------------

def view_scan(reg: Registration, error: str | None = None, notice: str | None = None):
    screen = "scan_consent" if reg.consent_at is None else "scan_camera"
    scan_state = reg.data.get("scan") or {}
    return render_step(reg, 1, form=AccountForm(formdata=None), readonly=False, screen=screen,
                       scan_error=error, scan_notice=notice, scan=scan_state,
                       side_needed=card_scan.side_needed(scan_state))


def give_consent(reg: Registration):
    form = CaptureForm()
    if not form.validate() or request.form.get("consent") != "y":
        return view_scan(reg, "Cần có sự đồng ý của quý khách trước khi quét thẻ. "
                              "Vui lòng đánh dấu vào ô đồng ý.")
    registrations.record_consent(reg)
    return view_scan(reg)


def scan(reg: Registration):
    form = CaptureForm()
    if not form.validate():
        return view_scan(reg, "Phiên làm việc đã hết hạn. Vui lòng thử lại.")
    if reg.consent_at is None:
        return view_scan(reg)
    upload = request.files.get("image_file")
    try:
        if upload and upload.filename:
            data, source = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1), "upload"
        else:
            data, source = bytes_from_data_url(form.image_data.data or ""), "scan"
    except ImageError as err:
        return view_scan(reg, err.message)
    outcome = card_scan.scan(reg, data, source, request.form.get("track"))
    if outcome.error:
        return view_scan(reg, outcome.error)
    if not outcome.number:
        return view_scan(reg, notice=outcome.notice)
    phone = reg.data.get("phone")
    prefilled = AccountForm(formdata=None, data={
        "id_type": outcome.id_type, "id_number": outcome.number,
        "phone": national_format(phone) if phone else "", "consent": reg.consent_at is not None,
    })
    return view(reg, False, prefilled, scanned=outcome.scanned, notice=outcome.notice)

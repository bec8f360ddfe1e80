"""«Đặt thẻ lên đầu đọc»: read the CCCD chip at step 1 or step 6 when a reader is configured.

Only when CHIP_READER is on (404 otherwise). At step 1 the customer agrees to the data
processing, types (or has typed) the 12-digit ID number whose last 6 digits open the chip, lays
the card on the reader; a verified read fills steps 1 and 3 like the QR scan does and keeps the
chip portrait for step 6 (services.chip_reading). At step 6 the declared number opens the chip
and its portrait becomes the reference for the face (services.chip_check). Any failure leaves
the camera path exactly as it was.
"""
from __future__ import annotations

import unicodedata

from flask import Response, abort, render_template, request

from kiosk.core.models import Registration
from kiosk.domain import flow
from kiosk.domain.flow import Access
from kiosk.domain.identity import IdType, national_format
from kiosk.services import chip_check, chip_reading
from kiosk.web.wizard import bp
from kiosk.web.wizard.forms import AccountForm, CaptureForm
from kiosk.web.wizard.render import render_step
from kiosk.web.wizard.state import bound_registration
from kiosk.web.wizard.steps import account, verification

CHIP_STEPS = (1, 6)


def _at_step(token: str, *numbers: int) -> Registration:
    """The registration, when the reader is on and one of these steps is open for editing."""
    if not chip_reading.enabled():
        abort(404)
    reg = bound_registration(token)
    if not any(flow.access(n, reg.furthest_step, reg.finished) is Access.EDIT for n in numbers):
        abort(409)
    return reg


def _view(reg: Registration, error: str | None = None, id_number: str | None = None):
    return render_step(reg, 1, screen="chip", form=AccountForm(formdata=None), chip_error=error,
                       chip_status=chip_reading.reader_status(),
                       chip_id_number=id_number if id_number is not None else reg.data.get("id_number", ""))


@bp.route("/r/<token>/step/1/chip", methods=["GET", "POST"])
def chip_read(token: str):
    reg = _at_step(token, 1)
    if request.method == "GET":
        return _view(reg)
    form = CaptureForm()
    id_number = unicodedata.normalize("NFKC", request.form.get("id_number", "")).strip().replace(" ", "")
    if not form.validate():
        return _view(reg, "Phiên làm việc đã hết hạn. Vui lòng thử lại.", id_number)
    if reg.consent_at is None and request.form.get("consent") != "y":
        return _view(reg, "Cần có sự đồng ý của quý khách trước khi đọc chip. "
                          "Vui lòng đánh dấu vào ô đồng ý.", id_number)
    outcome, scanned = chip_reading.read_at_step1(reg, id_number)
    if not outcome.ok:
        return _view(reg, outcome.message + " Quý khách có thể thử lại, hoặc quét thẻ bằng camera.",
                     id_number)
    phone = reg.data.get("phone")
    prefilled = AccountForm(formdata=None, data={
        "id_type": IdType.CCCD.value, "id_number": scanned["id_number"] or id_number,
        "phone": national_format(phone) if phone else "", "consent": True,
    })
    return account.view(reg, False, prefilled, scanned=scanned)


def _view_6(reg: Registration, error: str | None = None):
    return render_step(reg, 6, screen="chip", form=CaptureForm(formdata=None), chip_error=error,
                       chip_status=chip_reading.reader_status())


@bp.route("/r/<token>/step/6/chip", methods=["GET", "POST"])
def chip_read_step6(token: str):
    reg = _at_step(token, 6)
    if not chip_check.offered(reg):
        abort(404)
    if request.method == "GET":
        return _view_6(reg)
    if not CaptureForm().validate():
        return _view_6(reg, "Phiên làm việc đã hết hạn. Vui lòng thử lại.")
    outcome = chip_check.read_and_decide(reg)
    if not outcome.ok:
        return _view_6(reg, outcome.message + " Quý khách có thể thử lại, hoặc tiếp tục chụp ảnh "
                                               "bằng camera.")
    return verification.view(reg, False)


@bp.get("/r/<token>/chip/status")
def chip_status(token: str):
    """Polled while a chip screen is open: is the reader there, is a card on it."""
    _at_step(token, *CHIP_STEPS)
    return render_template("wizard/_chip_status.html", chip_status=chip_reading.reader_status())


@bp.get("/r/<token>/chip/portrait")
def chip_portrait(token: str):
    """The signed chip portrait, for the clerk's side-by-side check at step 6."""
    reference = chip_reading.reference_for(bound_registration(token))
    if reference is None:
        abort(404)
    return Response(reference.portrait, mimetype=reference.mime)

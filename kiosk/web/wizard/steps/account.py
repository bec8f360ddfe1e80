"""Step 1 «Đăng ký tài khoản»: ID document and phone typed, or read from the card ("Quét CCCD"),
and consent to personal-data processing.

The scan reads the card's QR through the camera to fill steps 1 and 3; the customer confirms
and may correct what was read (corrections are audited by field name only). The scanned frame
doubles as the card-front photo of step 6. Consent comes before anything is read.
"""
from __future__ import annotations

from flask import current_app, request

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration
from kiosk.domain.identity import IdType, national_format
from kiosk.domain.registration_rules import corrected_fields
from kiosk.services import ekyc, evidence, registrations
from kiosk.vision.images import ImageError, bytes_from_data_url
from kiosk.web.wizard.forms import AccountForm, CaptureForm
from kiosk.web.wizard.render import GoTo, render_step

SCANNED_FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender",
                  "address", "issue_date")


def view(reg: Registration, readonly: bool, form: AccountForm | None = None,
         scanned: dict | None = None):
    if form is None:
        data = reg.data
        form = AccountForm(data={
            "id_type": data.get("id_type", IdType.CCCD.value),
            "id_number": data.get("id_number", ""),
            "phone": national_format(data["phone"]) if data.get("phone") else "",
            "consent": reg.consent_at is not None,
        })
    return render_step(reg, 1, form=form, readonly=readonly, screen=None,
                       scanned=scanned or reg.data.get("scanned"))


def submit(reg: Registration):
    form = AccountForm()
    if not form.validate():
        return view(reg, False, form)
    id_number = form.clean["id_number"]
    changed = corrected_fields(reg.data.get("scanned"), {"id_number": id_number})
    if changed:
        audit.record("scan_corrected", reg, step=1, fields=changed)
    cipher = current_app.extensions["kiosk_cipher"]
    reg.update_personal(id_type=form.id_type.data, id_number=id_number, phone=form.clean["phone"])
    reg.id_digest = cipher.lookup_digest(id_number)
    registrations.record_consent(reg)
    nxt = registrations.complete_step(reg, 1)
    db.session.commit()
    return GoTo(nxt)


# ---- «Quét CCCD»: consent first, then the camera -------------------------------------------

def view_scan(reg: Registration, error: str | None = None):
    screen = "scan_consent" if reg.consent_at is None else "scan_camera"
    return render_step(reg, 1, form=AccountForm(formdata=None), readonly=False, screen=screen,
                       scan_error=error)


def give_consent(reg: Registration):
    form = CaptureForm()
    if not form.validate() or request.form.get("consent") != "y":
        return view_scan(reg, "Cần có sự đồng ý của quý khách trước khi quét thẻ. "
                              "Vui lòng đánh dấu vào ô đồng ý.")
    registrations.record_consent(reg)
    db.session.commit()
    return view_scan(reg)


def scan(reg: Registration):
    form = CaptureForm()
    if not form.validate():
        return view_scan(reg, "Phiên làm việc đã hết hạn. Vui lòng thử lại.")
    if reg.consent_at is None:
        return view_scan(reg)
    upload = request.files.get("image_file")
    engine = ekyc.engine()
    try:
        if upload and upload.filename:
            data, source = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1), "upload"
        else:
            data, source = bytes_from_data_url(form.image_data.data or ""), "scan"
        mime = engine.check_image(data)
    except ImageError as err:
        return view_scan(reg, err.message)
    try:
        result = engine.read_card(data)
    except Exception:  # a vision bug must not cost the customer the step: they can type
        current_app.logger.exception("card scan failed for %s", reg.number)
        return view_scan(reg, "Máy chưa đọc được thẻ. Vui lòng chụp lại, hoặc bấm «Nhập tay».")
    if not result.get("id_number"):
        reason = "no_card" if not result.get("card_found") else "no_qr"
        audit.record("card_scan_failed", reg, reason=reason, quality=_quality_codes(result))
        db.session.commit()
        if reason == "no_card":
            message = "Chưa thấy thẻ trong khung hình. Đặt mặt trước thẻ CCCD vào khung rồi chụp lại."
        else:
            message = ("Chưa đọc được mã QR trên thẻ. Đưa thẻ gần hơn, giữ yên tay, tránh đèn lóa "
                       "rồi chụp lại — hoặc bấm «Nhập tay».")
        return view_scan(reg, message)
    scanned = {name: result.get(name) for name in SCANNED_FIELDS}
    reg.update_personal(scanned=scanned)
    evidence.store(reg, "card_front", data, mime, source)
    audit.record("card_scanned", reg, fields=sorted(k for k, v in scanned.items() if v),
                 portrait_found=bool(result.get("portrait_found")))
    db.session.commit()
    phone = reg.data.get("phone")
    prefilled = AccountForm(formdata=None, data={
        "id_type": IdType.CCCD.value, "id_number": scanned["id_number"],
        "phone": national_format(phone) if phone else "", "consent": reg.consent_at is not None,
    })
    return view(reg, False, prefilled, scanned=scanned)


def _quality_codes(result: dict) -> list[str]:
    quality = result.get("quality") or {}
    issues = quality.get("issues")
    return list(issues) if isinstance(issues, list) else []

""""Quét CCCD" at step 1: read the chip card's QR through the camera to fill steps 1 and 3.

The customer confirms and may correct what was read; corrections are audited (field names
only). The scanned frame doubles as the card-front photo of step 6.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request

from ... import audit
from ...extensions import db
from ...identity import IdType, national_format
from ...models import Evidence, Registration
from ...vision.images import ImageError, bytes_from_data_url, decode_image
from ..forms import AccountForm, CaptureForm
from .account import record_consent, view_account

SCANNED_FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender",
                  "address", "issue_date")


def view_scan(reg: Registration, error: str | None = None):
    return view_account(reg, False, scan_mode=True, scan_error=error)


def give_consent(reg: Registration):
    """Consent comes first: nothing is read from the card before the customer agrees."""
    form = CaptureForm()
    if not form.validate() or request.form.get("consent") != "y":
        return view_scan(reg, "Cần có sự đồng ý của quý khách trước khi quét thẻ. "
                              "Vui lòng đánh dấu vào ô đồng ý.")
    record_consent(reg)
    db.session.commit()
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
        image, mime = decode_image(data, current_app.config["MAX_IMAGE_PIXELS"])
    except ImageError as err:
        return view_scan(reg, err.message)
    from ...vision.read_card import read_card

    try:
        result = read_card(image)
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
    db.session.add(Evidence(registration_id=reg.id, kind="card_front", mime_type=mime, content=data,
                            sha256=hashlib.sha256(data).hexdigest(), source=source))
    audit.record("card_scanned", reg, fields=sorted(k for k, v in scanned.items() if v),
                 portrait_found=bool(result.get("portrait_found")))
    db.session.commit()
    phone = reg.data.get("phone")
    prefilled = AccountForm(formdata=None, data={
        "id_type": IdType.CCCD.value, "id_number": scanned["id_number"],
        "phone": national_format(phone) if phone else "", "consent": reg.consent_at is not None,
    })
    return view_account(reg, False, prefilled, scanned=scanned)


def corrected_fields(scanned: dict | None, values: dict) -> list[str]:
    """Which of the customer's confirmed values differ from what the card said."""
    if not scanned:
        return []
    changed = []
    for name, value in values.items():
        if name in scanned and scanned[name] is not None:
            confirmed = value.isoformat() if hasattr(value, "isoformat") else value
            if confirmed != scanned[name]:
                changed.append(name)
    return sorted(changed)


def _quality_codes(result: dict) -> list[str]:
    quality = result.get("quality") or {}
    issues = quality.get("issues")
    return list(issues) if isinstance(issues, list) else []

"""Step 1 «Đăng ký tài khoản»: ID document and phone typed, or read from the card ("Quét thẻ"),
and consent to personal-data processing.

The scan reads the card through the camera, either side first: the QR code (on the front of the
2021 chip CCCD, on the back of the 2024 căn cước) fills steps 1 and 3, the machine-readable zone
(backs, passport page) is checked against it, an expired document is refused and one about to
expire noticed. The customer confirms and may correct what was read (corrections are audited by
field name only). Each scanned side doubles as that side's photo at step 6. Consent comes before
anything is read. The CMND (9 digits) is no longer accepted (kiosk.domain.identity.documents).
"""
from __future__ import annotations

from flask import current_app, request

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration
from kiosk.domain.identity import IdType, expiry_verdict, national_format
from kiosk.domain.local_time import local_time
from kiosk.domain.registration_rules import corrected_fields
from kiosk.services import ekyc, evidence, preview_qr, registrations
from kiosk.vision.images import ImageError, bytes_from_data_url
from kiosk.web.wizard.forms import AccountForm, CaptureForm
from kiosk.web.wizard.render import GoTo, render_step

SCANNED_FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender",
                  "address", "issue_date")


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
    scan = reg.data.get("scan") or {}
    return render_step(reg, 1, form=form, readonly=readonly, screen=None,
                       scanned=scanned or reg.data.get("scanned"), scan=scan,
                       side_needed=_side_needed(scan), scan_notice=notice)


def submit(reg: Registration):
    form = AccountForm()
    if not form.validate():
        return view(reg, False, form)
    id_number = form.clean["id_number"]
    scan = reg.data.get("scan") or {}
    if scan.get("expired") and scan.get("number") == id_number:
        # the scanned document with this number is expired: typing it does not make it valid
        form.id_number.errors = [scan["expired"]]
        return view(reg, False, form)
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

def view_scan(reg: Registration, error: str | None = None, notice: str | None = None):
    screen = "scan_consent" if reg.consent_at is None else "scan_camera"
    scan = reg.data.get("scan") or {}
    return render_step(reg, 1, form=AccountForm(formdata=None), readonly=False, screen=screen,
                       scan_error=error, scan_notice=notice, scan=scan,
                       side_needed=_side_needed(scan))


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
        result = preview_qr.with_recent_qr(reg, engine.read_card([data]))
    except Exception:  # a vision bug must not cost the customer the step: they can type
        current_app.logger.exception("card scan failed for %s", reg.number)
        return view_scan(reg, "Máy chưa đọc được thẻ. Vui lòng chụp lại, hoặc bấm «Nhập tay».")
    side = (result.get("sides") or [None])[0]
    result, printed = _hold_printed_number(result, reg.data.get("scan") or {}, side)
    mrz = result.get("mrz") or {}
    if side is None and not result.get("id_number"):
        reason = "no_card" if not result.get("card_found") else "no_qr"
        audit.record("card_scan_failed", reg, reason=reason, quality=_quality_codes(result))
        db.session.commit()
        if reason == "no_card":
            message = ("Chưa thấy thẻ trong khung hình. Đặt thẻ (mặt nào trước cũng được) "
                       "vào khung rồi chụp lại.")
        else:
            message = ("Chưa đọc được mã QR trên thẻ. Đưa thẻ gần hơn, giữ yên tay, tránh đèn lóa "
                       "rồi chụp lại — hoặc bấm «Nhập tay».")
        return view_scan(reg, message)
    scan = _merge_scan(reg.data.get("scan") or {}, result, side)
    if printed:
        scan["printed"] = printed
    if result.get("card_kind") == "passport" and mrz.get("valid"):
        scan["number"], scan["id_type"] = mrz.get("document_number"), IdType.PASSPORT.value
        scan["number_source"] = "mrz"
    elif result.get("id_number"):
        scan["number"], scan["id_type"] = result["id_number"], IdType.CCCD.value
        scan["number_source"] = (result.get("field_sources") or {}).get("id_number", "qr")
    kind = {"front": "card_front", "data_page": "card_front", "back": "card_back"}.get(side)
    if kind:
        evidence.store(reg, kind, data, mime, source)
    expiry = scan_expiry(scan)
    if expiry.refused:
        scan["expired"] = expiry.message
        reg.update_personal(scan=scan)
        audit.record("card_expired", reg, card_kind=scan.get("card_kind"),
                     expiry_date=scan.get("expiry_date"))
        db.session.commit()
        return view_scan(reg, expiry.message)
    mismatch = mismatch_message(result.get("mismatches") or [])
    if mismatch:
        audit.record("card_mismatch", reg, step=1,
                     fields=sorted(m["field"] for m in result["mismatches"]))
    scanned = reg.data.get("scanned") if not result.get("id_number") else {
        name: result.get(name) for name in SCANNED_FIELDS}
    if result.get("card_kind") == "passport" and mrz.get("valid"):
        scanned = {**dict.fromkeys(SCANNED_FIELDS), "date_of_birth": mrz.get("date_of_birth"),
                   "gender": mrz.get("sex")}
    reg.update_personal(scan=scan, **({"scanned": scanned} if scanned else {}))
    audit.record("card_scanned", reg, side=side, card_kind=scan.get("card_kind"),
                 sources=result.get("field_sources") or {},
                 fields=sorted(k for k, v in (scanned or {}).items() if v),
                 portrait_found=bool(result.get("portrait_found")),
                 mrz_valid=bool(mrz.get("valid")))
    db.session.commit()
    notice = " ".join(m for m in (mismatch, expiry.message) if m) or None
    if not scan.get("number"):
        # this side carries no QR code (the 2024 front, the 2021 back): ask for the other
        return view_scan(reg, notice=_seen_message(side, scan))
    phone = reg.data.get("phone")
    prefilled = AccountForm(formdata=None, data={
        "id_type": scan["id_type"], "id_number": scan["number"],
        "phone": national_format(phone) if phone else "", "consent": reg.consent_at is not None,
    })
    return view(reg, False, prefilled, scanned=scanned or {"id_number": scan["number"]},
                notice=notice)


# ---- what the scan has seen so far ----------------------------------------------------------

SIDE_NAMES = {"front": "mặt trước", "back": "mặt sau", "data_page": "trang thông tin hộ chiếu"}


PRINTED_FIELDS = ("id_number", "date_of_birth", "gender")
READ_OFF_CODES = ("qr", "qr_preview", "mrz")  # where a number is read by machine, not from print


def _number_from_codes(scan: dict) -> bool:
    """The scan so far holds a number that a QR code or a zone gave."""
    return bool(scan.get("number")) and scan.get("number_source", "qr") in READ_OFF_CODES


def _hold_printed_number(result: dict, scan: dict, side: str | None) -> tuple[dict, dict | None]:
    """(the read to act on, the printed number to keep for later).

    A number read off a front's print (no QR code read) waits while the back is still unseen:
    the 2024 card carries its QR code on the back, and the QR code gives every field; the
    customer is asked to turn the card over, as for any front without a QR code. Once the back
    is seen without a QR code (a 2016 card, a 2021 back), the number kept is offered — for the
    customer to check — unless the back's zone says another number."""
    sources = result.get("field_sources") or {}
    seen = set(scan.get("sides") or []) | ({side} if side else set())
    if sources.get("id_number") == "ocr":
        held = {**result, **dict.fromkeys(PRINTED_FIELDS), "field_sources": {}}
        if _number_from_codes(scan):
            return held, None  # a QR code or a zone already gave the number: print never wins
        printed = {name: result.get(name) for name in PRINTED_FIELDS}
        return (held if "back" not in seen else result), printed
    kept = scan.get("printed")
    if result.get("id_number") or not kept or "back" not in seen:
        return result, None
    mrz = result.get("mrz") or {}
    zone_number = mrz.get("personal_number") if mrz.get("valid") else None
    if zone_number and zone_number != kept.get("id_number"):
        return result, None  # the zone is checked by its digits; the print is not
    offered = {**result, **kept, "field_sources": {name: "ocr" for name in PRINTED_FIELDS
                                                    if kept.get(name)}}
    return offered, kept


def _merge_scan(scan: dict, result: dict, side: str | None) -> dict:
    """The scan so far (sides seen, card kind, expiry, zone), with this shot added."""
    scan = dict(scan)
    seen = set(scan.get("sides") or [])
    if side:
        seen.add(side)
    scan["sides"] = sorted(seen)
    scan["card_kind"] = result.get("card_kind") or scan.get("card_kind")
    from_codes = _number_from_codes(scan) \
        or (result.get("field_sources") or {}).get("id_number") in READ_OFF_CODES
    if not scan["card_kind"] and {"front", "back"} <= seen and not from_codes:
        scan["card_kind"] = "cccd_barcode_2016"  # both sides, neither a QR nor a zone
    if result.get("expiry_known"):
        scan["expiry_date"], scan["expiry_known"] = result.get("expiry_date"), True
    mrz = result.get("mrz") or {}
    if mrz.get("valid"):
        scan["mrz"] = {k: mrz.get(k) for k in ("document_number", "date_of_birth", "sex",
                                               "expiry_date")}
    scan.pop("expired", None)
    return scan


def scan_expiry(scan: dict):
    from datetime import date

    value = scan.get("expiry_date")
    from kiosk.core.models import utcnow

    today = local_time(utcnow()).date()
    return expiry_verdict(date.fromisoformat(value) if value else None, today,
                          scan.get("card_kind"), known=bool(scan.get("expiry_known")))


def mismatch_message(mismatches: list[dict]) -> str | None:
    """The disagreements between the zone and the QR code, in words for the customer."""
    names = {"id_number": "số định danh", "date_of_birth": "ngày sinh", "gender": "giới tính"}
    fields = [names.get(m.get("field"), m.get("field")) for m in mismatches]
    if not fields:
        return None
    return ("Thông tin trên mã QR và vùng mã MRZ của thẻ không khớp nhau ("
            + ", ".join(fields) + "). Vui lòng kiểm tra lại thẻ; nhân viên sẽ xem giúp quý khách.")


def _side_needed(scan: dict) -> str | None:
    """Which side the customer should still show (None when nothing or everything is seen)."""
    seen = set(scan.get("sides") or [])
    if not seen or "data_page" in seen or {"front", "back"} <= seen:
        return None
    return "back" if "front" in seen else "front"


# A passport page whose zone was seen but not read with every check digit: in a 640×480 frame
# its 44-character lines have under 10 px per character, and a thumb often lies over the zone at
# the bottom of the page (docs/vision-card.md, "Passport pages").
PASSPORT_ZONE_UNREAD = ("Đã thấy trang thông tin hộ chiếu nhưng chưa đọc được dải mã ở cuối "
                        "trang. Đưa trang hộ chiếu lại gần hơn, để ngón tay không che dải mã, "
                        "giữ yên tay rồi chụp lại — hoặc bấm «Nhập tay».")


def _seen_message(side: str | None, scan: dict) -> str:
    if side == "data_page":
        return PASSPORT_ZONE_UNREAD
    needed = _side_needed(scan)
    seen = SIDE_NAMES.get(side or "", "thẻ")
    if needed == "back":
        return (f"Đã thấy {seen}. Thẻ căn cước mới có mã QR ở mặt sau: vui lòng lật thẻ, "
                "đưa mặt sau vào khung.")
    if needed == "front":
        return f"Đã đọc {seen}. Vui lòng lật thẻ, đưa mặt trước (có ảnh chân dung) vào khung."
    return ("Đã thấy cả hai mặt thẻ nhưng thẻ không có mã QR: vui lòng bấm «Nhập tay» để nhập "
            "số thẻ.")


def _quality_codes(result: dict) -> list[str]:
    quality = result.get("quality") or {}
    issues = quality.get("issues")
    return list(issues) if isinstance(issues, list) else []

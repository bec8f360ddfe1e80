"""Step 1: the card read through the camera («Quét CCCD»), and the account details confirmed.

The scan reads the card, either side first: the QR code (on the front of the 2021 chip CCCD, on
the back of the 2024 căn cước) fills steps 1 and 3, the machine-readable zone (backs, passport
page) is checked against it, an expired document is refused and one about to expire noticed.
Each scanned side doubles as that side's photo at step 6. The customer confirms and may correct
what was read (:func:`save_account`; corrections are audited by field name only).

Like every service here this one only flushes: the request commits once, after the view has
rendered (services/unit_of_work). The read (vision, up to a second or two) runs before anything
is written, so SQLite's write lock is never held across it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from kiosk.core import audit
from kiosk.core.models import Registration, utcnow
from kiosk.domain.identity import IdType, expiry_verdict
from kiosk.domain.local_time import local_time
from kiosk.domain.registration_rules import corrected_fields
from kiosk.services import ekyc, evidence, photo_findings, preview_qr, registrations, vision_pool
from kiosk.vision import jobs
from kiosk.vision.images import ImageError

SCANNED_FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender",
                  "address", "issue_date")
SIDE_KINDS = {"front": "card_front", "data_page": "card_front", "back": "card_back"}
SIDE_NAMES = {"front": "mặt trước", "back": "mặt sau", "data_page": "trang thông tin hộ chiếu"}

PRINTED_FIELDS = ("id_number", "date_of_birth", "gender")
READ_OFF_CODES = ("qr", "qr_preview", "mrz")  # where a number is read by machine, not from print

NO_CARD = ("Chưa thấy thẻ trong khung hình. Đặt thẻ (mặt nào trước cũng được) vào khung rồi "
           "chụp lại.")
NO_QR = ("Chưa đọc được mã QR trên thẻ. Đưa thẻ gần hơn, giữ yên tay, tránh đèn lóa rồi chụp "
         "lại — hoặc bấm «Nhập tay».")
VISION_FAILED = "Máy chưa đọc được thẻ. Vui lòng chụp lại, hoặc bấm «Nhập tay»."

# A passport page whose zone was seen but not read with every check digit: in a 640×480 frame
# its 44-character lines have under 10 px per character, and a thumb often lies over the zone at
# the bottom of the page (docs/vision-card.md, "Passport pages").
PASSPORT_ZONE_UNREAD = ("Đã thấy trang thông tin hộ chiếu nhưng chưa đọc được dải mã ở cuối "
                        "trang. Đưa trang hộ chiếu lại gần hơn, để ngón tay không che dải mã, "
                        "giữ yên tay rồi chụp lại — hoặc bấm «Nhập tay».")


@dataclass
class ScanOutcome:
    """What one shot of the card gave, for the step to render.

    ``error``: nothing usable (stay on the camera, say why). ``number`` set: the form is filled
    (``id_type``, ``number``, ``scanned`` for step 3's check) and ``notice`` may warn. Neither:
    one side seen without a number, ``notice`` asks for the other side."""
    error: str | None = None
    notice: str | None = None
    id_type: str | None = None
    number: str | None = None
    scanned: dict | None = None


def scan(reg: Registration, data: bytes, source: str, track: str | None = None) -> ScanOutcome:
    """Read one photo of the card (camera shot or uploaded scan) and keep what it says.
    ``track``: where the camera's last preview frame found the card (ekyc.camera_track)."""
    engine = ekyc.engine()
    try:
        mime = engine.check_image(data)
    except ImageError as err:
        return ScanOutcome(error=err.message)
    # vision first, while this request has written nothing: one pool job reads the card and
    # cuts the portrait and the preview the console will show (VisionBusy: nothing written)
    # the kiosk's camera shows one side of a card held up; an upload may be a page showing
    # both (read_card.read_side)
    found = vision_pool.run("card_scan", jobs.card_photo, data, [], False, True,
                            source in ekyc.HELD_CARD_SOURCES, (),
                            ekyc.camera_track(source, track), registration=reg)
    if found["card"] is None:  # a vision bug must not cost the customer the step: they can type
        current_app.logger.error("card scan failed for %s (%s)", reg.number,
                                 found.get("card_error"))
        return ScanOutcome(error=VISION_FAILED)
    try:
        result = preview_qr.with_recent_qr(reg, found["card"])
    except Exception:
        current_app.logger.exception("card scan failed for %s", reg.number)
        return ScanOutcome(error=VISION_FAILED)
    before = reg.data.get("scan") or {}
    side = (result.get("sides") or [None])[0]
    result, printed = hold_printed_number(result, before, side)
    mrz = result.get("mrz") or {}
    if side is None and not result.get("id_number"):
        reason = "no_card" if not result.get("card_found") else "no_qr"
        audit.record("card_scan_failed", reg, reason=reason, quality=_quality_codes(result))
        return ScanOutcome(error=NO_CARD if reason == "no_card" else NO_QR)
    state = merge_scan(before, result, side)
    if printed:
        state["printed"] = printed
    passport = result.get("card_kind") == "passport" and mrz.get("valid")
    if passport:
        state["number"], state["id_type"] = mrz.get("document_number"), IdType.PASSPORT.value
        state["number_source"] = "mrz"
    elif result.get("id_number"):
        state["number"], state["id_type"] = result["id_number"], IdType.CCCD.value
        state["number_source"] = (result.get("field_sources") or {}).get("id_number", "qr")
    kind = SIDE_KINDS.get(side)
    if kind:
        analysis = photo_findings.from_card_job(found, result)
        if kind != "card_front":
            analysis = analysis._replace(portrait=None)
        evidence.store(reg, kind, data, mime, source, **analysis.stored())
    expiry = scan_expiry(state)
    if expiry.refused:
        state["expired"] = expiry.message
        reg.update_personal(scan=state)
        audit.record("card_expired", reg, card_kind=state.get("card_kind"),
                     expiry_date=state.get("expiry_date"))
        return ScanOutcome(error=expiry.message)
    mismatch = mismatch_message(result.get("mismatches") or [])
    if mismatch:
        audit.record("card_mismatch", reg, step=1,
                     fields=sorted(m["field"] for m in result["mismatches"]))
    scanned = reg.data.get("scanned") if not result.get("id_number") else {
        name: result.get(name) for name in SCANNED_FIELDS}
    if passport:
        scanned = {**dict.fromkeys(SCANNED_FIELDS), "date_of_birth": mrz.get("date_of_birth"),
                   "gender": mrz.get("sex")}
    reg.update_personal(scan=state, **({"scanned": scanned} if scanned else {}))
    audit.record("card_scanned", reg, side=side, card_kind=state.get("card_kind"),
                 sources=result.get("field_sources") or {},
                 fields=sorted(k for k, v in (scanned or {}).items() if v),
                 portrait_found=bool(result.get("portrait_found")),
                 mrz_valid=bool(mrz.get("valid")))
    if not state.get("number"):
        # this side carries no QR code (the 2024 front, the 2021 back): ask for the other
        return ScanOutcome(notice=seen_message(side, state))
    notice = " ".join(m for m in (mismatch, expiry.message) if m) or None
    return ScanOutcome(notice=notice, id_type=state["id_type"], number=state["number"],
                       scanned=scanned or {"id_number": state["number"]})


def expired_number(reg: Registration, id_number: str) -> str | None:
    """Why ``id_number`` cannot be used: the scanned document with this number is expired
    (typing the number does not make it valid); None otherwise."""
    state = reg.data.get("scan") or {}
    if state.get("expired") and state.get("number") == id_number:
        return state["expired"]
    return None


def save_account(reg: Registration, id_type: str, id_number: str, phone: str) -> int:
    """Step 1 accepted (the caller has checked :func:`expired_number`): the document and
    phone, with consent; what the customer changed from the scan is audited by field name.
    Returns the next step."""
    changed = corrected_fields(reg.data.get("scanned"), {"id_number": id_number})
    if changed:
        audit.record("scan_corrected", reg, step=1, fields=changed)
    cipher = current_app.extensions["kiosk_cipher"]
    reg.update_personal(id_type=id_type, id_number=id_number, phone=phone)
    reg.id_digest = cipher.lookup_digest(id_number)
    registrations.record_consent(reg)
    return registrations.complete_step(reg, 1)


# ---- what the scan has seen so far ----------------------------------------------------------

def number_from_codes(state: dict) -> bool:
    """The scan so far holds a number that a QR code or a zone gave."""
    return bool(state.get("number")) and state.get("number_source", "qr") in READ_OFF_CODES


def hold_printed_number(result: dict, state: dict, side: str | None) -> tuple[dict, dict | None]:
    """(the read to act on, the printed number to keep for later).

    A number read off a front's print (no QR code read) waits while the back is still unseen:
    the 2024 card carries its QR code on the back, and the QR code gives every field; the
    customer is asked to turn the card over, as for any front without a QR code. Once the back
    is seen without a QR code (a 2016 card, a 2021 back), the number kept is offered — for the
    customer to check — unless the back's zone says another number."""
    sources = result.get("field_sources") or {}
    seen = set(state.get("sides") or []) | ({side} if side else set())
    if sources.get("id_number") == "ocr":
        held = {**result, **dict.fromkeys(PRINTED_FIELDS), "field_sources": {}}
        if number_from_codes(state):
            return held, None  # a QR code or a zone already gave the number: print never wins
        printed = {name: result.get(name) for name in PRINTED_FIELDS}
        return (held if "back" not in seen else result), printed
    kept = state.get("printed")
    if result.get("id_number") or not kept or "back" not in seen:
        return result, None
    mrz = result.get("mrz") or {}
    zone_number = mrz.get("personal_number") if mrz.get("valid") else None
    if zone_number and zone_number != kept.get("id_number"):
        return result, None  # the zone is checked by its digits; the print is not
    offered = {**result, **kept, "field_sources": {name: "ocr" for name in PRINTED_FIELDS
                                                    if kept.get(name)}}
    return offered, kept


def merge_scan(state: dict, result: dict, side: str | None) -> dict:
    """The scan so far (sides seen, card kind, expiry, zone), with this shot added."""
    state = dict(state)
    seen = set(state.get("sides") or [])
    if side:
        seen.add(side)
    state["sides"] = sorted(seen)
    state["card_kind"] = result.get("card_kind") or state.get("card_kind")
    from_codes = number_from_codes(state) \
        or (result.get("field_sources") or {}).get("id_number") in READ_OFF_CODES
    if not state["card_kind"] and {"front", "back"} <= seen and not from_codes:
        state["card_kind"] = "cccd_barcode_2016"  # both sides, neither a QR nor a zone
    if result.get("expiry_known"):
        state["expiry_date"], state["expiry_known"] = result.get("expiry_date"), True
    mrz = result.get("mrz") or {}
    if mrz.get("valid"):
        state["mrz"] = {k: mrz.get(k) for k in ("document_number", "date_of_birth", "sex",
                                                "expiry_date")}
    state.pop("expired", None)
    return state


def scan_expiry(state: dict):
    """The document's expiry verdict (refused, noticed, or fine) as of the kiosk's local day."""
    value = state.get("expiry_date")
    today = local_time(utcnow()).date()
    return expiry_verdict(date.fromisoformat(value) if value else None, today,
                          state.get("card_kind"), known=bool(state.get("expiry_known")))


def mismatch_message(mismatches: list[dict]) -> str | None:
    """The disagreements between the zone and the QR code, in words for the customer."""
    names = {"id_number": "số định danh", "date_of_birth": "ngày sinh", "gender": "giới tính"}
    fields = [names.get(m.get("field"), m.get("field")) for m in mismatches]
    if not fields:
        return None
    return ("Thông tin trên mã QR và vùng mã MRZ của thẻ không khớp nhau ("
            + ", ".join(fields) + "). Vui lòng kiểm tra lại thẻ; nhân viên sẽ xem giúp quý khách.")


def side_needed(state: dict) -> str | None:
    """Which side the customer should still show (None when nothing or everything is seen)."""
    seen = set(state.get("sides") or [])
    if not seen or "data_page" in seen or {"front", "back"} <= seen:
        return None
    return "back" if "front" in seen else "front"


def seen_message(side: str | None, state: dict) -> str:
    if side == "data_page":
        return PASSPORT_ZONE_UNREAD
    needed = side_needed(state)
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

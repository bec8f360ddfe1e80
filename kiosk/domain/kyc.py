"""The decision at step 6: who or what says the card and the face belong to the customer.

The machine decides alone only on MATCH (face ↔ card portrait within the accept threshold,
liveness passed, card QR = declared identity); REVIEW, NO_FACE and repeated NO_MATCH go to a
clerk beside the kiosk, who confirms or rejects with their staff credentials.
"""
from __future__ import annotations

from datetime import date
from enum import Enum

REQUIRED_CAPTURES = ("card_front", "card_back", "face")
CAPTURE_LABELS = {
    "card_front": "Mặt trước giấy tờ",
    "card_back": "Mặt sau giấy tờ",
    "face": "Khuôn mặt",
}


class Decision(str, Enum):
    MATCH = "match"  # automatic: face matches the card portrait
    REVIEW = "review"  # the machine is unsure: a clerk decides
    NO_MATCH = "no_match"  # automatic: retry, then a clerk
    STAFF_CONFIRMED = "staff_confirmed"
    STAFF_REJECTED = "staff_rejected"
    NO_FACE = "no_face"  # no face found in the card portrait or the live photo: retry or a clerk


# Why the machine did not accept alone (codes recorded with each face_match), for the clerk.
REVIEW_REASONS = {
    "no_card_in_photo": "Không tìm thấy thẻ trong ảnh mặt trước: đã so với cả ảnh.",
    "card_qr_unread": "Chưa đọc được mã QR trên thẻ (hoặc giấy tờ không có mã QR; hộ chiếu: "
                      "chưa đọc được vùng mã MRZ).",
    "card_number_printed_only": "Mã QR không đọc được: số thẻ và ngày sinh chỉ đọc được từ chữ "
                                "in trên thẻ (khớp với số đã khai). Nhân viên so lại với thẻ gốc.",
    "card_number_differs": "Số trên mã QR của thẻ KHÁC số giấy tờ đã khai.",
    "card_birth_date_differs": "Ngày sinh trên mã QR của thẻ KHÁC ngày sinh đã khai.",
    "no_liveness": "Ảnh khuôn mặt chụp thường, chưa kiểm tra cử động.",
    "mrz_number_differs": "Số trong vùng mã MRZ ở mặt sau thẻ KHÁC số giấy tờ đã khai.",
    "mrz_sex_differs": "Giới tính trong vùng mã MRZ KHÁC giới tính đã khai.",
    "mrz_qr_differ": "Mã QR và vùng mã MRZ của thẻ KHÔNG khớp nhau (số, ngày sinh hoặc giới tính).",
    "document_expired": "Giấy tờ ĐÃ HẾT HẠN.",
    # the face itself (face_reason below): the first line the clerk reads
    "liveness_not_done": "Khuôn mặt KHỚP với ảnh trên giấy tờ; chưa kiểm tra cử động khuôn mặt "
                         "(ảnh chụp thường, hoặc khách chưa làm được).",
    "face_unsure": "Máy chưa chắc chắn khuôn mặt khớp: khoảng cách nằm giữa hai ngưỡng.",
    "face_no_match": "Khuôn mặt KHÔNG khớp với ảnh trên giấy tờ: khoảng cách lớn hơn ngưỡng "
                     "không khớp.",
    "no_face": "Máy không tìm thấy khuôn mặt, trong ảnh vừa chụp hoặc trên ảnh giấy tờ.",
}

# The machine's own face verdict (before the identity checks) → the reason about the face.
_FACE_REASON = {"no_face": "no_face", "no_match": "face_no_match", "review": "face_unsure"}


def face_reason(details: dict) -> str | None:
    """The true reason about the face in a recorded face_match (its details): no face found,
    not the same face, unsure, or a match held back only because the liveness check was not
    done; None for a match with nothing about the face (other reasons may remain)."""
    raw = details.get("raw_decision") or details.get("decision")
    if raw in _FACE_REASON:
        return _FACE_REASON[raw]
    if raw == "match" and ("no_liveness" in (details.get("problems") or [])
                           or details.get("liveness") is False):
        return "liveness_not_done"
    return None


def review_reason_codes(details: dict) -> list[str]:
    """Why a clerk is asked, face first (:func:`face_reason`), then what the card said
    (the recorded problems), each once: codes of :data:`REVIEW_REASONS`."""
    face = face_reason(details)
    problems = [p for p in details.get("problems") or []
                if not (face == "liveness_not_done" and p == "no_liveness")]
    return ([face] if face else []) + [p for p in problems if p != face]

# What the customer is told at step 6 when the card itself disagrees (the clerk sees the above).
CUSTOMER_CARD_MESSAGES = {
    "card_number_differs": "Số trên thẻ khác số giấy tờ quý khách đã khai ở bước 1.",
    "card_birth_date_differs": "Ngày sinh trên thẻ khác ngày sinh quý khách đã khai.",
    "mrz_number_differs": "Số trong vùng mã MRZ (mặt sau thẻ) khác số giấy tờ đã khai.",
    "mrz_sex_differs": "Giới tính trong vùng mã MRZ (mặt sau thẻ) khác giới tính đã khai.",
    "mrz_qr_differ": "Mã QR và vùng mã MRZ trên thẻ không khớp nhau.",
    "document_expired": "Giấy tờ đã hết hạn: vui lòng dùng giấy tờ còn hạn.",
}


def missing_captures(captured_kinds: set[str]) -> list[str]:
    return [kind for kind in REQUIRED_CAPTURES if kind not in captured_kinds]


# Why a registration waits for a clerk (Registration.help_reason), in words for the clerk.
HELP_REASONS = {
    "customer_asked": "Khách bấm «Gọi nhân viên».",
    "face_review": "Máy chưa chắc chắn khuôn mặt khớp với ảnh trên giấy tờ.",
    "liveness_not_done": "Khuôn mặt khớp; chưa kiểm tra cử động khuôn mặt.",
    "no_face": "Máy không thấy rõ khuôn mặt trong ảnh.",
    "no_match": "Khuôn mặt không khớp sau nhiều lần thử.",
    "liveness_failed": "Khách chưa làm được kiểm tra cử động khuôn mặt.",
    "kyc_rejected": "Nhân viên đã không xác nhận ảnh ở bước 6: khách không thử tiếp được tại máy.",
    "otp_locked": "Khách nhập sai mã kích hoạt quá số lần cho phép.",
    "camera_unavailable": "Không dùng được camera của máy.",
    "printer_error": "Máy in chưa in được phiếu.",
    # Step 9: the customer says a field of the certificate is wrong, and it is no longer theirs
    # to change (after step 4 the backend holds it).
    "certificate_data_wrong": "Khách báo thông tin trên chứng thư số bị sai.",
}


def identity_problems(compared: dict, declared: dict, today: date) -> list[str]:
    """Why the card photos cannot vouch for the declared identity on their own (codes, see
    :data:`REVIEW_REASONS`). ``compared["reference"]`` is what the face was compared with,
    ``compared["card"]`` the read-card object of the card photos (both sides when both were
    taken) or the chip's identity; ``declared`` the registration's data; ``today`` the kiosk's
    local day (for the expiry)."""
    problems = []
    if compared.get("reference") not in ("card_portrait", "chip_portrait"):
        problems.append("no_card_in_photo")
    card = compared.get("card") or {}
    mrz = card.get("mrz") or {}
    declared_id = declared.get("id_number")
    passport = declared.get("id_type") == "passport" or card.get("card_kind") == "passport"
    if passport:
        # a passport has no QR code: its zone (check digits valid) vouches for the number
        if not mrz.get("valid"):
            problems.append("card_qr_unread")
        elif mrz.get("document_number") != declared_id:
            problems.append("card_number_differs")
    elif not card.get("id_number"):
        problems.append("card_qr_unread")
    elif card["id_number"] != declared_id:
        problems.append("card_number_differs")
    elif (card.get("field_sources") or {}).get("id_number") == "ocr":
        # the number read off the print agrees, but print is what a forger changes first and
        # OCR can misread a digit the checks cannot see (digits 7–12): a clerk looks at the card
        problems.append("card_number_printed_only")
    birth = card.get("date_of_birth") or (mrz.get("date_of_birth") if mrz.get("valid") else None)
    if birth and birth != declared.get("date_of_birth"):
        problems.append("card_birth_date_differs")
    if mrz.get("valid"):
        # the zone against what was typed (the QR code's own number is checked above)
        number = mrz.get("personal_number") if not passport else mrz.get("document_number")
        if not passport and number and declared_id and number != declared_id:
            problems.append("mrz_number_differs")
        if mrz.get("sex") and declared.get("gender") and mrz["sex"] != declared["gender"]:
            problems.append("mrz_sex_differs")
    if card.get("mismatches"):
        problems.append("mrz_qr_differ")
    expiry = card.get("expiry_date")
    if expiry and date.fromisoformat(expiry) < today:
        problems.append("document_expired")
    return problems

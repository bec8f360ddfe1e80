"""Vietnamese mobile numbers, validated with Google's libphonenumber metadata (``phonenumbers``)
rather than a hand-kept prefix list, which goes stale whenever carriers get new ranges.

Numbers are stored in E.164 ("+84912345678") and shown in national format ("0912 345 678").
"""
from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from kiosk.domain.identity.errors import IdentityError

REGION = "VN"
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_EXAMPLE = "ví dụ 0912 345 678"
_FIELD = "phone"

# In 2018 the 11-digit mobile numbers (01xx …) were shortened to 10 digits. Older customers
# still remember the old number, so say what it became — only as a hint, never auto-converted.
_OLD_PREFIXES = {
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",
    "0167": "037", "0168": "038", "0169": "039", "0186": "056", "0188": "058",
    "0199": "059",
}


def _parse(raw: object) -> phonenumbers.PhoneNumber:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        raise IdentityError("Vui lòng nhập số điện thoại di động.", _FIELD)
    if re.search(r"[^\d\s+().\-]", text):
        raise IdentityError(
            f"Số điện thoại chỉ gồm chữ số ({_EXAMPLE}).", _FIELD
        )
    try:
        return phonenumbers.parse(text, REGION)
    except NumberParseException:
        raise IdentityError(
            f"Số điện thoại không đúng. Vui lòng nhập số di động ({_EXAMPLE}).", _FIELD
        ) from None


def normalize_mobile(raw: object) -> str:
    """Return the E.164 form of a valid Vietnamese mobile number, or raise IdentityError."""
    number = _parse(raw)
    if number.country_code != 84:
        raise IdentityError(
            "Vui lòng nhập số di động Việt Nam để nhận mã kích hoạt qua tin nhắn "
            f"({_EXAMPLE}).",
            _FIELD,
        )
    national = "0" + str(number.national_number)
    if not phonenumbers.is_valid_number(number):
        old = _OLD_PREFIXES.get(national[:4])
        if old and len(national) == 11:
            new = old + national[4:]
            raise IdentityError(
                f"Số {national} là số 11 chữ số cũ; từ năm 2018 số này đã đổi thành "
                f"{new[:4]} {new[4:7]} {new[7:]}. Vui lòng nhập số mới.",
                _FIELD,
            )
        raise IdentityError(
            f"Số điện thoại {national} không đúng. Số di động Việt Nam có 10 chữ số, "
            f"bắt đầu bằng 0 ({_EXAMPLE}).",
            _FIELD,
        )
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.FIXED_LINE:
        raise IdentityError("Đây là số máy bàn, vui lòng nhập số di động.", _FIELD)
    if kind not in _MOBILE_TYPES:
        raise IdentityError(
            "Đây không phải số di động. Vui lòng nhập số di động để nhận mã kích hoạt "
            "qua tin nhắn.",
            _FIELD,
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def national_format(e164: str) -> str:
    """"+84912345678" -> "0912 345 678" (grouping from libphonenumber)."""
    return phonenumbers.format_number(_parse(e164), PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """Show where the SMS went without revealing the number: the national format with all but
    the first 3 and last 3 digits replaced by "*", grouping kept: "+84912345678" -> "091* *** 678".
    """
    shown = national_format(e164)
    total = sum(ch.isdigit() for ch in shown)
    out, seen = [], 0
    for ch in shown:
        if ch.isdigit():
            out.append(ch if seen < 3 or seen >= total - 3 else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)

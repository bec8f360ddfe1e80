"""Personal details of step 3: name, dates, age, address, e-mail, gender (pure functions).

Every checker either returns the cleaned value or raises IdentityError with a Vietnamese sentence
an elderly customer can act on.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from kiosk.domain.identity.errors import IdentityError, nfc

GENDERS = ("Nam", "Nữ")

MAX_AGE = 120
MIN_CARD_ISSUE_AGE = 14
# Before the Law on Identification 2023 took effect (1 July 2024) a CCCD/CMND card could only be
# issued from age 14; since then a card can be issued to a child of any age on request.
CARD_FOR_CHILDREN_SINCE = date(2024, 7, 1)

_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'"})


def _clean_text(raw: object) -> str:
    """NFC, trimmed, runs of whitespace (incl. tabs/newlines from a scanner) made one space."""
    if raw is None:
        return ""
    return _SPACES.sub(" ", nfc(str(raw))).strip()


def fmt_date(value: date) -> str:
    """dd/mm/yyyy, the way dates are written in Vietnam."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


# ---- Name ------------------------------------------------------------------------------------

def _name_char_ok(ch: str) -> bool:
    # Letters of any script (Vietnamese, ethnic-minority names …) plus the combining marks NFC
    # cannot compose; digits and other symbols are refused.
    return ch in " '-" or unicodedata.category(ch)[0] in ("L", "M")


def normalize_full_name(raw: object) -> str:
    name = _clean_text(raw).translate(_APOSTROPHES)
    if not name:
        raise IdentityError("Vui lòng nhập họ và tên.", "full_name")
    if len(name) > 100:
        raise IdentityError("Họ và tên quá dài (tối đa 100 ký tự).", "full_name")
    if any(ch.isdigit() for ch in name):
        raise IdentityError("Họ và tên không được có chữ số.", "full_name")
    if not all(_name_char_ok(ch) for ch in name):
        raise IdentityError(
            "Họ và tên chỉ gồm chữ cái, dấu cách, dấu nháy (') và dấu gạch nối (-).", "full_name"
        )
    words = name.split(" ")
    if len(name) < 2 or len(words) < 2 or not all(any(ch.isalpha() for ch in w) for w in words):
        raise IdentityError(
            "Vui lòng nhập đầy đủ họ và tên (ít nhất hai chữ, ví dụ: Nguyễn Văn An).", "full_name"
        )
    return name


# ---- Dates -----------------------------------------------------------------------------------

_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4})")


def parse_vn_date(raw: object) -> date:
    """Accept dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy, ddmmyyyy and ISO yyyy-mm-dd."""
    if isinstance(raw, date):
        return raw
    text = _clean_text(raw).replace(" ", "")
    if not text:
        raise IdentityError("Vui lòng nhập ngày theo dạng ngày/tháng/năm, ví dụ 05/09/1960.")
    if m := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := (_DMY.fullmatch(text) or _COMPACT.fullmatch(text)):
        day, month, year = (int(g) for g in m.groups())
    else:
        raise IdentityError(
            f"Ngày “{text}” không đúng dạng. Vui lòng nhập ngày/tháng/năm, ví dụ 05/09/1960."
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise IdentityError(f"Ngày {day:02d}/{month:02d}/{year:04d} không có thật.") from None


def age_on(dob: date, today: date) -> int:
    """Completed years: the birthday must have come this year (29 Feb counts from 1 Mar)."""
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def check_adult(dob: date, today: date, min_age: int = 18) -> int:
    """Return the age, or refuse a future, implausible (> 120 years) or under-age birth date."""
    if dob > today:
        raise IdentityError(
            f"Ngày sinh {fmt_date(dob)} là ngày trong tương lai, vui lòng kiểm tra lại.",
            "date_of_birth",
        )
    age = age_on(dob, today)
    if age > MAX_AGE:
        raise IdentityError(
            f"Ngày sinh {fmt_date(dob)} không hợp lý (hơn {MAX_AGE} tuổi), vui lòng kiểm tra lại.",
            "date_of_birth",
        )
    if age < min_age:
        raise IdentityError(
            f"Người đăng ký phải đủ {min_age} tuổi. "
            f"Theo ngày sinh đã khai, quý khách hiện {age} tuổi.",
            "date_of_birth",
        )
    return age


def check_issue_date(issue_date: date, dob: date, today: date,
                     id_type: str | None = None) -> None:
    """Issue date: not in the future, not before birth, and for a CCCD/CMND card issued before
    1 July 2024 not before the holder turned 14 (the law at the time).

    ``id_type`` "passport" skips the age-14 rule (a passport can be issued to a baby); None means
    a card (CCCD/CMND).
    """
    if issue_date > today:
        raise IdentityError(
            f"Ngày cấp {fmt_date(issue_date)} là ngày trong tương lai, vui lòng kiểm tra lại.",
            "issue_date",
        )
    if issue_date < dob:
        raise IdentityError(
            f"Ngày cấp {fmt_date(issue_date)} lại trước ngày sinh {fmt_date(dob)}. "
            "Vui lòng kiểm tra lại ngày cấp và ngày sinh.",
            "issue_date",
        )
    if str(getattr(id_type, "value", id_type)) == "passport":
        return
    age = age_on(dob, issue_date)
    if age < MIN_CARD_ISSUE_AGE and issue_date < CARD_FOR_CHILDREN_SINCE:
        raise IdentityError(
            f"Ngày cấp {fmt_date(issue_date)} không hợp lý: khi đó quý khách mới {age} tuổi, "
            f"mà thẻ căn cước (chứng minh nhân dân) chỉ được cấp từ đủ {MIN_CARD_ISSUE_AGE} tuổi. "
            "Vui lòng kiểm tra lại ngày cấp và ngày sinh.",
            "issue_date",
        )


# ---- Address, e-mail, gender -----------------------------------------------------------------

def normalize_address(raw: object) -> str:
    address = _clean_text(raw)
    if not address:
        raise IdentityError("Vui lòng nhập địa chỉ.", "address")
    if any(unicodedata.category(ch) == "Cc" for ch in address):
        raise IdentityError("Địa chỉ có ký tự không hợp lệ, vui lòng nhập lại.", "address")
    if len(address) < 5:
        raise IdentityError(
            "Địa chỉ quá ngắn. Vui lòng ghi rõ số nhà hoặc thôn, xã/phường, tỉnh/thành phố.",
            "address",
        )
    if len(address) > 255:
        raise IdentityError("Địa chỉ quá dài (tối đa 255 ký tự).", "address")
    return address


_EMAIL_EXAMPLE = "ví dụ: ten@gmail.com"


def normalize_email(raw: object) -> str | None:
    """Optional field: empty means None. Deliberately simple checks; the mailbox is not probed."""
    text = nfc(str(raw or "")).strip()
    if not text:
        return None
    if any(ch.isspace() for ch in text):
        raise IdentityError("Địa chỉ email không được có dấu cách.", "email")
    if text.count("@") != 1:
        raise IdentityError(
            f"Địa chỉ email phải có đúng một dấu @ ({_EMAIL_EXAMPLE}).", "email"
        )
    local, domain = text.split("@")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not all(labels) or len(text) > 254:
        raise IdentityError(f"Địa chỉ email không đúng ({_EMAIL_EXAMPLE}).", "email")
    # The domain part is case-insensitive; the local part is left as typed (RFC 5321).
    return f"{local}@{domain.lower()}"


def normalize_gender(raw: object) -> str:
    """"Nam" or "Nữ"; accepts any case, composed or decomposed, and "Nu" typed without accents."""
    value = _clean_text(raw).casefold()
    if value == "nam":
        return "Nam"
    if value in ("nữ", "nu"):
        return "Nữ"
    raise IdentityError("Giới tính phải là Nam hoặc Nữ.", "gender")

"""ID numbers: chip CCCD (12 digits), old CMND (9 digits), passport (letter + 7 digits).

The 12-digit CCCD number (= personal identification number) is structured (Nghị định
137/2015/NĐ-CP art. 13, Thông tư 07/2016/TT-BCA amended by 59/2021/TT-BCA):
  digits 1–3  code of the province where the birth was registered (PROVINCES),
  digit  4    century of birth and gender: 0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s,
              6/7 = 2200s, 8/9 = 2300s (even = male),
  digits 5–6  last two digits of the birth year,
  digits 7–12 random.
The username at SmartCA is this number, so it is worth catching typing mistakes early.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import Enum

from kiosk.domain.identity.errors import IdentityError
from kiosk.domain.identity.person import normalize_gender


class IdType(str, Enum):
    CCCD = "cccd"
    CMND = "cmnd"  # kept to read old records and refuse it by name; no longer accepted
    PASSPORT = "passport"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def noun(self) -> str:
        """How the document is called inside a sentence ("số căn cước công dân …")."""
        return _NOUNS[self]


_LABELS = {
    IdType.CCCD: "Thẻ căn cước / căn cước công dân (12 số)",
    IdType.CMND: "Chứng minh nhân dân (9 số)",
    IdType.PASSPORT: "Hộ chiếu",
}
_NOUNS = {
    IdType.CCCD: "căn cước công dân",
    IdType.CMND: "chứng minh nhân dân",
    IdType.PASSPORT: "hộ chiếu",
}

# Appendix I of Thông tư 07/2016/TT-BCA: where the birth was registered. The 2025 merger of
# provinces does not renumber cards already issued, so all 63 codes stay valid; the names are
# the provinces as they were when the codes were assigned.
PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

# Spaces, dots and dashes (incl. the typographic ones) people type between digit groups.
_SEPARATORS = re.compile(r"[\s.\-‐-―−_]+")
_EXPECTED_DIGITS = {IdType.CCCD: 12, IdType.CMND: 9}
_PASSPORT = re.compile(r"[A-Z][0-9]{7}")

# What a customer may register with (step 1). The CMND stopped being valid on 1 January 2025.
ACCEPTED_ID_TYPES = (IdType.CCCD, IdType.PASSPORT)


def _compact(raw: object) -> str:
    # NFKC turns full-width digits/letters from some on-screen keyboards into ASCII.
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(raw or "")))


def normalize_id_number(id_type: IdType | str, raw: object) -> str:
    """Return the number without separators (passport upper-cased) or raise IdentityError."""
    from kiosk.domain.identity.documents import CMND_REFUSED

    id_type = IdType(id_type)
    if id_type is IdType.CMND:
        raise IdentityError(CMND_REFUSED, "id_type")
    number = _compact(raw)
    noun = id_type.noun
    if not number:
        raise IdentityError(f"Vui lòng nhập số {noun}.", "id_number")
    if id_type is IdType.PASSPORT:
        number = number.upper()
        if not _PASSPORT.fullmatch(number):
            raise IdentityError(
                "Số hộ chiếu gồm 1 chữ cái và 7 chữ số (ví dụ C1234567). "
                f"Quý khách đã nhập “{number}”.",
                "id_number",
            )
        return number
    if not number.isascii() or not number.isdigit():
        raise IdentityError(
            f"Số {noun} chỉ gồm chữ số, không có chữ cái hay ký hiệu.", "id_number"
        )
    expected = _EXPECTED_DIGITS[id_type]
    if len(number) != expected:
        message = (f"Số {noun} phải có đúng {expected} chữ số "
                   f"(quý khách đã nhập {len(number)} chữ số).")
        if len(number) == 9:
            message += (" Số 9 chữ số là số chứng minh nhân dân cũ, đã hết giá trị sử dụng từ "
                        "01/01/2025: vui lòng dùng số 12 chữ số in trên thẻ căn cước.")
        raise IdentityError(message, "id_number")
    if id_type is IdType.CCCD and number[:3] not in PROVINCES:
        raise IdentityError(
            f"Số căn cước công dân không đúng: ba chữ số đầu là {number[:3]}, "
            "không phải mã tỉnh, thành phố nào (ví dụ Thanh Hóa là 038). "
            "Vui lòng kiểm tra lại số in trên thẻ.",
            "id_number",
        )
    return number


@dataclass(frozen=True)
class CccdFacts:
    province_code: str
    province_name: str | None  # None when the code is not in PROVINCES
    gender: str  # "Nam" / "Nữ"
    century_start: int  # 1900, 2000, …
    birth_year: int

    @property
    def century(self) -> int:
        """Ordinal century as said in Vietnamese: 1900–1999 is "thế kỷ 20"."""
        return self.century_start // 100 + 1


def cccd_facts(number: str) -> CccdFacts:
    """What a 12-digit CCCD number says about its holder. Only the shape is required here (the
    province may be unknown, see ``province_name``); use normalize_id_number to validate fully.
    """
    digits = _compact(number)
    if not (len(digits) == 12 and digits.isascii() and digits.isdigit()):
        raise IdentityError("Số căn cước công dân phải có đúng 12 chữ số.", "id_number")
    code = int(digits[3])
    century_start = 1900 + 100 * (code // 2)
    return CccdFacts(
        province_code=digits[:3],
        province_name=PROVINCES.get(digits[:3]),
        gender="Nam" if code % 2 == 0 else "Nữ",
        century_start=century_start,
        birth_year=century_start + int(digits[4:6]),
    )


def cross_check_cccd(number: str, date_of_birth: date | None,
                     gender: str | None) -> list[str]:
    """Sentences saying what in the declared birth date / gender disagrees with the CCCD number.

    Empty list when everything agrees (or nothing was given to compare). Raises IdentityError if
    ``number`` is not a 12-digit number or ``gender`` is not Nam/Nữ.
    """
    facts = cccd_facts(number)
    digit4 = _compact(number)[3]
    problems: list[str] = []
    if date_of_birth is not None and date_of_birth.year != facts.birth_year:
        problems.append(
            f"Năm sinh {date_of_birth.year} không khớp với số CCCD "
            f"(số CCCD cho biết năm sinh {facts.birth_year})."
        )
    if gender:
        declared = normalize_gender(gender)
        if declared != facts.gender:
            problems.append(
                f"Giới tính {declared} không khớp với số CCCD (chữ số thứ 4 là {digit4}, "
                f"nghĩa là {facts.gender}, sinh thế kỷ {facts.century})."
            )
    return problems

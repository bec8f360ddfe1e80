"""Plain inputs for the documents and the Vietnamese formatting helpers.

Nothing here knows about ReportLab or Flask: the wizard builds these dataclasses from a
Registration row, and both the PDF renderers and the HTML templates format values with the
same helpers, so a price or a date reads the same on screen and on paper.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# The leaflet tells customers to search the stores for this name; search pages never go stale
# the way a copied app-page URL can. Staff may replace them with the exact app pages.
APP_STORE_SEARCH_URL = "https://apps.apple.com/vn/search?term=VNPT%20SmartCA"
PLAY_STORE_SEARCH_URL = "https://play.google.com/store/search?q=VNPT%20SmartCA&c=apps"


def nfc(text: object) -> str:
    """Unicode NFC: card QR payloads and browsers may hand us decomposed Vietnamese."""
    return unicodedata.normalize("NFC", str(text))


@dataclass(frozen=True)
class OfficeInfo:
    name: str = "VNPT Thanh Hóa"
    address: str = "26A Đại lộ Lê Lợi, Phường Điện Biên, TP Thanh Hóa"
    phone: str = "0237 3858000"
    hotline: str = "18001260 nhánh 1"
    email: str = "hotrodichvu.tha@vnpt.vn"
    website: str = "smartca.vnpt.vn"
    app_store_url: str = APP_STORE_SEARCH_URL
    play_store_url: str = PLAY_STORE_SEARCH_URL


@dataclass(frozen=True)
class PackageInfo:
    name: str
    duration_months: int
    price_vnd: int
    # The catalogue still holds the seeded example price: documents must not state it as the
    # price agreed; they say the clerk confirms the official price at the counter.
    price_is_sample: bool = False


SAMPLE_PRICE_NOTE = "theo bảng giá chính thức, nhân viên xác nhận tại quầy"


def price_text(package: PackageInfo, words: bool = False) -> str:
    """The price as a document states it: the amount, or — for a sample price — no amount."""
    if package.price_is_sample:
        return SAMPLE_PRICE_NOTE
    return format_vnd_words(package.price_vnd) if words else format_vnd(package.price_vnd)


@dataclass(frozen=True)
class CustomerInfo:
    full_name: str
    id_type_label: str  # "CCCD", "CMND", "Hộ chiếu" … as shown to the customer
    id_number: str  # also the SmartCA login name
    date_of_birth: date
    gender: str  # "Nam" / "Nữ"
    # Today's address (two tiers since 1/7/2025); the card's own text beside it when it differs
    # (docs/addresses.md). A registration from before the change has only the card's text.
    address: str
    phone_display: str  # already formatted for people, e.g. "0912 345 678"
    email: str | None = None
    issue_date: date | None = None
    card_address: str | None = None


def address_lines(customer: CustomerInfo) -> list[str]:
    """«Địa chỉ: …» (today's) and, when it reads otherwise, «Địa chỉ trên giấy tờ: …»."""
    lines = [f"Địa chỉ: {customer.address}"]
    if customer.card_address and customer.card_address != customer.address:
        lines.append(f"Địa chỉ trên giấy tờ: {customer.card_address}")
    return lines


@dataclass(frozen=True)
class DocumentContext:
    registration_number: str
    created_at: datetime
    customer: CustomerInfo
    package: PackageInfo
    office: OfficeInfo = field(default_factory=OfficeInfo)
    sandbox: bool = False


@dataclass(frozen=True)
class Signature:
    png_bytes: bytes  # what the touch-screen pad produced (transparent background expected)
    signed_at: datetime
    # The same drawing already decoded (a PIL image), when the caller has it: not decoded again.
    picture: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReceiptContext:
    """Everything the receipt prints. Deliberately has no password or PIN field."""

    registration_number: str
    completed_at: datetime
    customer_name: str
    id_number: str  # the login name
    package: PackageInfo
    office: OfficeInfo = field(default_factory=OfficeInfo)
    sandbox: bool = False


@dataclass(frozen=True)
class Section:
    """One titled block of document text; rendered to PDF here and to HTML by the wizard."""

    title: str
    paragraphs: list[str]


def format_vnd(amount: int, unit: str = "₫") -> str:
    """1825000 -> "1.825.000 ₫" (Vietnamese groups thousands with dots)."""
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(int(amount)):,}".replace(",", ".")
    return f"{sign}{grouped} {unit}"


def format_vnd_words(amount: int) -> str:
    """1825000 -> "1.825.000 đồng": the wording contracts use instead of the ₫ sign."""
    return format_vnd(amount, unit="đồng")


_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ", "nghìn tỷ", "triệu tỷ")


def _read_group(n: int, full: bool) -> list[str]:
    """Read 0..999; `full` forces "không trăm"/"linh" when a higher group precedes it."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if full or hundreds:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 4 and tens >= 2:
            words.append("tư")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        else:
            words.append(_DIGITS[units])
    return words


def amount_in_words(amount: int) -> str:
    """1825000 -> "Một triệu tám trăm hai mươi lăm nghìn đồng" ("Bằng chữ" on contracts)."""
    if amount < 0 or amount >= 1000 ** len(_SCALES):
        raise ValueError(f"amount out of range: {amount}")
    if amount == 0:
        return "Không đồng"
    groups = []
    rest = amount
    while rest:
        groups.append(rest % 1000)
        rest //= 1000
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        words += _read_group(group, full=bool(words))
        if _SCALES[index]:
            words.append(_SCALES[index])
    text = " ".join(words) + " đồng"
    return text[0].upper() + text[1:]


def format_date_vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def format_datetime_vn(dt: datetime) -> str:
    return f"{dt:%H:%M} ngày {dt:%d/%m/%Y}"


def pdf_date(when: datetime) -> str:
    """A PDF date string, ``D:YYYYMMDDHHmmSS+HH'mm'`` (ISO 32000-1 §7.9.4)."""
    offset = ""
    if when.utcoffset() is not None:
        minutes = int(when.utcoffset().total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        offset = f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"
    return f"D:{when:%Y%m%d%H%M%S}{offset}"


def format_duration(months: int) -> str:
    # Packages are sold as "12 tháng", "24 tháng", "36 tháng": keep months, never "1 năm".
    return f"{int(months)} tháng"


def honorific(gender: str) -> str:
    """ "Ông"/"Bà" for the customer, or the neutral "Ông/Bà" when gender is unknown."""
    g = nfc(gender).strip().lower()
    return {"nam": "Ông", "nữ": "Bà"}.get(g, "Ông/Bà")

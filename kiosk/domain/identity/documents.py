"""Which ID documents the kiosk accepts, and when they expire (pure).

* The chip CCCD (2021), the thẻ căn cước (since 1 July 2024) and the barcode CCCD (2016) are
  accepted until the expiry date printed on them. Luật Căn cước 2023 art. 21 (and Luật Căn cước
  công dân 2014 art. 21 before it): a card is renewed at ages 14, 25, 40 and 60; a card issued
  within two years before one of those ages runs to the next one; from 60 on it does not expire.
* The 9-digit CMND stopped being valid on 1 January 2025 (Luật Căn cước 2023 art. 46 cl. 3);
  the kiosk refuses it as the ID document and says what to bring instead. Its number inside a
  card's QR is still read (``old_id_number``).
* A passport is accepted until its expiry date (MRZ, TD3).

An expired document is refused with what expired, when, and what to do; one that expires within
:data:`EXPIRY_NOTICE_DAYS` is accepted with a notice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.domain.identity.person import fmt_date

RENEWAL_AGES = (14, 25, 40, 60)
RENEWAL_GRACE_YEARS = 2
EXPIRY_NOTICE_DAYS = 30
CMND_INVALID_SINCE = date(2025, 1, 1)

CMND_REFUSED = (
    "Chứng minh nhân dân (9 số) đã hết giá trị sử dụng từ 01/01/2025 (Luật Căn cước 2023, "
    "Điều 46). Vui lòng dùng thẻ căn cước hoặc căn cước công dân (12 số) còn hạn, hoặc hộ chiếu "
    "còn hạn. Nếu chưa có thẻ căn cước, quý khách làm thủ tục cấp tại cơ quan công an nơi cư trú."
)

CARD_KINDS = {
    "cccd_chip_2021": "thẻ căn cước công dân gắn chip",
    "can_cuoc_2024": "thẻ căn cước",
    "cccd_barcode_2016": "thẻ căn cước công dân mã vạch",
    "passport": "hộ chiếu",
}


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def card_expiry(date_of_birth: date, issue_date: date) -> date | None:
    """The expiry a card issued on ``issue_date`` carries by the renewal ages (None: no expiry).

    The card is valid until the day before the holder turns the next renewal age; issued within
    two years before that age it runs to the age after (the law counts in years; the printed
    date is the birthday)."""
    for age in RENEWAL_AGES:
        limit = add_years(date_of_birth, age)
        if issue_date < add_years(limit, -RENEWAL_GRACE_YEARS):
            return limit
    return None


@dataclass(frozen=True)
class ExpiryVerdict:
    state: str  # "valid" | "expiring" | "expired" | "no_expiry" | "unknown"
    expiry_date: date | None
    message: str | None  # Vietnamese, for the customer (None when there is nothing to say)

    @property
    def refused(self) -> bool:
        return self.state == "expired"


def _what_to_do(kind: str | None) -> str:
    if kind == "passport":
        return "Vui lòng dùng thẻ căn cước còn hạn, hoặc làm thủ tục cấp lại hộ chiếu."
    return ("Vui lòng làm thủ tục cấp đổi thẻ căn cước tại cơ quan công an (hoặc trên Cổng dịch vụ "
            "công), hoặc dùng hộ chiếu còn hạn.")


def expiry_verdict(expiry: date | None, today: date, kind: str | None = None,
                   known: bool = True) -> ExpiryVerdict:
    """Whether a document expiring on ``expiry`` may be used ``today``.

    ``known=False``: the expiry could not be read (nothing to say). ``expiry=None`` with
    ``known=True``: the card does not expire (holder over 60)."""
    noun = CARD_KINDS.get(kind or "", "giấy tờ")
    if not known:
        return ExpiryVerdict("unknown", None, None)
    if expiry is None:
        return ExpiryVerdict("no_expiry", None, None)
    if expiry < today:
        return ExpiryVerdict("expired", expiry, (
            f"{noun[:1].upper()}{noun[1:]} của quý khách đã hết hạn từ ngày {fmt_date(expiry)}, "
            f"nên không dùng để đăng ký được. {_what_to_do(kind)}"))
    days = (expiry - today).days
    if days <= EXPIRY_NOTICE_DAYS:
        when = "hôm nay" if days == 0 else f"sau {days} ngày nữa"
        return ExpiryVerdict("expiring", expiry, (
            f"Lưu ý: {noun} của quý khách hết hạn vào ngày {fmt_date(expiry)} ({when}). "
            "Vẫn đăng ký được hôm nay; quý khách nên sớm làm thủ tục cấp đổi."))
    return ExpiryVerdict("valid", expiry, None)

"""Accepted documents and expiry: renewal ages, expired refused, expiring soon noticed."""
from datetime import date

import pytest

from kiosk.domain.identity.documents import (
    CMND_REFUSED,
    EXPIRY_NOTICE_DAYS,
    card_expiry,
    expiry_verdict,
)

DOB = date(1990, 5, 17)


@pytest.mark.parametrize(("issued", "expiry"), [
    (date(2021, 3, 1), date(2030, 5, 17)),   # age 30 → renew at 40
    (date(2012, 1, 1), date(2015, 5, 17)),   # age 21 → at 25
    (date(2013, 6, 1), date(2030, 5, 17)),   # within 2 years before 25 → runs to 40
    (date(2028, 6, 1), date(2050, 5, 17)),   # within 2 years before 40 → runs to 60
    (date(2045, 1, 1), date(2050, 5, 17)),   # age 54 → at 60
    (date(2048, 6, 1), None),                # within 2 years before 60 → no expiry
    (date(2051, 1, 1), None),                # after 60 → no expiry
    (date(2000, 1, 1), date(2004, 5, 17)),   # a child's card → at 14
])
def test_card_expiry_by_renewal_ages(issued, expiry):
    assert card_expiry(DOB, issued) == expiry


def test_expired_refused_with_when_and_what_to_do():
    v = expiry_verdict(date(2026, 1, 31), date(2026, 11, 1), "can_cuoc_2024")
    assert v.refused and v.state == "expired"
    assert "Thẻ căn cước của quý khách đã hết hạn từ ngày 31/01/2026" in v.message
    assert "cấp đổi" in v.message


def test_expired_passport_says_passport():
    v = expiry_verdict(date(2026, 10, 31), date(2026, 11, 1), "passport")
    assert v.refused and v.message.startswith("Hộ chiếu của quý khách đã hết hạn từ ngày 31/10/2026")


@pytest.mark.parametrize("days", [0, 1, EXPIRY_NOTICE_DAYS])
def test_expiring_within_30_days_accepted_with_notice(days):
    today = date(2026, 11, 1)
    v = expiry_verdict(date.fromordinal(today.toordinal() + days), today, "cccd_chip_2021")
    assert not v.refused and v.state == "expiring"
    assert v.message.startswith("Lưu ý:") and "Vẫn đăng ký được" in v.message


def test_valid_beyond_30_days_says_nothing():
    v = expiry_verdict(date(2026, 12, 2), date(2026, 11, 1))
    assert v.state == "valid" and v.message is None and not v.refused


def test_no_expiry_and_unknown():
    assert expiry_verdict(None, date(2026, 1, 1)).state == "no_expiry"
    assert expiry_verdict(None, date(2026, 1, 1), known=False).state == "unknown"


def test_cmnd_message_names_the_date_and_the_alternatives():
    assert "đã hết giá trị sử dụng từ 01/01/2025" in CMND_REFUSED
    assert "thẻ căn cước" in CMND_REFUSED and "hộ chiếu" in CMND_REFUSED

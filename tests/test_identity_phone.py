"""Vietnamese mobile numbers: validation with phonenumbers, E.164 storage, display and masking."""
from __future__ import annotations

import unicodedata

import pytest

from kiosk.domain.identity import IdentityError, mask_phone, national_format, normalize_mobile


def _error(raw) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        normalize_mobile(raw)
    assert unicodedata.is_normalized("NFC", info.value.message)
    assert info.value.field == "phone"
    return info.value


@pytest.mark.parametrize("raw", [
    "0912 345 678", "0912345678", "+84 912345678", "84912345678", "+84912345678",
    "0084 912 345 678", "0912.345.678", "0912-345-678", "(+84) 912 345 678", " 0912345678 ",
    "０９１２３４５６７８",
])
def test_written_forms_of_one_mobile_number_give_e164(raw):
    assert normalize_mobile(raw) == "+84912345678"


@pytest.mark.parametrize("raw", ["0868123456", "0392345678", "0702345678", "0587654321",
                                 "0834567890"])
def test_numbers_of_other_carriers_accepted(raw):
    assert normalize_mobile(raw) == "+84" + raw[1:]


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_asks_for_a_number(raw):
    assert _error(raw).message == "Vui lòng nhập số điện thoại di động."


def test_letters_refused():
    assert "chỉ gồm chữ số" in _error("09I2 345 678").message


def test_too_short_refused():
    assert "Số di động Việt Nam có 10 chữ số" in _error("0912 345").message


def test_too_long_refused():
    assert "không đúng" in _error("0912 345 6789").message


def test_landline_refused_with_plain_message():
    assert _error("0237 3858000").message == "Đây là số máy bàn, vui lòng nhập số di động."


def test_toll_free_number_refused_as_not_mobile():
    assert "không phải số di động" in _error("1800 1260").message


def test_foreign_number_refused():
    assert "số di động Việt Nam" in _error("+1 650 253 0000").message


def test_old_eleven_digit_number_gets_its_new_form():
    assert _error("0162 345 6789").message == (
        "Số 01623456789 là số 11 chữ số cũ; từ năm 2018 số này đã đổi thành 0323 456 789. "
        "Vui lòng nhập số mới."
    )


def test_national_format_groups_digits():
    assert national_format("+84912345678") == "0912 345 678"


def test_national_format_accepts_national_input_too():
    assert national_format("0868123456") == "0868 123 456"


def test_mask_shows_first_three_and_last_three_digits():
    assert mask_phone("+84912345678") == "091* *** 678"


def test_mask_hides_the_middle_digits():
    masked = mask_phone("+84868123456")
    assert masked == "086* *** 456"
    assert "123" not in masked


def test_national_format_of_garbage_raises():
    with pytest.raises(IdentityError):
        national_format("not a phone")

"""Personal details: name, dates, age, issue date, address, e-mail, gender."""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from kiosk.domain.identity import (
    GENDERS,
    IdentityError,
    age_on,
    check_adult,
    check_issue_date,
    normalize_address,
    normalize_email,
    normalize_full_name,
    normalize_gender,
    parse_vn_date,
)

TODAY = date(2025, 6, 1)


def _error(fn, *args) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        fn(*args)
    assert unicodedata.is_normalized("NFC", info.value.message)
    return info.value


# ---- normalize_full_name ---------------------------------------------------------------------

def test_name_kept_as_typed():
    assert normalize_full_name("Nguyễn Văn An") == "Nguyễn Văn An"


def test_name_spaces_collapsed_and_trimmed():
    assert normalize_full_name("  Trần   Thị\tBình ") == "Trần Thị Bình"


def test_name_decomposed_input_becomes_nfc():
    result = normalize_full_name(unicodedata.normalize("NFD", "Phạm Thị Ngọc Ánh"))
    assert result == "Phạm Thị Ngọc Ánh"
    assert unicodedata.is_normalized("NFC", result)


def test_name_with_apostrophe_and_hyphen_accepted():
    assert normalize_full_name("H’Hen Niê-Kdam") == "H'Hen Niê-Kdam"


def test_name_upper_case_accepted():
    assert normalize_full_name("LÊ THỊ HỒNG") == "LÊ THỊ HỒNG"


def test_name_single_word_refused():
    assert "ít nhất hai chữ" in _error(normalize_full_name, "Nguyễn").message


def test_name_empty_refused():
    err = _error(normalize_full_name, "   ")
    assert err.message == "Vui lòng nhập họ và tên."
    assert err.field == "full_name"


def test_name_with_digits_refused():
    assert _error(normalize_full_name, "Nguyễn Văn 3").message == (
        "Họ và tên không được có chữ số."
    )


@pytest.mark.parametrize("raw", ["Nguyễn Văn An!", "Nguyễn_Văn", "Lê <b>An</b>", "Lê, An"])
def test_name_with_symbols_refused(raw):
    assert "chỉ gồm chữ cái" in _error(normalize_full_name, raw).message


def test_name_words_of_only_punctuation_refused():
    assert "ít nhất hai chữ" in _error(normalize_full_name, "An -").message


def test_name_of_100_characters_accepted():
    name = "An " + "B" * 97
    assert normalize_full_name(name) == name


def test_name_longer_than_100_characters_refused():
    assert "quá dài" in _error(normalize_full_name, "An " + "B" * 98).message


# ---- parse_vn_date ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["05/09/1960", "5/9/1960", "05-09-1960", "05.09.1960",
                                 "05091960", "1960-09-05", " 05 / 09 / 1960 "])
def test_date_formats_accepted(raw):
    assert parse_vn_date(raw) == date(1960, 9, 5)


def test_date_is_day_first():
    assert parse_vn_date("02/03/2000") == date(2000, 3, 2)


def test_date_object_passed_through():
    assert parse_vn_date(date(2000, 1, 2)) == date(2000, 1, 2)


def test_impossible_date_refused():
    assert _error(parse_vn_date, "31/02/2000").message == "Ngày 31/02/2000 không có thật."


def test_month_13_refused():
    assert _error(parse_vn_date, "01132000").message == "Ngày 01/13/2000 không có thật."


def test_29_february_of_a_non_leap_year_refused():
    assert "không có thật" in _error(parse_vn_date, "29/02/2023").message


def test_29_february_of_a_leap_year_accepted():
    assert parse_vn_date("29/02/2024") == date(2024, 2, 29)


@pytest.mark.parametrize("raw", ["5/9/60", "hôm qua", "1960/09/05", "050960"])
def test_unrecognised_date_format_refused(raw):
    assert "không đúng dạng" in _error(parse_vn_date, raw).message


def test_empty_date_refused():
    assert "Vui lòng nhập ngày" in _error(parse_vn_date, "").message


# ---- age_on / check_adult --------------------------------------------------------------------

def test_age_counts_completed_years():
    assert age_on(date(2007, 6, 2), TODAY) == 17
    assert age_on(date(2007, 6, 1), TODAY) == 18


def test_age_of_leap_day_birth_in_a_non_leap_year():
    assert age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17
    assert age_on(date(2004, 2, 29), date(2022, 3, 1)) == 18


def test_adult_on_eighteenth_birthday_accepted():
    assert check_adult(date(2007, 6, 1), TODAY) == 18


def test_minor_refused_with_current_age():
    err = _error(check_adult, date(2007, 6, 2), TODAY)
    assert err.message == (
        "Người đăng ký phải đủ 18 tuổi. Theo ngày sinh đã khai, quý khách hiện 17 tuổi."
    )
    assert err.field == "date_of_birth"


def test_min_age_can_be_changed():
    assert "phải đủ 16 tuổi" in _error(check_adult, date(2010, 1, 1), TODAY, 16).message


def test_future_birth_date_refused():
    assert "tương lai" in _error(check_adult, date(2025, 6, 2), TODAY).message


def test_older_than_120_refused():
    assert "hơn 120 tuổi" in _error(check_adult, date(1904, 6, 1), TODAY).message


def test_exactly_120_accepted():
    assert check_adult(date(1905, 6, 1), TODAY) == 120


# ---- check_issue_date ------------------------------------------------------------------------

def test_issue_date_after_fourteenth_birthday_accepted():
    assert check_issue_date(date(1974, 9, 5), date(1960, 9, 5), TODAY) is None  # accepted: no IdentityError


def test_issue_date_in_the_future_refused():
    err = _error(check_issue_date, date(2025, 6, 2), date(1960, 9, 5), TODAY)
    assert "tương lai" in err.message
    assert err.field == "issue_date"


def test_issue_date_before_birth_refused():
    assert "trước ngày sinh 05/09/1960" in _error(
        check_issue_date, date(1950, 1, 1), date(1960, 9, 5), TODAY).message


def test_card_issued_before_age_14_refused_with_reason():
    err = _error(check_issue_date, date(1970, 1, 1), date(1960, 9, 5), TODAY)
    assert err.message == (
        "Ngày cấp 01/01/1970 không hợp lý: khi đó quý khách mới 9 tuổi, mà thẻ căn cước "
        "(chứng minh nhân dân) chỉ được cấp từ đủ 14 tuổi. "
        "Vui lòng kiểm tra lại ngày cấp và ngày sinh."
    )


def test_card_issued_to_a_child_since_july_2024_accepted():
    # The Law on Identification 2023 allows cards for children from 1 July 2024.
    assert check_issue_date(date(2024, 7, 1), date(2015, 1, 1), TODAY) is None  # accepted: no IdentityError


def test_passport_issued_to_a_child_accepted():
    assert check_issue_date(date(2012, 1, 1), date(2008, 1, 1), TODAY, "passport") is None  # accepted: no IdentityError


# ---- normalize_address -----------------------------------------------------------------------

def test_address_spaces_collapsed_and_nfc():
    raw = unicodedata.normalize("NFD", "  Thôn 3,   xã Quảng Tâm,\nThanh Hóa ")
    assert normalize_address(raw) == "Thôn 3, xã Quảng Tâm, Thanh Hóa"


def test_address_empty_refused():
    err = _error(normalize_address, "  ")
    assert err.message == "Vui lòng nhập địa chỉ."
    assert err.field == "address"


def test_address_too_short_refused():
    assert "quá ngắn" in _error(normalize_address, "Huế").message


def test_address_too_long_refused():
    assert "quá dài" in _error(normalize_address, "a" * 256).message


def test_address_of_255_characters_accepted():
    assert len(normalize_address("a" * 255)) == 255


# ---- normalize_email -------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [None, "", "   "])
def test_email_is_optional(raw):
    assert normalize_email(raw) is None


def test_email_domain_lower_cased_local_part_kept():
    assert normalize_email(" Hoa.Nguyen@GMAIL.Com ") == "Hoa.Nguyen@gmail.com"


def test_email_with_space_refused():
    assert "dấu cách" in _error(normalize_email, "hoa nguyen@gmail.com").message


@pytest.mark.parametrize("raw", ["hoa.gmail.com", "a@b@gmail.com"])
def test_email_needs_exactly_one_at(raw):
    assert "đúng một dấu @" in _error(normalize_email, raw).message


@pytest.mark.parametrize("raw", ["@gmail.com", "hoa@gmail", "hoa@gmail.", "hoa@.com"])
def test_email_malformed_refused(raw):
    err = _error(normalize_email, raw)
    assert "không đúng" in err.message
    assert err.field == "email"


# ---- gender ----------------------------------------------------------------------------------

def test_genders_constant():
    assert GENDERS == ("Nam", "Nữ")


@pytest.mark.parametrize("raw, expected", [
    ("Nam", "Nam"), ("NAM", "Nam"), (" nam ", "Nam"),
    ("Nữ", "Nữ"), ("NỮ", "Nữ"), ("nu", "Nữ"), (unicodedata.normalize("NFD", "Nữ"), "Nữ"),
])
def test_gender_normalised(raw, expected):
    assert normalize_gender(raw) == expected


@pytest.mark.parametrize("raw", ["", "Khác", "Nấm", "N"])
def test_unknown_gender_refused(raw):
    assert _error(normalize_gender, raw).message == "Giới tính phải là Nam hoặc Nữ."

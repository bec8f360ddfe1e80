"""CCCD / CMND / passport numbers and what a CCCD number says about its holder."""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from kiosk.domain.identity import (
    PROVINCES,
    CccdFacts,
    IdentityError,
    IdType,
    cccd_facts,
    cross_check_cccd,
    normalize_id_number,
)

THANH_HOA_MAN_1960 = "038060001234"  # Thanh Hóa, digit 4 = 0 (male, 1900s), born '60


def _error(id_type, raw) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        normalize_id_number(id_type, raw)
    assert unicodedata.is_normalized("NFC", info.value.message)
    return info.value


# ---- IdType ----------------------------------------------------------------------------------

def test_id_type_values_and_labels():
    assert [(t.value, t.label) for t in IdType] == [
        ("cccd", "Thẻ căn cước / căn cước công dân (12 số)"),
        ("cmnd", "Chứng minh nhân dân (9 số)"),
        ("passport", "Hộ chiếu"),
    ]


def test_id_type_accepts_its_string_value():
    assert IdType("cccd") is IdType.CCCD
    assert IdType.CCCD == "cccd"


# ---- Provinces -------------------------------------------------------------------------------

def test_provinces_has_the_63_codes_with_thanh_hoa_038():
    assert len(PROVINCES) == 63
    assert PROVINCES["038"] == "Thanh Hóa"
    assert PROVINCES["001"] == "Hà Nội"
    assert PROVINCES["096"] == "Cà Mau"
    assert all(len(code) == 3 and code.isdigit() and "001" <= code <= "096" for code in PROVINCES)


def test_province_names_are_nfc():
    assert all(unicodedata.is_normalized("NFC", name) for name in PROVINCES.values())


# ---- normalize_id_number: CCCD ---------------------------------------------------------------

def test_cccd_plain_digits_accepted():
    assert normalize_id_number(IdType.CCCD, THANH_HOA_MAN_1960) == THANH_HOA_MAN_1960


def test_cccd_spaces_dots_and_dashes_stripped():
    assert normalize_id_number("cccd", " 038 060.001-234 ") == THANH_HOA_MAN_1960


def test_cccd_full_width_digits_accepted():
    assert normalize_id_number(IdType.CCCD, "０３８０６０００１２３４") == THANH_HOA_MAN_1960


def test_cccd_too_short_says_how_many_digits_were_typed():
    err = _error(IdType.CCCD, "03806000123")
    assert err.message == (
        "Số căn cước công dân phải có đúng 12 chữ số (quý khách đã nhập 11 chữ số)."
    )
    assert err.field == "id_number"


def test_cccd_too_long_refused():
    assert "đã nhập 13 chữ số" in _error(IdType.CCCD, "0380600012345").message


def test_cccd_with_letters_refused():
    assert "chỉ gồm chữ số" in _error(IdType.CCCD, "03806000123A").message


def test_cccd_empty_asks_for_the_number():
    assert _error(IdType.CCCD, "  ").message == "Vui lòng nhập số căn cước công dân."


def test_cccd_none_treated_as_empty():
    assert "Vui lòng nhập" in _error(IdType.CCCD, None).message


@pytest.mark.parametrize("code", ["000", "003", "039", "097", "999"])
def test_cccd_unknown_province_code_named_in_message(code):
    err = _error(IdType.CCCD, code + "060001234")
    assert f"ba chữ số đầu là {code}" in err.message
    assert "mã tỉnh" in err.message


@pytest.mark.parametrize("digit4", "0123456789")
def test_cccd_every_fourth_digit_is_valid(digit4):
    number = "038" + digit4 + "60001234"
    assert normalize_id_number(IdType.CCCD, number) == number


# ---- normalize_id_number: CMND and passport --------------------------------------------------

@pytest.mark.parametrize("raw", ["171 234 567", "17123456", THANH_HOA_MAN_1960])
def test_cmnd_refused_whatever_the_number(raw):
    err = _error(IdType.CMND, raw)
    assert "đã hết giá trị sử dụng từ 01/01/2025" in err.message
    assert "thẻ căn cước" in err.message and "hộ chiếu" in err.message  # what to bring instead
    assert err.field == "id_type"


def test_nine_digits_typed_as_cccd_explains_the_cmnd_is_void():
    err = _error(IdType.CCCD, "171234567")
    assert "phải có đúng 12 chữ số" in err.message
    assert "01/01/2025" in err.message


def test_accepted_id_types_leave_out_the_cmnd():
    from kiosk.domain.identity.id_numbers import ACCEPTED_ID_TYPES

    assert ACCEPTED_ID_TYPES == (IdType.CCCD, IdType.PASSPORT)


def test_passport_upper_cased():
    assert normalize_id_number(IdType.PASSPORT, "c1234567") == "C1234567"


def test_passport_spaces_stripped():
    assert normalize_id_number("passport", "C 123 4567") == "C1234567"


@pytest.mark.parametrize("raw", ["1234567", "12345678", "CC123456", "C123456", "C12345678",
                                 "Đ1234567"])
def test_passport_wrong_shape_refused(raw):
    assert "1 chữ cái và 7 chữ số" in _error(IdType.PASSPORT, raw).message


def test_unknown_id_type_refused():
    with pytest.raises(ValueError):
        normalize_id_number("driving-licence", "123")


# ---- cccd_facts ------------------------------------------------------------------------------

def test_facts_of_a_thanh_hoa_man_born_1960():
    assert cccd_facts(THANH_HOA_MAN_1960) == CccdFacts(
        province_code="038", province_name="Thanh Hóa", gender="Nam",
        century_start=1900, birth_year=1960,
    )


@pytest.mark.parametrize("digit4, gender, century_start", [
    ("0", "Nam", 1900), ("1", "Nữ", 1900),
    ("2", "Nam", 2000), ("3", "Nữ", 2000),
    ("4", "Nam", 2100), ("5", "Nữ", 2100),
    ("6", "Nam", 2200), ("7", "Nữ", 2200),
    ("8", "Nam", 2300), ("9", "Nữ", 2300),
])
def test_facts_fourth_digit_gives_gender_and_century(digit4, gender, century_start):
    facts = cccd_facts("001" + digit4 + "05123456")
    assert (facts.gender, facts.century_start, facts.birth_year) == (
        gender, century_start, century_start + 5)


def test_facts_unknown_province_has_no_name():
    facts = cccd_facts("099060001234")
    assert (facts.province_code, facts.province_name) == ("099", None)


def test_facts_need_twelve_digits():
    with pytest.raises(IdentityError):
        cccd_facts("03806000123")


# ---- cross_check_cccd ------------------------------------------------------------------------

def test_cross_check_consistent_gives_no_problems():
    assert cross_check_cccd(THANH_HOA_MAN_1960, date(1960, 9, 5), "Nam") == []


def test_cross_check_nothing_declared_gives_no_problems():
    assert cross_check_cccd(THANH_HOA_MAN_1960, None, None) == []


def test_cross_check_wrong_birth_year_says_both_years():
    assert cross_check_cccd("038058001234", date(1985, 3, 1), None) == [
        "Năm sinh 1985 không khớp với số CCCD (số CCCD cho biết năm sinh 1958)."
    ]


def test_cross_check_wrong_century_detected():
    # Same last two digits, other century: 2060 declared, digit 4 = 0 means 1900s.
    problems = cross_check_cccd(THANH_HOA_MAN_1960, date(2060, 1, 1), None)
    assert problems == ["Năm sinh 2060 không khớp với số CCCD (số CCCD cho biết năm sinh 1960)."]


def test_cross_check_wrong_gender_explains_the_fourth_digit():
    assert cross_check_cccd("038058001234", None, "Nữ") == [
        "Giới tính Nữ không khớp với số CCCD (chữ số thứ 4 là 0, nghĩa là Nam, sinh thế kỷ 20)."
    ]


def test_cross_check_woman_born_2000s():
    assert cross_check_cccd("038305001234", date(2005, 1, 1), "Nữ") == []
    assert "chữ số thứ 4 là 3, nghĩa là Nữ, sinh thế kỷ 21" in cross_check_cccd(
        "038305001234", None, "Nam")[0]


def test_cross_check_reports_year_and_gender_together():
    problems = cross_check_cccd("038058001234", date(1985, 3, 1), "Nữ")
    assert len(problems) == 2
    assert all(unicodedata.is_normalized("NFC", p) for p in problems)


def test_cross_check_accepts_gender_in_decomposed_unicode():
    nfd_female = unicodedata.normalize("NFD", "Nữ")
    assert cross_check_cccd("038158001234", None, nfd_female) == []


def test_cross_check_invalid_number_raises():
    with pytest.raises(IdentityError):
        cross_check_cccd("12345", date(1960, 1, 1), "Nam")

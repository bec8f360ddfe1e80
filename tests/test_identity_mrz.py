"""ICAO 9303 machine-readable zones: check digits, TD1/TD3 parsing, OCR repairs."""
from datetime import date

import pytest

from kiosk.domain.identity.mrz import (
    TD1,
    TD3,
    check_digit,
    make_td3,
    parse_mrz,
    vietnamese_td1,
)

TODAY = date(2026, 11, 1)

# ICAO Doc 9303 part 5 (TD1) and part 4 (TD3) specimens.
ICAO_TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<",
            "7408122F1204159UTO<<<<<<<<<<<6",
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
ICAO_TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]


@pytest.mark.parametrize(("text", "digit"), [
    ("D23145890", "7"), ("740812", "2"), ("120415", "9"), ("L898902C3", "6"),
    ("ZE184226B<<<<<", "1"), ("<<<<<<", "0"), ("520727", "3"),
])
def test_icao_check_digits(text, digit):
    assert check_digit(text) == digit


def test_icao_td1_specimen():
    mrz = parse_mrz(ICAO_TD1, TODAY)
    assert mrz.format == TD1 and mrz.valid, mrz.checks
    assert mrz.document_code == "I" and mrz.issuing_state == "UTO"
    assert mrz.document_number == "D23145890"
    assert mrz.date_of_birth == date(1974, 8, 12)
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.sex == "F" and mrz.gender == "Nữ"
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")


def test_icao_td3_specimen():
    mrz = parse_mrz("\n".join(ICAO_TD3), TODAY)
    assert mrz.format == TD3 and mrz.valid, mrz.checks
    assert mrz.document_number == "L898902C3"
    assert mrz.date_of_birth == date(1974, 8, 12)
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.optional1.rstrip("<") == "ZE184226B"


def test_changed_digit_fails_its_check_and_the_composite():
    bad = [ICAO_TD1[0], ICAO_TD1[1].replace("740812", "740813"), ICAO_TD1[2]]
    mrz = parse_mrz(bad, TODAY)
    assert not mrz.valid
    assert mrz.checks["date_of_birth"] is False


def test_td3_composite_detects_a_swap():
    bad = [ICAO_TD3[0], ICAO_TD3[1][:-1] + "1"]
    mrz = parse_mrz(bad, TODAY)
    assert mrz.checks["composite"] is False and not mrz.valid


def test_vietnamese_td1_round_trip_and_personal_number():
    lines = vietnamese_td1("038090123456", date(1990, 5, 17), "Nam", date(2030, 5, 17),
                           "Đặng Văn Đức")
    assert lines[0].startswith("IDVNM090123456") and "038090123456" in lines[0]
    assert lines[2].startswith("DANG<<VAN<DUC")
    mrz = parse_mrz(lines, TODAY)
    assert mrz.valid, mrz.checks
    assert mrz.personal_number == "038090123456"
    assert mrz.as_contract() == {"valid": True, "document_number": "038090123456",
                                 "personal_number": "038090123456",
                                 "date_of_birth": "1990-05-17", "sex": "Nam",
                                 "expiry_date": "2030-05-17"}


def test_no_expiry_after_sixty_is_fillers():
    lines = vietnamese_td1("038155000001", date(1955, 1, 2), "Nữ", None, "Lê Thị Hoa")
    assert lines[1][8:15] == "<<<<<<<"
    mrz = parse_mrz(lines, TODAY)
    assert mrz.valid and mrz.expiry_date is None and mrz.date_of_birth == date(1955, 1, 2)


def test_ocr_confusions_repaired_by_position():
    lines = vietnamese_td1("038090123456", date(1990, 5, 17), "Nam", date(2030, 5, 17),
                           "Trần Văn An")
    # what an OCR engine makes of it: O for 0 in digits, 0 for O in the country, lower case,
    # spaces, trailing fillers dropped, « for <
    ocr = [lines[0].replace("0", "O").replace("VNM", "VN M").lower(),
           lines[1].replace("0", "O", 2).replace("<", "«").rstrip("«"),
           lines[2].rstrip("<")]
    mrz = parse_mrz(ocr, TODAY)
    assert mrz.valid, mrz.checks
    assert mrz.personal_number == "038090123456"


def test_passport_letters_kept_and_checked():
    lines = make_td3("C1234567", date(1988, 2, 29), "F", date(2031, 3, 1), "NGUYEN", "THI LAN",
                     personal_number="038188000123")
    mrz = parse_mrz(lines, TODAY)
    assert mrz.valid and mrz.document_number == "C1234567"
    assert mrz.personal_number == "038188000123"
    assert mrz.as_contract()["document_number"] == "C1234567"
    assert mrz.date_of_birth == date(1988, 2, 29)
    # a 1 read as I is repaired, because the check digit then agrees …
    assert parse_mrz([lines[0], "CI" + lines[1][2:]], TODAY).document_number == "C1234567"
    # … but a wrong letter cannot be made right: flagged, not silently fixed
    wrong = parse_mrz([lines[0], "G" + lines[1][1:]], TODAY)
    assert not wrong.valid and wrong.checks["document_number"] is False


@pytest.mark.parametrize("text", ["", "hello", "ABC\nDEF\nGHI", "<" * 44])
def test_not_a_zone(text):
    assert parse_mrz(text, TODAY) is None


# Digits of other scripts: str.isdigit() takes them, int() reads them, and an MRZ never holds
# them. The chip's BAC key and the photo's zone share one check digit, so they refuse alike.
@pytest.mark.parametrize("text", ["١٢٣٤٥٦", "０１２３４５", "74081２", "L898902C٣"])
def test_digits_of_other_scripts_are_refused_by_the_one_check_digit(text):
    from kiosk.chip.errors import BadKey
    from kiosk.chip.keys import MrzKey
    from kiosk.chip.keys import check_digit as chip_check_digit

    with pytest.raises(ValueError, match="not an MRZ character"):
        check_digit(text)
    with pytest.raises(BadKey, match="Ký tự không hợp lệ"):
        chip_check_digit(text)
    with pytest.raises(BadKey):
        MrzKey(text, "740812", "120415").mrz_information()
    with pytest.raises(BadKey):
        MrzKey("L898902C3", text[:6], "120415")


def test_the_chip_key_uses_the_domain_check_digit():
    from kiosk.chip import keys

    for text in ("D23145890", "740812", "L898902C3", "ZE184226B<<<<<", "<<<<<<"):
        assert keys.check_digit(text) == check_digit(text)


def test_a_check_digit_of_another_script_never_validates_a_zone():
    line2 = ICAO_TD1[1]
    assert parse_mrz(ICAO_TD1, TODAY).valid
    # the birth date's check digit "2" written as an Arabic-Indic two: cleaned to a filler
    tampered = [ICAO_TD1[0], line2[:6] + "٢" + line2[7:], ICAO_TD1[2]]
    assert parse_mrz(tampered, TODAY).checks["date_of_birth"] is False

"""Parsing the QR code of the chip CCCD card, including malformed payloads."""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from kiosk.domain.identity import CccdQrData, IdentityError, QrPayloadError, parse_cccd_qr

TODAY = date(2025, 6, 1)
FIELDS = [
    "038060001234",
    "171234567",
    "Lê Thị Hồng Nhung",
    "05091960",
    "Nữ",
    "Thôn Quyết Thắng, Xã Đông Tiến, Huyện Đông Sơn, Thanh Hóa",
    "10102021",
]
EXPECTED = CccdQrData(
    id_number="038060001234",
    old_id_number="171234567",
    full_name="Lê Thị Hồng Nhung",
    date_of_birth=date(1960, 9, 5),
    gender="Nữ",
    address="Thôn Quyết Thắng, Xã Đông Tiến, Huyện Đông Sơn, Thanh Hóa",
    issue_date=date(2021, 10, 10),
)


def payload(**changes: str) -> str:
    order = ["id_number", "old_id_number", "full_name", "date_of_birth", "gender", "address",
             "issue_date"]
    fields = list(FIELDS)
    for name, value in changes.items():
        fields[order.index(name)] = value
    return "|".join(fields)


def parse(text) -> CccdQrData:
    return parse_cccd_qr(text, today=TODAY)


def error(text) -> QrPayloadError:
    with pytest.raises(QrPayloadError) as info:
        parse(text)
    assert unicodedata.is_normalized("NFC", info.value.message)
    return info.value


# ---- Happy paths -----------------------------------------------------------------------------

def test_well_formed_payload_parsed():
    assert parse(payload()) == EXPECTED


def test_bytes_decoded_as_utf8():
    assert parse(payload().encode("utf-8")) == EXPECTED


def test_utf8_bom_stripped_from_bytes():
    assert parse(b"\xef\xbb\xbf" + payload().encode("utf-8")) == EXPECTED


def test_bom_stripped_from_text():
    assert parse("\ufeff" + payload()) == EXPECTED


def test_empty_old_cmnd_becomes_none():
    assert parse(payload(old_id_number="")).old_id_number is None


def test_twelve_digit_old_cmnd_accepted():
    assert parse(payload(old_id_number="038060001111")).old_id_number == "038060001111"


def test_decomposed_unicode_normalised_to_nfc():
    data = parse(unicodedata.normalize("NFD", payload()))
    assert data == EXPECTED
    assert unicodedata.is_normalized("NFC", data.full_name)
    assert unicodedata.is_normalized("NFC", data.address)


def test_extra_trailing_fields_ignored():
    assert parse(payload() + "|extra|more data|123") == EXPECTED


def test_trailing_separator_ignored():
    assert parse(payload() + "|") == EXPECTED


def test_whitespace_around_fields_and_payload_trimmed():
    text = "  " + "|".join(f" {f} " for f in FIELDS) + "\r\n"
    assert parse(text) == EXPECTED


def test_runs_of_spaces_in_name_collapsed_case_kept():
    data = parse(payload(full_name="LÊ   THỊ  Hồng Nhung"))
    assert data.full_name == "LÊ THỊ Hồng Nhung"


@pytest.mark.parametrize("raw", ["nữ", "NỮ", "Nu", "nu", unicodedata.normalize("NFD", "NỮ")])
def test_female_gender_variants_normalised(raw):
    assert parse(payload(gender=raw)).gender == "Nữ"


@pytest.mark.parametrize("raw", ["nam", "NAM", "Nam"])
def test_male_gender_variants_normalised(raw):
    assert parse(payload(gender=raw)).gender == "Nam"


def test_utf8_read_as_latin1_is_repaired():
    mojibake = payload().encode("utf-8").decode("latin-1")
    assert parse(mojibake) == EXPECTED


def test_utf8_read_as_cp1252_is_repaired():
    # As Windows decodes: the five bytes CP1252 leaves undefined (e.g. 0x90 in "Đ") pass through.
    def cp1252_char(byte: int) -> str:
        try:
            return bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            return chr(byte)

    mojibake = "".join(cp1252_char(b) for b in payload().encode("utf-8"))
    assert "€" in mojibake or "Ä\x90" in mojibake  # really garbled, not plain Latin-1
    assert parse(mojibake) == EXPECTED


def test_genuine_latin1_range_text_not_altered():
    # Every letter here is in Latin-1, but their bytes are not UTF-8, so nothing is "repaired".
    address = "Xã Hà Ân, Tân Châu"
    assert all(ord(ch) <= 0xFF for ch in address)
    assert parse(payload(address=address)).address == address


def test_qr_error_is_an_identity_error():
    assert issubclass(QrPayloadError, IdentityError)


# ---- Malformed payloads ----------------------------------------------------------------------

def test_too_few_fields_refused():
    err = error("|".join(FIELDS[:6]))
    assert "chỉ có 6 mục" in err.message
    assert err.field is None


def test_empty_payload_refused():
    assert "không có nội dung" in error("   ").message


def test_url_qr_code_refused():
    assert "không phải mã của thẻ căn cước" in error("https://smartca.vnpt.vn").message


def test_impossible_birth_date_named():
    err = error(payload(date_of_birth="31022000"))
    assert err.field == "date_of_birth"
    assert "Ngày sinh trong mã QR là ngày 31/02/2000, không có thật." in err.message


def test_birth_date_in_wrong_format_named():
    err = error(payload(date_of_birth="1960-09-05"))
    assert err.field == "date_of_birth"
    assert "không đúng dạng ngày" in err.message


def test_impossible_issue_date_named():
    err = error(payload(issue_date="00132021"))
    assert err.field == "issue_date"


def test_birth_date_in_the_future_refused():
    err = error(payload(date_of_birth="01012030", issue_date="02012030"))
    assert err.field == "date_of_birth"
    assert "sau ngày hôm nay" in err.message


def test_issue_date_in_the_future_refused():
    err = error(payload(issue_date="02062025"))
    assert err.field == "issue_date"


def test_issue_date_today_accepted():
    assert parse(payload(issue_date="01062025")).issue_date == TODAY


def test_issue_date_before_birth_refused():
    err = error(payload(issue_date="01011950"))
    assert err.field == "issue_date"
    assert "phải sau ngày sinh (05/09/1960)" in err.message


def test_issue_date_equal_to_birth_refused():
    assert error(payload(issue_date="05091960")).field == "issue_date"


def test_letters_in_cccd_number_refused():
    err = error(payload(id_number="03806000123O"))
    assert err.field == "id_number"
    assert "12 chữ số" in err.message


def test_short_cccd_number_refused():
    assert error(payload(id_number="03806000123")).field == "id_number"


def test_cccd_with_unknown_province_refused():
    err = error(payload(id_number="099060001234"))
    assert err.field == "id_number"
    assert "099" in err.message


def test_letters_in_old_cmnd_refused():
    err = error(payload(old_id_number="17123456A"))
    assert err.field == "old_id_number"


def test_old_cmnd_of_wrong_length_refused():
    assert error(payload(old_id_number="1712345")).field == "old_id_number"


def test_empty_name_refused():
    err = error(payload(full_name="   "))
    assert err.field == "full_name"
    assert err.message.startswith("Họ và tên trong mã QR bị trống.")


def test_name_with_digits_refused():
    assert error(payload(full_name="Lê Thị 2")).field == "full_name"


def test_unknown_gender_refused():
    err = error(payload(gender="Khác"))
    assert err.field == "gender"
    assert "Nam hoặc Nữ" in err.message


def test_empty_address_refused():
    assert error(payload(address="")).field == "address"


def test_garbage_bytes_refused():
    err = error(bytes(range(128, 256)) * 3)
    assert err.field is None


def test_damaged_utf8_in_name_reported_for_the_name():
    raw = payload().encode("utf-8").replace("Hồng".encode(), b"H\xe1\xbbng")
    err = error(raw)
    assert err.field == "full_name"
    assert "lỗi ký tự" in err.message


def test_control_characters_in_a_field_refused():
    assert error(payload(address="Thôn 1\x00\x00 Đông Sơn")).field == "address"


def test_non_text_input_refused():
    with pytest.raises(QrPayloadError):
        parse_cccd_qr(12345)  # type: ignore[arg-type]


def test_every_message_asks_to_rescan_or_type():
    assert "quét lại mã QR hoặc nhập thông tin bằng tay" in error("a|b").message

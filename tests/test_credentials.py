"""Password and PIN policy; argon2id hashing of secrets."""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from kiosk.domain.credentials import (
    DEFAULT_HASHER_PARAMS,
    PASSWORD_RULES,
    configure_hasher,
    hash_otp,
    hash_secret,
    needs_rehash,
    password_checklist,
    password_problems,
    pin_problems,
    verify_otp,
    verify_secret,
)

ID_NUMBER = "038060001234"
PHONE = "+84912345678"
DOB = date(1960, 9, 5)
LABELS = dict(PASSWORD_RULES)


def failed_codes(password, id_number=ID_NUMBER, phone=PHONE):
    return [code for code, _, ok in password_checklist(password, id_number, phone) if not ok]


# ---- Password policy -------------------------------------------------------------------------

def test_rules_in_display_order_with_vietnamese_labels():
    assert PASSWORD_RULES == [
        ("length", "Ít nhất 8 ký tự"),
        ("upper", "Có chữ in hoa (A–Z)"),
        ("lower", "Có chữ thường (a–z)"),
        ("digit", "Có chữ số (0–9)"),
        ("special", "Có ký tự đặc biệt, ví dụ @ # $ !"),
        ("personal", "Không chứa số giấy tờ hoặc số điện thoại"),
    ]
    assert all(unicodedata.is_normalized("NFC", label) for _, label in PASSWORD_RULES)


def test_leaflet_example_passes():
    assert password_problems("Hoa@1234", ID_NUMBER, PHONE) == []


def test_checklist_lists_every_rule_with_its_state():
    checklist = password_checklist("hoa@1234", ID_NUMBER, PHONE)
    assert [code for code, _, _ in checklist] == [code for code, _ in PASSWORD_RULES]
    assert [ok for _, _, ok in checklist] == [True, False, True, True, True, True]


def test_empty_password_fails_the_content_rules():
    assert failed_codes("") == ["length", "upper", "lower", "digit", "special"]


def test_too_short_fails_length_only():
    assert failed_codes("Ho@1234") == ["length"]


def test_missing_upper_case_fails():
    assert failed_codes("hoa@1234") == ["upper"]


def test_missing_lower_case_fails():
    assert failed_codes("HOA@1234") == ["lower"]


def test_missing_digit_fails():
    assert failed_codes("Hoa@abcd") == ["digit"]


def test_missing_special_character_fails():
    assert failed_codes("Hoa12345") == ["special"]


def test_space_is_not_a_special_character():
    assert failed_codes("Hoa 12345") == ["special"]


def test_vietnamese_letters_count_as_upper_and_lower_case():
    assert failed_codes("ĐƯỜNGđường@1") == []
    assert failed_codes("đường@12345") == ["upper"]


def test_password_containing_id_number_fails():
    assert failed_codes("Hoa@" + ID_NUMBER) == ["personal"]


def test_password_containing_passport_number_in_other_case_fails():
    assert "personal" in failed_codes("Hoa@c1234567", id_number="C1234567")


@pytest.mark.parametrize("phone_form", ["0912345678", "84912345678"])
def test_password_containing_phone_number_fails(phone_form):
    assert failed_codes("Hoa@" + phone_form) == ["personal"]


def test_personal_rule_skipped_without_id_or_phone():
    assert password_problems("Hoa@0912345678") == []


def test_problems_are_the_labels_of_failed_rules():
    assert password_problems("hoa", ID_NUMBER, PHONE) == [
        LABELS["length"], LABELS["upper"], LABELS["digit"], LABELS["special"]]


def test_decomposed_password_counted_in_characters_after_nfc():
    # "Đườn@1a" is 7 characters composed but 10 code points decomposed: length is judged on NFC.
    assert failed_codes(unicodedata.normalize("NFD", "Đườn@1a")) == ["length"]


# ---- PIN policy ------------------------------------------------------------------------------

def test_good_pin_accepted():
    assert pin_problems("284719", DOB, ID_NUMBER) == []


@pytest.mark.parametrize("pin", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", " 284719"])
def test_pin_must_be_exactly_six_digits(pin):
    assert pin_problems(pin, DOB, ID_NUMBER) == ["Mã PIN phải gồm đúng 6 chữ số."]


def test_none_pin_refused():
    assert pin_problems(None, None, None) == ["Mã PIN phải gồm đúng 6 chữ số."]


@pytest.mark.parametrize("pin", ["000000", "111111", "999999"])
def test_repeated_digit_refused(pin):
    assert pin_problems(pin, None, None) == [
        "Mã PIN không được là một chữ số lặp lại (ví dụ 111111)."]


@pytest.mark.parametrize("pin", ["012345", "123456", "234567", "345678", "456789",
                                 "987654", "654321", "543210", "890123", "901234", "109876"])
def test_consecutive_runs_refused(pin):
    assert pin_problems(pin, None, None) == [
        "Mã PIN không được là dãy số liên tiếp (ví dụ 123456 hoặc 654321)."]


@pytest.mark.parametrize("pin", ["123457", "135791", "123321", "121212"])
def test_almost_runs_accepted(pin):
    assert pin_problems(pin, None, None) == []


@pytest.mark.parametrize("pin", ["050960", "090560", "600905", "091960", "196009"])
def test_birth_date_forms_refused(pin):
    assert pin_problems(pin, DOB, None) == ["Mã PIN không được là ngày sinh của quý khách."]


def test_birth_date_pin_allowed_when_birth_date_unknown():
    assert pin_problems("050960", None, None) == []


def test_last_six_digits_of_id_number_refused():
    assert pin_problems("001234", None, ID_NUMBER) == [
        "Mã PIN không được là 6 số cuối của số giấy tờ."]


def test_last_six_digits_of_passport_number_refused():
    assert pin_problems("234567", None, "C1234567")[-1] == (
        "Mã PIN không được là 6 số cuối của số giấy tờ.")


def test_first_six_digits_of_id_number_allowed():
    assert pin_problems("038060", None, ID_NUMBER) == []


def test_several_pin_problems_reported_together():
    # 123456 is a run and also the last six digits of this ID number.
    assert len(pin_problems("123456", None, "038060123456")) == 2


def test_pin_messages_are_nfc():
    messages = pin_problems("111111", None, None) + pin_problems("050960", DOB, None)
    assert messages and all(unicodedata.is_normalized("NFC", m) for m in messages)


# ---- Hashing ---------------------------------------------------------------------------------

def test_hash_is_argon2id_and_salted():
    first, second = hash_secret("Hoa@1234"), hash_secret("Hoa@1234")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "Hoa@1234" not in first


def test_verify_right_secret():
    assert verify_secret(hash_secret("Hoa@1234"), "Hoa@1234") is True


def test_verify_wrong_secret_is_false():
    assert verify_secret(hash_secret("Hoa@1234"), "Hoa@1235") is False


@pytest.mark.parametrize("bad_hash", ["", "not-a-hash", "$argon2id$v=19$m=1", None])
def test_verify_never_raises_on_invalid_hash(bad_hash):
    assert verify_secret(bad_hash, "Hoa@1234") is False


def test_verify_none_secret_is_false():
    assert verify_secret(hash_secret("Hoa@1234"), None) is False


@pytest.mark.parametrize("hashed_form, typed_form", [("NFC", "NFD"), ("NFD", "NFC")])
def test_composed_and_decomposed_password_match(hashed_form, typed_form):
    hashed = hash_secret(unicodedata.normalize(hashed_form, "Đường@2024"))
    assert verify_secret(hashed, unicodedata.normalize(typed_form, "Đường@2024"))


def test_otp_helpers_hash_and_verify_like_secrets():
    hashed = hash_otp("482913")
    assert hashed.startswith("$argon2id$")
    assert verify_otp(hashed, "482913") and not verify_otp(hashed, "482914")


@pytest.fixture
def restore_test_hasher():
    yield
    # conftest lowers the cost for the whole session; put that back.
    configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_default_parameters_are_owasp_argon2id_minimum(restore_test_hasher):
    assert DEFAULT_HASHER_PARAMS == {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
    configure_hasher()
    assert "$m=19456,t=2,p=1$" in hash_secret("x")


def test_configure_hasher_changes_the_parameters(restore_test_hasher):
    configure_hasher(time_cost=1, memory_cost=2048, parallelism=1)
    assert "$m=2048,t=1,p=1$" in hash_secret("x")


def test_hash_with_other_parameters_needs_rehash_but_still_verifies(restore_test_hasher):
    configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    old = hash_secret("Hoa@1234")
    configure_hasher(time_cost=1, memory_cost=2048, parallelism=1)
    assert needs_rehash(old) is True
    assert verify_secret(old, "Hoa@1234") is True
    assert needs_rehash(hash_secret("Hoa@1234")) is False


def test_unreadable_hash_needs_rehash():
    assert needs_rehash("garbage") is True


"""Property tests (Hypothesis) of what strangers type or show to the kiosk: the CCCD QR payload
parser, the ID-number and phone validators, and the password/PIN rules.

The property everywhere: any input gives either a clean, normalised value or the module's own
error with a Vietnamese message: never another exception (a 500 at the counter), and never a
value that breaks the documented shape.
"""
from __future__ import annotations

import string
import unicodedata
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiosk.domain.credentials import password_problems, pin_problems
from kiosk.domain.identity import (
    IdentityError,
    IdType,
    QrPayloadError,
    national_format,
    normalize_id_number,
    normalize_mobile,
    parse_cccd_qr,
)
from kiosk.domain.identity.id_numbers import PROVINCES, cccd_facts

TODAY = date(2026, 11, 29)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

provinces = st.sampled_from(sorted(PROVINCES))
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def cccd_numbers(draw):
    return draw(provinces) + draw(st.sampled_from("0123")) + "".join(
        draw(st.lists(digits, min_size=8, max_size=8)))


VN_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
words = st.text(alphabet=VN_LETTERS, min_size=1, max_size=7).map(str.capitalize)
names = st.lists(words, min_size=2, max_size=4).map(" ".join)
addresses = st.tuples(st.integers(1, 999), st.lists(words, min_size=2, max_size=6)).map(
    lambda t: f"Số {t[0]} " + " ".join(t[1]))


@st.composite
def qr_payloads(draw):
    dob = draw(st.dates(min_value=date(1930, 1, 1), max_value=TODAY - timedelta(days=365 * 14)))
    issue = draw(st.dates(min_value=dob + timedelta(days=1), max_value=TODAY))
    fields = {
        "id_number": draw(cccd_numbers()),
        "old_id_number": draw(st.one_of(st.just(""), st.text("0123456789", min_size=9, max_size=9))),
        "full_name": draw(names), "date_of_birth": dob, "gender": draw(st.sampled_from(["Nam", "Nữ"])),
        "address": draw(addresses), "issue_date": issue,
    }
    extra = draw(st.lists(st.text(alphabet=string.ascii_letters + string.digits, max_size=8), max_size=3))
    parts = [fields["id_number"], fields["old_id_number"], fields["full_name"],
             dob.strftime("%d%m%Y"), fields["gender"], fields["address"], issue.strftime("%d%m%Y"),
             *extra]
    return fields, "|".join(parts)


# ---- QR payload ------------------------------------------------------------------------------

@SETTINGS
@given(st.one_of(st.text(), st.binary(), st.lists(st.text(max_size=20), max_size=10).map("|".join)))
@example("038085012345||Nguyễn Văn An|05091985|Nam|Số 12 Lê Lai|20042021")
@example(b"\xef\xbb\xbf" + b"|" * 7)
def test_qr_parser_returns_data_or_its_own_error(payload):
    try:
        data = parse_cccd_qr(payload, today=TODAY)
    except QrPayloadError as err:
        assert err.message and unicodedata.is_normalized("NFC", err.message)
        return
    assert len(data.id_number) == 12 and data.id_number.isdigit()
    assert data.gender in ("Nam", "Nữ") and data.date_of_birth < data.issue_date <= TODAY
    for text in (data.full_name, data.address):
        assert unicodedata.is_normalized("NFC", text)


@SETTINGS
@given(qr_payloads())
def test_qr_parser_reads_back_what_a_card_says(case):
    fields, payload = case
    data = parse_cccd_qr(payload, today=TODAY)
    assert data.id_number == fields["id_number"]
    assert data.old_id_number == (fields["old_id_number"] or None)
    assert data.date_of_birth == fields["date_of_birth"] and data.issue_date == fields["issue_date"]
    assert data.gender == fields["gender"]
    assert data.full_name == fields["full_name"] and data.address == fields["address"]
    # the same payload decomposed (NFD, as some readers send it) and as UTF-8 bytes reads the same
    assert parse_cccd_qr(unicodedata.normalize("NFD", payload), today=TODAY) == data
    assert parse_cccd_qr(payload.encode(), today=TODAY) == data


# ---- ID numbers ------------------------------------------------------------------------------

@SETTINGS
@given(st.sampled_from(list(IdType)), st.one_of(st.text(max_size=30), st.integers(), st.none()))
def test_id_number_validator_returns_clean_number_or_identity_error(id_type, raw):
    try:
        number = normalize_id_number(id_type, raw)
    except IdentityError as err:
        assert err.message
        return
    if id_type is IdType.PASSPORT:
        assert len(number) == 8 and number[0].isupper() and number[1:].isdigit()
    else:
        assert number.isascii() and number.isdigit()
        assert len(number) == (12 if id_type is IdType.CCCD else 9)
    assert normalize_id_number(id_type, number) == number  # idempotent


@SETTINGS
@given(cccd_numbers(), st.lists(st.sampled_from([" ", ".", "-", "\u2013"]), max_size=4), st.booleans())
def test_cccd_separators_and_full_width_digits_do_not_change_the_number(number, seps, wide):
    typed = number
    for i, sep in enumerate(seps):
        cut = (i * 3 + 2) % len(typed)
        typed = typed[:cut] + sep + typed[cut:]
    if wide:
        typed = typed.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    assert normalize_id_number(IdType.CCCD, typed) == number
    facts = cccd_facts(number)
    assert facts.gender == ("Nam" if int(number[3]) % 2 == 0 else "Nữ")
    assert facts.birth_year % 100 == int(number[4:6])


# ---- phones ----------------------------------------------------------------------------------

@SETTINGS
@given(st.one_of(st.text(max_size=25), st.from_regex(r"\+?(84|0)[35789][0-9]{8}", fullmatch=True)))
@example("0912 345 678")
@example("+84 912345678")
def test_phone_validator_returns_e164_mobile_or_identity_error(raw):
    try:
        e164 = normalize_mobile(raw)
    except IdentityError as err:
        assert err.message
        return
    assert e164.startswith("+84") and e164[1:].isdigit()
    assert normalize_mobile(e164) == e164
    assert normalize_mobile(national_format(e164)) == e164


# ---- password and PIN ------------------------------------------------------------------------

@SETTINGS
@given(st.text(max_size=40), st.one_of(st.none(), cccd_numbers()))
def test_an_accepted_password_meets_every_rule(password, id_number):
    if password_problems(password, id_number, "+84912345678"):
        return
    text = unicodedata.normalize("NFC", password)
    assert len(text) >= 8
    assert any(c.isupper() for c in text) and any(c.islower() for c in text)
    assert any(c in "0123456789" for c in text)
    assert any(not c.isalnum() and not c.isspace() for c in text)
    if id_number:
        assert id_number not in text


@SETTINGS
@given(st.text(max_size=10), st.dates(min_value=date(1930, 1, 1), max_value=TODAY), cccd_numbers())
@example("123456", date(1985, 9, 5), "038085012345")
@example("050985", date(1985, 9, 5), "038085012345")
def test_an_accepted_pin_is_six_digits_and_not_guessable(pin, dob, id_number):
    if pin_problems(pin, dob, id_number):
        return
    assert len(pin) == 6 and pin.isascii() and pin.isdigit()
    assert len(set(pin)) > 1
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    assert steps not in ({1}, {9})
    assert pin != id_number[-6:]
    assert pin not in {dob.strftime("%d%m%y"), dob.strftime("%m%Y"), dob.strftime("%Y%m")}


@SETTINGS
@given(st.sampled_from("0123456789"), st.booleans())
def test_repeated_and_consecutive_pins_are_always_refused(start, down):
    step = -1 if down else 1
    run = "".join(str((int(start) + step * i) % 10) for i in range(6))
    assert pin_problems(run)
    assert pin_problems(start * 6)

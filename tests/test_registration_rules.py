"""Step 4's re-check of steps 1–3 (domain.registration_rules.revalidate): plain values in,
(step, message) pairs out, and never an exception for stored data that went wrong."""
from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.registration_rules import (
    NO_CONSENT,
    NO_PACKAGE,
    NO_PERSONAL,
    PERSONAL_INCOMPLETE,
    revalidate,
)

TODAY = date(2026, 12, 6)
PACKAGE = {"code": "SMARTCA_1Y", "name": "Cá nhân 1 năm", "duration_months": 12,
           "price_vnd": 0, "price_is_sample": True}
STORED = {  # what steps 1 and 3 store (tests/kiosk_driver.CUSTOMER once accepted)
    "id_type": "cccd",
    "id_number": "038085012345",  # male born 1985
    "phone": "+84912345678",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1985-09-05",
    "gender": "Nam",
    "issue_date": "2023-10-02",
}


def check(data=None, consent=True, package=PACKAGE, today=TODAY, min_age=18, **changes):
    return revalidate({**(STORED if data is None else data), **changes}, consent, package,
                      today, min_age)


def test_stored_data_that_still_holds_has_no_problem():
    assert check() == []


def test_missing_consent_and_package_point_to_steps_1_and_2():
    assert check(consent=False, package=None) == [(1, NO_CONSENT), (2, NO_PACKAGE)]


def test_an_id_number_that_no_longer_reads_sends_back_to_step_1_only():
    problems = check(id_number="12345")
    assert [step for step, _ in problems] == [1]
    assert problems[0][1]  # the identity rule's own sentence


def test_an_unknown_document_type_is_a_step_1_problem_not_an_exception():
    assert [step for step, _ in check(id_type="bằng lái")] == [1]


def test_a_phone_number_that_is_not_a_mobile_is_a_step_1_problem():
    assert [step for step, _ in check(phone="12")] == [1]


def test_no_personal_details_yet():
    data = {k: v for k, v in STORED.items() if k not in ("full_name", "date_of_birth")}
    assert check(data) == [(3, NO_PERSONAL)]


@pytest.mark.parametrize("field, value", [("date_of_birth", None), ("date_of_birth", "05/09/1985"),
                                          ("issue_date", "không rõ"), ("gender", None)])
def test_garbled_or_missing_stored_values_ask_to_declare_again(field, value):
    assert check(**{field: value}) == [(3, PERSONAL_INCOMPLETE)]


def test_a_gender_the_rules_cannot_read_is_a_step_3_problem():
    problems = check(gender="X")
    assert [step for step, _ in problems] == [3]


def test_gender_disagreeing_with_the_cccd_number_is_found_again():
    problems = check(gender="Nữ")
    assert len(problems) == 1 and problems[0][0] == 3 and "Giới tính Nữ" in problems[0][1]


def test_the_age_is_counted_on_the_day_of_the_re_check():
    born = {"id_number": "038208012345", "date_of_birth": "2008-12-07", "issue_date": "2024-08-01"}
    assert [s for s, _ in check(**born, today=date(2026, 12, 6))] == [3]  # 18 tomorrow
    assert check(**born, today=date(2026, 12, 7)) == []


def test_several_steps_wrong_at_once_are_all_listed_in_step_order():
    problems = check(consent=False, package=None, gender="Nữ")
    assert [step for step, _ in problems] == [1, 2, 3]

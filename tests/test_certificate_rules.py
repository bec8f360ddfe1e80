"""domain.certificate: the decree's 36 months, validity dates, who owns which field."""
from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain import certificate, flow


def test_36_months_is_the_most_a_package_may_last():
    assert certificate.months_problem(36) is None
    assert certificate.months_problem(12) is None
    assert certificate.months_problem(37) == certificate.TOO_LONG
    assert "Nghị định 23/2025/NĐ-CP" in certificate.months_problem(48)


@pytest.mark.parametrize("start, months, end", [
    (date(2026, 12, 6), 12, date(2027, 12, 6)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2027, 12, 31), 2, date(2028, 2, 29)),
    (date(2026, 3, 15), 36, date(2029, 3, 15)),
])
def test_validity_adds_calendar_months(start, months, end):
    assert certificate.validity(start, months) == (start, end)


def test_each_field_belongs_to_the_step_whose_form_sets_it():
    assert certificate.owner_step("id_number") == 1
    assert certificate.owner_step("phone") == 1
    assert certificate.owner_step("package") == 2
    assert certificate.owner_step("validity") == 2
    for key in ("full_name", "address", "province", "email"):
        assert certificate.owner_step(key) == 3
    with pytest.raises(KeyError):
        certificate.owner_step("password")


def test_before_step_4_the_customer_corrects_alone_after_it_a_clerk_is_needed():
    # At step 3 (furthest 3) packages and numbers can still be changed.
    assert certificate.customer_may_change("package", 3, False)
    assert certificate.customer_may_change("phone", 4, False)
    # Step 9 comes after provisioning: every field is the backend's now.
    for key in certificate.FIELD_KEYS:
        assert not certificate.customer_may_change(key, 9, False)
        assert not certificate.customer_may_change(key, flow.DONE, True)


def test_province_is_the_last_part_of_the_address():
    assert certificate.province_of("12 Lê Lợi, Phường Điện Biên, Tỉnh Thanh Hóa") == "Tỉnh Thanh Hóa"
    assert certificate.province_of("") == ""

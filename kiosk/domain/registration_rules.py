"""Rules about what a customer declared, shared by step 3 and the re-check before step 4."""
from __future__ import annotations

from datetime import date

from kiosk.domain.identity import (
    IdentityError,
    IdType,
    check_adult,
    check_issue_date,
    cross_check_cccd,
)


def personal_problems(id_type: str, id_number: str, values: dict, today: date,
                      min_age: int) -> dict[str, list[str]]:
    """Cross-field rules of step 3 (also re-run before provisioning): field -> messages."""
    problems: dict[str, list[str]] = {}
    dob = values["date_of_birth"]
    try:
        check_adult(dob, today, min_age)
    except IdentityError as err:
        problems.setdefault("date_of_birth", []).append(err.message)
    try:
        check_issue_date(values["issue_date"], dob, today, id_type=id_type or None)
    except IdentityError as err:
        problems.setdefault("issue_date", []).append(err.message)
    if id_type == IdType.CCCD.value:
        # Checked one field at a time so each message lands under the field it is about.
        for field, args in (("date_of_birth", (dob, None)), ("gender", (None, values["gender"]))):
            for message in cross_check_cccd(id_number, *args):
                problems.setdefault(field, []).append(message)
    return problems


def corrected_fields(scanned: dict | None, values: dict) -> list[str]:
    """Which of the customer's confirmed values differ from what the card said."""
    if not scanned:
        return []
    changed = []
    for name, value in values.items():
        if name in scanned and scanned[name] is not None:
            confirmed = value.isoformat() if hasattr(value, "isoformat") else value
            if confirmed != scanned[name]:
                changed.append(name)
    return sorted(changed)

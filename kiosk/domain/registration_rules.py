"""Rules about what a customer declared, shared by step 3 and the re-check before step 4."""
from __future__ import annotations

from datetime import date

from kiosk.domain.identity import (
    IdentityError,
    IdType,
    check_adult,
    check_issue_date,
    cross_check_cccd,
    normalize_id_number,
    normalize_mobile,
)

# Step 4's re-check: what it says when a step's stored data no longer holds.
ID_INVALID = "Thông tin giấy tờ chưa hợp lệ."
NO_CONSENT = "Chưa có sự đồng ý xử lý dữ liệu cá nhân."
NO_PACKAGE = "Chưa chọn gói dịch vụ."
NO_PERSONAL = "Chưa khai báo thông tin cá nhân."
PERSONAL_INCOMPLETE = "Thông tin cá nhân chưa đủ. Vui lòng khai báo lại."


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


def _stored_date(value) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def revalidate(data: dict, consent_given: bool, package_snapshot: dict | None, today: date,
               min_age: int) -> list[tuple[int, str]]:
    """Re-check steps 1–3 from what was stored, before anything is created at the backend:
    (step to fix, message) pairs, empty when all holds.

    The data may have been changed since each step accepted it (a clerk's edit, an older
    version of the rules, a row edited behind the wizard's back), so nothing here trusts that
    a field is present or well formed: a missing or garbled value is a problem to fix at its
    step, never an exception.
    """
    problems: list[tuple[int, str]] = []
    try:
        normalize_id_number(IdType(data.get("id_type")), data.get("id_number") or "")
        normalize_mobile(data.get("phone") or "")
    except (IdentityError, ValueError) as err:
        problems.append((1, getattr(err, "message", ID_INVALID)))
    if not consent_given:
        problems.append((1, NO_CONSENT))
    if not package_snapshot:
        problems.append((2, NO_PACKAGE))
    if not data.get("full_name"):
        problems.append((3, NO_PERSONAL))
        return problems
    values = {
        "date_of_birth": _stored_date(data.get("date_of_birth")),
        "issue_date": _stored_date(data.get("issue_date")),
        "gender": data.get("gender"),
    }
    if None in values.values():
        problems.append((3, PERSONAL_INCOMPLETE))
        return problems
    try:
        found = personal_problems(data.get("id_type") or "", data.get("id_number") or "",
                                  values, today, min_age)
    except IdentityError as err:
        # The cross-checks cannot read the number or the gender. A bad number is already step
        # 1's problem: fixing it there comes first.
        if not any(step == 1 for step, _ in problems):
            problems.append((3, err.message))
        return problems
    problems.extend((3, m) for messages in found.values() for m in messages)
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

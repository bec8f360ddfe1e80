"""Steps 2 and 3: the package the customer chose and the personal details they declared.

Both only change rows in the caller's session; the request commits once it has answered
(services/unit_of_work.py). They take plain values: the kiosk's forms parse the request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, ServicePackage, utcnow
from kiosk.domain import certificate
from kiosk.domain.registration_rules import corrected_fields, personal_problems
from kiosk.services import addresses, registrations
from kiosk.services.addresses import AddressRefused

PACKAGE_GONE = "Gói dịch vụ này vừa ngừng cung cấp. Vui lòng chọn gói khác."


@dataclass(frozen=True)
class Accepted:
    """The step was accepted: the customer goes on to ``next_step``."""

    next_step: int


@dataclass(frozen=True)
class PackageRefused:
    message: str


@dataclass(frozen=True)
class PersonalRefused:
    """Field name -> what is wrong with it (shown under the field)."""

    problems: dict[str, list[str]]


def active_packages() -> list[ServicePackage]:
    """The catalogue offered at step 2, in the order the staff set."""
    return list(db.session.scalars(
        select(ServicePackage).where(
            ServicePackage.active.is_(True),
            # Never offer a certificate longer than the decree allows, whatever the row says.
            ServicePackage.duration_months <= certificate.MAX_CERTIFICATE_MONTHS)
        .order_by(ServicePackage.sort_order, ServicePackage.price_vnd)
    ))


def choose_package(reg: Registration, package_id: int) -> Accepted | PackageRefused:
    """Step 2: keep a snapshot of the package as offered now (later catalogue edits by the staff
    must not change what this customer agreed to)."""
    chosen = db.session.get(ServicePackage, package_id)
    if (chosen is None or not chosen.active
            or certificate.months_problem(chosen.duration_months)):
        return PackageRefused(PACKAGE_GONE)
    reg.package_id = chosen.id
    reg.package_snapshot = {
        "code": chosen.code,
        "name": chosen.name,
        "duration_months": chosen.duration_months,
        "price_vnd": chosen.price_vnd,
        # A seeded example price is never printed as the price agreed (contract, receipt).
        "price_is_sample": bool(chosen.is_sample),
    }
    return Accepted(registrations.complete_step(reg, 2))


def declare_personal(reg: Registration, values: dict, today: date | None = None
                     ) -> Accepted | PersonalRefused:
    """Step 3: ``values`` are the form's cleaned fields (full_name, date_of_birth and issue_date
    as dates, gender, address, email) and ``ward_code``: the unit of today the customer touched
    («» when none; services/addresses.py). Cross-checked against the ID number of step 1; the
    card's address is kept as written and today's address stored beside it."""
    data = reg.data
    problems = personal_problems(
        data.get("id_type", ""), data.get("id_number", ""), values,
        today=today or utcnow().date(), min_age=current_app.config["MIN_CUSTOMER_AGE"],
    )
    current = addresses.resolve(values["address"], values.get("ward_code") or "")
    if isinstance(current, AddressRefused):
        problems = {**problems, "ward_code": [current.message]}
    if problems:
        audit.record("personal_details_refused", reg, fields=sorted(problems))
        return PersonalRefused(problems)
    changed = corrected_fields(data.get("scanned"), values)
    if changed:
        audit.record("scan_corrected", reg, step=3, fields=changed)
    if current.source != "converted":
        # Which way the address was settled, for the clerks (the unit's code is no personal data).
        audit.record("current_address_picked", reg, source=current.source,
                     unit=current.ward_code)
    reg.update_personal(
        full_name=values["full_name"],
        date_of_birth=values["date_of_birth"].isoformat(),
        gender=values["gender"],
        address=values["address"],
        current_address=current.text,
        current_ward_code=current.ward_code,
        address_source=current.source,
        issue_date=values["issue_date"].isoformat(),
        email=values["email"],
    )
    return Accepted(registrations.complete_step(reg, 3))

"""Steps 1–3: account (ID + phone + consent), package, personal details."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ... import audit
from ...extensions import db
from ...identity import (
    IdentityError,
    IdType,
    check_adult,
    check_issue_date,
    cross_check_cccd,
    national_format,
)
from ...models import Registration, ServicePackage, utcnow
from ..forms import AccountForm, PackageForm, PersonalForm
from ..render import go_to, render_step
from ..state import complete_step

CONSENT_VERSION = "2026-11"


# ---- Step 1: Đăng ký tài khoản -------------------------------------------------------------

def record_consent(reg: Registration) -> None:
    if reg.consent_at is None:
        reg.consent_at = utcnow()
        reg.consent_version = CONSENT_VERSION
        audit.record("consent_given", reg, version=CONSENT_VERSION)


def view_account(reg: Registration, readonly: bool, form: AccountForm | None = None,
                 scan_mode: bool = False, scan_error: str | None = None, scanned: dict | None = None):
    if form is None:
        data = reg.data
        form = AccountForm(data={
            "id_type": data.get("id_type", IdType.CCCD.value),
            "id_number": data.get("id_number", ""),
            "phone": national_format(data["phone"]) if data.get("phone") else "",
            "consent": reg.consent_at is not None,
        })
    return render_step(reg, 1, form=form, readonly=readonly, scan_mode=scan_mode,
                       scan_error=scan_error, scanned=scanned or reg.data.get("scanned"))


def submit_account(reg: Registration):
    form = AccountForm()
    if not form.validate():
        return view_account(reg, False, form)
    id_number = form.clean["id_number"]
    from .card_scan import corrected_fields

    changed = corrected_fields(reg.data.get("scanned"), {"id_number": id_number})
    if changed:
        audit.record("scan_corrected", reg, step=1, fields=changed)
    cipher = current_app.extensions["kiosk_cipher"]
    reg.update_personal(id_type=form.id_type.data, id_number=id_number, phone=form.clean["phone"])
    reg.id_digest = cipher.lookup_digest(id_number)
    record_consent(reg)
    nxt = complete_step(reg, 1)
    db.session.commit()
    return go_to(reg, nxt, lambda: view_package(reg, False))


# ---- Step 2: Chọn gói dịch vụ --------------------------------------------------------------

def _active_packages() -> list[ServicePackage]:
    return list(db.session.scalars(
        select(ServicePackage).where(ServicePackage.active.is_(True))
        .order_by(ServicePackage.sort_order, ServicePackage.price_vnd)
    ))


def view_package(reg: Registration, readonly: bool, form: PackageForm | None = None):
    packages = _active_packages()
    if form is None:
        form = PackageForm(data={"package": reg.package_id})
    form.package.choices = [SelectChoice(p.id, p.name) for p in packages]
    return render_step(reg, 2, form=form, packages=packages, readonly=readonly)


def submit_package(reg: Registration):
    packages = {p.id: p for p in _active_packages()}
    form = PackageForm()
    form.package.choices = [SelectChoice(p.id, p.name) for p in packages.values()]
    if not form.validate():
        return view_package(reg, False, form)
    chosen = packages[form.package.data]
    reg.package_id = chosen.id
    reg.package_snapshot = {
        "code": chosen.code,
        "name": chosen.name,
        "duration_months": chosen.duration_months,
        "price_vnd": chosen.price_vnd,
    }
    nxt = complete_step(reg, 2)
    db.session.commit()
    return go_to(reg, nxt, lambda: view_personal(reg, False))


# ---- Step 3: Khai báo thông tin ------------------------------------------------------------

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


def view_personal(reg: Registration, readonly: bool, form: PersonalForm | None = None,
                  mismatch: bool = False):
    if form is None:
        form = PersonalForm(formdata=None)
        form.fill_from(reg.data)
        form.fill_from(reg.data.get("scanned") or {})  # what the card's QR said, to confirm
    return render_step(reg, 3, form=form, readonly=readonly, mismatch=mismatch,
                       from_scan=bool(reg.data.get("scanned")))


def submit_personal(reg: Registration):
    form = PersonalForm()
    if not form.validate():
        return view_personal(reg, False, form)
    data = reg.data
    values = form.clean
    problems = personal_problems(
        data.get("id_type", ""), data.get("id_number", ""), values,
        today=utcnow().date(), min_age=current_app.config["MIN_CUSTOMER_AGE"],
    )
    if problems:
        for name, messages in problems.items():
            getattr(form, name).errors = list(getattr(form, name).errors) + messages
        audit.record("personal_details_refused", reg, fields=sorted(problems))
        db.session.commit()
        return view_personal(reg, False, form, mismatch=True)
    from .card_scan import corrected_fields

    changed = corrected_fields(reg.data.get("scanned"), values)
    if changed:
        audit.record("scan_corrected", reg, step=3, fields=changed)
    reg.update_personal(
        full_name=values["full_name"],
        date_of_birth=values["date_of_birth"].isoformat(),
        gender=values["gender"],
        address=values["address"],
        issue_date=values["issue_date"].isoformat(),
        email=values["email"],
    )
    nxt = complete_step(reg, 3)
    db.session.commit()
    from .activation import view_provision

    return go_to(reg, nxt, lambda: view_provision(reg, False))

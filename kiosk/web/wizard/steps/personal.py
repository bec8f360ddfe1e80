"""Step 3 «Khai báo thông tin»: personal details, prefilled from the card's QR, cross-checked."""
from __future__ import annotations

from flask import current_app

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, utcnow
from kiosk.domain.registration_rules import corrected_fields, personal_problems
from kiosk.services import registrations
from kiosk.web.wizard.forms import PersonalForm
from kiosk.web.wizard.render import GoTo, render_step


def view(reg: Registration, readonly: bool, form: PersonalForm | None = None,
         mismatch: bool = False):
    if form is None:
        form = PersonalForm(formdata=None)
        form.fill_from(reg.data)
        form.fill_from(reg.data.get("scanned") or {})  # what the card's QR said, to confirm
    return render_step(reg, 3, form=form, readonly=readonly, mismatch=mismatch,
                       from_scan=bool(reg.data.get("scanned")))


def submit(reg: Registration):
    form = PersonalForm()
    if not form.validate():
        return view(reg, False, form)
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
        return view(reg, False, form, mismatch=True)
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
    nxt = registrations.complete_step(reg, 3)
    db.session.commit()
    return GoTo(nxt)

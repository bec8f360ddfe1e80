"""Step 3 «Khai báo thông tin»: personal details, prefilled from the card's QR, cross-checked."""
from __future__ import annotations

from kiosk.core.models import Registration
from kiosk.services import customer_details
from kiosk.services.customer_details import PersonalRefused
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
    outcome = customer_details.declare_personal(reg, form.clean)
    if isinstance(outcome, PersonalRefused):
        for name, messages in outcome.problems.items():
            getattr(form, name).errors = list(getattr(form, name).errors) + messages
        return view(reg, False, form, mismatch=True)
    return GoTo(outcome.next_step)

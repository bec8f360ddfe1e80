"""Step 2 «Chọn gói dịch vụ»: pick a package from the staff-editable catalogue."""
from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from kiosk.core.models import Registration
from kiosk.services import customer_details
from kiosk.services.customer_details import PackageRefused
from kiosk.web.wizard.forms import PackageForm
from kiosk.web.wizard.render import GoTo, render_step


def _form_for(packages, form: PackageForm | None, reg: Registration) -> PackageForm:
    if form is None:
        form = PackageForm(data={"package": reg.package_id})
    form.package.choices = [SelectChoice(p.id, p.name) for p in packages]
    return form


def view(reg: Registration, readonly: bool, form: PackageForm | None = None):
    packages = customer_details.active_packages()
    return render_step(reg, 2, form=_form_for(packages, form, reg), packages=packages,
                       readonly=readonly)


def submit(reg: Registration):
    # The form may only choose among the packages offered now.
    form = _form_for(customer_details.active_packages(), PackageForm(), reg)
    if not form.validate():
        return view(reg, False, form)
    outcome = customer_details.choose_package(reg, form.package.data)
    if isinstance(outcome, PackageRefused):
        form.package.errors = [outcome.message]
        return view(reg, False, form)
    return GoTo(outcome.next_step)

"""Step 2 «Chọn gói dịch vụ»: pick a package from the staff-editable catalogue."""
from __future__ import annotations

from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from kiosk.core.extensions import db
from kiosk.core.models import Registration, ServicePackage
from kiosk.services import registrations
from kiosk.web.wizard.forms import PackageForm
from kiosk.web.wizard.render import GoTo, render_step


def _active_packages() -> list[ServicePackage]:
    return list(db.session.scalars(
        select(ServicePackage).where(ServicePackage.active.is_(True))
        .order_by(ServicePackage.sort_order, ServicePackage.price_vnd)
    ))


def view(reg: Registration, readonly: bool, form: PackageForm | None = None):
    packages = _active_packages()
    if form is None:
        form = PackageForm(data={"package": reg.package_id})
    form.package.choices = [SelectChoice(p.id, p.name) for p in packages]
    return render_step(reg, 2, form=form, packages=packages, readonly=readonly)


def submit(reg: Registration):
    packages = {p.id: p for p in _active_packages()}
    form = PackageForm()
    form.package.choices = [SelectChoice(p.id, p.name) for p in packages.values()]
    if not form.validate():
        return view(reg, False, form)
    chosen = packages[form.package.data]
    reg.package_id = chosen.id
    reg.package_snapshot = {
        "code": chosen.code,
        "name": chosen.name,
        "duration_months": chosen.duration_months,
        "price_vnd": chosen.price_vnd,
        # A seeded example price is never printed as the price agreed (contract, receipt).
        "price_is_sample": bool(chosen.is_sample),
    }
    nxt = registrations.complete_step(reg, 2)
    db.session.commit()
    return GoTo(nxt)

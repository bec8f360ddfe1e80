"""Step 3 «Khai báo thông tin»: personal details, prefilled from the card's QR, cross-checked;
today's address proposed from the card's (docs/addresses.md)."""
from __future__ import annotations

from flask import render_template, request

from kiosk.core.models import Registration
from kiosk.domain.identity import IdentityError, normalize_address
from kiosk.services import addresses, customer_details
from kiosk.services.customer_details import PersonalRefused
from kiosk.web.wizard.forms import PersonalForm
from kiosk.web.wizard.render import GoTo, render_step

ADDRESS_CHANGED = ("Quý khách vừa sửa địa chỉ. Vui lòng xem lại xã/phường hiện nay bên dưới "
                   "rồi bấm «Tiếp tục».")


def view(reg: Registration, readonly: bool, form: PersonalForm | None = None,
         mismatch: bool = False, notice: str | None = None):
    if form is None:
        form = PersonalForm(formdata=None)
        form.fill_from(reg.data)
        form.fill_from(reg.data.get("scanned") or {})  # what the card's QR said, to confirm
        form.ward_code.data = reg.data.get("current_ward_code") or ""
    card_text = form.address.data or ""
    form.address_seen.data = card_text
    current = None if readonly else addresses.screen(card_text, form.ward_query.data or "",
                                                     form.ward_code.data or "")
    return render_step(reg, 3, form=form, readonly=readonly, mismatch=mismatch,
                       from_scan=bool(reg.data.get("scanned")), current=current, notice=notice)


def _same_text(a: str, b: str) -> bool:
    try:
        return normalize_address(a) == normalize_address(b)
    except IdentityError:
        return False


def submit(reg: Registration):
    form = PersonalForm()
    if request.form.get("action") == "find_ward":
        # «Tìm» without JavaScript: the list is filtered on the server, nothing is checked yet.
        return view(reg, False, form)
    if not form.validate():
        return view(reg, False, form)
    if form.clean["ward_code"] and not _same_text(form.clean["address"], form.address_seen.data or ""):
        # The unit was touched for another text: show the list made for this one first.
        form.ward_code.data = ""
        return view(reg, False, form, notice=ADDRESS_CHANGED)
    outcome = customer_details.declare_personal(reg, form.clean)
    if isinstance(outcome, PersonalRefused):
        for name, messages in outcome.problems.items():
            getattr(form, name).errors = list(getattr(form, name).errors) + messages
        return view(reg, False, form, mismatch=True)
    return GoTo(outcome.next_step)


def current_address(reg: Registration):
    """htmx: the «Địa chỉ hiện nay» block again, for the card's text as it now reads (the
    customer typed or corrected it)."""
    form = PersonalForm(formdata=None)
    form.address.data = request.args.get("address", "")[:300]
    form.ward_query.data = request.args.get("ward_query", "")[:60]
    form.ward_code.data = request.args.get("ward_code", "")[:10]
    form.address_seen.data = form.address.data
    current = addresses.screen(form.address.data, form.ward_query.data, form.ward_code.data)
    return render_template("wizard/_step_3_address.html", reg=reg, form=form, current=current,
                           readonly=False)


def ward_search(reg: Registration):
    """htmx: the touch list filtered by what is typed in «Gõ tên xã/phường» (partial only)."""
    current = addresses.screen(request.args.get("address", ""), request.args.get("ward_query", ""),
                               request.args.get("ward_code", ""))
    return render_template("wizard/_step_3_wards.html", current=current)

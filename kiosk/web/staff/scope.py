"""The console's office scope as the views pass it down: the signed-in clerk and, for an
administrator, the office filter chosen in the header (kept in the session, so the board,
the queue, search and reports stay on the office picked until it is changed).

The rule itself — who sees which office — is services/office_scope.py; views only hand it
``current_user`` and the filter."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import redirect, request, session, url_for
from flask_login import current_user
from werkzeug.local import LocalProxy

from kiosk.services import offices
from kiosk.web.staff import bp
from kiosk.web.staff.auth import admin_required

FILTER_KEY = "staff_office_filter"


def office_filter() -> int | None:
    """The office an administrator narrowed the lists to (None: every office). A clerk has no
    filter: they see their own office whatever the session says."""
    if not current_user.is_authenticated or not current_user.is_admin:
        return None
    value = session.get(FILTER_KEY)
    return value if isinstance(value, int) and value > 0 else None


def _back(target: str | None) -> str:
    # Only a console path on this site: the form's «next» is not a way to send a clerk away.
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/staff/"):
        return url_for("staff.index")
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


@bp.post("/office-filter")
@admin_required
def set_office_filter():
    office = offices.from_form(request.form.get("office"))
    if office is None:
        session.pop(FILTER_KEY, None)
    else:
        session[FILTER_KEY] = office.id
    return redirect(_back(request.form.get("next")), code=303)


@bp.context_processor
def _office_globals():
    # Lazy: the polled partials never show these, so they cost nothing there.
    def own_office():
        if not current_user.is_authenticated or not current_user.office_id:
            return None
        return offices.get(current_user.office_id)

    def choices():
        return offices.all_offices() if current_user.is_authenticated and current_user.is_admin else []

    return {"staff_office": LocalProxy(own_office), "office_choices": LocalProxy(choices),
            "office_filter": office_filter}

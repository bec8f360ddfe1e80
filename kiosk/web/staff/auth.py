"""The console's signed-in clerk (credentials are checked by services.staff_auth)."""
from __future__ import annotations

import functools

from flask import g, redirect, session, url_for

from kiosk.core.extensions import db
from kiosk.core.models import StaffUser

SESSION_KEY = "staff_id"


def current_staff() -> StaffUser | None:
    if "staff" not in g:
        staff_id = session.get(SESSION_KEY)
        g.staff = db.session.get(StaffUser, staff_id) if staff_id else None
    return g.staff


def staff_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = current_staff()
        if user is None or not user.active:
            return redirect(url_for("staff.login"))
        return view(*args, **kwargs)

    return wrapped

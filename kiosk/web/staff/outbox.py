"""The sandbox SMS gateway's outbox: what would have been sent to customers' phones. Only while
the sandbox SMS provider is configured (a real gateway's messages reach real phones)."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from kiosk.services import sandbox
from kiosk.web.staff import bp
from kiosk.web.staff.auth import passive
from kiosk.web.staff.render import partial_or_page
from kiosk.web.staff.scope import office_filter


@bp.get("/outbox")
@passive
def outbox():
    if not sandbox.sms_is_sandbox():
        abort(404)
    return partial_or_page("staff/outbox.html", "staff/_outbox.html", messages=sandbox.outbox(current_user, office_filter()))

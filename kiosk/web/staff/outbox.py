"""The sandbox SMS gateway's outbox: what would have been sent to customers' phones. Only while
the sandbox SMS provider is configured (a real gateway's messages reach real phones)."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select

from kiosk import providers
from kiosk.core.extensions import db
from kiosk.core.models import SmsMessage
from kiosk.web.staff import bp
from kiosk.web.staff.auth import passive
from kiosk.web.staff.render import partial_or_page


@bp.get("/outbox")
@passive
def outbox():
    if not providers.sms_is_sandbox():
        abort(404)
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(50))
    return partial_or_page("staff/outbox.html", "staff/_outbox.html", messages=list(messages))

"""What the sandbox providers show on screen: the «MÔI TRƯỜNG THỬ NGHIỆM» banner, the SMS a
sandbox gateway would have sent (step 5 shows it when configured; the console lists them)."""
from __future__ import annotations

from sqlalchemy import select

from kiosk import providers
from kiosk.core.extensions import db
from kiosk.core.models import Registration, SmsMessage
from kiosk.services import office_scope


def backend_is_sandbox() -> bool:
    return providers.is_sandbox()


def sms_is_sandbox() -> bool:
    return providers.sms_is_sandbox()


def latest_sms_text(reg: Registration) -> str | None:
    """The text of the last SMS the sandbox gateway 'sent' for ``reg`` (None: none yet)."""
    message = providers.latest_sandbox_message(db.session, reg.id)
    return message.body.get("text") if message is not None else None


def outbox(staff, office_filter: int | None = None, limit: int = 50) -> list[SmsMessage]:
    """The sandbox gateway's latest messages for the offices ``staff`` may see, newest first
    (an administrator also sees those tied to no registration)."""
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if office_scope.office_of(staff, office_filter) is not None or staff.role != "admin":
        query = query.where(SmsMessage.registration_id.in_(
            office_scope.visible_registration_ids(staff, office_filter)))
    return list(db.session.scalars(query))

"""Audit trail: one row per decision. Callers pass facts, never secrets or images."""
from __future__ import annotations

from kiosk.core import metrics
from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Registration

_FORBIDDEN_KEYS = {"password", "pin", "code", "otp", "image", "signature"}


def record(event: str, registration: Registration | None = None, actor: str = "customer",
           **details) -> AuditEvent:
    leaked = _FORBIDDEN_KEYS.intersection(details)
    if leaked:  # a programming error, caught by tests: secrets never reach the log
        raise ValueError(f"audit details must not contain {sorted(leaked)}")
    row = AuditEvent(
        registration_id=registration.id if registration is not None else None,
        actor=actor,
        event=event,
        details=details or None,
    )
    db.session.add(row)
    # Every event passes here: the metrics count it (by event and office) once it is committed.
    metrics.audited(event, registration.office_id if registration is not None else None, details)
    return row


def latest(registration: Registration, event: str) -> dict:
    """Details of the newest ``event`` recorded for ``registration`` ({} when there is none)."""
    from sqlalchemy import select

    row = db.session.scalar(
        select(AuditEvent).where(AuditEvent.registration_id == registration.id,
                                 AuditEvent.event == event)
        .order_by(AuditEvent.id.desc()).limit(1))
    return dict(row.details or {}) if row is not None else {}

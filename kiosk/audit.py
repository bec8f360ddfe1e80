"""Audit trail: one row per decision. Callers pass facts, never secrets or images."""
from __future__ import annotations

from .extensions import db
from .models import AuditEvent, Registration

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
    return row

"""Checking a clerk's credentials (the console sign-in and the confirmation at the kiosk)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from kiosk.core.extensions import db
from kiosk.core.models import StaffUser, utcnow
from kiosk.domain.credentials import verify_secret


def authenticate(username: str, password: str) -> StaffUser | None:
    """Check staff credentials with a lockout after repeated failures."""
    cfg = current_app.config
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username.strip()))
    if user is None or not user.active:
        return None
    if user.locked_until is not None and user.locked_until > utcnow():
        return None
    if not verify_secret(user.password_hash, password):
        # Counted in SQL so that parallel wrong guesses all count.
        db.session.execute(update(StaffUser).where(StaffUser.id == user.id)
                           .values(failed_logins=StaffUser.failed_logins + 1))
        db.session.refresh(user)
        if user.failed_logins >= cfg["STAFF_MAX_FAILED_LOGINS"]:
            user.locked_until = utcnow() + timedelta(seconds=cfg["STAFF_LOCK_SECONDS"])
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    return user


def audit_name(username: str) -> str:
    """The username for the audit log only if such an account exists: a clerk who typed
    their password into the username box must not find it in the log."""
    known = db.session.scalar(select(StaffUser.id).where(StaffUser.username == username.strip()))
    return username.strip() if known is not None else "(không có tài khoản này)"

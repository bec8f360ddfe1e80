"""Staff sign-in shared by the console and the kiosk-side confirmation at step 6."""
from __future__ import annotations

import functools
from datetime import timedelta

from flask import current_app, g, redirect, session, url_for
from sqlalchemy import select, update

from ..credentials import verify_secret
from ..extensions import db
from ..models import StaffUser, utcnow

SESSION_KEY = "staff_id"


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

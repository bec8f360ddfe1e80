"""Checking a clerk's credentials (the console sign-in and the confirmation at the kiosk).

Two things an attacker at the kiosk or on the network must not get from this module:
- **a lockout of a clerk**: failures are counted per *source* (the console's client address,
  the kiosk form of one kiosk), never per account, so five wrong passwords typed under a
  clerk's name at a kiosk lock that kiosk's form, not the clerk;
- **which usernames exist**: an unknown or disabled username costs the same argon2 verify as
  a known one (against a dummy hash made with the same parameters).
"""
from __future__ import annotations

import functools
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import LoginThrottle, StaffUser, utcnow
from kiosk.domain.credentials import hash_secret, needs_rehash, verify_secret

LOCKED_MESSAGE = "Đăng nhập sai quá nhiều lần từ máy này. Vui lòng thử lại sau ít phút."
REFUSED_MESSAGE = "Tên đăng nhập hoặc mật khẩu không đúng."


@functools.cache
def _dummy_hash(_params_key: str) -> str:
    return hash_secret("dummy-password-for-timing")


def _dummy() -> str:
    # Keyed by the hasher's parameters: tests switch to cheap ones, and the dummy verify must
    # cost what a real one costs under the parameters in force.
    from kiosk.domain import credentials

    hasher = getattr(credentials, "_hasher", None)
    key = repr((getattr(hasher, "time_cost", None), getattr(hasher, "memory_cost", None)))
    return _dummy_hash(key)


def _throttle_row(source: str) -> LoginThrottle:
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == source))
    if row is None:
        row = LoginThrottle(key=source, failures=0, window_started_at=utcnow())
        db.session.add(row)
        db.session.flush()
    return row


def source_locked(source: str) -> bool:
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == source))
    return bool(row and row.locked_until and row.locked_until > utcnow())


def count_failure(source: str) -> None:
    cfg = current_app.config
    row = _throttle_row(source)
    now = utcnow()
    if (now - row.window_started_at).total_seconds() > cfg["STAFF_THROTTLE_WINDOW_SECONDS"]:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= cfg["STAFF_MAX_FAILED_LOGINS"]:
        row.locked_until = now + timedelta(seconds=cfg["STAFF_LOCK_SECONDS"])
        row.failures, row.window_started_at = 0, now


def _clear(source: str) -> None:
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == source))
    if row is not None:
        row.failures, row.locked_until = 0, None


def check(username: str, password: str, source: str) -> tuple[StaffUser | None, str | None]:
    """(user, None) on success, else (None, message for the screen).

    ``source`` names where the attempt comes from ("console:<addr>", "kiosk:<kiosk>:<addr>").
    The caller commits (the failure count is part of the same transaction as its audit row).
    """
    username = (username or "").strip()
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username)) if username else None
    known = user is not None and user.active
    # Always one argon2 verify, whatever the username and whatever the throttle says.
    ok = verify_secret(user.password_hash if known else _dummy(), password or "")
    if source_locked(source):
        return None, LOCKED_MESSAGE
    if not (known and ok):
        count_failure(source)
        return None, LOCKED_MESSAGE if source_locked(source) else REFUSED_MESSAGE
    _clear(source)
    if needs_rehash(user.password_hash):
        # Hashed under older argon2 parameters (or by another tool): upgraded now, while the
        # password is at hand, so raising the parameters reaches every clerk at their next sign-in.
        user.password_hash = hash_secret(password)
    return user, None


def authenticate(username: str, password: str, source: str = "default") -> StaffUser | None:
    """Compatibility wrapper: the user, or None."""
    user, _ = check(username, password, source)
    return user


def audit_name(username: str) -> str:
    """The username for the audit log only if such an account exists: a clerk who typed
    their password into the username box must not find it in the log."""
    known = db.session.scalar(select(StaffUser.id).where(StaffUser.username == username.strip()))
    return username.strip() if known is not None else "(không có tài khoản này)"

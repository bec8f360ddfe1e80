"""Checking a clerk's credentials (the console sign-in and the confirmation at the kiosk).

Two things an attacker at the kiosk or on the network must not get from this module:
- **a lockout of a clerk**: failures are counted per *source* (the console's client address,
  the kiosk form of one kiosk), never per account, so five wrong passwords typed under a
  clerk's name at a kiosk lock that kiosk's form, not the clerk;
- **which usernames exist**: an unknown or disabled username costs the same argon2 verify as
  a known one (against a dummy hash made with the same parameters);
- **more tries than the limit** by sending them in parallel: a try is *reserved* before its
  password is looked at, by one atomic statement that counts it and returns the count
  (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL). Only the
  tries that came back within the limit are checked; a right password gives its try back. Two
  requests can no longer both read "4 failures", both check, and both write "5", and the first
  failure from a new source no longer races another one to create the row (a UNIQUE error).

Early commit, on purpose (the one exception to "services flush, the request commits" besides
``services/claims``): the reservation runs on its own connection and commits at once. It is the
guard itself — a parallel request must see the count before it checks its own password — and
it must not wait for the argon2 verify and the page rendering that follow (on SQLite the
request's transaction would hold the database's write lock through both).
"""
from __future__ import annotations

import functools
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import LoginThrottle, StaffUser, UTCDateTime, utcnow
from kiosk.domain.credentials import hash_secret, needs_rehash, verify_secret
from kiosk.services import unit_of_work

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


def reserve_try(source: str) -> tuple[bool, bool]:
    """Count one try from ``source`` before it is checked: ``(may_check, locked_now)``.

    ``may_check`` is False when the source was locked already or this try is beyond the limit:
    the caller must then not look at the secret at all. ``locked_now`` says the source is locked
    once this try is counted (the last try allowed locks it unless it succeeds). One statement
    does the counting and the reading, on its own connection, committed at once (see the module
    docstring): parallel tries each get a different count."""
    cfg = current_app.config
    limit = int(cfg["STAFF_MAX_FAILED_LOGINS"])
    now = utcnow()
    table = LoginThrottle.__table__
    at = lambda value: literal(value, UTCDateTime)  # noqa: E731  (bound like the column)
    lock_until = at(now + timedelta(seconds=cfg["STAFF_LOCK_SECONDS"]))
    window_start = now - timedelta(seconds=cfg["STAFF_THROTTLE_WINDOW_SECONDS"])
    # A row starts afresh once its lock is over, or (never locked) once its window has passed.
    fresh = ((table.c.locked_until.is_(None) & (table.c.window_started_at < at(window_start)))
             | (table.c.locked_until.is_not(None) & (table.c.locked_until <= at(now))))
    counted = table.c.failures + 1
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[db.engine.dialect.name]
    statement = insert(table).values(key=source, failures=1, window_started_at=at(now),
                                     locked_until=lock_until if limit <= 1 else None)
    statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
        "failures": case((fresh, 1), else_=counted),
        "window_started_at": case((fresh, at(now)), else_=table.c.window_started_at),
        "locked_until": case(
            (fresh, lock_until if limit <= 1 else None),
            ((counted >= limit) & table.c.locked_until.is_(None), lock_until),
            else_=table.c.locked_until),
    }).returning(table.c.failures, table.c.locked_until)
    # the request's own read transaction ends first: one connection at a time per request
    unit_of_work.end_read()
    with db.engine.connect() as conn:
        failures, locked_until = conn.execute(statement).one()
        conn.commit()
    return failures <= limit, failures >= limit


def redeem_throttled(source: str, redeem, wrong_message: str):
    """A one-time code typed at a kiosk (a clerk's resume code, an enrollment code): the try is
    counted before ``redeem()`` looks at the code, so parallel guesses get no more than the
    limit checked; a success clears the count. Returns ``(result, error)``: what ``redeem``
    gave (None when refused), and the Vietnamese message to show when it was refused."""
    may_check, locked_now = reserve_try(source)
    if not may_check:
        return None, LOCKED_MESSAGE
    result = redeem()
    if result is not None:
        clear(source)
        return result, None
    return None, LOCKED_MESSAGE if locked_now else wrong_message


def clear(source: str) -> None:
    """A try succeeded: the source starts afresh, with the request's own writes.

    Not on the guard's connection like the count: the request may already hold SQLite's write
    lock (the resume code it just used up), and a second connection would wait for it until the
    database reports itself locked. Committed with the request, a success cannot be lost: if the
    request fails, the try stays counted, which errs on the safe side."""
    table = LoginThrottle.__table__
    db.session.execute(update(table).where(table.c.key == source)
                       .values(failures=0, locked_until=None, window_started_at=utcnow()))


def check(username: str, password: str, source: str) -> tuple[StaffUser | None, str | None]:
    """(user, None) on success, else (None, message for the screen).

    ``source`` names where the attempt comes from ("console:<addr>", "kiosk:<kiosk>:<addr>").
    The try is counted (and committed) before the password is checked; the request commits the
    rest (a rehash, the caller's audit row).
    """
    username = (username or "").strip()
    may_check, locked_now = reserve_try(source)
    if not may_check:
        # One argon2 verify still, against the dummy: a locked source answers in the same time
        # whatever was typed, and the real hash is not looked at.
        verify_secret(_dummy(), password or "")
        return None, LOCKED_MESSAGE
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username)) if username else None
    known = user is not None and user.active
    # Always one argon2 verify, whatever the username.
    ok = verify_secret(user.password_hash if known else _dummy(), password or "")
    if not (known and ok):
        return None, LOCKED_MESSAGE if locked_now else REFUSED_MESSAGE
    clear(source)
    if needs_rehash(user.password_hash):
        # Hashed under older argon2 parameters (or by another tool): upgraded now, while the
        # password is at hand, so raising the parameters reaches every clerk at their next sign-in.
        user.password_hash = hash_secret(password)
    return user, None


def authenticate(username: str, password: str, source: str = "default") -> StaffUser | None:
    """Compatibility wrapper: the user, or None."""
    user, _ = check(username, password, source)
    return user


def session_user(user_id: str) -> StaffUser | None:
    """The clerk a console session cookie names (``"<id>:<session_nonce>"``), or None once that
    session was ended on the server side (logout, password change or reset, account disabled)."""
    staff_id, _, nonce = (user_id or "").partition(":")
    if not (staff_id.isascii() and staff_id.isdigit()) or not nonce:
        return None
    user = db.session.get(StaffUser, int(staff_id))
    if user is None or not user.active or not nonce.isascii():
        return None
    return user if secrets.compare_digest(user.session_nonce.encode(), nonce.encode()) else None


def staff_user(staff_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, staff_id)


def session_expired(user: StaffUser) -> None:
    audit.record("staff_session_expired", actor=user.actor)


def refused(username: str, where: str) -> None:
    """Audit a refused sign-in (the request commits it with the page)."""
    audit.record("staff_login_refused", actor="system", username=audit_name(username), source=where)


def audit_name(username: str) -> str:
    """The username for the audit log only if such an account exists: a clerk who typed
    their password into the username box must not find it in the log."""
    known = db.session.scalar(select(StaffUser.id).where(StaffUser.username == username.strip()))
    return username.strip() if known is not None else "(không có tài khoản này)"

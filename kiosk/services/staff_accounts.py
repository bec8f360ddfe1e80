"""Staff accounts: create, disable, reset, change password; end every session of a clerk.

Sessions are ended server-side by giving the account a new ``session_nonce``: the nonce is
part of the id Flask-Login keeps in the cookie, so any cookie issued before (a replayed one
included) no longer names a user.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import StaffUser, new_token, utcnow
from kiosk.domain import free_text  # h6: hidden characters in free text
from kiosk.domain.credentials import hash_secret, password_problems, verify_secret

ROLES = {"clerk": "Nhân viên", "admin": "Quản trị"}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")


class AccountError(ValueError):
    """A Vietnamese message for the form."""


def find(user_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, user_id)


def all_accounts() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.username)))


def end_sessions(user: StaffUser) -> None:
    user.session_nonce = new_token()


def _check_password(password: str, confirm: str) -> None:
    if password != confirm:
        raise AccountError("Hai lần nhập mật khẩu không giống nhau.")
    problems = password_problems(password)
    if problems:
        raise AccountError("Mật khẩu chưa đạt: " + "; ".join(problems) + ".")


def create(actor: StaffUser, username: str, full_name: str, role: str, password: str,
           confirm: str) -> StaffUser:
    username = (username or "").strip().lower()
    # h6 (free text): no hidden/bidi characters in a name the console and audit trail show
    if problem := free_text.problem(full_name or ""):
        raise AccountError(problem)
    full_name = " ".join((full_name or "").split())
    if not _USERNAME.match(username):
        raise AccountError("Tên đăng nhập: 3–40 ký tự a–z, 0–9, dấu chấm, gạch dưới hoặc gạch ngang.")
    if not full_name or len(full_name) > 200:
        raise AccountError("Vui lòng nhập họ và tên nhân viên.")
    if role not in ROLES:
        raise AccountError("Vai trò không hợp lệ.")
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AccountError("Tên đăng nhập này đã có.")
    _check_password(password, confirm)
    user = StaffUser(username=username, full_name=full_name, role=role,
                     password_hash=hash_secret(password), password_changed_at=utcnow())
    db.session.add(user)
    audit.record("staff_created", actor=actor.actor, username=username, role=role)
    db.session.commit()
    return user


def set_active(actor: StaffUser, user: StaffUser, active: bool) -> None:
    if user.id == actor.id and not active:
        raise AccountError("Không thể tự khóa tài khoản đang đăng nhập.")
    user.active = active
    if not active:
        end_sessions(user)
    audit.record("staff_enabled" if active else "staff_disabled", actor=actor.actor,
                 username=user.username)
    db.session.commit()


def set_role(actor: StaffUser, user: StaffUser, role: str) -> None:
    if role not in ROLES:
        raise AccountError("Vai trò không hợp lệ.")
    if user.id == actor.id and role != "admin":
        raise AccountError("Không thể tự bỏ quyền quản trị của chính mình.")
    user.role = role
    end_sessions(user)  # the new role applies from the next sign-in
    audit.record("staff_role_changed", actor=actor.actor, username=user.username, role=role)
    db.session.commit()


def reset_password(actor: StaffUser, user: StaffUser, password: str, confirm: str) -> None:
    """An admin sets a new password for a clerk who forgot theirs: every session ends."""
    _check_password(password, confirm)
    user.password_hash = hash_secret(password)
    user.password_changed_at = utcnow()
    end_sessions(user)
    audit.record("staff_password_reset", actor=actor.actor, username=user.username)
    db.session.commit()


def change_own_password(user: StaffUser, current: str, password: str, confirm: str) -> None:
    if not verify_secret(user.password_hash, current or ""):
        raise AccountError("Mật khẩu hiện tại không đúng.")
    if password == current:
        raise AccountError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    _check_password(password, confirm)
    user.password_hash = hash_secret(password)
    user.password_changed_at = utcnow()
    end_sessions(user)
    audit.record("staff_password_changed", actor=user.actor)
    db.session.commit()


def signed_in(user: StaffUser) -> None:
    user.last_login_at = utcnow()
    audit.record("staff_login", actor=user.actor)
    db.session.commit()


def signed_out(user: StaffUser) -> None:
    end_sessions(user)
    audit.record("staff_logout", actor=user.actor)
    db.session.commit()

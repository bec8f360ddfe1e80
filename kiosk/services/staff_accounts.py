"""Staff accounts: create, disable, reset, change password; end every session of a clerk.

Sessions are ended server-side by giving the account a new ``session_nonce``: the nonce is
part of the id Flask-Login keeps in the cookie, so any cookie issued before (a replayed one
included) no longer names a user.

The console and ``flask --app kiosk create-staff`` call the same functions; they flush and
never commit: the request (services/unit_of_work) or the command commits after they return.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Office, StaffUser, new_token, utcnow
from kiosk.domain import free_text
from kiosk.domain.credentials import hash_secret, password_problems, verify_secret
from kiosk.services import rows

ROLES = {"clerk": "Nhân viên", "admin": "Quản trị"}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")


class AccountError(ValueError):
    """A Vietnamese message for the form."""


def find(user_id: int) -> StaffUser | None:
    return rows.get(StaffUser, user_id)


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


def _username(raw: str) -> str:
    username = (raw or "").strip().lower()
    if not _USERNAME.match(username):
        raise AccountError("Tên đăng nhập: 3–40 ký tự a–z, 0–9, dấu chấm, gạch dưới hoặc gạch ngang.")
    return username


def _details(full_name: str, role: str) -> str:
    # No hidden or bidi characters in a name the console and the audit trail show.
    if problem := free_text.problem(full_name or ""):
        raise AccountError(problem)
    full_name = " ".join((full_name or "").split())
    if not full_name or len(full_name) > 200:
        raise AccountError("Vui lòng nhập họ và tên nhân viên.")
    if role not in ROLES:
        raise AccountError("Vai trò không hợp lệ.")
    return full_name


NEEDS_OFFICE = "Nhân viên cần thuộc một đơn vị: vui lòng chọn đơn vị."


def _office(office_id, role: str) -> Office | None:
    """The office picked on the form (an id), checked: a clerk must have an active one (their
    board shows its customers only); an administrator may have none (sees every office)."""
    raw = str(office_id or "").strip()
    if not raw:
        if role == "clerk":
            raise AccountError(NEEDS_OFFICE)
        return None
    office = rows.from_form(Office, raw)
    if office is None:
        raise AccountError("Đơn vị không có trong danh sách.")
    if not office.active:
        raise AccountError(f"Đơn vị {office.name} đã ngừng hoạt động: chọn đơn vị khác.")
    return office


def _office_by_code(code: str | None, role: str) -> Office | None:
    """``create-staff --office CODE``; without it a clerk joins the only active office when
    there is just one (a single-office deployment needs no flag)."""
    if code:
        office = db.session.scalar(select(Office).where(Office.code == code.strip().lower()))
        if office is None:
            raise AccountError(f"Không có đơn vị mã {code} (xem: flask --app kiosk offices list).")
        return _office(office.id, role)
    if role != "clerk":
        return None
    active = list(db.session.scalars(select(Office).where(Office.active.is_(True)).limit(2)))
    if len(active) != 1:
        raise AccountError("Nhân viên cần thuộc một đơn vị: thêm --office MÃ_ĐƠN_VỊ.")
    return active[0]


def _by_username(username: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def create(actor: StaffUser, username: str, full_name: str, role: str, password: str,
           confirm: str, office_id=None) -> StaffUser:
    username = _username(username)
    full_name = _details(full_name, role)
    if _by_username(username) is not None:
        raise AccountError("Tên đăng nhập này đã có.")
    office = _office(office_id, role)
    _check_password(password, confirm)
    user = StaffUser(username=username, full_name=full_name, role=role,
                     password_hash=hash_secret(password), password_changed_at=utcnow(),
                     office_id=office.id if office else None)
    db.session.add(user)
    audit.record("staff_created", actor=actor.actor, username=username, role=role,
                 office=office.code if office else None)
    db.session.flush()
    return user


def set_up_from_the_command_line(username: str, full_name: str, role: str, password: str,
                                 office_code: str | None = None) -> tuple[StaffUser, bool]:
    """``flask --app kiosk create-staff``: create the account, or — when the username exists —
    give it this name, role and password, enable it and end its sessions (how the first admin
    gets in, and how an admin locked out of the console gets back). True when created.

    The person at the server's terminal typed the password twice (the command's prompt), so
    there is no confirmation to compare here. Audited as the system: no clerk is signed in.
    """
    username = (username or "").strip()
    user = _by_username(username)
    if user is None:
        username = _username(username)
        user = _by_username(username)  # the same account typed in capitals
    full_name = _details(full_name, role)
    if office_code or user is None or role != "clerk" or user.office_id is None:
        office = _office_by_code(office_code, role)
        office_id = office.id if office else None
    else:
        office_id = user.office_id  # an existing clerk keeps their office unless told
    _check_password(password, password)
    created = user is None
    if created:
        user = StaffUser(username=username, full_name=full_name, role=role, password_hash="")
        db.session.add(user)
    user.full_name, user.role, user.active = full_name, role, True
    user.office_id = office_id
    user.password_hash = hash_secret(password)
    user.password_changed_at = utcnow()
    end_sessions(user)  # a reset password ends every console session of this account
    audit.record("staff_created" if created else "staff_password_reset", actor="system",
                 username=user.username, role=role, where="cli")
    db.session.flush()
    return user, created


def set_active(actor: StaffUser, user: StaffUser, active: bool) -> None:
    if user.id == actor.id and not active:
        raise AccountError("Không thể tự khóa tài khoản đang đăng nhập.")
    user.active = active
    if not active:
        end_sessions(user)
    audit.record("staff_enabled" if active else "staff_disabled", actor=actor.actor,
                 username=user.username)


def set_role(actor: StaffUser, user: StaffUser, role: str) -> None:
    if role not in ROLES:
        raise AccountError("Vai trò không hợp lệ.")
    if user.id == actor.id and role != "admin":
        raise AccountError("Không thể tự bỏ quyền quản trị của chính mình.")
    if role == "clerk" and user.office_id is None:
        raise AccountError("Chọn đơn vị cho tài khoản này trước khi đổi sang nhân viên.")
    user.role = role
    end_sessions(user)  # the new role applies from the next sign-in
    audit.record("staff_role_changed", actor=actor.actor, username=user.username, role=role)


def set_office(actor: StaffUser, user: StaffUser, office_id) -> None:
    """Move an account to another office (or, for an administrator, to none): every session
    ends, so the board it had open stops showing the old office's customers at once."""
    office = _office(office_id, user.role)
    user.office_id = office.id if office else None
    end_sessions(user)
    audit.record("staff_office_changed", actor=actor.actor, username=user.username,
                 office=office.code if office else None)


def reset_password(actor: StaffUser, user: StaffUser, password: str, confirm: str) -> None:
    """An admin sets a new password for a clerk who forgot theirs: every session ends."""
    _check_password(password, confirm)
    user.password_hash = hash_secret(password)
    user.password_changed_at = utcnow()
    end_sessions(user)
    audit.record("staff_password_reset", actor=actor.actor, username=user.username)


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


def signed_in(user: StaffUser) -> None:
    user.last_login_at = utcnow()
    audit.record("staff_login", actor=user.actor)


def signed_out(user: StaffUser) -> None:
    end_sessions(user)
    audit.record("staff_logout", actor=user.actor)

"""Staff accounts (admin): create, disable/enable, change role or office, reset a password.
(`flask --app kiosk create-staff` stays for the first admin.)"""
from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from kiosk.services import offices, staff_accounts
from kiosk.web.staff import bp
from kiosk.web.staff.auth import admin_required
from kiosk.web.staff.render import apply_form


def _page(**extra):
    return render_template("staff/accounts.html", accounts=staff_accounts.all_accounts(),
                           roles=staff_accounts.ROLES, offices=offices.all_offices(), **extra)


@bp.get("/accounts")
@admin_required
def accounts():
    return _page()


def _apply(action, section: str, done: str):
    return apply_form(action, staff_accounts.AccountError, _page, section, done)


def _user(user_id: int):
    return staff_accounts.find(user_id) or abort(404)


@bp.post("/accounts")
@admin_required
def account_create():
    f = request.form
    return _apply(lambda: staff_accounts.create(current_user, f.get("username", ""),
                                                f.get("full_name", ""), f.get("role", ""),
                                                f.get("password", ""), f.get("confirm", ""),
                                                f.get("office", "")),
                  "new", "Đã tạo tài khoản.")


@bp.post("/accounts/<int:user_id>/active")
@admin_required
def account_active(user_id: int):
    user = _user(user_id)
    active = request.form.get("active") == "1"
    return _apply(lambda: staff_accounts.set_active(current_user, user, active), f"user-{user_id}",
                  "Đã mở khóa tài khoản." if active else "Đã khóa tài khoản; mọi phiên đăng nhập đã kết thúc.")


@bp.post("/accounts/<int:user_id>/role")
@admin_required
def account_role(user_id: int):
    user = _user(user_id)
    return _apply(lambda: staff_accounts.set_role(current_user, user, request.form.get("role", "")),
                  f"user-{user_id}", "Đã đổi vai trò.")


@bp.post("/accounts/<int:user_id>/office")
@admin_required
def account_office(user_id: int):
    user = _user(user_id)
    return _apply(lambda: staff_accounts.set_office(current_user, user, request.form.get("office", "")),
                  f"user-{user_id}", "Đã đổi đơn vị; mọi phiên đăng nhập của tài khoản đã kết thúc.")


@bp.post("/accounts/<int:user_id>/password")
@admin_required
def account_reset(user_id: int):
    user = _user(user_id)
    return _apply(lambda: staff_accounts.reset_password(current_user, user,
                                                        request.form.get("password", ""),
                                                        request.form.get("confirm", "")),
                  f"user-{user_id}", "Đã đặt mật khẩu mới; mọi phiên đăng nhập cũ đã kết thúc.")

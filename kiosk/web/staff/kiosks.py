"""«Quầy (máy kiosk)»: the kiosks, their office and printer, whether a kiosk PC is enrolled and
how it last reported itself; «Tạo mã ghép máy» and «Thu hồi».

Who may do what: an administrator adds and edits kiosks (office, printer, on/off) and enrolls or
revokes any of them; a clerk sees their own office's kiosks and may enroll or revoke those (the
clerk at the counter is the one standing next to a replaced kiosk PC). The one-time code is
shown once, on the page that made it, and never again.
"""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user

from kiosk.services import board, kiosk_devices, settings, unit_of_work
from kiosk.web.staff import bp
from kiosk.web.staff.auth import admin_required
from kiosk.web.staff.render import apply_form


def _page(**extra):
    return render_template(
        "staff/kiosks.html", rows=kiosk_devices.rows_for(current_user, settings.PRINTERS),
        offices=kiosk_devices.offices(), printers=settings.PRINTERS,
        undeclared_kiosks=board.undeclared_kiosks() if current_user.is_admin else [],
        is_admin=current_user.is_admin, **extra)


@bp.get("/kiosks")
def kiosks():
    return _page()


def _apply(action, section: str, done: str):
    return apply_form(action, settings.SettingsError, _page, section, done)


@bp.post("/kiosks")
@admin_required
def kiosk_create():
    return _apply(lambda: settings.save_kiosk(current_user, request.form), "new_kiosk",
                  "Đã thêm quầy.")


@bp.post("/kiosks/<int:kiosk_id>")
@admin_required
def kiosk_update(kiosk_id: int):
    kiosk = settings.get_kiosk(kiosk_id) or abort(404)
    return _apply(lambda: settings.save_kiosk(current_user, request.form, kiosk),
                  f"kiosk-{kiosk_id}", "Đã lưu quầy.")


def _manageable(kiosk_id: int):
    kiosk = settings.get_kiosk(kiosk_id) or abort(404)
    if not kiosk_devices.may_manage(current_user, kiosk):
        abort(403)
    return kiosk


@bp.post("/kiosks/<int:kiosk_id>/enroll-code")
def kiosk_enroll_code(kiosk_id: int):
    kiosk = _manageable(kiosk_id)
    try:
        code = kiosk_devices.new_enrollment_code(kiosk, current_user.actor)
    except kiosk_devices.KioskError as err:
        unit_of_work.rollback()
        return _page(errors={f"kiosk-{kiosk_id}": str(err)})
    return _page(new_code={"kiosk_id": kiosk_id, "code": code,
                           "url": url_for("wizard.enroll", code=code, _external=True)})


@bp.post("/kiosks/<int:kiosk_id>/revoke")
def kiosk_revoke(kiosk_id: int):
    kiosk = _manageable(kiosk_id)
    kiosk_devices.revoke(kiosk, current_user.actor)
    return _page(saved={f"kiosk-{kiosk_id}": "Đã thu hồi: máy này phải ghép lại mới dùng được."})

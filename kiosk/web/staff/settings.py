"""Settings (admin): packages and prices, the offices and their contact and app-store links,
and the face thresholds (read-only, with their calibration figures). Kiosks have their own
page (kiosks.py)."""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user

from kiosk.domain import certificate
from kiosk.services import ekyc, offices, settings
from kiosk.web.staff import bp
from kiosk.web.staff.auth import admin_required
from kiosk.web.staff.render import apply_form

# From docs/vision-faces.md (thresholds set on the `calibration` split, figures reported on the
# `evaluation` split: 76 same-person and 1,052 different-person pairs), per face model.
CALIBRATION = {
    "sface": [
        ("Cặp khác người bị máy nhận nhầm là khớp (đánh giá)", "0 / 1052 (0,0 %)"),
        ("Cặp cùng người bị máy từ chối (đánh giá)", "0 / 76 (0,0 %)"),
        ("Cặp cùng người chuyển nhân viên xem (đánh giá)", "0 / 76 (0,0 %)"),
        ("Cặp cùng người khó nhất / cặp khác người gần nhất", "0,529 / 0,664"),
        ("ROC AUC (đánh giá)", "1,0"),
    ],
    "dlib": [
        ("Cặp khác người bị máy nhận nhầm là khớp (đánh giá)", "0 / 1052 (0,0 %)"),
        ("Cặp cùng người bị máy từ chối (đánh giá)", "2 / 76 (2,6 %)"),
        ("Cặp cùng người chuyển nhân viên xem (đánh giá)", "25 / 76 (32,9 %)"),
        ("Cặp cùng người khó nhất / cặp khác người gần nhất", "0,608 / 0,481"),
        ("ROC AUC (đánh giá)", "0,9982"),
    ],
}


def _page(**extra):
    return render_template(
        "staff/settings.html", packages=settings.packages(), offices=offices.all_offices(),
        thresholds=ekyc.thresholds(),
        max_attempts=current_app.config["FACE_MAX_ATTEMPTS"],
        face_model=current_app.config["FACE_MODEL"],
        calibration=CALIBRATION.get(current_app.config["FACE_MODEL"], []),
        max_months=certificate.MAX_CERTIFICATE_MONTHS,
        retired_too_long=certificate.RETIRED_TOO_LONG, **extra)


@bp.get("/settings")
@admin_required
def settings_page():
    return _page()


def _apply(action, section: str, done: str):
    return apply_form(action, settings.SettingsError, _page, section, done)


@bp.post("/settings/packages")
@admin_required
def package_create():
    return _apply(lambda: settings.save_package(current_user, request.form), "new_package",
                  "Đã thêm gói dịch vụ.")


@bp.post("/settings/packages/<int:package_id>")
@admin_required
def package_update(package_id: int):
    package = settings.get_package(package_id) or abort(404)
    return _apply(lambda: settings.save_package(current_user, request.form, package),
                  f"package-{package_id}", "Đã lưu gói dịch vụ.")


@bp.post("/settings/packages/<int:package_id>/active")
@admin_required
def package_active(package_id: int):
    package = settings.get_package(package_id) or abort(404)
    active = request.form.get("active") == "1"
    return _apply(lambda: settings.set_package_active(current_user, package, active),
                  f"package-{package_id}", "Đã mở bán lại gói." if active else "Đã ngừng bán gói.")


def _apply_office(action, section: str, done: str):
    return apply_form(action, offices.OfficeError, _page, section, done)


def _office(office_id: int):
    return offices.get(office_id) or abort(404)


@bp.post("/settings/offices")
@admin_required
def office_create():
    return _apply_office(lambda: offices.create(current_user.actor, request.form), "new_office",
                         "Đã thêm đơn vị. Gán nhân viên cho đơn vị ở trang Nhân viên.")


@bp.post("/settings/offices/<int:office_id>")
@admin_required
def office_update(office_id: int):
    office = _office(office_id)
    return _apply_office(lambda: offices.update(current_user.actor, office, request.form),
                         f"office-{office_id}", "Đã lưu. Phiếu in tiếp theo dùng thông tin mới.")


@bp.post("/settings/offices/<int:office_id>/active")
@admin_required
def office_active(office_id: int):
    office = _office(office_id)
    active = request.form.get("active") == "1"
    return _apply_office(lambda: offices.set_active(current_user.actor, office, active),
                         f"office-{office_id}",
                         "Đã mở lại đơn vị." if active else "Đã ngừng đơn vị.")

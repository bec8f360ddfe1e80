"""Managing the offices (admin, console Settings and the CLI) and giving each clerk an office."""
from __future__ import annotations

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Kiosk, Office, StaffUser

from .staff_console import ADMIN, Clerk, add_admin
from .support.offices import SAM_SON, first_office_id, make_clerk, make_office

NEW = {"code": "nghi-son", "name": "VNPT Nghi Sơn", "address": "Thị xã Nghi Sơn, Thanh Hóa",
       "phone": "0237 3862000", "hotline": "0237 3862999", "email": "nghison@vnpt.vn",
       "website": "smartca.vnpt.vn", "app_store_url": "", "play_store_url": ""}


def _admin(app):
    add_admin(app)
    return Clerk(app, *ADMIN, addr="10.0.0.2")


def _office(app, code):
    with app.app_context():
        return db.session.scalar(select(Office).where(Office.code == code))


def _events(app, name):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_an_admin_creates_an_office_listed_in_settings(app):
    admin = _admin(app)
    html = admin.post("/staff/settings/offices", NEW).get_data(as_text=True)
    assert "Đã thêm đơn vị" in html and "VNPT Nghi Sơn" in html
    office = _office(app, "nghi-son")
    assert office.active and office.hotline == "0237 3862999"
    assert office.app_store_url.startswith("https://apps.apple.com/")  # left empty: the search
    [event] = _events(app, "office_created")
    assert event.actor == "staff:qt.lan" and event.details["office"] == "nghi-son"


def test_office_form_errors_are_vietnamese_and_keep_what_was_typed(app):
    admin = _admin(app)
    for change, message in (({"code": "Nghi Sơn"}, "Mã đơn vị: chữ thường"),
                            ({"code": "thanh-hoa"}, "Mã đơn vị này đã có"),
                            ({"email": "khong-phai-email"}, "Email chưa đúng"),
                            ({"name": ""}, "Vui lòng nhập tên đơn vị"),
                            ({"play_store_url": "http://play.google.com"}, "https://")):
        response = admin.post("/staff/settings/offices", {**NEW, **change})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and message in html, change
        assert 'value="0237 3862999"' in html  # the typed hotline is still in the form
    assert _office(app, "nghi-son") is None and not _events(app, "office_created")


def test_an_admin_edits_an_offices_contact(app):
    admin = _admin(app)
    office_id = make_office(app)
    html = admin.post(f"/staff/settings/offices/{office_id}",
                      {**SAM_SON, "hotline": "0237 3821888"}).get_data(as_text=True)
    assert "Đã lưu" in html
    assert _office(app, "sam-son").hotline == "0237 3821888"
    bad = admin.post(f"/staff/settings/offices/{office_id}", {**SAM_SON, "email": "x"})
    assert "Email chưa đúng" in bad.get_data(as_text=True)
    assert admin.post("/staff/settings/offices/999999", SAM_SON).status_code == 404


def test_an_office_with_active_clerks_or_kiosks_cannot_be_deactivated(app):
    admin = _admin(app)
    office_id = make_office(app)
    clerk_id = make_clerk(app, "nv.binh", "Binh@2026", office_id)
    with app.app_context():
        db.session.add(Kiosk(code="ss-01", name="Quầy Sầm Sơn", office_id=office_id))
        db.session.commit()
    html = admin.post(f"/staff/settings/offices/{office_id}/active", {"active": "0"}).get_data(as_text=True)
    assert "Chưa ngừng được đơn vị này: còn 1 nhân viên đang làm việc và 1 quầy đang dùng" in html
    assert _office(app, "sam-son").active
    with app.app_context():
        db.session.get(StaffUser, clerk_id).active = False
        db.session.scalar(select(Kiosk).where(Kiosk.code == "ss-01")).active = False
        db.session.commit()
    html = admin.post(f"/staff/settings/offices/{office_id}/active", {"active": "0"}).get_data(as_text=True)
    assert "Đã ngừng đơn vị" in html and not _office(app, "sam-son").active
    assert _events(app, "office_deactivated")
    admin.post(f"/staff/settings/offices/{office_id}/active", {"active": "1"})
    assert _office(app, "sam-son").active and _events(app, "office_reactivated")


def test_offices_are_managed_by_administrators_only(app):
    clerk = Clerk(app)
    assert clerk.post("/staff/settings/offices", NEW).status_code == 403
    assert clerk.post(f"/staff/settings/offices/{first_office_id(app)}/active",
                      {"active": "0"}).status_code == 403


# ---- each clerk's office --------------------------------------------------------------------

def _create(admin, **override):
    return admin.post("/staff/accounts", {"username": "nv.minh", "full_name": "Trần Văn Minh",
                                          "role": "clerk", "password": "Minh@2026",
                                          "confirm": "Minh@2026", **override})


def test_a_clerk_without_an_office_is_refused(app):
    admin = _admin(app)
    html = _create(admin, office="").get_data(as_text=True)
    assert "Nhân viên cần thuộc một đơn vị" in html and 'value="nv.minh"' in html
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.username == "nv.minh")) is None


def test_a_clerk_is_created_in_an_office_and_an_admin_may_have_none(app):
    admin = _admin(app)
    office_id = make_office(app)
    assert "Đã tạo tài khoản" in _create(admin, office=str(office_id)).get_data(as_text=True)
    assert "Đã tạo tài khoản" in _create(admin, username="qt.hai", role="admin",
                                         office="").get_data(as_text=True)
    with app.app_context():
        users = {u.username: u.office_id for u in db.session.scalars(select(StaffUser))}
    assert users["nv.minh"] == office_id and users["qt.hai"] is None
    assert "VNPT Sầm Sơn" in Clerk(app, "nv.minh", "Minh@2026", addr="10.0.0.9").html("/staff/")


def test_a_deactivated_office_takes_no_new_clerk(app):
    admin = _admin(app)
    office_id = make_office(app, active=False)
    html = _create(admin, office=str(office_id)).get_data(as_text=True)
    assert "đã ngừng hoạt động" in html


def test_moving_a_clerk_to_another_office_ends_their_sessions(app):
    admin = _admin(app)
    office_id = make_office(app)
    clerk = Clerk(app)
    with app.app_context():
        clerk_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "nv.hoa"))
    html = admin.post(f"/staff/accounts/{clerk_id}/office", {"office": str(office_id)}).get_data(as_text=True)
    assert "Đã đổi đơn vị" in html
    assert clerk.get("/staff/").status_code == 302
    [event] = _events(app, "staff_office_changed")
    assert event.details == {"username": "nv.hoa", "office": "sam-son"}
    refused = admin.post(f"/staff/accounts/{clerk_id}/office", {"office": ""}).get_data(as_text=True)
    assert "Nhân viên cần thuộc một đơn vị" in refused


def test_an_admin_without_an_office_cannot_become_a_clerk(app):
    admin = _admin(app)
    make_clerk(app, "qt.hai", "Hai@2026x", None, role="admin")
    with app.app_context():
        hai = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "qt.hai"))
    html = admin.post(f"/staff/accounts/{hai}/role", {"role": "clerk"}).get_data(as_text=True)
    assert "Chọn đơn vị cho tài khoản này" in html


# ---- the command line -----------------------------------------------------------------------

def test_cli_adds_and_lists_offices(app, runner):
    result = runner.invoke(args=["offices", "add", "nghi-son", "--name", "VNPT Nghi Sơn"])
    assert result.exit_code == 0, result.output
    assert "Đã thêm đơn vị nghi-son" in result.output
    listed = runner.invoke(args=["offices", "list"]).output
    assert "thanh-hoa" in listed and "nghi-son\tđang hoạt động\tVNPT Nghi Sơn" in listed
    again = runner.invoke(args=["offices", "add", "nghi-son", "--name", "X"])
    assert again.exit_code != 0 and "Mã đơn vị này đã có" in again.output


def test_cli_create_staff_puts_the_clerk_in_the_named_office(app, runner):
    make_office(app)
    result = runner.invoke(args=["create-staff", "nv.binh", "--full-name", "Lê Văn Bình",
                                 "--office", "sam-son", "--password-stdin"], input="Binh@2026\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        binh = db.session.scalar(select(StaffUser).where(StaffUser.username == "nv.binh"))
        assert binh.office_id == _office(app, "sam-son").id
    unknown = runner.invoke(args=["create-staff", "nv.an", "--full-name", "An",
                                  "--office", "khong-co", "--password-stdin"], input="Binh@2026\n")
    assert unknown.exit_code != 0 and "Không có đơn vị mã khong-co" in unknown.output
    # Two offices: a clerk without --office is refused (one office: it is the one).
    none = runner.invoke(args=["create-staff", "nv.an", "--full-name", "An", "--password-stdin"],
                         input="Binh@2026\n")
    assert none.exit_code != 0 and "--office" in none.output


def test_init_seeds_the_default_office_only_when_there_is_none(app, runner):
    make_office(app)
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        codes = sorted(db.session.scalars(select(Office.code)))
    assert codes == ["sam-son", "thanh-hoa"]

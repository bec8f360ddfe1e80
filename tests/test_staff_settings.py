"""Settings (admin): packages and prices, office contact reaching the next receipt, kiosks and
their printers, face thresholds shown read-only."""
from __future__ import annotations

import io
import unicodedata

from pypdf import PdfReader
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document, Kiosk, Office, ServicePackage

from .staff_console import ADMIN, Clerk, add_admin


def _admin(app):
    add_admin(app)
    return Clerk(app, *ADMIN, addr="10.0.0.2")


def _package(app, code):
    with app.app_context():
        return db.session.scalar(select(ServicePackage).where(ServicePackage.code == code))


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def test_editing_a_sample_package_sets_the_price_and_drops_the_sample_label(app, kiosk):
    admin = _admin(app)
    sample = _package(app, "SMARTCA-CN-12")
    assert sample.is_sample
    html = admin.post(f"/staff/settings/packages/{sample.id}", {
        "name": "SmartCA cá nhân 1 năm", "duration_months": "12", "price_vnd": "275.000 đ",
        "description": "Chứng thư số cá nhân"}).get_data(as_text=True)
    assert "Đã lưu gói dịch vụ" in html
    edited = _package(app, "SMARTCA-CN-12")
    assert edited.price_vnd == 275_000 and not edited.is_sample
    kiosk.walk_to(2)
    step2 = kiosk.get(kiosk.url(2)).get_data(as_text=True)
    card = step2.split("SmartCA cá nhân 1 năm", 1)[1].split("</label>", 1)[0]
    assert "275.000" in card and "giá mẫu" not in card


def test_bad_package_input_is_refused_in_place(app):
    admin = _admin(app)
    sample = _package(app, "SMARTCA-CN-12")
    for price, message in (("abc", "Giá: nhập số tiền"), ("0", "lớn hơn 0"), ("999.999.999", "không quá")):
        response = admin.post(f"/staff/settings/packages/{sample.id}", {
            "name": "X", "duration_months": "12", "price_vnd": price})
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    bad_months = admin.post(f"/staff/settings/packages/{sample.id}", {
        "name": "X", "duration_months": "năm", "price_vnd": "1000"}).get_data(as_text=True)
    assert "số tháng" in bad_months
    assert _package(app, "SMARTCA-CN-12").price_vnd == 250_000  # unchanged


def test_add_retire_and_restore_a_package(app, kiosk):
    admin = _admin(app)
    html = admin.post("/staff/settings/packages", {
        "code": "smartca-dn-12", "name": "SmartCA doanh nghiệp 1 năm", "duration_months": "12",
        "price_vnd": "1.500.000"}).get_data(as_text=True)
    assert "Đã thêm gói" in html
    new = _package(app, "SMARTCA-DN-12")
    assert new.price_vnd == 1_500_000 and new.active and not new.is_sample
    dup = admin.post("/staff/settings/packages", {
        "code": "SMARTCA-DN-12", "name": "X", "duration_months": "12", "price_vnd": "1000"})
    assert "đã có" in dup.get_data(as_text=True)
    admin.post(f"/staff/settings/packages/{new.id}/active", {"active": "0"})
    assert not _package(app, "SMARTCA-DN-12").active
    kiosk.walk_to(2)
    assert "SmartCA doanh nghiệp" not in kiosk.get(kiosk.url(2)).get_data(as_text=True)
    admin.post(f"/staff/settings/packages/{new.id}/active", {"active": "1"})
    assert "SmartCA doanh nghiệp" in kiosk.get(kiosk.url(2)).get_data(as_text=True)


def test_the_last_package_on_sale_cannot_be_retired(app):
    admin = _admin(app)
    with app.app_context():
        ids = [p.id for p in db.session.scalars(select(ServicePackage))]
    for package_id in ids[:-1]:
        admin.post(f"/staff/settings/packages/{package_id}/active", {"active": "0"})
    html = admin.post(f"/staff/settings/packages/{ids[-1]}/active", {"active": "0"}).get_data(as_text=True)
    assert "ít nhất một gói" in html


OFFICE = {
    "name": "VNPT Thanh Hóa", "address": "26A Đại lộ Lê Lợi, Phường Điện Biên, TP Thanh Hóa",
    "phone": "0237 3858000", "hotline": "18001260 nhánh 9", "email": "hotro.moi@vnpt.vn",
    "website": "smartca.vnpt.vn",
    "app_store_url": "https://apps.apple.com/vn/app/vnpt-smartca/id1234567890",
    "play_store_url": "https://play.google.com/store/apps/details?id=com.vnpt.smartca",
}


def _first_office(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Office.id).order_by(Office.id))


def test_office_contact_and_store_links_reach_the_next_receipt(app, kiosk):
    admin = _admin(app)
    html = admin.post(f"/staff/settings/offices/{_first_office(app)}", OFFICE).get_data(as_text=True)
    assert "Phiếu in tiếp theo" in html
    kiosk.walk_to(10)
    with app.app_context():
        receipt = db.session.scalar(select(Document).where(Document.kind == "receipt"))
        text = _pdf_text(receipt.content)
    assert "18001260 nhánh 9" in text and "hotro.moi@vnpt.vn" in text
    qr = kiosk.client.get("/qr/app-store.svg")
    assert qr.status_code == 200
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "office_updated"))
    assert event.actor == "staff:qt.lan" and "hotline" in event.details["fields"]


def test_office_form_refuses_bad_links_and_emails(app):
    admin = _admin(app)
    for change, message in (({"app_store_url": "javascript:alert(1)"}, "https://"),
                            ({"email": "khong-phai-email"}, "Email chưa đúng"),
                            ({"hotline": ""}, "Vui lòng nhập đường dây nóng")):
        response = admin.post(f"/staff/settings/offices/{_first_office(app)}", {**OFFICE, **change})
        assert response.status_code == 200 and message in response.get_data(as_text=True)


def _quay01(app) -> int:
    """The seeded kiosk's id (every test app has quay-01, enrolled)."""
    with app.app_context():
        return db.session.scalar(select(Kiosk.id).where(Kiosk.code == "quay-01"))


def test_kiosks_with_their_own_printer(app, kiosk, tmp_path):
    admin = _admin(app)
    html = admin.post(f"/staff/kiosks/{_quay01(app)}", {"name": "Quầy 1 — tầng trệt",
                                                        "printer": "file"}).get_data(as_text=True)
    assert "Đã lưu quầy" in html
    bad = admin.post("/staff/kiosks", {"code": "quay-02", "name": "Quầy 2", "printer": "cups"})
    assert "hàng đợi in" in bad.get_data(as_text=True)
    evil = admin.post("/staff/kiosks", {"code": "quay-03", "name": "Q3", "printer": "cups",
                                        "printer_queue": "x; rm -rf /"})
    assert "Tên hàng đợi in chỉ gồm" in evil.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Kiosk).where(Kiosk.code == "quay-01")).printer == "file"
    kiosk.walk_to(3)
    assert "Quầy 1 — tầng trệt" in Clerk(app).html("/staff/")  # the board uses the kiosk's name


def test_thresholds_are_shown_read_only_with_calibration_figures(app):
    html = _admin(app).html("/staff/settings")
    # the deciding model's thresholds (SFace by default) and its calibration figures
    assert "0.58" in html and "0.75" in html and "SFace" in html and "ROC AUC" in html
    assert "0,529 / 0,664" in html
    assert 'name="accept"' not in html and 'name="FACE_ACCEPT_DISTANCE"' not in html


def test_a_kiosks_own_printer_prints_its_receipts(app, kiosk, tmp_path):
    """The kiosk row says CUPS queue «hp1»: the receipt goes to `lp -d hp1`, not to PRINTER."""
    printed = tmp_path / "printed.pdf"
    lp = tmp_path / "lp"
    lp.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {printed}\n'
                  'echo "request id is hp1-7 (1 file(s))"\n')
    lp.chmod(0o755)
    app.config["PRINTER_LP_PATH"] = str(lp)
    _admin(app).post(f"/staff/kiosks/{_quay01(app)}", {"name": "Quầy 1",
                                                       "printer": "cups", "printer_queue": "hp1"})
    kiosk.walk_to(10)
    assert printed.read_bytes().startswith(b"%PDF")
    assert "-d hp1" in (tmp_path / "args").read_text()
    assert not list((tmp_path / "instance" / "prints").glob("*.pdf"))  # not the app's printer


def test_a_kiosk_printer_under_a_browser_default_closes_the_done_screen_as_a_printer_does(
        browser_printing, kiosk, tmp_path):
    """The server prints through the browser (PRINTER's shipped default) but this kiosk has a
    printer of its own: the receipt comes out of that printer once, and the done screen says
    so and closes, instead of printing it a second time through the browser."""
    app = browser_printing
    app.config["PRINTER_DIRECTORY"] = str(tmp_path / "prints")  # read by the kiosk's printer
    admin = _admin(app)
    admin.post(f"/staff/kiosks/{_quay01(app)}", {"name": "Quầy 1", "printer": "file"})
    kiosk.walk_to(10)
    assert len(list((tmp_path / "prints").glob("*.pdf"))) == 1
    # the screen follows the printer the receipt went to, not a console change made since
    admin.post(f"/staff/kiosks/{_quay01(app)}", {"name": "Quầy 1", "printer": "browser"})
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert "Phiếu đã được gửi tới máy in" in html
    assert "data-autoprint" not in html and "data-reprint-poll" not in html
    assert kiosk.get(f"/r/{kiosk.token}/receipt.pdf").status_code == 404


def test_a_browser_printing_kiosk_under_a_printer_default_prints_through_its_browser(
        app, kiosk, tmp_path):
    """The other way round: the server has a printer, this kiosk prints through its browser
    (no printer at its counter). Its done screen draws the receipt and prints it, keeps it
    open for that, and «In lại phiếu» prints through the browser again."""
    from kiosk import providers

    app.config["PRINTER_DIRECTORY"] = str(tmp_path / "prints")  # PRINTER is "file" in tests
    providers.init_app(app)
    _admin(app).post(f"/staff/kiosks/{_quay01(app)}", {"name": "Quầy 1", "printer": "browser"})
    kiosk.walk_to(10)
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert "data-autoprint" in html and "Phiếu đã được gửi tới máy in" not in html
    assert kiosk.get(f"/r/{kiosk.token}/receipt/print").status_code == 200
    again = kiosk.post(f"/r/{kiosk.token}/print", {}).get_data(as_text=True)
    assert "data-autoprint" in again and "Đã gửi lệnh in lại phiếu" not in again
    assert not list((tmp_path / "prints").glob("*.pdf"))  # never the server's printer


def test_a_48_month_package_is_refused_with_the_decree_and_what_was_typed_kept(app, kiosk):
    """Decree 23/2025/NĐ-CP: a subscriber certificate lasts at most 3 years."""
    admin = _admin(app)
    html = admin.post("/staff/settings/packages", {
        "code": "SMARTCA-CN-48", "name": "SmartCA cá nhân 4 năm", "duration_months": "48",
        "price_vnd": "800.000", "description": "Bốn năm"}).get_data(as_text=True)
    assert "Thời hạn chứng thư số tối đa 36 tháng (Nghị định 23/2025/NĐ-CP)." in html
    assert 'value="SMARTCA-CN-48"' in html and 'value="SmartCA cá nhân 4 năm"' in html
    assert 'value="48"' in html and 'value="800.000"' in html
    assert _package(app, "SMARTCA-CN-48") is None
    sample = _package(app, "SMARTCA-CN-36")
    edit = admin.post(f"/staff/settings/packages/{sample.id}", {
        "name": "Gói sửa", "duration_months": "48", "price_vnd": "650.000"}).get_data(as_text=True)
    assert "tối đa 36 tháng" in edit and 'value="Gói sửa"' in edit and 'value="48"' in edit
    assert _package(app, "SMARTCA-CN-36").duration_months == 36  # unchanged
    ok = admin.post(f"/staff/settings/packages/{sample.id}", {
        "name": "SmartCA cá nhân 3 năm", "duration_months": "36", "price_vnd": "600.000"})
    assert "Đã lưu gói dịch vụ" in ok.get_data(as_text=True)


def test_a_longer_package_left_in_the_table_is_neither_offered_nor_chosen(app, kiosk):
    """A row written around the console (older version, SQL) is still not sold at step 2."""
    with app.app_context():
        long = ServicePackage(code="OLD-60", name="Gói năm năm cũ", duration_months=60,
                              price_vnd=900_000, active=True, sort_order=0)
        db.session.add(long)
        db.session.commit()
        long_id = long.id
    kiosk.walk_to(2)
    assert "Gói năm năm cũ" not in kiosk.get(kiosk.url(2)).get_data(as_text=True)
    response = kiosk.post(kiosk.url(2), {"package": str(long_id)})
    assert response.status_code == 200
    with app.app_context():
        from kiosk.core.models import Registration
        assert db.session.scalar(select(Registration.package_id)) != long_id
    admin = _admin(app)
    html = admin.post(f"/staff/settings/packages/{long_id}/active", {"active": "0"})
    html = admin.post(f"/staff/settings/packages/{long_id}/active", {"active": "1"}).get_data(as_text=True)
    assert "tối đa 36 tháng" in html and not _package(app, "OLD-60").active

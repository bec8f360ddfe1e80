"""The console's board, search, registration detail and the clerk's actions (each audited)."""
from __future__ import annotations

import re

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document
from tests.app_factory import kiosk_client

from .staff_console import Clerk


def _events(app, name):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_board_lists_todays_registrations_by_kiosk_with_masked_numbers(app, kiosk):
    kiosk.walk_to(4)
    reg = kiosk.registration()
    clerk = Clerk(app)
    html = clerk.html("/staff/")
    assert reg.number in html and "quay-01" in html and 'hx-trigger="every 5s"' in html
    assert "038******345" in html and "091* *** 678" in html
    assert "038085012345" not in html and "0912 345 678" not in html
    assert "4. " in html  # the step the customer is on


def test_board_poll_returns_a_fragment(app, kiosk):
    kiosk.start()
    html = Clerk(app).html("/staff/board/live", headers={"HX-Request": "true"})
    assert "<html" not in html and kiosk.registration().number in html


def test_search_by_id_number_phone_and_registration_number(app, kiosk):
    kiosk.walk_to(4)
    number = kiosk.registration().number
    clerk = Clerk(app)
    for query in ("038085012345", "038 085 012 345", "0912345678", "+84 912 345 678",
                  number, number[-6:]):
        html = clerk.html(f"/staff/search?q={query}")
        assert number in html, query
        assert "038085012345" not in html.split("<tbody>", 1)[1]
    assert "Không tìm thấy" in clerk.html("/staff/search?q=038099999999")
    assert "Không tìm thấy" in clerk.html("/staff/search?q=%3Cscript%3E")


def test_detail_shows_declared_data_decision_documents_and_audit_trail(app, kiosk):
    kiosk.walk_to(10)
    reg = kiosk.registration()
    clerk = Clerk(app)
    html = clerk.html(f"/staff/r/{reg.number}")
    assert "038085012345" in html and "Nguyễn Văn An" in html
    assert "Nhân viên xác nhận" in html and "Hợp đồng điện tử" in html and "Phiếu đăng ký" in html
    assert "<td>Bắt đầu đăng ký</td>" in html and "<td>Xác nhận giấy tờ và khuôn mặt</td>" in html
    assert "/evidence/" not in html  # pictures only on request
    assert _events(app, "staff_viewed_registration")
    photos = clerk.html(f"/staff/r/{reg.number}/photos", headers={"HX-Request": "true"})
    urls = re.findall(r'src="([^"]+/evidence/\d+)"', photos)
    assert len(urls) >= 3 and _events(app, "staff_viewed_photos")
    image = clerk.get(urls[0])
    assert image.status_code == 200 and image.headers["Cache-Control"] == "no-store"
    doc = re.search(r'href="(/staff/r/[^"]+/document/\d+)"', html).group(1)
    pdf = clerk.get(doc)
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    assert clerk.get(doc + "?download=1").headers["Content-Disposition"].startswith("attachment")
    assert clerk.get(f"/staff/r/{reg.number}/document/9999").status_code == 404
    assert clerk.get("/staff/r/KHONGCO").status_code == 404


def test_evidence_of_another_registration_is_not_served(app, kiosk):
    kiosk.walk_to(7)
    first = kiosk.registration()
    other = type(kiosk)(kiosk_client(app))
    other.start()
    second = other.registration()
    clerk = Clerk(app)
    evidence_id = first.evidence[0].id
    assert clerk.get(f"/staff/r/{first.number}/evidence/{evidence_id}").status_code == 200
    assert clerk.get(f"/staff/r/{second.number}/evidence/{evidence_id}").status_code == 404


def test_resume_on_another_kiosk_with_a_one_time_code(app, kiosk):
    kiosk.walk_to(3)
    number = kiosk.registration().number
    clerk = Clerk(app)
    html = clerk.post(f"/staff/r/{number}/resume").get_data(as_text=True)
    code = re.search(r'id="resume-code">([A-Z0-9]{8})<', html).group(1)
    assert _events(app, "resume_code_issued")[0].actor == "staff:nv.hoa"

    other_kiosk = type(kiosk)(kiosk_client(app))  # another browser, no session for this one
    token = other_kiosk.csrf()
    wrong = other_kiosk.client.post("/handoff", data={"csrf_token": token, "code": "AAAAAAAA"})
    assert "Mã không đúng" in wrong.get_data(as_text=True)
    ok = other_kiosk.client.post("/handoff", data={"csrf_token": token, "code": code.lower()})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/step/3")
    assert other_kiosk.client.get(ok.headers["Location"]).status_code == 200  # the kiosk took it over
    again = type(kiosk)(kiosk_client(app))
    reused = again.client.post("/handoff", data={"csrf_token": again.csrf(), "code": code})
    assert "Mã không đúng" in reused.get_data(as_text=True)  # one use only
    assert _events(app, "registration_resumed")


def test_wrong_resume_codes_are_throttled(app):
    client = kiosk_client(app)
    from .staff_console import csrf_of

    token = csrf_of(client.get("/handoff").get_data(as_text=True))
    for _ in range(5):
        client.post("/handoff", data={"csrf_token": token, "code": "BBBBBBBB"})
    html = client.post("/handoff", data={"csrf_token": token, "code": "BBBBBBBB"}).get_data(as_text=True)
    assert "quá nhiều lần" in html


def test_cancel_with_a_reason_lets_the_kiosk_go(app, kiosk):
    kiosk.walk_to(3)
    number = kiosk.registration().number
    clerk = Clerk(app)
    html = clerk.post(f"/staff/r/{number}/cancel", {"reason": ""}).get_data(as_text=True)
    assert "chọn lý do" in html
    html = clerk.post(f"/staff/r/{number}/cancel", {"reason": "customer_left"}).get_data(as_text=True)
    assert "Đã hủy hồ sơ" in html and kiosk.registration().status == "cancelled"
    assert _events(app, "registration_cancelled")[0].details["reason"] == "customer_left"
    gone = kiosk.get(kiosk.url(3))  # the kiosk lets go of it: back to the welcome screen
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/?left=cancelled")
    polled = kiosk.client.get(f"/r/{kiosk.token}/help", headers=kiosk.headers())
    assert polled.status_code == 404  # the session no longer holds it
    again = clerk.post(f"/staff/r/{number}/cancel", {"reason": "customer_left"}).get_data(as_text=True)
    assert "đã hủy" in again


def test_a_customer_who_asked_for_help_is_marked_helped_and_the_kiosk_moves_on(app, kiosk):
    kiosk.walk_to(2)
    kiosk.post(f"/r/{kiosk.token}/help", {"reason": "customer_asked"})
    number = kiosk.registration().number
    clerk = Clerk(app)
    assert "Khách bấm «Gọi nhân viên»" in clerk.html("/staff/queue")
    html = clerk.post(f"/staff/r/{number}/help-done").get_data(as_text=True)
    assert "Đã ghi nhận" in html and kiosk.registration().help_requested_at is None
    moved = kiosk.client.get(f"/r/{kiosk.token}/help", headers=kiosk.headers())
    assert moved.headers["HX-Redirect"].endswith(f"/r/{kiosk.token}/step/2")
    again = clerk.post(f"/staff/r/{number}/help-done").get_data(as_text=True)
    assert "không chờ nhân viên" in again


def test_reprint_renders_and_prints_a_new_receipt(app, kiosk):
    kiosk.walk_to(10)
    number = kiosk.registration().number
    clerk = Clerk(app)
    html = clerk.post(f"/staff/r/{number}/reprint").get_data(as_text=True)
    assert "Đã gửi phiếu tới thư mục in của máy chủ" in html
    with app.app_context():
        receipts = db.session.scalars(select(Document).where(Document.kind == "receipt")).all()
    assert len(receipts) == 2 and _events(app, "receipt_reprinted")


def test_reprint_is_refused_for_an_unfinished_registration(app, kiosk):
    kiosk.walk_to(3)
    html = Clerk(app).post(f"/staff/r/{kiosk.registration().number}/reprint").get_data(as_text=True)
    assert "Chỉ in lại phiếu" in html


def test_unlock_a_locked_activation_code_step_with_a_new_code(app, kiosk):
    kiosk.walk_to(5)
    number = kiosk.registration().number
    clerk = Clerk(app)
    refused = clerk.post(f"/staff/r/{number}/unlock-otp").get_data(as_text=True)
    assert "không bị khóa" in refused
    first_code = kiosk.last_sms_code()
    wrong = "000000" if first_code != "000000" else "111111"
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        kiosk.activate(wrong)
    assert "Mở khóa bước nhập mã" in clerk.html(f"/staff/r/{number}")
    html = clerk.post(f"/staff/r/{number}/unlock-otp").get_data(as_text=True)
    assert "Đã gửi mã kích hoạt mới" in html
    assert kiosk.registration().otp_failed_attempts == 0
    kiosk.activate()  # the new code
    assert kiosk.registration().otp_verified_at is not None
    assert _events(app, "otp_unlocked")[0].actor == "staff:nv.hoa"


def test_audit_log_filters_by_registration_clerk_action_and_date(app, kiosk):
    kiosk.walk_to(3)
    number = kiosk.registration().number
    clerk = Clerk(app)
    clerk.html(f"/staff/r/{number}")

    def rows(query):
        return clerk.html(f"/staff/audit?{query}").split('id="audit-rows"', 1)[1]

    by_reg = rows(f"number={number}")
    started, signed_in = "<td>Bắt đầu đăng ký</td>", "<td>Nhân viên đăng nhập</td>"
    assert started in by_reg and signed_in not in by_reg
    by_clerk = rows("actor=nv.hoa")
    assert signed_in in by_clerk and started not in by_clerk
    by_event = rows("event=step_completed")
    assert "<td>Hoàn thành một bước</td>" in by_event
    assert "<td>Khách đồng ý xử lý dữ liệu cá nhân</td>" not in by_event
    from kiosk.core.models import utcnow
    from kiosk.domain.local_time import LOCAL_TZ

    today = utcnow().astimezone(LOCAL_TZ).date().isoformat()
    assert number in clerk.html(f"/staff/audit?day={today}")
    assert "Không có dòng nào" in clerk.html("/staff/audit?day=2001-01-01")
    assert "chưa đúng dạng" in clerk.html("/staff/audit?day=hôm-qua")


def test_sandbox_outbox_is_shown_only_with_the_sandbox_sms_provider(app, kiosk, monkeypatch):
    kiosk.walk_to(5)
    clerk = Clerk(app)
    html = clerk.html("/staff/outbox")
    assert kiosk.last_sms_code() in html and "SMS thử nghiệm" in clerk.html("/staff/")
    import dataclasses

    from kiosk import providers

    real = app.extensions[providers.EXTENSION_KEY]
    monkeypatch.setitem(app.extensions, providers.EXTENSION_KEY, dataclasses.replace(real, sms="http"))
    assert clerk.get("/staff/outbox").status_code == 404
    assert "SMS thử nghiệm" not in clerk.html("/staff/")


def test_reprint_prints_before_it_writes_and_keeps_the_receipt_when_the_printer_fails(
        app, kiosk, tmp_path):
    """The printer runs while the request holds no write lock (SQLite has one for the whole
    database: a kiosk finishing a registration would wait on the printer otherwise); a failed
    print still leaves the new receipt for the clerk to download."""
    import sys

    import pytest

    from kiosk.core.models import Kiosk
    from tests.app_factory import on_postgres

    if on_postgres():
        pytest.skip("SQLite's single write lock")
    kiosk.walk_to(10)
    reg = kiosk.registration()
    seen = tmp_path / "lock-seen"
    lp = tmp_path / "lp"
    # A print queue that checks whether a writer holds the database, then refuses the job.
    lp.write_text(
        f"#!{sys.executable}\nimport sqlite3, sys\n"
        f"con = sqlite3.connect({str(tmp_path / 'kiosk.sqlite')!r}, timeout=0)\n"
        "try:\n    con.execute('BEGIN IMMEDIATE'); con.rollback(); state = 'free'\n"
        "except sqlite3.OperationalError:\n    state = 'locked'\n"
        f"open({str(seen)!r}, 'w').write(state)\n"
        "sys.stdin.buffer.read()\nsys.stderr.write('lp: printer on fire\\n')\nsys.exit(1)\n")
    lp.chmod(0o755)
    app.config["PRINTER_LP_PATH"] = str(lp)
    with app.app_context():
        row = db.session.scalar(select(Kiosk).where(Kiosk.code == reg.kiosk_id))
        row.printer, row.printer_queue = "cups", "hp1"
        db.session.commit()
    html = Clerk(app).post(f"/staff/r/{reg.number}/reprint").get_data(as_text=True)
    assert seen.read_text() == "free"
    assert "Không in được phiếu" in html
    with app.app_context():
        receipts = db.session.scalars(select(Document).where(Document.kind == "receipt")).all()
    assert len(receipts) == 2
    assert _events(app, "receipt_print_failed") and _events(app, "receipt_reprinted")


def test_ids_and_pages_no_row_can_have_find_nothing(app, kiosk):
    """Flask's <int:…> takes any number of digits; the database stops at 2**63 - 1. A typed URL
    answers 404 (or an empty page), never 500."""
    from .staff_console import ADMIN, add_admin

    kiosk.start()
    number = kiosk.registration().number
    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    huge = 10**30
    for path in (f"/staff/r/{number}/document/{huge}", f"/staff/r/{number}/evidence/{huge}",
                 f"/staff/r/{number}/evidence/{huge}/portrait", f"/staff/r/{number}/document/0"):
        assert admin.get(path).status_code == 404, path
    for path in (f"/staff/settings/packages/{huge}", f"/staff/kiosks/{huge}",
                 f"/staff/accounts/{huge}/role", f"/staff/accounts/{huge}/active"):
        assert admin.post(path, {"role": "clerk", "active": "1"}).status_code == 404, path
    assert "Không có dòng nào" in admin.html(f"/staff/audit?page={huge}")
    for page in ("-3", "abc", "9" * 5000):  # read as the first page
        assert "<td>Bắt đầu đăng ký</td>" in admin.html(f"/staff/audit?page={page}"), page[:5]

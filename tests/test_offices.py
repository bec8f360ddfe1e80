"""Several offices on one server: a clerk sees their own office's customers only (everything
reached by number answers 404 for another office's), an administrator sees every office and
narrows with the filter, and a registration's documents carry its own office's contact."""
from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document, IdentityAttestation, Registration

from .kiosk_driver import CUSTOMER
from .staff_console import ADMIN, Clerk, add_admin
from .support.offices import first_office_id, make_clerk, make_office, put_in_office

BINH = ("nv.binh", "Binh@2026")


@pytest.fixture
def office_b(app):
    """A second office (Sầm Sơn) with its own clerk, nv.binh."""
    office_id = make_office(app)
    make_clerk(app, *BINH, office_id)
    return office_id


@pytest.fixture
def waiting(app, kiosk, office_b):
    """Office A's customer (the seeded office, where the test kiosk's registrations land)
    waiting at step 6 for a clerk: in the queue, on the board, searchable."""
    kiosk.walk_to(6)
    kiosk.capture_all()  # noise pictures: no face found → a clerk decides
    reg = kiosk.registration()
    assert reg.help_requested_at is not None and reg.office_id == first_office_id(app)
    return reg


def _clerk_b(app):
    return Clerk(app, *BINH, addr="10.0.0.8")


def _admin(app):
    add_admin(app)
    return Clerk(app, *ADMIN, addr="10.0.0.2")


HX = {"HX-Request": "true"}


# ---- lists ----------------------------------------------------------------------------------

def test_the_board_shows_a_clerk_their_own_office_only(app, waiting):
    assert waiting.number in Clerk(app).html("/staff/board/live", headers=HX)
    other = _clerk_b(app)
    assert waiting.number not in other.html("/staff/board/live", headers=HX)
    assert waiting.number not in other.html("/staff/")


def test_the_queue_and_its_badge_count_only_the_own_office(app, waiting):
    assert waiting.number in Clerk(app).html("/staff/queue")
    assert 'data-queue-count="1"' in Clerk(app).html("/staff/queue/badge", headers=HX)
    other = _clerk_b(app)
    assert waiting.number not in other.html("/staff/queue")
    # The chime rings when this count grows: office A's call leaves office B's console silent.
    assert 'data-queue-count="0"' in other.html("/staff/queue/badge", headers=HX)


@pytest.mark.parametrize("query", ["number", "id_number"])
def test_search_finds_another_offices_customer_for_nobody_there(app, waiting, query):
    q = waiting.number if query == "number" else CUSTOMER["id_number"]
    assert waiting.number in Clerk(app).html(f"/staff/search?q={q}", headers=HX)
    assert waiting.number not in _clerk_b(app).html(f"/staff/search?q={q}", headers=HX)


# ---- one registration, reached by its number --------------------------------------------------

def test_every_page_of_another_offices_registration_is_not_found(app, waiting):
    other = _clerk_b(app)
    n = waiting.number
    with app.app_context():
        evidence_id = db.session.scalar(select(Registration).where(
            Registration.number == n)).evidence[0].id
    for path in (f"/staff/r/{n}", f"/staff/r/{n}/photos", f"/staff/r/{n}/identity",
                 f"/staff/r/{n}/identity.pdf", f"/staff/r/{n}/evidence/{evidence_id}",
                 f"/staff/r/{n}/evidence/{evidence_id}/portrait", f"/staff/review/{n}",
                 f"/staff/r/{n}/document/1", f"/staff/r/{n}/document/1/verify"):
        assert other.get(path).status_code == 404, path
    # The own office's clerk opens it.
    assert Clerk(app).get(f"/staff/r/{n}").status_code == 200
    # Nothing was opened on the other office's behalf: no «viewed» in the trail.
    with app.app_context():
        assert not db.session.scalar(select(AuditEvent).where(
            AuditEvent.actor == "staff:nv.binh", AuditEvent.registration_id == waiting.id))


def test_another_offices_case_cannot_be_approved_or_rejected(app, waiting):
    other = _clerk_b(app)
    assert other.post(f"/staff/review/{waiting.number}/approve").status_code == 404
    assert other.post(f"/staff/review/{waiting.number}/reject",
                      {"reason": "not_same_person"}).status_code == 404
    assert other.post(f"/staff/review/{waiting.number}/allow-retry").status_code == 404
    with app.app_context():
        fresh = db.session.get(Registration, waiting.id)
        assert fresh.help_requested_at is not None and fresh.kyc_decision == "no_face"


def test_another_offices_counter_actions_are_not_found(app, waiting):
    other = _clerk_b(app)
    for action, data in (("resume", {}), ("cancel", {"reason": "customer_left"}),
                         ("reprint", {}), ("unlock-otp", {}), ("help-done", {})):
        assert other.post(f"/staff/r/{waiting.number}/{action}", data).status_code == 404, action
    with app.app_context():
        fresh = db.session.get(Registration, waiting.id)
        assert fresh.status == "in_progress" and fresh.resume_code_digest is None


def test_a_clerk_of_another_office_cannot_confirm_at_this_offices_kiosk(app, kiosk, waiting):
    html = kiosk.staff_confirm(*BINH).get_data(as_text=True)
    assert "thuộc đơn vị khác" in html
    assert kiosk.registration().kyc_decision == "no_face"


# ---- reports, the log, attestations ------------------------------------------------------------

def _csv_started(clerk) -> int:
    text = clerk.get("/staff/reports.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return sum(int(r[3]) for r in rows[1:])


def test_reports_and_csv_count_the_own_office_only(app, waiting):
    assert _csv_started(Clerk(app)) == 1
    assert _csv_started(_clerk_b(app)) == 0


def test_an_admins_report_names_each_rows_office_and_adds_up_each_office(app, kiosk, office_b):
    """Registrations of two offices (the same kiosk code, as a kiosk moved between offices
    would give): each report row says its office, the page adds up each office, and the CSV
    carries the office in its last two columns."""
    kiosk.start()
    first = kiosk.token
    kiosk.start()
    put_in_office(app, kiosk.token, office_b)
    assert first != kiosk.token
    admin = _admin(app)
    html = admin.html("/staff/reports")
    lines = html.split('id="report-lines"', 1)[1].split("</table>", 1)[0]
    assert "VNPT Thanh Hóa" in lines and "VNPT Sầm Sơn" in lines
    offices = html.split('id="report-offices"', 1)[1].split("</table>", 1)[0]
    rows = [r for r in offices.split("<tr>")[1:] if "<td>" in r]
    assert len(rows) == 2 and all("<td>1</td>" in r for r in rows)
    text = admin.get("/staff/reports.csv").get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][-2:] == ["Mã đơn vị", "Đơn vị"] and table[0][:4] == [
        "Ngày", "Mã quầy", "Tên quầy", "Bắt đầu"]
    assert sorted((r[-2], r[-1], r[3]) for r in table[1:]) == [
        ("sam-son", "VNPT Sầm Sơn", "1"), ("thanh-hoa", "VNPT Thanh Hóa", "1")]
    # a clerk sees their own office only: no per-office table of one office
    own = _clerk_b(app).html("/staff/reports")
    assert 'id="report-offices"' not in own and "VNPT Thanh Hóa" not in own.split(
        'id="report-lines"', 1)[1]


def test_two_offices_of_one_name_stay_apart_in_the_report(app, kiosk):
    """Offices are told apart by their code: two named alike are two lines, not one."""
    twin = make_office(app, code="thanh-hoa-2", name="VNPT Thanh Hóa")
    kiosk.start()
    kiosk.start()
    put_in_office(app, kiosk.token, twin)
    text = _admin(app).get("/staff/reports.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert sorted((r[-2], r[3]) for r in rows) == [("thanh-hoa", "1"), ("thanh-hoa-2", "1")]


def test_the_audit_log_shows_the_own_offices_registrations_only(app, waiting):
    assert waiting.number in Clerk(app).html("/staff/audit", headers=HX)
    other = _clerk_b(app)
    rows = other.html("/staff/audit", headers=HX)
    assert waiting.number not in rows and "Bắt đầu đăng ký" not in rows
    assert "Nhân viên đăng nhập" in rows  # their own sign-in is theirs to see
    by_number = other.html(f"/staff/audit?number={waiting.number}", headers=HX)
    assert "Không có dòng nào." in by_number


def _decided_automatically(app, kiosk):
    kiosk.walk_to(7)  # a clerk confirmed at the kiosk: make it look automatic
    with app.app_context():
        reg = kiosk.row()
        reg.kyc_decision, reg.kyc_decided_by = "match", None
        db.session.commit()
        return reg.number


def test_attestations_list_and_bulk_attest_stay_in_the_office(app, kiosk, office_b):
    number = _decided_automatically(app, kiosk)
    other = _clerk_b(app)
    assert number not in other.html("/staff/attestations")
    html = other.post("/staff/attestations", {"number": number}).get_data(as_text=True)
    assert "Đã ghi nhận 0 hồ sơ" in html
    with app.app_context():
        assert db.session.scalar(select(IdentityAttestation)) is None
    assert number in Clerk(app).html("/staff/attestations")


# ---- administrators -------------------------------------------------------------------------

def test_an_admin_sees_every_office_and_the_filter_narrows(app, waiting, office_b):
    admin = _admin(app)
    assert waiting.number in admin.html("/staff/board/live", headers=HX)
    response = admin.post("/staff/office-filter", {"office": str(office_b), "next": "/staff/queue"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/queue")
    assert waiting.number not in admin.html("/staff/board/live", headers=HX)
    assert waiting.number not in admin.html("/staff/queue")
    assert _csv_started(admin) == 0
    # A link still opens: the filter narrows lists, not an administrator's reach.
    assert admin.get(f"/staff/r/{waiting.number}").status_code == 200
    admin.post("/staff/office-filter", {"office": str(first_office_id(app))})
    assert waiting.number in admin.html("/staff/board/live", headers=HX)
    admin.post("/staff/office-filter", {"office": ""})
    assert _csv_started(admin) == 1


def test_the_office_filter_is_for_administrators_and_stays_on_the_console(app, office_b):
    assert _clerk_b(app).post("/staff/office-filter", {"office": "1"}).status_code == 403
    admin = _admin(app)
    away = admin.post("/staff/office-filter", {"office": "", "next": "https://example.com/x"})
    assert away.headers["Location"].endswith("/staff/")
    # not a number (a Unicode digit included): no filter, no error page
    assert admin.post("/staff/office-filter", {"office": "²"}).status_code == 303
    # a page answered to a POST (a kiosk's enrollment code) sends the filter back to the
    # board, never to a POST-only address
    with app.app_context():
        from kiosk.core.models import Kiosk

        kiosk_id = db.session.scalar(select(Kiosk.id))
    page = admin.post(f"/staff/kiosks/{kiosk_id}/enroll-code").get_data(as_text=True)
    assert 'name="next" value="/staff/"' in page


def test_a_registration_without_an_office_is_for_administrators_only(app, waiting):
    put_in_office(app, waiting.token, None)
    assert waiting.number not in Clerk(app).html("/staff/board/live", headers=HX)
    assert Clerk(app).get(f"/staff/r/{waiting.number}").status_code == 404
    assert waiting.number in _admin(app).html("/staff/board/live", headers=HX)


def test_the_header_names_the_clerks_office(app, office_b):
    assert "VNPT Sầm Sơn" in _clerk_b(app).html("/staff/")
    assert "Tất cả đơn vị" in _admin(app).html("/staff/")


# ---- the office's own contact on documents ------------------------------------------------------

def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def test_receipt_and_contract_carry_the_registrations_office(app, kiosk, office_b):
    kiosk.walk_to(6)
    put_in_office(app, kiosk.token, office_b)
    kiosk.capture_all()
    kiosk.staff_confirm(*BINH)  # the clerk at the counter is Sầm Sơn's
    kiosk.sign(7)
    kiosk.pin()
    kiosk.sign(9)
    assert kiosk.registration().status == "finished"
    with app.app_context():
        docs = {d.kind: d.content for d in db.session.scalars(select(Document))}
    receipt, contract = _pdf_text(docs["receipt"]), _pdf_text(docs["contract"])
    assert "0237 3821999" in receipt and "samson@vnpt.vn" in receipt
    assert "18001260" not in receipt  # not the provincial office's hotline
    assert "VNPT Sầm Sơn" in contract


def test_the_kiosk_screen_shows_its_own_offices_contact(app, office_b):
    from flask import g

    from kiosk.core.models import Kiosk
    from kiosk.services import settings

    with app.test_request_context("/"):
        g.kiosk = Kiosk(code="ss-01", name="Quầy Sầm Sơn", office_id=office_b)
        assert settings.office().name == "VNPT Sầm Sơn"
    with app.test_request_context("/"):  # a kiosk the console does not know: the default
        assert settings.office().code == "thanh-hoa"


def test_the_kiosk_screen_shows_the_office_where_the_kiosk_stands(app, kiosk, stranger,
                                                                 office_b):
    """The enrolled kiosk's office, not the registration's: the customer stands there (a
    registration a clerk of another office resumed on this kiosk included)."""
    from sqlalchemy import update

    from kiosk.core.models import Kiosk

    kiosk.walk_to(2)
    with app.app_context():
        db.session.execute(update(Kiosk).where(Kiosk.code == "quay-01").values(office_id=office_b))
        db.session.commit()
    page = kiosk.get(kiosk.url(2)).get_data(as_text=True)
    assert '<span class="office-name">VNPT Sầm Sơn</span>' in page
    # An unenrolled browser is sent to the enrollment screen, under the default office.
    enroll = stranger.get("/", follow_redirects=True).get_data(as_text=True)
    assert '<span class="office-name">VNPT Thanh Hóa</span>' in enroll


def test_a_registration_resumed_at_another_offices_kiosk_moves_to_that_office(app, kiosk,
                                                                             office_b):
    """The customer now stands at office B's counter: B's clerks answer their calls."""
    import re

    from kiosk.core.models import Kiosk
    from tests.app_factory import KIOSK_COOKIE, enroll_test_kiosk
    from tests.staff_console import Clerk

    kiosk.walk_to(3)
    number = kiosk.registration().number
    assert _clerk_b(app).get(f"/staff/r/{number}").status_code == 404  # office A's, until…
    html = Clerk(app).post(f"/staff/r/{number}/resume").get_data(as_text=True)
    code = re.search(r'id="resume-code">([A-Z0-9]{8})<', html).group(1)
    with app.app_context():
        db.session.add(Kiosk(code="ss-01", name="Quầy Sầm Sơn", office_id=office_b))
        db.session.flush()
        enroll_test_kiosk("ss-01", "sam-son-kiosk-device-token-0123456789abcdef")
        db.session.commit()
    browser = app.test_client()
    browser.set_cookie(KIOSK_COOKIE, "sam-son-kiosk-device-token-0123456789abcdef")
    other = type(kiosk)(browser)
    answer = browser.post("/handoff", data={"csrf_token": other.csrf(), "code": code})
    assert answer.status_code == 303
    with app.app_context():
        reg = db.session.scalar(select(Registration).where(Registration.number == number))
        assert (reg.kiosk_id, reg.office_id) == ("ss-01", office_b)
    assert _clerk_b(app).get(f"/staff/r/{number}").status_code == 200

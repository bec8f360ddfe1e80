"""Printing tells the truth: the console says where a reprint went (a kiosk's screen, a CUPS
queue, a folder) or that it went nowhere; a browser print that fails is told on both screens."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Registration

from .staff_console import Clerk


def _events(app, name):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_a_reprint_for_a_browser_printing_kiosk_goes_to_its_screen_once(browser_printing, kiosk):
    app = browser_printing
    kiosk.walk_to(10)
    done = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert f'hx-get="/r/{kiosk.token}/reprint"' in done
    assert f'src="/r/{kiosk.token}/receipt/print"' in done  # a drawn page, not a PDF frame
    assert kiosk.client.get(f"/r/{kiosk.token}/reprint", headers=kiosk.headers()).status_code == 204
    html = Clerk(app).post(f"/staff/r/{kiosk.registration().number}/reprint").get_data(as_text=True)
    assert "Đã gửi phiếu tới màn hình quầy" in html and "Đã gửi phiếu tới máy in" not in html
    polled = kiosk.client.get(f"/r/{kiosk.token}/reprint", headers=kiosk.headers())
    assert polled.status_code == 200 and "data-autoprint" in polled.get_data(as_text=True)
    assert kiosk.client.get(f"/r/{kiosk.token}/reprint", headers=kiosk.headers()).status_code == 204
    assert len(_events(app, "receipt_sent_to_screen")) == 1
    page = kiosk.get(f"/r/{kiosk.token}/receipt/print").get_data(as_text=True)
    assert "data-doc-viewer" in page and f"/r/{kiosk.token}/receipt.pdf" in page


def test_a_reprint_for_a_kiosk_that_left_the_done_screen_says_it_went_nowhere(browser_printing,
                                                                              kiosk):
    app = browser_printing
    kiosk.walk_to(10)
    with app.app_context():
        reg = db.session.scalar(select(Registration))
        reg.finished_at -= timedelta(seconds=app.config["DONE_RETURN_SECONDS"] + 60)
        db.session.commit()
    html = Clerk(app).post(f"/staff/r/{kiosk.registration().number}/reprint").get_data(as_text=True)
    assert "Không gửi được phiếu tới quầy" in html and 'class="notice error"' in html
    assert _events(app, "receipt_reprinted")[0].details["to"] == "none"


def test_a_failed_browser_print_is_told_to_the_console_and_calls_the_clerk(browser_printing,
                                                                           kiosk):
    app = browser_printing
    kiosk.walk_to(10)
    html = kiosk.post(f"/r/{kiosk.token}/print-failed", {"what": "print_threw"}).get_data(as_text=True)
    assert "Đang chờ nhân viên hỗ trợ" in html
    reg = kiosk.registration()
    assert reg.help_reason == "printer_error"
    clerk = Clerk(app)
    assert "Đang chờ nhân viên (1)" in clerk.html("/staff/board/live")
    assert "In phiếu chưa được" in clerk.html(f"/staff/r/{reg.number}")


def test_print_failed_is_refused_before_the_registration_is_finished(kiosk):
    kiosk.walk_to(3)
    assert kiosk.post(f"/r/{kiosk.token}/print-failed", {}).status_code == 409


# ---- smaller items ---------------------------------------------------------------------------

def test_the_documents_name_the_day_not_the_start_time_the_signature_carries_the_time(app, kiosk):
    """A «lúc HH:MM» in the text would be the start (the text is rendered before it is signed):
    the body names the day; «Ký lúc …» in the signature box is the signing time."""
    import io

    from pypdf import PdfReader

    kiosk.walk_to(7)
    pdf = kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "hôm nay, ngày" in text and "hôm nay, lúc" not in text


def test_the_csv_report_names_its_charset_once(app):
    from .staff_console import ADMIN, add_admin

    add_admin(app)
    response = Clerk(app, *ADMIN, addr="10.0.0.2").get("/staff/reports.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_the_kiosk_page_names_kiosks_on_registrations_that_are_not_declared(app, kiosk):
    """Registrations from before enrollment may name a kiosk no row declares (their KIOSK_ID):
    the kiosk page says so instead of pretending the list is complete."""
    from sqlalchemy import update

    from kiosk.core.extensions import db
    from kiosk.core.models import Registration

    from .staff_console import ADMIN, add_admin

    kiosk.walk_to(2)
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.token == kiosk.token)
                           .values(kiosk_id="quay-cu"))
        db.session.commit()
    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    html = admin.html("/staff/kiosks")
    assert "data-undeclared-kiosks" in html and "quay-cu" in html
    assert "Chưa khai báo quầy nào.<" not in html
    settings = admin.html("/staff/settings")
    head = re.search(r"<thead>(.*?)</thead>", settings, re.S)  # the packages table comes first
    body_row = re.search(r'<tr id="package-\d+".*?</tr>', settings, re.S).group(0)
    # as many headings as cells in a row
    assert head and head.group(1).count("<th") == body_row.count("<td") - body_row.count("<td colspan")


def test_prices_on_screen_say_dong_in_words(app, kiosk):
    kiosk.walk_to(2)
    html = kiosk.get(kiosk.url(2)).get_data(as_text=True)
    assert "₫" not in html and re.search(r"[\d.]+ đồng", html)

"""Reports per day and per kiosk, the CSV for Excel (UTF-8 with BOM) and the SVG chart."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from kiosk.core.extensions import db
from kiosk.core.models import Registration, StaffUser, utcnow
from kiosk.services import reports
from tests.app_factory import kiosk_client

from .kiosk_driver import KioskDriver
from .staff_console import Clerk


def _day(app):
    from kiosk.domain.local_time import LOCAL_TZ

    return utcnow().astimezone(LOCAL_TZ).date()


def _scenario(app, kiosk):
    """One finished (clerk-confirmed), one sent to review and rejected, one abandoned."""
    kiosk.walk_to(10)
    second = KioskDriver(kiosk_client(app))
    second.walk_to(6)
    second.capture_all()
    second.staff_confirm(verdict="reject")
    third = KioskDriver(kiosk_client(app))
    third.walk_to(2)
    with app.app_context():
        reg = db.session.get(Registration, third.registration().id)
        reg.updated_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    return kiosk, second, third


def test_counts_and_medians_per_day_and_kiosk(app, kiosk):
    _scenario(app, kiosk)
    with app.app_context():
        admin = StaffUser(username="qt", full_name="Quản trị", role="admin", password_hash="")
        report = reports.build(_day(app), _day(app), admin)
    total = report.total.counts
    assert total == {"started": 3, "completed": 1, "abandoned": 1, "cancelled": 0,
                     "review": 2, "approved": 1, "rejected": 1}
    assert [(line.kiosk, line.counts["started"]) for line in report.lines] == [("quay-01", 3)]
    assert report.total.median_total is not None and report.total.median_total >= 0
    for step in range(1, 10):
        assert report.total.median_step(step) is not None  # the finished one went through all
    assert report.total.median_step(1) >= 0


def test_reports_page_and_chart(app, kiosk):
    _scenario(app, kiosk)
    html = Clerk(app).html("/staff/reports")
    assert "<svg" in html and 'class="bar-started"' in html and "Trung vị" in html
    total_row = html.split('id="report-total">', 1)[1].split("</tr>", 1)[0]
    assert "<td>3</td>" in total_row


def test_csv_opens_in_excel_with_vietnamese_headers(app, kiosk):
    _scenario(app, kiosk)
    day = _day(app).isoformat()
    response = Clerk(app).get(f"/staff/reports.csv?from={day}&to={day}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data[3:].decode("utf-8"))))
    assert rows[0][:5] == ["Ngày", "Mã quầy", "Tên quầy", "Bắt đầu", "Hoàn tất"]
    assert rows[1][0] == day and rows[1][1] == "quay-01" and rows[1][3] == "3"
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])


def test_bad_or_huge_ranges_fall_back_with_a_message(app):
    clerk = Clerk(app)
    assert "chưa đúng dạng" in clerk.html("/staff/reports?from=hôm-qua")
    assert "Tối đa 92 ngày" in clerk.html("/staff/reports?from=2020-01-01&to=2026-01-01")
    html = clerk.html("/staff/reports?from=2026-01-10&to=2026-01-01")  # swapped, not an error
    assert "Không có hồ sơ" in html

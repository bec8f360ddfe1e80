"""Reports per day and per kiosk, the CSV for Excel, a small SVG chart."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user

from kiosk.services import reports
from kiosk.web.staff import bp
from kiosk.web.staff.scope import office_filter


def _report():
    first, last, warning = reports.parse_range(request.args.get("from"), request.args.get("to"))
    return reports.build(first, last, current_user, office_filter()), warning


@bp.get("/reports")
def reports_page():
    report, warning = _report()
    return render_template("staff/reports.html", report=report, warning=warning,
                           counts=reports.COUNTS, steps=reports.STEPS, chart=reports.chart(report))


@bp.get("/reports.csv")
def reports_csv():
    report, _ = _report()
    response = Response(reports.to_csv(report), content_type="text/csv; charset=utf-8")
    name = f"bao-cao-{report.first.isoformat()}_{report.last.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

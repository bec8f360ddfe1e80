"""The audit log (append-only: the console only reads it), filtered by registration, clerk,
action and date."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import request
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Registration
from kiosk.domain.local_time import LOCAL_TZ
from kiosk.web.staff import bp
from kiosk.web.staff.render import partial_or_page

PAGE = 100


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.get("/audit")
def audit_log():
    args = {k: (request.args.get(k) or "").strip()[:80] for k in ("number", "actor", "event", "day")}
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    warning = None
    if args["number"]:
        reg_id = db.session.scalar(select(Registration.id).where(
            Registration.number == args["number"].upper()))
        query = query.where(AuditEvent.registration_id == (reg_id or -1))
    if args["actor"]:
        actor = args["actor"]
        query = query.where(AuditEvent.actor == (actor if ":" in actor or actor in (
            "customer", "system") else f"staff:{actor}"))
    if args["event"]:
        query = query.where(AuditEvent.event == args["event"])
    day = _day(args["day"])
    if args["day"] and day is None:
        warning = "Ngày chưa đúng dạng (năm-tháng-ngày)."
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
        query = query.where(AuditEvent.at >= start, AuditEvent.at < start + timedelta(days=1))
    try:
        page = max(0, int(request.args.get("page", "0")))
    except ValueError:
        page = 0
    rows = list(db.session.scalars(query.offset(page * PAGE).limit(PAGE + 1)))
    numbers = dict(db.session.execute(select(Registration.id, Registration.number).where(
        Registration.id.in_({r.registration_id for r in rows if r.registration_id}))).all())
    events = sorted(db.session.scalars(select(AuditEvent.event).distinct()))
    return partial_or_page("staff/audit.html", "staff/_audit_rows.html", rows=rows[:PAGE],
                           more=len(rows) > PAGE, page=page, args=args, numbers=numbers,
                           events=events, warning=warning)

"""The audit log as the console reads it: filtered by registration number, clerk, action and
day (office time), newest first, one page at a time. The log is append-only: nothing here
writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Registration, StaffUser
from kiosk.domain.local_time import LOCAL_TZ
from kiosk.services import office_scope

PAGE = 100
# A page number typed into the URL stays within what the database's OFFSET accepts.
MAX_PAGE = 1_000_000
# Actors that are not a clerk's username (core/audit.record's callers).
_NAMED_ACTORS = ("customer", "system")


@dataclass
class LogPage:
    rows: list[AuditEvent]
    more: bool  # another page follows
    numbers: dict[int, str]  # registration id → its number, for the rows shown
    events: list[str] = field(default_factory=list)  # every event name, for the filter's list
    warning: str | None = None  # a filter that could not be read (and was left out)
    names: dict[str, str] = field(default_factory=dict)  # clerk username → full name


def parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def actor_value(typed: str) -> str:
    """What a clerk types in the «Nhân viên» box → the stored actor: a bare username means
    that clerk (``staff:<username>``); «customer», «system» and a full ``x:y`` stay as typed."""
    return typed if ":" in typed or typed in _NAMED_ACTORS else f"staff:{typed}"


def search(staff: StaffUser, office_filter: int | None = None, number: str = "",
           actor: str = "", event: str = "", day: str = "", page: int = 0) -> LogPage:
    """One page of the events ``staff`` may see (office_scope.visible_events) matching every
    filter given (an empty filter matches all)."""
    query = office_scope.visible_events(select(AuditEvent).order_by(AuditEvent.id.desc()),
                                        staff, office_filter)
    warning = None
    if number:
        reg_id = db.session.scalar(office_scope.visible(select(Registration.id), staff).where(
            Registration.number == number.upper()))
        # An unknown number matches nothing rather than everything.
        query = query.where(AuditEvent.registration_id == (reg_id or -1))
    if actor:
        query = query.where(AuditEvent.actor == actor_value(actor))
    if event:
        query = query.where(AuditEvent.event == event)
    when = parse_day(day)
    if day and when is None:
        warning = "Ngày chưa đúng dạng (năm-tháng-ngày)."
    if when is not None:
        start = datetime(when.year, when.month, when.day, tzinfo=LOCAL_TZ)
        query = query.where(AuditEvent.at >= start, AuditEvent.at < start + timedelta(days=1))
    page = min(max(0, page), MAX_PAGE)
    # One row more than a page tells whether another page follows without counting them all.
    rows = list(db.session.scalars(query.offset(page * PAGE).limit(PAGE + 1)))
    ids = {r.registration_id for r in rows if r.registration_id}
    numbers = dict(db.session.execute(select(Registration.id, Registration.number)
                                      .where(Registration.id.in_(ids))).all()) if ids else {}
    events = sorted(db.session.scalars(select(AuditEvent.event).distinct()))
    names = {u: n for u, n in db.session.execute(select(StaffUser.username, StaffUser.full_name))}
    return LogPage(rows=rows[:PAGE], more=len(rows) > PAGE, numbers=numbers, events=events,
                   warning=warning, names=names)

"""How the days went, per day and per kiosk (each kiosk under its office), and per office:
started, completed, abandoned, cancelled, sent to review, approved, rejected, and median
minutes per step and per registration.

Counts are by the day a registration *started* (office time). Step times come from the audit
trail: a step's time is from the previous step's first completion (or the start) to its own.
"""
from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Office, Registration, StaffUser, utcnow
from kiosk.domain import flow
from kiosk.domain.local_time import LOCAL_TZ
from kiosk.services import office_scope
from kiosk.services.board import is_abandoned, kiosk_names
from kiosk.services.review import REVIEW_HELP_REASONS

MAX_DAYS = 92
COUNTS = (("started", "Bắt đầu"), ("completed", "Hoàn tất"), ("abandoned", "Bỏ dở"),
          ("cancelled", "Đã hủy"), ("review", "Chuyển nhân viên xem"),
          ("approved", "Nhân viên xác nhận"), ("rejected", "Nhân viên từ chối"))
STEPS = tuple(range(flow.FIRST_STEP, flow.LAST_STEP + 1))


@dataclass
class Line:
    day: date
    kiosk: str
    kiosk_name: str
    office: str = ""  # the office's name ("" on the totals of several offices)
    office_code: str = ""
    counts: dict = field(default_factory=lambda: {k: 0 for k, _ in COUNTS})
    step_minutes: dict = field(default_factory=lambda: defaultdict(list))
    total_minutes: list = field(default_factory=list)

    def median_step(self, step: int) -> float | None:
        values = self.step_minutes.get(step)
        return round(statistics.median(values), 1) if values else None

    @property
    def median_total(self) -> float | None:
        return round(statistics.median(self.total_minutes), 1) if self.total_minutes else None


@dataclass
class Report:
    first: date
    last: date
    lines: list[Line]  # per day, office and kiosk
    days: list[Line]  # per day, all kiosks
    total: Line
    offices: list[Line] = field(default_factory=list)  # per office, the whole range


def parse_range(first: str | None, last: str | None) -> tuple[date, date, str | None]:
    """The requested days (default: the last 7), or the default and a message."""
    today = utcnow().astimezone(LOCAL_TZ).date()
    default = (today - timedelta(days=6), today)
    if not first and not last:
        return *default, None
    try:
        a = date.fromisoformat(first or "") if first else default[0]
        b = date.fromisoformat(last or "") if last else today
    except ValueError:
        return *default, "Ngày chưa đúng dạng (năm-tháng-ngày). Đang xem 7 ngày gần nhất."
    if a > b:
        a, b = b, a
    if (b - a).days >= MAX_DAYS:
        return b - timedelta(days=MAX_DAYS - 1), b, f"Tối đa {MAX_DAYS} ngày mỗi lần xem."
    return a, b, None


def _minutes(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60)


def build(first: date, last: date, staff: StaffUser, office_filter: int | None = None) -> Report:
    """The days ``first``..``last`` of the offices ``staff`` may see (the CSV is this too)."""
    start = datetime(first.year, first.month, first.day, tzinfo=LOCAL_TZ)
    end = datetime(last.year, last.month, last.day, tzinfo=LOCAL_TZ) + timedelta(days=1)
    regs = list(db.session.scalars(office_scope.visible(select(Registration), staff,
                                                        office_filter).where(
        Registration.created_at >= start, Registration.created_at < end)))
    ids = [r.id for r in regs]
    events: dict[int, list[AuditEvent]] = defaultdict(list)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for ev in db.session.scalars(select(AuditEvent).where(
                AuditEvent.registration_id.in_(chunk),
                AuditEvent.event.in_(("step_completed", "help_requested", "kyc_confirmed",
                                      "kyc_rejected"))).order_by(AuditEvent.id)):
            events[ev.registration_id].append(ev)

    names = kiosk_names()
    office_of = {o.id: o for o in db.session.scalars(select(Office))}
    now = utcnow()
    lines: dict[tuple, Line] = {}
    days: dict[date, Line] = {}
    per_office: dict[tuple, Line] = {}  # by (name, code): sorted by name, two never merged
    total = Line(first, "", "Tất cả")
    for reg in regs:
        day = reg.created_at.astimezone(LOCAL_TZ).date()
        office = office_of.get(reg.office_id)
        office_name = office.name if office is not None else "(không rõ)"
        office_code = office.code if office is not None else ""
        kiosk_code = reg.kiosk_id or ""
        key = (day, office_name, office_code, kiosk_code)
        line = lines.setdefault(key, Line(day, kiosk_code,
                                          names.get(kiosk_code, kiosk_code or "(không rõ)"),
                                          office_name, office_code))
        day_line = days.setdefault(day, Line(day, "", "Tất cả"))
        office_line = per_office.setdefault((office_name, office_code),
                                            Line(first, "", "Tất cả", office_name, office_code))
        evs = events.get(reg.id, [])
        flags = {
            "started": True,
            "completed": reg.status == "finished",
            "abandoned": is_abandoned(reg, now),
            "cancelled": reg.status == "cancelled",
            "review": any(e.event == "help_requested"
                          and (e.details or {}).get("reason") in REVIEW_HELP_REASONS for e in evs),
            "approved": any(e.event == "kyc_confirmed"
                            and (e.details or {}).get("decision") == "staff_confirmed" for e in evs),
            "rejected": any(e.event == "kyc_rejected" for e in evs),
        }
        firsts: dict[int, datetime] = {}
        for e in evs:
            step = (e.details or {}).get("step")
            if e.event == "step_completed" and isinstance(step, int) and step not in firsts:
                firsts[step] = e.at
        step_times = {}
        for step in STEPS:
            if step not in firsts:
                continue
            previous = reg.created_at if step == flow.FIRST_STEP else firsts.get(step - 1)
            if previous is not None:
                step_times[step] = _minutes(previous, firsts[step])
        for target in (line, day_line, office_line, total):
            for k, v in flags.items():
                target.counts[k] += int(v)
            for step, minutes in step_times.items():
                target.step_minutes[step].append(minutes)
            if reg.status == "finished" and reg.finished_at is not None:
                target.total_minutes.append(_minutes(reg.created_at, reg.finished_at))
    ordered_days = [days[d] for d in sorted(days)]
    return Report(first, last, [lines[k] for k in sorted(lines)], ordered_days, total,
                  [per_office[k] for k in sorted(per_office)])


def _fmt(value: float | None) -> str:
    # A dot, and the comma as the separator: the RFC 4180 form every Excel locale imports.
    return "" if value is None else f"{value:.1f}"


# A spreadsheet runs a cell that starts with one of these as a formula (a kiosk named
# «=HYPERLINK(…)» by an admin, or a tab/CR that some importers strip before looking): such a
# cell gets a leading apostrophe, which Excel and LibreOffice show as text (OWASP «CSV
# Injection»). Numbers we format ourselves never start with one (no negative counts or minutes).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: Report) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Vietnamese headers correctly. The office comes
    last: the columns a spreadsheet built on an earlier export reads stay where they were."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Ngày", "Mã quầy", "Tên quầy", *[label for _, label in COUNTS],
                     "Trung vị phút/hồ sơ hoàn tất",
                     *[f"Trung vị phút bước {s}" for s in STEPS], "Mã đơn vị", "Đơn vị"])
    for line in report.lines:
        writer.writerow([_cell(v) for v in (
            line.day.isoformat(), line.kiosk, line.kiosk_name,
            *[line.counts[k] for k, _ in COUNTS], _fmt(line.median_total),
            *[_fmt(line.median_step(s)) for s in STEPS], line.office_code, line.office)])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


@dataclass
class Bar:
    x: float
    y: float
    height: float
    kind: str
    value: int


def chart(report: Report, width: int = 640, height: int = 200) -> dict:
    """Geometry of a small bar chart (started vs completed per day) for an inline SVG."""
    pad_left, pad_bottom, pad_top = 30, 28, 10
    plot_h = height - pad_bottom - pad_top
    days = []
    d = report.first
    by_day = {line.day: line for line in report.days}
    while d <= report.last:
        days.append(d)
        d += timedelta(days=1)
    peak = max([by_day[d].counts["started"] for d in days if d in by_day] + [1])
    slot = (width - pad_left) / max(1, len(days))
    bar_w = max(2.0, slot * 0.35)
    bars, labels = [], []
    for i, day in enumerate(days):
        line = by_day.get(day)
        x0 = pad_left + i * slot + slot * 0.1
        for j, kind in enumerate(("started", "completed")):
            value = line.counts[kind] if line else 0
            h = plot_h * value / peak
            bars.append(Bar(round(x0 + j * bar_w, 1), round(pad_top + plot_h - h, 1),
                            round(h, 1), kind, value))
        labels.append((round(x0 + bar_w, 1), day.strftime("%d/%m")))
    return {"width": width, "height": height, "bars": bars, "labels": labels, "peak": peak,
            "axis_y": pad_top + plot_h, "pad_left": pad_left, "pad_top": pad_top,
            "label_every": max(1, len(days) // 10)}

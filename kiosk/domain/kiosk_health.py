"""What a kiosk says about itself (camera, chip reader, printer, screen) and how the console
reads it: pure rules, no Flask, no database.

The report comes from the kiosk's browser, which anyone at the counter can tamper with: it is
cut down to known keys and short values, so a forged report can fill neither the database nor
the console page, and it decides nothing (it is only shown to the clerks).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from kiosk.domain.local_time import local_time

CAMERA_STATES = {"found": "Có camera", "allowed": "Đã cho phép", "denied": "Bị chặn",
                 "none": "Không có camera"}
READER_STATES = {"present": "Có đầu đọc", "absent": "Không có đầu đọc", "off": "Không dùng"}
PRINT_OUTCOMES = {"ok": "In được", "error": "In lỗi", "none": "Chưa in"}
MAX_TEXT = 200
# A kiosk that has not reported for longer than this while the office is open is shown red:
# its page reports every ~30 s, so two minutes is several missed reports, not one slow one.
STALE_AFTER = timedelta(minutes=2)
# When the office's counters are staffed (local time): outside these hours a silent kiosk is
# switched off for the night, not broken.
OPEN_DAYS = range(0, 6)  # Monday to Saturday
OPEN_FROM, OPEN_UNTIL = time(7, 0), time(17, 30)


def _choice(value, allowed) -> str | None:
    return value if isinstance(value, str) and value in allowed else None


def _text(value) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable())[:MAX_TEXT].strip()
    return cleaned or None


def _dimension(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= 20_000 else None


def clean_report(raw) -> dict:
    """The known fields of a kiosk's report, validated; anything else is dropped."""
    raw = raw if hasattr(raw, "get") else {}
    width, height = _dimension(raw.get("screen_width")), _dimension(raw.get("screen_height"))
    report = {
        "camera": _choice(raw.get("camera"), CAMERA_STATES),
        "reader": _choice(raw.get("reader"), READER_STATES),
        "user_agent": _text(raw.get("user_agent")),
        "screen": f"{width}×{height}" if width and height else None,
    }
    return {key: value for key, value in report.items() if value is not None}


def office_open(now: datetime) -> bool:
    here = local_time(now)
    return here.weekday() in OPEN_DAYS and OPEN_FROM <= here.time() <= OPEN_UNTIL


def stale(last_seen: datetime | None, now: datetime) -> bool:
    """Red on the console: enrolled kiosks only call it when they have been heard from."""
    return office_open(now) and (last_seen is None or now - last_seen > STALE_AFTER)


def ago(moment: datetime | None, now: datetime) -> str:
    """«2 phút trước»: how long since the kiosk was last heard from, in plain words."""
    if moment is None:
        return "Chưa liên lạc"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "Vừa xong"
    if seconds < 3600:
        return f"{seconds // 60} phút trước"
    if seconds < 86400:
        return f"{seconds // 3600} giờ trước"
    return f"{seconds // 86400} ngày trước"

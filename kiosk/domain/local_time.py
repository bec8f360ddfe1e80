"""The office's clock: times are stored in UTC and shown in Vietnam's time zone."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(LOCAL_TZ)

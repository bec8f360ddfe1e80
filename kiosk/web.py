"""Template helpers shared by every page: formatting, the sandbox flag, the office."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

from .extensions import db

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def format_vnd(amount: int | None) -> str:
    if amount is None:
        return ""
    return f"{amount:,}".replace(",", ".") + " ₫"


def local_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(LOCAL_TZ)


def format_date(value: date | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return local_time(value).strftime("%H:%M ngày %d/%m/%Y")


def _national_phone(e164: str | None) -> str:
    from .identity import national_format

    return national_format(e164) if e164 else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["vnd"] = format_vnd
    app.jinja_env.filters["vn_date"] = format_date
    app.jinja_env.filters["vn_datetime"] = format_datetime
    app.jinja_env.filters["national_phone"] = _national_phone

    @app.context_processor
    def _globals():
        from . import providers
        from .models import Office

        return {
            "sandbox": providers.is_sandbox(),
            "office": db.session.query(Office).first(),
            "idle_timeout": app.config["IDLE_TIMEOUT_SECONDS"],
            "idle_warning": app.config["IDLE_WARNING_SECONDS"],
        }

"""Template helpers shared by every page: formatting, the sandbox flag, the office."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from kiosk.documents import format_date_vn, format_datetime_vn, format_vnd
from kiosk.domain import audit_labels, flow
from kiosk.domain.kyc import REQUIRED_CAPTURES, Decision
from kiosk.domain.local_time import local_time


# The screen formats money and dates exactly like the printed documents.
def vnd_filter(amount: int | None) -> str:
    # «đồng» in words on screen: the ₫ sign's own bar reads as an underline (a link) to
    # customers, and a word is plainer; the printed documents keep their own style.
    return "" if amount is None else format_vnd(amount, unit="đồng")


def date_filter(value: date | str | None) -> str:
    if not value:
        return ""
    return format_date_vn(date.fromisoformat(value) if isinstance(value, str) else value)


def datetime_filter(value: datetime | None) -> str:
    return "" if value is None else format_datetime_vn(local_time(value))


def _national_phone(e164: str | None) -> str:
    from kiosk.domain.identity import national_format

    return national_format(e164) if e164 else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["vnd"] = vnd_filter
    app.jinja_env.filters["vn_date"] = date_filter
    app.jinja_env.filters["vn_datetime"] = datetime_filter
    app.jinja_env.filters["national_phone"] = _national_phone
    # The audit log in the clerks' words (domain/audit_labels.py), never code names or JSON.
    app.jinja_env.filters["event_label"] = audit_labels.event_label
    app.jinja_env.filters["detail_fields"] = audit_labels.detail_fields
    app.jinja_env.globals.update(actor_label=audit_labels.actor_label,
                                 liveness_words=audit_labels.liveness_words)

    # Facts the templates show come from the code, never retyped in a template. Globals (not a
    # context processor) so that imported macros see them too.
    app.jinja_env.globals.update(step_count=flow.LAST_STEP, Decision=Decision,
                                 required_captures=REQUIRED_CAPTURES)

    @app.context_processor
    def _globals():
        from werkzeug.local import LocalProxy

        from kiosk.services import sandbox, settings

        return {
            "sandbox": sandbox.backend_is_sandbox(),
            # Read when a template shows it (whole pages, the consent notice), not for every
            # htmx frame: most of a registration's requests render a frame without it.
            "office": LocalProxy(settings.office),
            "idle_timeout": app.config["IDLE_TIMEOUT_SECONDS"],
            "idle_warning": app.config["IDLE_WARNING_SECONDS"],
        }

"""Log lines: JSON (one object a line) for the servers, plain text for a developer's terminal.

LOG_FORMAT = "json" | "text"; unset, the debug server (``flask --debug run``) gets text — a
person reads it — and every deployed server (gunicorn, waitress) JSON, which a log shipper
(journald → Loki, Filebeat …) parses without guessing at a pattern. Every line carries the
request id (web/request_log.py) when it was written during a request, so one customer's
request can be followed from nginx's log through the app's.

What goes into a line is what the code logs: messages name routes and facts, never a token,
a code, a password or a person (docs/security.md); the request line is built from the route
pattern, never the raw path or its query string.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

from flask import g, has_app_context, has_request_context

# Extra fields of a line: ``logger.info("…", extra={FIELDS: {...}})``.
FIELDS = "kiosk_fields"


HEADER = "X-Request-ID"
# nginx's $request_id is 32 hex digits; a load balancer's may carry dots or dashes. Anything
# else (spaces, control characters, quotes, too short to be unique, too long) is replaced.
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")


def incoming_or_new(value: str | None) -> str:
    if value and _VALID_ID.fullmatch(value):
        return value
    return secrets.token_hex(16)


def request_id() -> str | None:
    """The current request's id (taken from X-Request-ID or made, once per request), or None
    outside a request."""
    if not (has_request_context() and has_app_context()):
        return None
    rid = g.get("request_id")
    if rid is None:
        from flask import request

        rid = g.request_id = incoming_or_new(request.headers.get(HEADER))
    return rid


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, request_id, any extra fields and the
    traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            line["request_id"] = rid
        line.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(rid)s] %(message)s%(fields)s")

    def format(self, record: logging.LogRecord) -> str:
        record.rid = getattr(record, "request_id", None) or request_id() or "-"
        fields = getattr(record, FIELDS, None) or {}
        record.fields = "".join(f" {k}={v}" for k, v in fields.items())
        return super().format(record)


class StderrHandler(logging.StreamHandler):
    """Writes to the process's standard error (file descriptor 2: the journal, gunicorn's
    error log, a test's fd capture), not to a replacement of ``sys.stderr``: a CLI command whose
    output is JSON on stdout keeps it clean even where something swapped the streams."""

    def __init__(self):
        super().__init__(sys.__stderr__ or sys.stderr)

    def emit(self, record):
        if self.stream is not None:  # pythonw (a Windows kiosk started without a console)
            super().emit(record)


def init_app(app) -> None:
    """Send every log record of the process through one handler on the root logger, in the
    app's format. Called for each app: the newest app's settings win (there is one per process
    outside the tests)."""
    from flask.logging import default_handler

    fmt = (app.config.get("LOG_FORMAT") or ("text" if app.debug else "json")).lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {fmt!r}")
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # The app's records reach the root handler; Flask's own handler would print them twice.
    app.logger.removeHandler(default_handler)
    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    app.logger.setLevel(level)  # the "kiosk" logger: every module's logger is below it
    logging.getLogger("waitress").setLevel(level)

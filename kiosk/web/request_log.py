"""One log line and one latency observation per request, under a request id.

The request id is the incoming ``X-Request-ID`` when it looks like one (nginx's $request_id:
32 hex digits; any 8–64 letters, digits, ``.``, ``_``, ``-``), otherwise a new random one. It
goes back in the ``X-Request-ID`` response header and onto every log line of the request, so
nginx's access log, this line and any warning or traceback meet on one id.

The line names the endpoint and the route pattern (``/r/<token>/step/<int:number>``), never the
path itself: the path holds the registration token; the query string (resume and enrollment
codes), the form, the cookies and the headers are never logged.
"""
from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request

from kiosk.core.logs import FIELDS
from kiosk.services import monitoring

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")

log = logging.getLogger("kiosk.access")


def incoming_or_new(value: str | None) -> str:
    if value and _VALID.fullmatch(value):
        return value
    return secrets.token_hex(16)


def _group() -> str:
    """The latency histogram's label: the blueprint (wizard, staff, ops), else the endpoint
    (static), else "unmatched" (a 404 with no route) — a handful of values."""
    if request.blueprint:
        return request.blueprint
    return request.endpoint or "unmatched"


def init_app(app: Flask) -> None:
    # Registered before every other hook: the id exists for their log lines, and this
    # after_request hook runs last, so the duration includes the others (the commit too).
    @app.before_request
    def _start():
        g.request_id = incoming_or_new(request.headers.get(HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def _done(response):
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        rid = g.get("request_id") or incoming_or_new(None)
        response.headers[HEADER] = rid
        group = _group()
        monitoring.request_done(group, response.status_code, seconds)
        log.info("%s %s %s", request.method, request.endpoint or "-", response.status_code,
                 extra={FIELDS: {
                     "method": request.method,
                     "endpoint": request.endpoint,
                     "route": request.url_rule.rule if request.url_rule is not None else None,
                     "status": response.status_code,
                     "duration_ms": round(seconds * 1000, 1),
                     # after ProxyFix: the client's address when TRUSTED_PROXIES says whom to
                     # believe, the proxy's otherwise
                     "remote_addr": request.remote_addr,
                     "group": group,
                 }})
        return response

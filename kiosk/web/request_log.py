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
import time

from flask import Flask, g, request

from kiosk.core.logs import FIELDS, HEADER, request_id
from kiosk.services import monitoring

log = logging.getLogger("kiosk.access")


def _group() -> str:
    """The latency histogram's label: the blueprint (wizard, staff, ops), else the endpoint
    (static), else "unmatched" (a 404 with no route) — a handful of values."""
    if request.blueprint:
        return request.blueprint
    return request.endpoint or "unmatched"


def init_app(app: Flask) -> None:
    def _start():
        g.request_started = time.perf_counter()
        g.request_cpu_started = time.thread_time()
        request_id()

    # First of all before_request hooks (the CSRF check's was registered with the extensions):
    # the clock starts before any of them and the id exists for their log lines. The
    # after_request hook below is registered before the others and so runs last: the duration
    # includes them (the commit too).
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _done(response):
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        cpu_started = g.get("request_cpu_started")
        cpu_seconds = time.thread_time() - cpu_started if cpu_started is not None else 0.0
        response.headers[HEADER] = request_id()
        group = _group()
        monitoring.request_done(group, response.status_code, seconds)
        log.info("%s %s %s", request.method, request.endpoint or "-", response.status_code,
                 extra={FIELDS: {
                     "method": request.method,
                     "endpoint": request.endpoint,
                     "route": request.url_rule.rule if request.url_rule is not None else None,
                     "status": response.status_code,
                     "duration_ms": round(seconds * 1000, 1),
                     # this request's own CPU (its thread's): far below duration_ms, the request
                     # waited — for the GIL, the database, a pool or a vision worker
                     "cpu_ms": round(cpu_seconds * 1000, 1),
                     # after ProxyFix: the client's address when TRUSTED_PROXIES says whom to
                     # believe, the proxy's otherwise
                     "remote_addr": request.remote_addr,
                     "group": group,
                 }})
        return response

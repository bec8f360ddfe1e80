"""The operator's endpoints: ``/healthz`` (the process answers), ``/readyz`` (it can serve:
database, face models, vision pool) and ``/metrics`` (Prometheus). docs/operations.md.

No login for the two health checks (a load balancer polls them) and nothing personal in their
answers. ``/metrics`` wants a signed-in administrator or the bearer token METRICS_TOKEN. All
three are GET only (no CSRF token to check) and leave the kiosk's and the clerk's session alone:
nothing here reads or writes the session cookie.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from kiosk.services import monitoring
from kiosk.web.staff.auth import signed_in_admin

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    # The process is alive and serving: nothing else is checked (no database), so a restart is
    # only ever decided on the process itself.
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/readyz")
def readyz():
    ready, checks = monitoring.readiness()
    return jsonify(status="ok" if ready else "fail", checks=checks), 200 if ready else 503


def _bearer() -> str | None:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


@bp.get("/metrics")
def metrics():
    token = _bearer()
    body = monitoring.scrape(token, admin=token is None and signed_in_admin())
    if body is None:
        abort(403)
    return body, 200, {"Content-Type": monitoring.CONTENT_TYPE}

"""The clerks' console: live board, review queue, registration detail and actions, settings,
reports, audit log, staff accounts. Every route needs a signed-in clerk (the guard in
auth.py runs before each request); admin routes are marked with ``admin_required``."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from kiosk.web.staff import (  # noqa: E402,F401
    accounts,
    audit_log,
    auth,
    board,
    documents,
    identity,
    kiosks,
    outbox,
    registrations,
    reports,
    review,
    scope,
    settings,
)
